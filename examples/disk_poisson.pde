# disk_poisson.pde — Poisson on a disk (domain: ball), Dirichlet data from the exact solution.
let exact_u = sin(pi*x)*cos(pi*y)
domain Disk = ball((x, y), center=[0, 0], radius=1)
field u(x, y)
pde  lap(u) = -2*pi^2*exact_u      in Disk
bc   u = exact_u                   on boundary(Disk)
exact u = sin(pi*x)*cos(pi*y)
