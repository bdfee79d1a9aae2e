"""Benchmarks: ``uv run python -m benchmarks --size national`` (see docs/benchmarks.md)."""
