# The heat equation with two modes in its initial condition, one decaying nine times faster.
domain Rod = interval(x in [0, 1]) * interval(t in [0, 1])
field u(x, t)
pde  Dt(u) = 0.1*Dxx(u)                                in Rod
ic   u = sin(pi*x) + 0.5*sin(3*pi*x)                   on boundary(Rod) where t == 0
bc   u = 0                                             on boundary(Rod) where x == 0 or x == 1
exact u = exp(-0.1*pi^2*t)*sin(pi*x) + 0.5*exp(-0.9*pi^2*t)*sin(3*pi*x)
