"""Plausibility bounds: a figure beyond its field's bound (``reference/bounds.csv``,
in the unit the warehouse keeps it) rejects the file, naming the row, the column
and the bound — a 1e300 or a figure in 元 under a 亿元 header never reaches a
build. Checked once on the parsed table, so the row and the column paths agree."""

from __future__ import annotations

import csv
from decimal import Decimal
from functools import lru_cache

import polars as pl

from ingest.messages import Message, error
from ingest.reference import REFERENCE_DIR


@lru_cache(maxsize=1)
def bounds() -> dict[str, tuple[Decimal, str]]:
    """field -> (largest absolute value allowed, its unit)."""
    with open(REFERENCE_DIR / "bounds.csv", encoding="utf-8", newline="") as fh:
        return {r["field"]: (Decimal(r["max_abs"]), r["unit"]) for r in csv.DictReader(fh)}


def bound_problems(table: pl.DataFrame, headers: dict[str, str]) -> list[Message]:
    """``implausible_value`` errors for every figure of ``table`` beyond its bound."""
    out: list[Message] = []
    if table.height == 0:
        return out
    for field, (limit, unit) in bounds().items():
        if field not in table.columns:
            continue
        rows = table.select(pl.col(field).alias("v"), pl.col("row_number")).filter(
            pl.col("v").is_not_null() & (pl.col("v").cast(pl.Float64).abs() > float(limit)))
        text = f"{field}__text" if f"{field}__text" in table.columns else None
        originals = table.filter(pl.col(field).is_not_null() & (pl.col(field).cast(pl.Float64).abs() > float(limit)))[
            text].to_list() if text else [None] * rows.height
        for (value, row), original in zip(rows.iter_rows(), originals):
            shown = f"{value:,.2f} {unit}"
            out.append(error("implausible_value",
                             f"数值不合常理：折合 {shown}，超过该项上限 {limit:,} {unit}；请检查数字和单位（如元、万元、亿元）",
                             f"implausible figure: {shown}, above this field's bound of {limit:,} {unit}; check the "
                             "figure and its unit (元, 万元, 亿元)",
                             row=row, column=headers.get(field, field),
                             value=original if original is not None else f"{value}"))
    return sorted(out, key=lambda m: (m.row or 0))
