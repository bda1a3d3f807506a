# variational.pde — the Dirichlet energy: the minimizer of
# integral(|grad u|^2/2 - f u) with u = 0 on the boundary solves -lap(u) = f.
let f = 2*pi^2*sin(pi*x)*sin(pi*y)
domain Omega = box(x in [0, 1], y in [0, 1])
field u(x, y)
minimize integral(0.5*dot(grad(u), grad(u)) - f*u)
bc   u = 0          on boundary(Omega) with weight=100
exact u = sin(pi*x)*sin(pi*y)
