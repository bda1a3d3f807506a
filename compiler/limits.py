"""The documented bounds on what pinnc reads (README, "Limits"): inputs past them are refused at
their place, so that no program or file, however large, makes `pinnc check` run unbounded."""

# A program's text, in bytes (read_source, compile_text).
MAX_SOURCE_BYTES = 1 << 20
# A CSV that a program names (`data`, `exact ... from`), in bytes.
MAX_DATA_BYTES = 256 << 20
