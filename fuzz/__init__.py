"""Fuzzing the readers and parsers: any bytes, any grid, any cell yields a value,
a named problem or a receipt — never an unhandled exception or a hang.

``uv run python -m fuzz --inputs 100000`` runs every target (hypothesis drives
the inputs; a seeded run is repeatable) and prints one JSON line with the counts;
``tests/test_fuzz.py`` runs the same targets on a small budget in the suite.
"""
