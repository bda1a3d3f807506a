"""How long `pinnc check` (and `pinnc compile`) takes on hostile or huge programs, one run each.

Each case is written to a temporary folder and checked in a fresh process, as a user would run
it; the table gives the seconds and the outcome (ok, or the first line of the refusal).

    python bench/limits.py            # every case
    python bench/limits.py polygon    # the cases whose name contains 'polygon'
"""
from __future__ import annotations

import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Seconds after which a case is stopped and reported as such.
TIMEOUT = 120
HEAD = "domain Omega = box(x in [0, 1], y in [0, 1])\nfield u(x, y)\n"


def sum_of_terms(n: int) -> str:
    return HEAD + "pde u = " + "+".join(f"{i}*x" for i in range(n)) + " in Omega\n"


def chained_lets(n: int) -> str:
    lets = "".join(f"let a{i + 1} = a{i} + 1\n" for i in range(n))
    return HEAD + "let a0 = x\n" + lets + f"pde u = a{n} in Omega\n"


def doubling_lets(levels: int, step: str) -> str:
    lets = "".join(f"let a{i + 1} = {step.format(a=f'a{i}')}\n" for i in range(levels))
    return HEAD + "let a0 = x\n" + lets + f"pde u = a{levels} in Omega\n"


def many_fields(n: int) -> str:
    fields = "".join(f"field v{i}(x, y)\n" for i in range(n - 1))  # and u
    return HEAD + fields + "pde u = v0 in Omega\n"


def many_statements(n: int, statement: str) -> str:
    return HEAD + "".join(statement.format(i=i) + "\n" for i in range(n)) + "pde u = 0 in Omega\n"


def product_of_intervals(n: int) -> str:
    factors = " * ".join(f"interval(x{i} in [0, 1])" for i in range(n))
    coords = ", ".join(f"x{i}" for i in range(n))
    return f"domain Omega = {factors}\nfield u({coords})\npde lap(u) = 1 in Omega\n"


def chained_conditions(n: int, joint: str) -> str:
    condition = f" {joint} ".join(f"x > {i / (2 * n)}" for i in range(n))
    return HEAD + f"pde u = 0 in Omega where {condition}\n"


def polygon(n: int, digits: int = 9) -> str:
    vertices = ", ".join(f"[{math.cos(2 * math.pi * k / n):.{digits}f}, "
                         f"{math.sin(2 * math.pi * k / n):.{digits}f}]" for k in range(n))
    return (f"domain Omega = polygon((x, y), [{vertices}])\nfield u(x, y)\n"
            "pde lap(u) = 1 in Omega\nbc u = 0 on boundary(Omega)\n")


def long_vector(n: int) -> str:
    return HEAD + "pde u = norm([" + ", ".join("x" for _ in range(n)) + "]) in Omega\n"


CASES = {
    "sum of 1,000 terms": lambda: sum_of_terms(1_000),
    "sum of 100,000 terms": lambda: sum_of_terms(100_000),
    "1,000 chained lets": lambda: chained_lets(1_000),
    "10,000 chained lets": lambda: chained_lets(10_000),
    "60 doubling lets, sin+cos": lambda: doubling_lets(60, "sin({a}) + cos({a})"),
    "60 doubling lets, a*a": lambda: doubling_lets(60, "{a}*{a}"),
    "60 doubling lets, a+a": lambda: doubling_lets(60, "{a} + {a}"),
    "12 doubling lets, sin+cos": lambda: doubling_lets(12, "sin({a}) + cos({a})"),
    "1,000 fields": lambda: many_fields(1_000),
    "10,000 fields": lambda: many_fields(10_000),
    "999 equations": lambda: many_statements(998, "pde u = {i} in Omega"),
    "10,000 equations": lambda: many_statements(10_000, "pde u = {i} in Omega"),
    "10,000 params": lambda: many_statements(10_000, "param p{i} = {i}"),
    "10,000 lets": lambda: many_statements(10_000, "let a{i} = x + {i}"),
    "10,000 domains": lambda: many_statements(10_000, "domain D{i} = box(x in [0, 1], y in [0, 1])"),
    "100-D product of intervals": lambda: product_of_intervals(100),
    "500-D product of intervals": lambda: product_of_intervals(500),
    "where of 500 ands": lambda: chained_conditions(500, "and"),
    "where of 500 ors": lambda: chained_conditions(500, "or"),
    "where of 10,000 ands": lambda: chained_conditions(10_000, "and"),
    "where of 10,000 ors": lambda: chained_conditions(10_000, "or"),
    "polygon of 5,000 vertices": lambda: polygon(5_000),
    "polygon of 10,000 vertices": lambda: polygon(10_000, digits=5),
    "polygon of 12,000 vertices": lambda: polygon(12_000, digits=5),
    "vector of 100,000 items": lambda: long_vector(100_000),
}


# The `pinnc` command, run with this interpreter.
_MAIN = "import sys; from pinnc.cli import main; sys.exit(main(sys.argv[1:]))"


def run(command: str, path: Path) -> tuple[float, str]:
    """Seconds of one `pinnc COMMAND path` in a fresh process, and its outcome in a line."""
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", _MAIN, command, str(path)],
                              capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - start, f"still running after {TIMEOUT} s (stopped)"
    seconds = time.perf_counter() - start
    if done.returncode == 0:
        return seconds, "ok"
    lines = done.stderr.strip().splitlines() or ["(no message)"]
    message = next((line for line in lines if "error:" in line), lines[-1])
    return seconds, message.split("error: ", 1)[-1][:90]


def main(selected: list[str]) -> None:
    print(f"| case | check s | compile s | outcome |\n| --- | ---: | ---: | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for name, make in CASES.items():
            if selected and not any(word in name for word in selected):
                continue
            path = Path(folder) / "case.pde"
            path.write_text(make())
            check_seconds, outcome = run("check", path)
            compiled = f"{run('compile', path)[0]:.1f}" if outcome == "ok" else "–"
            print(f"| {name} | {check_seconds:.1f} | {compiled} | {outcome} |",
                  flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
