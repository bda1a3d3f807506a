# system.pde — two fields, two equations: the biharmonic problem split as lap(u) = v,
# lap(v) = f, with u = v = 0 on the boundary.
domain Omega = box(x in [0, 1], y in [0, 1])
field u(x, y)
field v(x, y)
pde  lap(u) = v                                  in Omega
pde  lap(v) = 4*pi^4*sin(pi*x)*sin(pi*y)         in Omega
bc   u = 0                                       on boundary(Omega)
bc   v = 0                                       on boundary(Omega)
exact u = sin(pi*x)*sin(pi*y)
exact v = -2*pi^2*sin(pi*x)*sin(pi*y)
