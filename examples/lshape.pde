# lshape.pde — Poisson on an L-shaped domain: a difference of boxes.
# sin(pi x) sin(pi y) vanishes on every edge of the L, the re-entrant ones too.
domain Square = box(x in [0, 2], y in [0, 2])
domain L = Square - box(x in [1, 2], y in [1, 2])
field u(x, y)
pde  lap(u) = -2*pi^2*sin(pi*x)*sin(pi*y)   in L
bc   u = 0                                  on boundary(L)
exact u = sin(pi*x)*sin(pi*y)
