# PINNacle Poisson2d-C (Poisson2D_Classic): lap(u) = 0 on the square [-0.5, 0.5]^2 minus four disks of
# radius 0.1 centred at (+-0.3, +-0.3); u = 1 on the square's sides, u = 0 on the circles.
# Reference: PINNacle's ref/poisson1_cg_data.dat.
domain Square = box(x in [-0.5, 0.5], y in [-0.5, 0.5])
domain Holes = ball((x, y), center=[0.3, 0.3], radius=0.1) | ball((x, y), center=[-0.3, 0.3], radius=0.1)
domain Holes2 = ball((x, y), center=[0.3, -0.3], radius=0.1) | ball((x, y), center=[-0.3, -0.3], radius=0.1)
domain Omega = Square - Holes - Holes2
field u(x, y)
pde  lap(u) = 0                      in Omega
bc   u = 1                           on boundary(Omega) where x == -0.5 or x == 0.5 or y == -0.5 or y == 0.5
bc   u = 0                           on boundary(Omega) where x > -0.5 and x < 0.5 and y > -0.5 and y < 0.5
set model = mlp(hidden=[100, 100, 100, 100, 100], activation=tanh)
set points = 8192
set boundary_points = 2048
