# PINNacle Wave1d-C (Wave1D, C = 2, a = 4): u_tt = 4 u_xx on x in [0, 1], t in [0, 1];
# u(x, 0) = sin(pi x) + sin(4 pi x)/2, u_t(x, 0) = 0, u(0, t) = u(1, t) = 0.
# Solution: sin(pi x) cos(2 pi t) + sin(4 pi x) cos(8 pi t)/2.
let c = 2
domain Omega = box(x in [0, 1], t in [0, 1])
field u(x, t)
pde  Dtt(u) = c^2*Dxx(u)             in Omega
ic   u = sin(pi*x) + 0.5*sin(4*pi*x) on boundary(Omega) where t == 0
ic   Dt(u) = 0                       on boundary(Omega) where t == 0
bc   u = 0                           on boundary(Omega) where x == 0 or x == 1
exact u = sin(pi*x)*cos(2*pi*t) + 0.5*sin(4*pi*x)*cos(8*pi*t)
set model = mlp(hidden=[100, 100, 100, 100, 100], activation=tanh)
set points = 8192
set boundary_points = 2048
