# Helmholtz (a1 = 1, a2 = 4) as a PINN paper states it: its own 3x50 network and 4000 points,
# nothing else set.
let k = 1
domain Omega = box(x in [-1, 1], y in [-1, 1])
field u(x, y): mlp(hidden=[50, 50, 50], activation=tanh)
pde  lap(u) + k^2*u = (k^2 - 17*pi^2)*sin(pi*x)*sin(4*pi*y)     in Omega
bc   u = 0                                                      on boundary(Omega)
exact u = sin(pi*x)*sin(4*pi*y)
set points = 4000
