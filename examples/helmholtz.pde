# helmholtz.pde — Helmholtz with a1 = 1, a2 = 4 on [-1, 1]^2: lap(u) + k^2 u = q.
let k = 1
let exact_u = sin(pi*x)*sin(4*pi*y)
domain Omega = box(x in [-1, 1], y in [-1, 1])
field u(x, y)
pde  lap(u) + k^2*u = (k^2 - 17*pi^2)*exact_u     in Omega
bc   u = 0                                       on boundary(Omega)
exact u = sin(pi*x)*sin(4*pi*y)
