# PINNacle NS2d-C (NS2D_LidDriven, a = 4): steady incompressible Navier-Stokes, nu = 1/100, on [0, 1]^2:
# u u_x + v u_y + p_x = nu lap(u), u v_x + v v_y + p_y = nu lap(v), u_x + v_y = 0;
# lid y = 1: u = 4 x (1 - x), v = 0; other sides: u = v = 0; p(0, 0) = 0.
# Reference: PINNacle's ref/lid_driven_a4.dat.
let nu = 1/100
domain Omega = box(x in [0, 1], y in [0, 1])
field u(x, y)
field v(x, y)
field p(x, y)
pde  momentum_x: u*Dx(u) + v*Dy(u) + Dx(p) = nu*lap(u)   in Omega
pde  momentum_y: u*Dx(v) + v*Dy(v) + Dy(p) = nu*lap(v)   in Omega
pde  continuity: Dx(u) + Dy(v) = 0                       in Omega
bc   lid_u: u = 4*x*(1 - x)          on boundary(Omega) where y == 1
bc   lid_v: v = 0                    on boundary(Omega) where y == 1
bc   wall_u: u = 0                   on boundary(Omega) where y < 1
bc   wall_v: v = 0                   on boundary(Omega) where y < 1
bc   p0: p = 0                       at [[0, 0]]
set model = mlp(hidden=[100, 100, 100, 100, 100], activation=tanh)
set points = 8192
set boundary_points = 2048
