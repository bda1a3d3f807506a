# heat_nonlocal.pde — heat on a ring whose source is the temperature at x = 0, u(0, t): a
# nonlocal term. The ends x = -1 and x = 1 are joined by soft periodic conditions on u and
# its slope, each a penalty that compares values at two points.
domain Omega = box(x in [-1, 1], t in [0, 1])
field u(x, t)
pde  Dt(u) = Dxx(u) + u(0, t)                 in Omega
bc   u(-1, t) = u(1, t)                       on boundary(Omega) where x == -1
bc   Dx(u)(-1, t) = Dx(u)(1, t)               on boundary(Omega) where x == -1
ic   u = cos(pi*x)                            on boundary(Omega) where t == 0
exact u = exp(-pi^2*t)*cos(pi*x) + (exp(t) - exp(-pi^2*t))/(1 + pi^2)
