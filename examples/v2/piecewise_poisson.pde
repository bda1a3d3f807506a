# piecewise_poisson.pde — a conductivity that jumps across x = 0.5 (ifelse).
# div(k grad u) = f with k = 1 left of the jump and 10 right of it. The solution
# u = sin(pi*x)^2 * sin(pi*y) has u_x = 0 on the line x = 0.5, so the flux k*u_x is
# continuous there and u is smooth: a network can represent it.
let k = ifelse(x < 0.5, 1, 10)
let f = k*pi^2*(2*cos(2*pi*x) - sin(pi*x)^2)*sin(pi*y)
domain Omega = box(x in [0, 1], y in [0, 1])
field u(x, y)
pde  div(k*grad(u)) = f        in Omega
bc   u = 0                     on boundary(Omega)
exact u = sin(pi*x)^2*sin(pi*y)
