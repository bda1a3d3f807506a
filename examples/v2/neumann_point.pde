# neumann_point.pde — Poisson with a Neumann condition on every side fixes the solution only
# up to a constant; one condition at a point fixes the constant.
domain Omega = box(x in [0, 1], y in [0, 1])
field u(x, y)
pde  lap(u) = -2*pi^2*cos(pi*x)*cos(pi*y)   in Omega
bc   dn(u) = 0                              on boundary(Omega)
bc   u = 1                                  at [[0, 0]]
exact u = cos(pi*x)*cos(pi*y)
