# deep_ritz.pde — the Deep Ritz method (E & Yu 2018): the Dirichlet energy of Poisson's
# problem with its boundary condition as a penalty, in one functional. Its minimizer solves
# -lap(u) = f with dn(u) + 2000 u = 0 on the boundary: within about 2.4e-3 (relative L2) of
# the Dirichlet solution, the penalty's own floor.
let f = 2*pi^2*sin(pi*x)*sin(pi*y)
domain Omega = box(x in [0, 1], y in [0, 1])
field u(x, y)
minimize integral(0.5*dot(grad(u), grad(u)) - f*u) + 1000*integral(u^2, boundary(Omega))
exact u = sin(pi*x)*sin(pi*y)
# Natural gradient on fixed points: each step solves for the best update of the network's
# function in the energy's own metric, so the penalty's stiffness costs no steps.
set points = 2048
set boundary_points = 512
set optimizer = engd(steps=300)
