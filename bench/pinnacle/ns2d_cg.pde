# PINNacle NS2d-CG (NS2D_BackStep): steady incompressible Navier-Stokes, nu = 1/100, on the step
# [0, 4] x [0, 2] minus [0, 2] x [1, 2]: u u_x + v u_y + p_x = nu lap(u), u v_x + v v_y + p_y = nu lap(v),
# u_x + v_y = 0; inlet x = 0: u = 4 y (1 - y), v = 0; outlet x = 4: p = 0; other walls: u = v = 0.
# Reference: PINNacle's ref/ns_0_obstacle.dat.
let nu = 1/100
domain Channel = box(x in [0, 4], y in [0, 2])
domain Omega = Channel - box(x in [0, 2], y in [1, 2])
field u(x, y)
field v(x, y)
field p(x, y)
pde  momentum_x: u*Dx(u) + v*Dy(u) + Dx(p) = nu*lap(u)   in Omega
pde  momentum_y: u*Dx(v) + v*Dy(v) + Dy(p) = nu*lap(v)   in Omega
pde  continuity: Dx(u) + Dy(v) = 0                       in Omega
bc   inlet_u: u = 4*y*(1 - y)        on boundary(Omega) where x == 0
bc   inlet_v: v = 0                  on boundary(Omega) where x == 0
bc   outlet_p: p = 0                 on boundary(Omega) where x == 4
bc   wall_u: u = 0                   on boundary(Omega) where x > 0 and x < 4
bc   wall_v: v = 0                   on boundary(Omega) where x > 0 and x < 4
set model = mlp(hidden=[100, 100, 100, 100, 100], activation=tanh)
set points = 8192
set boundary_points = 2048
