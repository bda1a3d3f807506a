# PINNacle Poisson2d-CG (PoissonBoltzmann2D): -lap(u) + k^2 u = f, k = 8,
# f = 10 (1 + x^2 + 16 + y^2) sin(pi x) sin(4 pi y), on the square [-1, 1]^2 minus the disks of centre
# (0.5, 0.5) radius 0.2, (0.4, -0.4) radius 0.4, (-0.2, -0.7) radius 0.1, (-0.6, 0.5) radius 0.3;
# u = 0.2 on the square's sides, u = 1 on the circles. Reference: PINNacle's ref/poisson_boltzmann2d.dat.
let k = 8
let f = 10*(1^2 + x^2 + 4^2 + y^2)*sin(pi*x)*sin(4*pi*y)
domain Square = box(x in [-1, 1], y in [-1, 1])
domain A = ball((x, y), center=[0.5, 0.5], radius=0.2) | ball((x, y), center=[0.4, -0.4], radius=0.4)
domain B = ball((x, y), center=[-0.2, -0.7], radius=0.1) | ball((x, y), center=[-0.6, 0.5], radius=0.3)
domain Omega = Square - A - B
field u(x, y)
pde  -lap(u) + k^2*u = f             in Omega
bc   u = 0.2                         on boundary(Omega) where x == -1 or x == 1 or y == -1 or y == 1
bc   u = 1                           on boundary(Omega) where x > -1 and x < 1 and y > -1 and y < 1
set model = mlp(hidden=[100, 100, 100, 100, 100], activation=tanh)
set points = 8192
set boundary_points = 2048
