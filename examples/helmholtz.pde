# helmholtz.pde — Helmholtz with a1 = 1, a2 = 4 on [-1, 1]^2: lap(u) + k^2 u = q.
let k = 1
let exact_u = sin(pi*x)*sin(4*pi*y)
domain Omega = box(x in [-1, 1], y in [-1, 1])
field u(x, y)
pde  lap(u) + k^2*u = (k^2 - 17*pi^2)*exact_u     in Omega
bc   u = 0                                       on boundary(Omega)
exact u = sin(pi*x)*sin(4*pi*y)
# The PDE term's gradient dwarfs the boundary's here; balancing them helps every optimizer
# (bench/weighting.py: engd 150 steps 3.0e-3 -> 1.3e-4; adam 3000 steps 1.35 -> 3.0e-2).
set weighting = gradnorm(every=10)
