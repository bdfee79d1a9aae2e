"""The shapes submissions come in, as data (``shapes.csv``: encoding, header
language, title row, unit line, the unit money is written in and how, number
format, period spelling), and the one writer of a table in any of them. The
bundled sample, the benchmark's sizes and the tests write through it."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ingest import reference
from ingest.synthetic.files import csv_bytes, merge_range, workbook

SHAPES_CSV = Path(__file__).with_name("shapes.csv")
# money in a unit, from the 万元 the generators hold it in
FACTOR = {"万元": 1, "亿元": 10000, "元": 0.0001}
# a workbook's sheet, by report kind
SHEET = {"park_indicators": "园区主要经济指标", "region_indicators": "地区主要经济指标", "park_registry": "园区名录",
         "project_progress": "重点项目"}
# how submitters spell a period (tests/test_shapes.py draws from all of them)
PERIOD_STYLES = ["iso", "compact", "dot", "month_cn", "cumulative_cn", "iso_short", "year", "year_cn"]


@dataclass(frozen=True)
class Shape:
    name: str
    file: str  # csv | xlsx
    encoding: str
    headers: str  # en | zh | zh_trad
    title: str  # '' | row | merged
    unit_line: str
    unit: str  # the unit money is written in
    money_label: str  # after a money field's header
    money_format: str  # a Python format spec
    period: str  # one of PERIOD_STYLES


@cache
def shapes() -> dict[str, Shape]:
    with SHAPES_CSV.open(encoding="utf-8", newline="") as fh:
        return {r["shape"]: Shape(*(r[k] for k in ("shape", "file", "encoding", "headers", "title", "unit_line",
                                                    "unit", "money_label", "money_format", "period")))
                for r in csv.DictReader(fh)}


def period_text(style: str, year: int, month: int = 12) -> str:
    """A period as submitters write it: ``iso`` 2024-05, ``compact`` 202405, ``dot``
    2024.5, ``month_cn`` 2024年5月, ``cumulative_cn`` 2024年1-5月, ``iso_short``
    2024-5; for a year (December), ``year`` 2024 and ``year_cn`` 2024年."""
    if style in ("year", "year_cn") and month != 12:
        raise ValueError(f"{style} spells a year, not month {month}")
    return {"iso": f"{year}-{month:02d}", "compact": f"{year}{month:02d}", "dot": f"{year}.{month}",
            "month_cn": f"{year}年{month}月", "iso_short": f"{year}-{month}", "year": f"{year}",
            "year_cn": f"{year}年", "cumulative_cn": f"{year}年1-{month}月"}[style]


def money_text(shape: Shape, v: float) -> str:
    """A 万元 figure as ``shape`` writes it (in its unit, in its number format)."""
    return format(v / FACTOR[shape.unit], shape.money_format)


@cache
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


def header_rows(shape: Shape, kind: str, title: str, fields: list[str], money: set[str],
                quantities: dict[str, tuple[str, float]] | None = None) -> list[list]:
    """The rows above the data: a title and a unit line where the shape has them,
    then the headers (each quantity's unit after its header, each money field's
    after its own where the shape puts it there)."""
    qty = quantities or {}
    if shape.headers == "en":
        heads = list(fields)
    else:
        zh = {f.name: f.zh for f in reference.kinds()[kind]}
        heads = [zh[f] + (f"（{qty[f][0]}）" if f in qty else "") for f in fields]
        if shape.headers == "zh_trad":
            heads = [_s2t().convert(h) for h in heads]
            title = _s2t().convert(title)
        heads = [h + (shape.money_label if f in money else "") for h, f in zip(heads, fields)]
    return [[title]] * bool(shape.title) + [[shape.unit_line]] * bool(shape.unit_line) + [heads]


def write_table(path: Path, shape: str, kind: str, title: str, fields: list[str], rows, money: set[str],
                quantities: dict[str, tuple[str, float]] | None = None) -> Path:
    """Write one table of report ``kind`` in ``shape`` (a name of ``shapes.csv``) at
    ``path`` with the shape's suffix; returns the file. ``rows`` hold money in
    万元 and quantities in their stored unit; ``quantities`` maps a field to the
    unit its header shows and the factor from the stored unit."""
    s = shapes()[shape]
    qty = quantities or {}
    if s.file == "xlsx":
        def money_cell(v):
            return float(v) / FACTOR[s.unit]
    else:
        def money_cell(v):
            return money_text(s, v)
    cells = [(lambda v, k=qty[f][1]: _qty(v * k)) if f in qty else money_cell if f in money else None
             for f in fields]
    body = [[v if fn is None or v is None or v == "" else fn(v) for fn, v in zip(cells, r)] for r in rows]
    table = header_rows(s, kind, title, fields, money, qty) + body
    path.parent.mkdir(parents=True, exist_ok=True)
    if s.file == "xlsx":
        merges = [merge_range(1, 1, 1, len(fields))] if s.title == "merged" else []
        sheet = SHEET.get(kind, kind)
        out = path.with_suffix(".xlsx")
        out.write_bytes(workbook([(_s2t().convert(sheet) if s.headers == "zh_trad" else sheet, table, "visible")],
                                 merges=merges))
        return out
    out = path.with_suffix(".csv")
    enc = s.encoding.removesuffix("-sig")
    out.write_bytes(csv_bytes(table, enc, "\r\n", bom=s.encoding.endswith("-sig")))
    return out


def _qty(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")
