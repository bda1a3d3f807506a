# PINNacle HNd (HeatND, 5 dimensions): u_t = lap(u)/5 - |x|^2 exp(|x|^2/2 + t)/5 on the unit ball of R^5
# times t in [0, 1]; du/dn = exp(|x|^2/2 + t) on the sphere; u(x, 0) = exp(|x|^2/2).
# Solution: exp(|x|^2/2 + t).
let r2 = x1^2 + x2^2 + x3^2 + x4^2 + x5^2
domain Ball = ball((x1, x2, x3, x4, x5), center=[0, 0, 0, 0, 0], radius=1)
domain Omega = Ball * interval(t in [0, 1])
field u(x1, x2, x3, x4, x5, t)
pde  Dt(u) = lap(u)/5 - r2*exp(r2/2 + t)/5   in Omega
bc   dn(u) = exp(r2/2 + t)           on boundary(Omega) where t > 0 and t < 1
ic   u = exp(r2/2)                   on boundary(Omega) where t == 0
exact u = exp(r2/2 + t)
set model = mlp(hidden=[100, 100, 100, 100, 100], activation=tanh)
set points = 32768
set boundary_points = 8192
