# neumann.pde — Poisson with a Neumann condition (dn: the outward normal derivative) on two
# sides and a Dirichlet condition on the others.
domain Omega = box(x in [0, 1], y in [0, 1])
field u(x, y)
pde  lap(u) = -2*pi^2*cos(pi*x)*sin(pi*y)    in Omega
bc   flux: dn(u) = 0                         on boundary(Omega) where x == 0 or x == 1
bc   wall: u = 0                             on boundary(Omega) where y == 0 or y == 1
exact u = cos(pi*x)*sin(pi*y)
