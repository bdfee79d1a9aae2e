"""The generator's sizes, as data: ``sample`` (the bundled Hunan sample the demo
and the tests' figures use; its own model, ``hunan.py``) and the benchmark's
``tiny``, ``province`` and ``national`` (``national.py``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Size:
    name: str
    model: str  # hunan (the sample's seeded province) | national (the benchmark's)
    provinces: tuple[str, ...] | None  # two-digit prefixes; None = all
    cities: int | None  # at most this many submitters (None = all)
    projects: int | None  # in total (the sample's model decides its own)
    years: tuple[int, ...]
    seed: int  # the default seed

    @property
    def now(self) -> str:
        """The moment runs on this size pretend to happen (PARKSTAT_NOW)."""
        return f"{self.years[-1] + 1}-01-20T02:00:00"


SIZES = {
    "sample": Size("sample", "hunan", ("43",), None, None, (2019, 2020, 2021, 2022, 2023), 20220430),
    "tiny": Size("tiny", "national", ("43",), 3, 120, (2023, 2024), 20261122),
    "province": Size("province", "national", ("43",), None, 8_500, (2020, 2021, 2022, 2023, 2024), 20261122),
    "national": Size("national", "national", None, None, 200_000, (2020, 2021, 2022, 2023, 2024), 20261122),
}
# the sizes the benchmark runs (the sample holds nothing back for a nightly increment)
BENCHMARK_SIZES = [name for name, s in SIZES.items() if s.model == "national"]
