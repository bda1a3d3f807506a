# poisson5d.pde — high dimension: Poisson in the unit cube of R^5 (coordinates of any name).
let exact_u = sin(pi*x1) + sin(pi*x2) + sin(pi*x3) + sin(pi*x4) + sin(pi*x5)
domain Cube = box(x1 in [0, 1], x2 in [0, 1], x3 in [0, 1], x4 in [0, 1], x5 in [0, 1])
field u(x1, x2, x3, x4, x5)
pde  lap(u) = -pi^2*exact_u      in Cube
bc   u = exact_u                 on boundary(Cube)
exact u = sin(pi*x1) + sin(pi*x2) + sin(pi*x3) + sin(pi*x4) + sin(pi*x5)
