# PINNacle Burgers1d-C (Burgers1D): u_t + u u_x = nu u_xx, nu = 0.01/pi, on x in [-1, 1], t in [0, 1];
# u(x, 0) = -sin(pi x), u(-1, t) = u(1, t) = 0. Reference: PINNacle's ref/burgers1d.dat.
let nu = 0.01/pi
domain Omega = box(x in [-1, 1], t in [0, 1])
field u(x, t)
pde  Dt(u) + u*Dx(u) = nu*Dxx(u)     in Omega
ic   u = -sin(pi*x)                  on boundary(Omega) where t == 0
bc   u = 0                           on boundary(Omega) where x == -1 or x == 1
set model = mlp(hidden=[100, 100, 100, 100, 100], activation=tanh)
set points = 8192
set boundary_points = 2048
