"""A corpus of malformed programs: each error names its line (and column), says what to change,
and is printed as FILE:LINE:COL: error: ... with the line and a caret under the spot."""
import pytest

from pinnc import SpecError
from pinnc.compiler.pipeline import compile_text

# Two lines every case below starts from: line 3 is the first line of a case's own text.
HEAD = "domain Omega = box(x in [0, 1], y in [0, 2])\nfield u(x, y)\n"
FIELD = "field u(x, y)\npde u = 0 in Q\n"  # follows a `domain Q = ...` on line 1


def case(id, source, line, column, fragment):
    return pytest.param(source, line, column, fragment, id=id)


SYNTAX = [
    case("missing-operand-before-keyword", HEAD + "pde u = 1 + in Omega", 3, 13,
         "unexpected 'in'; expected an expression"),
    case("missing-operand-between-operators", HEAD + "pde u = 3 * / 2 in Omega", 3, 13,
         "unexpected '/'; expected an expression"),
    case("missing-operand-at-end", HEAD + "let a = 2 *\npde u = a in Omega", 3, 12,
         "unexpected end of line; expected an expression"),
    case("missing-left-side", HEAD + "pde = 0 in Omega", 3, 5,
         "unexpected '='; expected an expression"),
    case("unclosed-parenthesis", HEAD + "pde u = (1 + x in Omega", 3, 16,
         "expected ')' or ','"),
    case("extra-closing-parenthesis", HEAD + "pde u = 1) in Omega", 3, 10,
         "unexpected ')'; expected 'at', 'in' or 'on'"),
    case("unclosed-bracket", HEAD + "pde u = [1, 2 in Omega", 3, 15, "expected ',' or ']'"),
    case("unclosed-call-runs-into-next-line", HEAD + "field v(x, y\npde u = 0 in Omega", 4, 1,
         "unexpected 'pde'; expected ')' or ','"),
    case("bad-character", HEAD + "pde u = x $ 2 in Omega", 3, 11, "unexpected character '$'"),
    case("unicode-comparison", HEAD + "pde u = 0 in Omega where x ≥ 0", 3, 28,
         "unexpected character '≥'"),
    case("single-quoted-file", HEAD + "pde u = 0 in Omega\ndata 'obs.csv'", 4, 6,
         "file names are written in double quotes"),
    case("statement-split-over-lines", HEAD + "pde lap(u) = 0\n    in Omega", 3, 15,
         "continues on the next line only inside ( ) or [ ]"),
    case("missing-in", HEAD + "pde lap(u) = 0 Omega", 3, 16, "expected 'at', 'in', 'on'"),
    case("missing-on", HEAD + "bc u = 0 boundary(Omega)", 3, 10, "expected 'at', 'in', 'on'"),
    case("on-without-boundary", HEAD + "bc u = 0 on Omega", 3, 13, "expected 'boundary'"),
    case("where-without-condition", HEAD + "pde u = 0 in Omega where", 3, 20,
         "expected 'not' or an expression"),
    case("where-at-end-of-line", HEAD + "pde u = 0 in Omega where\nbc u = 0 on boundary(Omega)",
         3, 25, "unexpected end of line"),
    case("assignment-in-condition", HEAD + "pde u = 0 in Omega where x = 0", 3, 28,
         "expected a comparison (== < <= > >=)"),
    case("and-without-right-side", HEAD + "pde u = 0 in Omega where x > 0 and", 3, 32,
         "expected 'not' or an expression"),
    case("comparison-outside-where", HEAD + "pde u = x < 1 in Omega", 3, 11,
         "comparisons appear only in a condition after 'where'"),
    case("comparison-in-let", HEAD + "let a = x > 1\npde u = a in Omega", 3, 11,
         "comparisons appear only in a condition after 'where'"),
    case("trailing-then", HEAD + "pde u = 0 in Omega\nset optimizer = adam(steps=10) then", 4, 32,
         "expected an expression"),
    case("unknown-statement", HEAD + "pdf u = 0 in Omega", 3, 1,
         "expected a statement (let, param, domain, field, pde, bc, ic, minimize, data, exact, "
         "set, periodic) (did you mean 'pde'?)"),
    case("keyword-glued-to-name", "letx = 1\n" + HEAD, 1, 1, "unexpected 'letx'"),
    case("empty-argument", HEAD + "pde sin(x,) = u in Omega", 3, 11,
         "unexpected ')'; expected 'not' or an expression"),
    case("reserved-word-as-name", HEAD + "let where = 2", 3, 5,
         "expected a name ('where' is a reserved word)"),
    case("two-statements-on-one-line", HEAD + "let a = 1 let b = 2", 3, 11, "unexpected 'let'"),
]

NAMES = [
    case("unknown-name", HEAD + "pde lap(uu) = 0 in Omega", 3, 9,
         "unknown name 'uu' (did you mean 'u'?)"),
    case("unknown-function", HEAD + "pde sinn(u) = 0 in Omega", 3, 5,
         "unknown function 'sinn' (did you mean 'sin'?)"),
    case("unknown-domain", HEAD + "pde u = 0 in Omga", 3, 14,
         "unknown domain 'Omga' (did you mean 'Omega'?)"),
    case("unknown-coordinate-in-field", HEAD + "field v(x, z)\npde u = v in Omega", 3, 12,
         "unknown coordinate 'z'"),
    case("shadow-constant", HEAD + "let pi = 3\npde u = 0 in Omega", 3, 5,
         "'pi' is a built-in name and cannot be redefined"),
    case("shadow-function", HEAD + "param exp = 1\npde u = 0 in Omega", 3, 7,
         "'exp' is a built-in name"),
    case("shadow-operator", "domain Q = interval(x in [0, 1])\nfield lap(x)\npde lap = 0 in Q", 2, 7,
         "'lap' is a built-in name"),
    case("field-named-D", "domain Q = interval(x in [0, 1])\nfield D(x)\npde D = 0 in Q", 2, 7,
         "'D' is a built-in name and cannot be redefined as a field (a domain, let or param "
         "may be called D)"),
    case("coordinate-named-D", "domain Q = interval(D in [0, 1])\nfield u(D)\npde u = 0 in Q",
         1, 21, "'D' is a built-in name and cannot be redefined as a coordinate"),
    case("shadow-keyword", HEAD + "field in(x, y)", 3, 7, "'in' is a reserved word"),
    case("declared-twice", HEAD + "domain Omega = box(x in [0, 2])\npde u = 0 in Omega", 3, 8,
         "'Omega' is already declared as a domain on line 1"),
    case("field-and-let-clash", HEAD + "let u = 1\npde u = 0 in Omega", 3, 5,
         "'u' is already declared as a field on line 2"),
    case("let-cycle", HEAD + "let a = b\nlet b = c + 1\nlet c = a\npde u = a in Omega", 3, 5,
         "'let a' refers to itself: a -> b -> c -> a"),
    case("let-refers-to-itself", HEAD + "let a = 2*a\npde u = a in Omega", 3, 5,
         "'let a' refers to itself: a -> a"),
    case("field-called-with-too-few-arguments", HEAD + "pde u(x) = 0 in Omega", 3, 5,
         "u takes 2 arguments (x, y), got 1"),
    case("let-called-like-function", HEAD + "let a = 2\npde u = a(x) in Omega", 4, 9,
         "'a' is not a function"),
    case("function-without-call", HEAD + "pde u = sin in Omega", 3, 9,
         "'sin' is a function: write sin(...)"),
    case("field-named-like-its-coordinate", "domain Q = interval(x in [0, 1])\nfield x(x)\n"
         "pde x = 0 in Q", 2, 7, "the field 'x' has the name of a coordinate ('x' in the domain "
         "on line 1): give the field another name"),
    case("field-named-like-later-coordinate", "field y(x, y)\n" + HEAD + "pde y = 0 in Omega",
         1, 7, "the field 'y' has the name of a coordinate ('y' in the domain on line 2)"),
    case("let-named-like-coordinate", HEAD + "let x = 2\npde u = x in Omega", 3, 5,
         "the let 'x' has the name of a coordinate"),
]

DOMAINS = [
    case("empty-interval", "domain Q = interval(x in [1, 0])\n" + FIELD.replace("u(x, y)", "u(x)"),
         1, 21, "empty range: 1 is not below 0"),
    case("interval-with-two-ranges", "domain Q = interval(x in [0, 1], y in [0, 1])\n" + FIELD,
         1, 34, "interval takes one coordinate range; use box for more"),
    case("ball-negative-radius", "domain Q = ball((x, y), center=[0, 0], radius=-1)\n" + FIELD,
         1, 47, "the radius must be positive"),
    case("ball-center-wrong-length", "domain Q = ball((x, y), center=[0, 0, 0], radius=1)\n" + FIELD,
         1, 32, "center must be a list of 2 numbers"),
    case("ball-unknown-setting", "domain Q = ball((x, y), radius=1, centre=[0, 0])\n" + FIELD,
         1, 35, "ball has no setting 'centre' (did you mean 'center'?)"),
    case("polygon-two-vertices", "domain Q = polygon((x, y), [[0, 0], [1, 0]])\n" + FIELD,
         1, 28, "polygon needs a list of at least 3 vertices"),
    case("polygon-crossing-edges", "domain Q = polygon((x, y), [[0, 0], [3, 0], [0, 1], [1, 2]])\n"
         + FIELD, 1, 28, "not a simple polygon: edges 2 and 4 cross"),
    case("polygon-zero-area", "domain Q = polygon((x, y), [[0, 0], [1, 1], [2, 2]])\n" + FIELD,
         1, 28, "its area is zero"),
    case("union-different-coordinates",
         "domain A = box(x in [0, 1], y in [0, 1])\ndomain B = box(x in [0, 1], z in [0, 1])\n"
         "domain Q = A | B\n" + FIELD, 3, 12, "these have different coordinates: (x, y) and (x, z)"),
    case("product-sharing-coordinate",
         "domain A = interval(x in [0, 1])\ndomain Q = A * interval(x in [2, 3])\n"
         "field u(x)\npde u = 0 in Q", 2, 12, "a product of domains that share coordinate 'x'"),
    case("unknown-domain-constructor", "domain Q = sphere((x, y), radius=1)\n" + FIELD, 1, 12,
         "expected a domain: box(x in [a, b], ...)"),
    case("misspelled-domain-constructor", "domain Q = bx(x in [0, 1])\nfield u(x)\npde u = 0 in Q",
         1, 12, "(did you mean 'box'?)"),
    case("bound-not-a-number", "domain Q = box(x in [0, 1], y in [0, x])\n" + FIELD, 1, 38,
         "expected a number (the upper bound)"),
    case("disjoint-intersection",
         "domain Q = box(x in [0, 1], y in [0, 1]) & box(x in [2, 3], y in [0, 1])\n" + FIELD,
         1, 12, "this domain is empty: its two sides share no volume (x spans [0, 1] in one and "
         "[2, 3] in the other)"),
    case("intersection-of-touching-boxes",
         "domain Q = box(x in [0, 1], y in [0, 1]) & box(x in [0, 1], y in [1, 2])\n" + FIELD,
         1, 12, "this domain is empty: its two sides share no volume (y spans"),
    case("empty-intersection-inside-union",
         "domain A = ball((x, y), center=[0, 0], radius=1)\n"
         "domain Q = A | (A & box(x in [3, 4], y in [0, 1]))\n" + FIELD, 2, 17,
         "this domain is empty: its two sides share no volume (x spans [-1, 1]"),
    case("difference-of-a-domain-and-itself",
         "domain A = box(x in [0, 1], y in [0, 1])\ndomain Q = A - A\n" + FIELD, 2, 12,
         "this domain is empty: the part taken away covers all of it"),
    case("difference-by-a-covering-box",
         "domain Q = ball((x, y), center=[0, 0], radius=1) - box(x in [-2, 2], y in [-1, 1])\n"
         + FIELD, 1, 12, "this domain is empty: the part taken away covers all of it"),
    case("empty-region-inline", HEAD + "pde u = 0 in Omega & box(x in [5, 6], y in [0, 2])",
         3, 14, "this domain is empty"),
]

REGIONS = [
    case("bc-in-domain", HEAD + "bc u = 0 in Omega", 3, 10,
         "a bc holds on a boundary: write 'on boundary(D)'"),
    case("pde-on-boundary", HEAD + "pde u = 0 on boundary(Omega)", 3, 11,
         "a pde holds in a domain: write 'in D'"),
    case("where-on-other-domains-coordinate",
         HEAD + "domain T = interval(t in [0, 1])\npde u = 0 in Omega where t > 0", 4, 26,
         "'t' is not a coordinate of this domain (x, y)"),
    case("where-on-unknown-name", HEAD + "pde u = 0 in Omega where z > 0", 3, 26,
         "unknown name 'z'"),
    case("condition-outside-box", HEAD + "pde u = 0 in Omega where x > 2", 3, 26,
         "this condition is never true in box(x in [0, 1], y in [0, 2])"),
    case("condition-two-faces-at-once", HEAD + "bc u = 0 on boundary(Omega) where x == 0 and x == 1",
         3, 35, "this condition is never true"),
    case("condition-false-constant", HEAD + "pde u = 0 in Omega where 1 > 2", 3, 26,
         "this condition is never true"),
    case("field-in-condition", HEAD + "pde u = 0 in Omega where u > 0", 3, 26,
         "a condition may use coordinates only, not fields"),
    case("interior-narrowed-by-equality", HEAD + "pde u = 0 in Omega where x == 0.5", 3, 26,
         "an interior region narrowed by '==' has no volume"),
    case("interior-equality-and-inequality",
         HEAD + "pde u = 0 in Omega where y > 1 and x == 0.5", 3, 26,
         "a condition with '==' belongs on a boundary, e.g. 'bc ... on boundary(D) where x == 0'"),
    case("interior-equalities-either-way",
         HEAD + "pde u = 0 in Omega where x == 0.25 or x == 0.75", 3, 26,
         "an interior region narrowed by '==' has no volume"),
    case("integral-interior-equality",
         HEAD + "pde u = integral(u, Omega) in Omega where x == 1", 3, 43, "has no volume"),
]

EXPRESSIONS = [
    case("vector-for-scalar", HEAD + "pde sin(grad(u)) = 0 in Omega", 3, 9,
         "expected a scalar here, got a vector"),
    case("vector-equation", HEAD + "pde grad(u) = 0 in Omega", 3, 5,
         "expected a scalar here, got a vector"),
    case("dot-different-lengths", HEAD + "pde dot(grad(u), [1, 2, 3]) = 0 in Omega", 3, 5,
         "dot of vectors of lengths 2 and 3"),
    case("div-of-scalar", HEAD + "pde div(u) = 0 in Omega", 3, 9, "div takes a vector"),
    case("dn-in-interior", HEAD + "pde dn(u) = 0 in Omega", 3, 5,
         "use it in a bc or ic 'on boundary(D)'"),
    case("integral-in-let", HEAD + "let a = integral(u)\npde u = a in Omega", 3, 9,
         "integral(...) is not allowed in a let"),
    case("D-without-coordinate", HEAD + "pde D(u) = 0 in Omega", 3, 5,
         "D takes an expression and at least one coordinate: D(u, x)"),
    case("D-of-non-coordinate", HEAD + "pde D(u, 1) = 0 in Omega", 3, 10,
         "expected a coordinate (x, y)"),
    case("derivative-order-9", HEAD + "pde D(u, x, x, x, x, x, x, x, x, y) = 0 in Omega", 3, 5,
         "a derivative of order 9; at most 8 is supported"),
    case("short-derivative-order-9", HEAD + "pde Dxxxxxxxxy(u) = 0 in Omega", 3, 5,
         "a derivative of order 9"),
    case("nested-laplacians", HEAD + "pde lap(lap(lap(lap(lap(u))))) = 0 in Omega", 3, 5,
         "a derivative of order 10"),
    case("division-by-zero", HEAD + "pde u = 1/0 in Omega", 3, 11, "division by zero"),
    case("division-by-zero-expression", HEAD + "pde u = x/(2 - 2) in Omega", 3, 12,
         "division by zero"),
    case("number-out-of-range", HEAD + "pde u = 1e999 in Omega", 3, 9,
         "number 1e999 is out of range"),
    case("power-out-of-range", HEAD + "pde u = 2^100000 in Omega", 3, 9, "number out of range"),
    case("product-out-of-range", HEAD + "pde u = 1e300*1e300 in Omega", 3, 9,
         "number out of range"),
    case("log-of-zero", HEAD + "pde u = log(0) in Omega", 3, 9,
         "log(0) is not a finite real number"),
    case("exp-out-of-range", HEAD + "pde u = exp(1000) in Omega", 3, 9,
         "exp(1000) is out of range"),
    case("huge-exponent-on-field", HEAD + "pde u^1000 = 0 in Omega", 3, 7,
         "exponent too large: at most 100"),
    case("tuple-as-value", HEAD + "pde u = (1, 2) in Omega", 3, 9, "write a vector as [a, b]"),
    case("wrong-argument-count", HEAD + "pde u = sin(x, y) in Omega", 3, 9,
         "'sin' takes 1 argument, got 2"),
    case("undefined-derivative", HEAD + "pde u = Dy(0^y) in Omega", 3, 1,
         "undefined or infinite value"),
]

STATEMENTS = [
    case("exact-of-non-field", HEAD + "pde u = 0 in Omega\nexact x = 1", 4, 7,
         "'exact' names a field or a let of fields; 'x' is neither"),
    case("exact-of-let-without-field", HEAD + "let g = x^2\npde u = g in Omega\nexact g = x^2",
         5, 7, "'let g' involves no field"),
    case("exact-of-let-from-file", HEAD + "let v = x*u\npde u = 0 in Omega\nexact v from \"r.csv\"",
         5, 7, "reads a file only for a field; for the let 'v' give a formula"),
    case("exact-of-let-outside-coordinates",
         "domain Omega = box(x in [0, 1], y in [0, 2])\nfield u(x)\nlet v = x*u\n"
         "pde u = 0 in Omega\nexact v = y", 5, 11, "'y' is not a coordinate of let 'v' (x)"),
    case("exact-using-field", HEAD + "pde u = 0 in Omega\nexact u = 2*u", 4, 11,
         "an exact solution may use coordinates and constants only"),
    case("exact-using-param", HEAD + "param k = 1\npde u = k in Omega\nexact u = k*x", 5, 11,
         "coordinates and constants only"),
    case("term-without-field", HEAD + "pde x = 1 in Omega", 3, 1,
         "this term involves no field, so training cannot change it"),
    case("negative-weight", HEAD + "pde u = 0 in Omega with weight=-1", 3, 32,
         "weight must not be negative"),
    case("zero-points", HEAD + "pde u = 0 in Omega with points=0", 3, 32,
         "points must be an integer >= 1, got 0"),
    case("unknown-term-option", HEAD + "pde u = 0 in Omega with pionts=10", 3, 25,
         "unknown term option 'pionts' (did you mean 'points'?)"),
    case("term-option-twice", HEAD + "pde u = 0 in Omega with weight=1, weight=2", 3, 35,
         "'weight' is given twice"),
    case("label-used-twice", HEAD + "pde a: u = 0 in Omega\nbc a: u = 0 on boundary(Omega)", 4, 4,
         "label 'a' is already used on line 3"),
    case("label-loss", HEAD + "pde loss: u = 0 in Omega", 3, 5,
         "label 'loss' is the name of a column of history.csv (step, loss, then one column per "
         "term): choose another label"),
    case("label-step", HEAD + "pde a: u = 0 in Omega\nbc step: u = 0 on boundary(Omega)", 4, 4,
         "label 'step' is the name of a column of history.csv"),
    case("minimize-without-integral", HEAD + "minimize u^2", 3, 10,
         "minimize takes integrals, e.g. minimize integral(Dx(u)^2)"),
    case("minimize-integral-squared", HEAD + "minimize integral(u)^2", 3, 10,
         "minimize takes a sum of integrals with constant factors"),
    case("minimize-function-of-integral", HEAD + "minimize sqrt(integral(u^2))", 3, 10,
         "minimize takes a sum of integrals with constant factors"),
    case("param-not-a-number", HEAD + "param k = x\npde u = k in Omega", 3, 11,
         "expected a number (the start value)"),
    case("no-field", "domain Omega = box(x in [0, 1])\n", 1, 1, "the program declares no field"),
    case("nothing-to-train", HEAD, 1, 1, "the program has nothing to train"),
]

OPTIONS = [
    case("unknown-option", HEAD + "pde u = 0 in Omega\nset pionts = 100", 4, 5,
         "unknown option 'pionts' (did you mean 'points'?)"),
    case("option-set-twice", HEAD + "pde u = 0 in Omega\nset seed = 1\nset seed = 2", 5, 5,
         "option 'seed' is already set on line 4"),
    case("bad-sampler", HEAD + "pde u = 0 in Omega\nset sampler = sobl", 4, 15,
         "sampler must be one of uniform, sobol, halton, lhs, grid (did you mean 'sobol'?)"),
    case("bad-precision", HEAD + "pde u = 0 in Omega\nset precision = float16", 4, 17,
         "precision must be one of float32, float64"),
    case("optimizer-typo", HEAD + "pde u = 0 in Omega\nset optimizer = adma(steps=10)", 4, 17,
         "(did you mean 'adam'?)"),
    case("second-optimizer-typo",
         HEAD + "pde u = 0 in Omega\nset optimizer = adam(steps=10) then lbgfs(steps=10)", 4, 37,
         "(did you mean 'lbfgs'?)"),
    case("unknown-optimizer-setting",
         HEAD + "pde u = 0 in Omega\nset optimizer = adam(steps=10, momentum=0.9)", 4, 32,
         "'adam' has no setting 'momentum'; it takes steps, lr"),
    case("optimizer-setting-typo", HEAD + "pde u = 0 in Omega\nset optimizer = lbfgs(step=10)", 4, 23,
         "'lbfgs' has no setting 'step' (did you mean 'steps'?)"),
    case("negative-steps", HEAD + "pde u = 0 in Omega\nset optimizer = adam(steps=-5)", 4, 28,
         "steps must be an integer >= 0, got -5"),
    case("mlp-unknown-keyword", HEAD + "pde u = 0 in Omega\nset model = mlp(hiden=[8])", 4, 17,
         "'mlp' has no setting 'hiden' (did you mean 'hidden'?)"),
    case("unknown-activation", HEAD + "pde u = 0 in Omega\nset model = mlp(activation=tahn)", 4, 28,
         "activation must be one of tanh, sigmoid, sin, gelu, softplus, relu, identity "
         "(did you mean 'tanh'?)"),
    case("hidden-not-a-list", HEAD + "pde u = 0 in Omega\nset model = mlp(hidden=32)", 4, 24,
         "hidden must be a list of layer widths, e.g. [32, 32]"),
    case("layer-width-zero", "domain Omega = box(x in [0, 1], y in [0, 2])\n"
         "field u(x, y): mlp(hidden=[16, 0])\npde u = 0 in Omega", 2, 32,
         "a layer width must be an integer >= 1, got 0"),
    case("then-for-one-value", HEAD + "pde u = 0 in Omega\nset points = 10 then 20", 4, 22,
         "'then' joins optimizers only; 'points' takes one value"),
    case("points-too-many", HEAD + "pde u = 0 in Omega\nset points = 1e12", 4, 14,
         "points must be at most 10,000,000, got 1,000,000,000,000"),
    case("term-points-too-many", HEAD + "pde u = 0 in Omega with points=1e9", 3, 32,
         "points must be at most 10,000,000"),
    case("steps-too-many", HEAD + "pde u = 0 in Omega\nset optimizer = adam(steps=1e10)", 4, 28,
         "steps must be at most 100,000,000"),
    case("layer-too-wide", HEAD + "pde u = 0 in Omega\nset model = mlp(hidden=[16, 100000])", 4, 29,
         "a layer width must be at most 65,536"),
    case("too-many-layers", HEAD + "pde u = 0 in Omega\nset model = mlp(hidden=[" + "4, " * 70 + "4])",
         4, 24, "at most 64 hidden layers, got 71"),
    case("seed-not-integer", HEAD + "pde u = 0 in Omega\nset seed = 1.5", 4, 12,
         "seed must be an integer >= 0, got 1.5"),
    case("model-not-mlp", HEAD + "pde u = 0 in Omega\nset model = net(hidden=[8])", 4, 13,
         "expected a model: mlp(hidden=[...], activation=..., output=...)"),
    case("points-not-a-number", HEAD + "pde u = 0 in Omega\nset points = many", 4, 14,
         "expected a number"),
    case("refine-not-rar", HEAD + "pde u = 0 in Omega\nset refine = rad(every=10, points=5)",
         4, 14, "expected rar(every=N, points=K)"),
    case("refine-every-zero", HEAD + "pde u = 0 in Omega\nset refine = rar(every=0, points=5)",
         4, 24, "every must be an integer >= 1, got 0"),
    case("refine-without-points", HEAD + "pde u = 0 in Omega\nset refine = rar(every=10)",
         4, 14, "rar(...) needs points=N"),
    case("weighting-smoothing-one", HEAD + "pde u = 0 in Omega\n"
         "set weighting = gradnorm(smoothing=1)", 4, 36, "smoothing must be in [0, 1), got 1"),
    case("weighting-unknown", HEAD + "pde u = 0 in Omega\nset weighting = softadapt", 4, 17,
         "expected gradnorm(every=N, smoothing=X)"),
    case("tolerance-negative", HEAD + "pde u = 0 in Omega\n"
         "set optimizer = lbfgs(steps=10, grad_tol=-1)", 4, 42, "grad_tol must not be negative"),
]

CORPUS = SYNTAX + NAMES + DOMAINS + REGIONS + EXPRESSIONS + STATEMENTS + OPTIONS


def check_error(error: SpecError, source: str, filename: str, line: int, column: int | None,
                fragment: str) -> None:
    text = str(error)
    assert error.line == line, text
    if column is not None:
        assert error.column == column, text
    assert fragment in text, text
    assert text.startswith(f"{filename}:{line}:{error.column}: error: "), text
    head, shown, caret = text.splitlines()[:3]
    source_line = source.splitlines()[line - 1]
    assert caret.strip() and set(caret.strip()) == {"^"}, text
    at = caret.index("^")
    if len(source_line) <= 120:
        assert shown.strip() == source_line.strip(), text
        assert at - 4 == error.column - 1, text  # the caret sits under the column
    else:  # a window of the line around the spot, the caret under the same character
        window = shown[4:].removeprefix("...").removesuffix("...")
        assert window in source_line and len(shown) <= 4 + 126, text
        if error.column <= len(source_line):
            assert shown[at] == source_line[error.column - 1], text


@pytest.mark.parametrize("source, line, column, fragment", CORPUS)
def test_corpus(source, line, column, fragment):
    with pytest.raises(SpecError) as caught:
        compile_text(source, "case.pde")
    check_error(caught.value, source, "case.pde", line, column, fragment)


def test_corpus_is_large_and_ids_are_unique():
    ids = [p.id for p in CORPUS]
    assert len(ids) >= 45 and len(set(ids)) == len(ids)


# --- files named by a program ---------------------------------------------------------------------

@pytest.mark.parametrize("statement, csv, line, column, fragment", [
    pytest.param('data "missing.csv"', None, 4, 6, "cannot read", id="data-file-missing"),
    pytest.param('data "obs.csv"', "x,y,w\n0,0,1\n", 4, 6,
                 "obs.csv: column 'w' is neither a coordinate nor a field", id="data-unknown-column"),
    pytest.param('data "obs.csv"', "x,y,uu\n0,0,1\n", 4, 6, "(did you mean 'u'?)",
                 id="data-misspelled-field-column"),
    pytest.param('data "obs.csv"', "x,y\n0,0\n", 4, 6, "no column names a field",
                 id="data-without-field-column"),
    pytest.param('data "obs.csv"', "x,u\n0,1\n", 4, 6, "field u needs column 'y'",
                 id="data-missing-coordinate-column"),
    pytest.param('data "obs.csv"', "x,y,u\n0,0,oops\n", 4, 6,
                 "obs.csv:2: the value in column 'u' is not a number",
                 id="data-not-a-number"),
    pytest.param('data "obs.csv"', "x,y,u\n0,0\n", 4, 6, "obs.csv:2: 2 values, the header names 3",
                 id="data-short-row"),
    pytest.param('data "obs.csv" with points=10', "x,y,u\n0,0,1\n", 4, 1,
                 "'points' does not apply", id="data-with-points"),
    pytest.param('exact u from "ref.csv"', None, 4, 14, "cannot read", id="exact-file-missing"),
    pytest.param('exact u from "ref.csv"', "x,u\n0,1\n", 4, 14, "no column 'y'",
                 id="exact-file-missing-column"),
])
def test_file_errors(tmp_path, statement, csv, line, column, fragment):
    name = statement.split('"')[1]
    if csv is not None:
        (tmp_path / name).write_text(csv)
    source = HEAD + "pde lap(u) = 0 in Omega\n" + statement + "\n"
    filename = str(tmp_path / "case.pde")
    with pytest.raises(SpecError) as caught:
        compile_text(source, filename)
    check_error(caught.value, source, filename, line, column, fragment)


def test_override_errors_name_the_override():
    with pytest.raises(SpecError) as caught:
        compile_text(HEAD + "pde u = 0 in Omega\n", "case.pde", {"sampler": "sobl"})
    assert str(caught.value).startswith("--set sampler=sobl:1:")
    assert "did you mean 'sobol'" in str(caught.value)


# --- long lines -----------------------------------------------------------------------------------

@pytest.mark.parametrize("before, after", [(0, 100), (100, 100), (100, 0)],
                         ids=["near-start", "middle", "near-end"])
def test_a_long_line_is_shown_as_a_window_with_the_caret_under_the_spot(before, after):
    terms = lambda n: "".join(f"{i}*x + " for i in range(n))  # noqa: E731
    line = f"pde u = {terms(before)}uu + {terms(after)}1 in Omega"
    source = HEAD + line
    with pytest.raises(SpecError) as caught:
        compile_text(source, "case.pde")
    text = str(caught.value)
    head, shown, caret = text.splitlines()
    column = line.index("uu") + 1
    assert head == f"case.pde:3:{column}: error: unknown name 'uu' (did you mean 'u'?)"
    assert len(shown) <= 4 + 126 and len(caret) <= 4 + 126
    assert shown.startswith("    ...") == (before > 0)
    assert shown.endswith("...") == (after > 0)
    at = caret.index("^")
    assert caret[at:] == "^^" and shown[at:at + 2] == "uu"
    check_error(caught.value, source, "case.pde", 3, column, "unknown name 'uu'")


def test_a_long_reason_is_cut_in_its_middle():
    name = "w" * 2000
    with pytest.raises(SpecError) as caught:
        compile_text(HEAD + f"pde u = {name} in Omega", "case.pde")
    head = str(caught.value).splitlines()[0]
    assert len(head) < 500 and " ... " in head and head.startswith("case.pde:3:9: error: unknown")
    assert caught.value.reason == f"unknown name '{name}'"  # the whole reason stays available
