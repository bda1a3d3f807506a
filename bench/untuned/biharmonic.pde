# The biharmonic equation on the unit square, simply supported: u = lap(u) = 0 on the edges.
domain Square = box(x in [0, 1], y in [0, 1])
field u(x, y)
pde  lap(lap(u)) = 4*pi^4*sin(pi*x)*sin(pi*y)          in Square
bc   u = 0                                             on boundary(Square)
bc   lap(u) = 0                                        on boundary(Square)
exact u = sin(pi*x)*sin(pi*y)
