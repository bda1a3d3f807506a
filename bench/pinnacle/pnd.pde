# PINNacle PNd (PoissonND, 5 dimensions): -lap(u) = pi^2/4 sum_i sin(pi x_i/2) on [0, 1]^5;
# u = sum_i sin(pi x_i/2) on the boundary. Solution: sum_i sin(pi x_i/2).
let s = sin(pi*x1/2) + sin(pi*x2/2) + sin(pi*x3/2) + sin(pi*x4/2) + sin(pi*x5/2)
domain Omega = box(x1 in [0, 1], x2 in [0, 1], x3 in [0, 1], x4 in [0, 1], x5 in [0, 1])
field u(x1, x2, x3, x4, x5)
pde  -lap(u) = pi^2/4*s              in Omega
bc   u = s                           on boundary(Omega)
exact u = s
set model = mlp(hidden=[100, 100, 100, 100, 100], activation=tanh)
set points = 32768
set boundary_points = 8192
