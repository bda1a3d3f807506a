# advection_periodic.pde — u_t + c u_x = 0 on a periodic interval: the initial wave travels
# around it. u is periodic in x with the interval's length as its period, so the faces
# x = 0 and x = 2*pi need no condition.
let c = 1
domain Omega = box(x in [0, 2*pi], t in [0, 1])
field u(x, t)
periodic u in x
pde  Dt(u) + c*Dx(u) = 0            in Omega
ic   u = sin(x)                     on boundary(Omega) where t == 0
exact u = sin(x - c*t)
