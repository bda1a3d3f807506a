# heat_table.pde — heat flow through a plate whose conductivity is given as data.
# conductivity.csv holds k(x, y) = 1 + 0.5*sin(pi*x)*y^2 on an 11 x 11 grid (header x,y,k);
# between its nodes k is interpolated bilinearly. The source f is written with the table
# itself (k and its derivatives Dx(k), Dy(k)), so u = exp(-t)*sin(pi*x)*sin(pi*y) solves
# the problem exactly for the interpolated conductivity.
let k = table("conductivity.csv")
let s = sin(pi*x)*sin(pi*y)
let f = exp(-t)*(2*pi^2*k*s - s - pi*Dx(k)*cos(pi*x)*sin(pi*y) - pi*Dy(k)*sin(pi*x)*cos(pi*y))
domain Omega = box(x in [0, 1], y in [0, 1], t in [0, 1])
field u(x, y, t)
pde  Dt(u) = div(k*grad(u)) + f          in Omega
ic   u = s                               on boundary(Omega) where t == 0
bc   u = 0                               on boundary(Omega) where x == 0 or x == 1 or y == 0 or y == 1
exact u = exp(-t)*sin(pi*x)*sin(pi*y)
