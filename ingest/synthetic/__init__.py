"""One generator of synthetic submissions, for the demo, the tests and the
benchmark: ``generate(size, out, seed)`` for every size in ``sizes.py`` —
``sample`` (the bundled Hunan sample, ``parkstat demo``; its figures are pinned
to the seed documents'), ``tiny``, ``province`` and ``national`` (the
benchmark's, docs/benchmarks.md).

One place for each rule the generated files follow:

* ``shapes.csv`` / ``shapes.py`` — the file shapes (encodings, header language,
  title rows, unit lines, units, number formats, period spellings) and the one
  writer of a table in any of them;
* ``files.py`` — rows to CSV / XLSX / XLS bytes (the tests' file builders too);
* ``codes.py`` — the code a division is reported under in a year;
* ``hunan.py`` + ``sample.py`` — the sample's model and its files;
* ``national.py`` — the benchmark's model and its files.

Every size writes ``out/full/<submitter>/`` (the landing-area layout),
``out/increment/<submitter>/`` (the benchmark's held-back last month),
``out/reporting_calendar.csv`` and ``out/manifest.json``.
"""

from __future__ import annotations

from pathlib import Path

from ingest.synthetic.sizes import BENCHMARK_SIZES, SIZES, Size

__all__ = ["BENCHMARK_SIZES", "SIZES", "Size", "generate"]


def generate(size: str, out: Path, seed: int | None = None) -> dict:
    """Write the submissions of ``size`` under ``out`` (seeded: same seed, same
    files); returns counts (also ``out/manifest.json``)."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    if SIZES[size].model == "hunan":
        from ingest.synthetic import sample

        return sample.generate(out, SIZES[size].seed if seed is None else seed)
    from ingest.synthetic import national

    return national.generate(size, out, seed)
