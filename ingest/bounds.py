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
        text = pl.col(f"{field}__text") if f"{field}__text" in table.columns else pl.lit(None, dtype=pl.String)
        beyond = table.filter(pl.col(field).is_not_null() & (pl.col(field).cast(pl.Float64).abs() > float(limit)))
        for value, row, original in beyond.select(pl.col(field), pl.col("row_number"), text).iter_rows():
            shown = f"{value:,.2f} {unit}"
            out.append(error("implausible_value",
                             f"数值不合常理：折合 {shown}，超过该项上限 {limit:,} {unit}；请检查数字和单位（如元、万元、亿元）",
                             f"implausible figure: {shown}, above this field's bound of {limit:,} {unit}; check the "
                             "figure and its unit (元, 万元, 亿元)",
                             row=row, column=headers.get(field, field),
                             value=original if original is not None else f"{value}"))
    return sorted(out, key=lambda m: (m.row or 0))


def staged_suspects(staged, limit: int = 10) -> list[str]:
    """Figures beyond their bound in what was handed to dbt (``staged/``), each with
    the file it came from — what a build that failed on data is told to look at."""
    import duckdb

    from ingest.ledger import NO_EXTENSIONS

    b = bounds()
    con = duckdb.connect(config=NO_EXTENSIONS)
    try:
        con.execute("create table bounds (field varchar, max_abs double, unit varchar)")
        con.executemany("insert into bounds values (?, ?, ?)", [[f, float(m), u] for f, (m, u) in b.items()])
        parts = []
        ind = staged / "indicator_values"
        if list(ind.glob("*.parquet")):
            parts.append(f"""select v.file_id, v.indicator as field, cast(v.value_wan as double) as value,
                                    v.original_value, v.row_number
                             from read_parquet('{ind}/*.parquet') as v""")
        proj = staged / "project_progress"
        if list(proj.glob("*.parquet")):
            for field in ("total_investment", "annual_plan", "ytd_completed"):
                parts.append(f"""select file_id, '{field}' as field, cast({field} as double) as value,
                                        null as original_value, row_number
                                 from read_parquet('{proj}/*.parquet')""")
        if not parts or not (staged / "files.parquet").exists():
            return []
        rows = con.execute(f"""
            select f.submitter_code, f.file_name, x.file_id, x.row_number, x.field, x.value, b.max_abs, b.unit
            from ({' union all '.join(parts)}) as x
            inner join bounds as b on b.field = x.field
            inner join read_parquet('{staged / "files.parquet"}') as f on f.file_id = x.file_id
            where abs(x.value) > b.max_abs
            order by x.file_id, x.row_number limit {int(limit)}""").fetchall()
    finally:
        con.close()
    return [f"{sub}/{name} (file {fid}) row {row}: {field} = {value:,.2f} {unit}, above its bound {bound:,.0f} {unit}"
            for sub, name, fid, row, field, value, bound, unit in rows]
