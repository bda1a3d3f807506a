# PINNacle PInv (PoissonInv): find u and the coefficient a on [0, 1]^2 from div(a grad(u)) + f = 0,
# a = a_ref on the boundary, and u measured on a 50 x 50 grid with Gaussian noise of standard
# deviation 0.1 (pinv_data.csv: numpy's default_rng(0)). a_ref = 1/(1 + x^2 + y^2 + (x-1)^2 + (y-1)^2),
# u_ref = sin(pi x) sin(pi y); f as PINNacle writes it, with (2x + 1) and (2y + 1) where
# -div(a_ref grad(u_ref)) has (2x - 1) and (2y - 1): its u_ref, a_ref solve the equation only nearly.
let aref = 1/(1 + x^2 + y^2 + (x - 1)^2 + (y - 1)^2)
let uref = sin(pi*x)*sin(pi*y)
let f = 2*pi^2*uref*aref + 2*pi*((2*x + 1)*cos(pi*x)*sin(pi*y) + (2*y + 1)*sin(pi*x)*cos(pi*y))*aref^2
domain Omega = box(x in [0, 1], y in [0, 1])
field u(x, y)
field a(x, y)
pde  div(a*grad(u)) + f = 0          in Omega
bc   a = aref                        on boundary(Omega)
data "pinv_data.csv"
exact u = uref
exact a = aref
set model = mlp(hidden=[100, 100, 100, 100, 100], activation=tanh)
set points = 8192
set boundary_points = 2048
