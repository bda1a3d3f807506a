# PINNacle Heat2d-MS (Heat2D_Multiscale): u_t = u_xx/(500 pi)^2 + u_yy/pi^2 on (x, y) in [0, 1]^2,
# t in [0, 5]; u(x, y, 0) = sin(20 pi x) sin(pi y); u = 0 on the square's sides.
# Solution: sin(20 pi x) sin(pi y) exp(-(20^2/500^2 + 1) t).
let kx = 1/(500*pi)^2
let ky = 1/pi^2
domain Omega = box(x in [0, 1], y in [0, 1], t in [0, 5])
field u(x, y, t)
pde  Dt(u) = kx*Dxx(u) + ky*Dyy(u)   in Omega
ic   u = sin(20*pi*x)*sin(pi*y)      on boundary(Omega) where t == 0
bc   u = 0                           on boundary(Omega) where x == 0 or x == 1 or y == 0 or y == 1
exact u = sin(20*pi*x)*sin(pi*y)*exp(-(kx*(20*pi)^2 + ky*pi^2)*t)
set model = mlp(hidden=[100, 100, 100, 100, 100], activation=tanh)
set points = 32768
set boundary_points = 8192
