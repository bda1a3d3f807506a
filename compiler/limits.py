"""The documented bounds on what pinnc reads (README, "Limits"): inputs past them are refused at
their place, so that no program or file, however large, makes `pinnc check` run unbounded."""

# A program's text, in bytes (read_source, compile_text).
MAX_SOURCE_BYTES = 1 << 20
# A CSV that a program names (`data`, `exact ... from`), in bytes.
MAX_DATA_BYTES = 64 << 20

# Bracket nesting, refused before any recursive stage sees it.
MAX_NESTING = 100
# Tokens (names, numbers, symbols) of one statement and of a program: they bound the parser's
# time (about 2 s and 4 s); a polygon of the most vertices allowed below fits in a statement.
MAX_STATEMENT_TOKENS = 100_000
MAX_PROGRAM_TOKENS = 200_000
# Digits of an exact number (numerator or denominator) that arithmetic on constants keeps;
# beyond, a number becomes a 30-digit float: float64 needs 17, and exact digits grow without end
# (a sum of 1/p over many primes) and beyond Python's printing of integers (4,300 digits).
MAX_EXACT_DIGITS = 1_000
# Nodes of one expression with the lets it uses written out, and of a SymPy expression built
# from it (derivatives taken): lets that double at each step (let b = sin(a) + cos(a)) would
# otherwise grow without end, and code generation is linear in this count.
MAX_EXPRESSION_NODES = 20_000
# Vertices of a polygon: the test that it is simple compares every pair of edges.
MAX_POLYGON_VERTICES = 10_000
# Fields of a program: each is a network and a SymPy function.
MAX_FIELDS = 1_000
# Terms of a program's loss (pde, bc, ic, minimize, data): each is a generated function.
MAX_TERMS = 1_000
# Comparisons after one `where`: SymPy's And and Or compare their terms pairwise.
MAX_COMPARISONS = 500
