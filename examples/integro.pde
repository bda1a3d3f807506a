# integro.pde — an integro-differential equation: u' + integral of u over [0, 1] = g, u(0) = 0.
# With u = sin(x) the integral is 1 - cos(1).
domain I = interval(x in [0, 1])
field u(x)
pde  Dx(u) + integral(u, I) = cos(x) + 1 - cos(1)    in I
bc   u = 0                                          on boundary(I) where x == 0
exact u = sin(x)
