# heat.pde — the heat equation in space and time: an initial condition at t == 0 and
# boundary conditions on the faces x == 0 and x == 1.
domain Rod = interval(x in [0, 1]) * interval(t in [0, 1])
field u(x, t)
pde  Dt(u) = 0.1*Dxx(u)                    in Rod
ic   u = sin(pi*x)                         on boundary(Rod) where t == 0
bc   u = 0                                 on boundary(Rod) where x == 0 or x == 1
exact u = exp(-0.1*pi^2*t)*sin(pi*x)
