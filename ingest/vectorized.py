"""The vectorised path: a whole table checked column by column with Polars.

Most files are plain: every row complete, every number written plainly, every
code known. For those, checking cell by cell in Python is most of ingest's
cost. ``parse_table`` checks such a file a column at a time and returns the
same records and messages as ``validate.parse_rows`` would — or ``None`` as
soon as a cell cannot be read or a row is to be skipped for a reason (a
totals row, a footer), and the row-by-row path then reads the file and words
every problem. What the rows must satisfy once read is the table of row checks
(``ingest/row_checks.py``, ``reference/row_checks.csv``), which both paths
evaluate: this one over the whole frame, wording what it finds itself.

Exactness rests on two rules: every distinct text that is not a plain ASCII
number goes through the very functions the row-by-row path uses (one call per
distinct value), and arithmetic is done in the same order on the same doubles.
``tests/test_vectorized.py`` holds the two paths equal on every generated shape.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

import polars as pl

from ingest import reference
from ingest.footers import footer_rows, may_have_footer
from ingest.layout import Layout
from ingest.readers import Grid
from ingest import row_checks
from ingest.validate import (AMOUNT_TYPES, SIMPLIFIED_TEXT, CellProblem, Parsed, amount_factor, cell_number,
                             other_cell, text_cell)
from ingest.values import FACTOR, ValueProblem, exact_amounts, is_missing, parse_code, parse_date, parse_period

# a cell that may be a totals word (合计, 總計, TOTAL...): such a file goes to the
# row-by-row path, which skips only real totals rows and names each on the receipt
_TOTAL_HINT = r"(?i)[合总總小共]\s*[计計]|[tｔ]\s*[oｏ]\s*[tｔ]\s*[aａ]\s*[lｌ]"
_TOTAL_RE = re.compile(_TOTAL_HINT[4:], re.IGNORECASE)
_PLAIN_NUMBER = r"^[0-9]{1,15}(\.[0-9]{1,10})?$"  # below MAX_NUMBER, no precision surprise


# cells the code and text parsers return unchanged: an ASCII code (NFKC and
# strip change nothing; no '.0' to drop), and text longer than any missing
# marker could become (NFKC removes no character; stripping was done)
_PLAIN_CODE = r"^[A-Za-z0-9_-]+$"


@cache
def _not_a_marker() -> str:
    """Cells certainly not a missing marker: longer than any marker could become,
    or holding a letter, digit or CJK ideograph (NFKC-stable characters) that no
    marker (reference/missing_tokens.csv) contains."""
    used = "".join(sorted(set("".join(reference.missing_tokens()))))
    return (r"^.{17,}$|[[A-Za-z0-9\x{4e00}-\x{9fff}]--[" + "".join(f"\\x{{{ord(c):x}}}" for c in used) + "]]")


class _Fallback(Exception):
    """Something in the file needs the row-by-row path's words."""


def _strict(fn, *problems):
    """``fn``, with its named problems turned into _Fallback: the row-by-row path words them."""
    def call(text: str):
        try:
            return fn(text)
        except problems:
            raise _Fallback from None
    return call


def _map_unique(values: pl.Series, fn) -> pl.Series:
    """``fn`` applied once per distinct value (raising _Fallback to give up)."""
    uniq = values.unique()
    mapping = {u: fn(u) for u in uniq.to_list()}
    return values.replace_strict(mapping, default=None, return_dtype=_dtype(mapping.values()))


def _map_other(values: pl.Series, identity: list[str], fn) -> pl.Series:
    """``fn`` per distinct value, except for cells matching every pattern of
    ``identity``, which ``fn`` provably returns unchanged."""
    same = pl.select(pl.all_horizontal([values.str.contains(p) for p in identity])).to_series()
    if same.all():
        return values
    return values.scatter((~same).arg_true(), _map_unique(values.filter(~same), fn).cast(pl.String))


def _dtype(values) -> pl.DataType:
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool):
            return pl.Boolean
        if isinstance(v, int):
            return pl.Int64
        if isinstance(v, dt.date):
            return pl.Date
        if isinstance(v, float):
            return pl.Float64
        return pl.String
    return pl.String


def parse_table(grid: Grid, layout: Layout, submitter: str, parks: dict[str, str],
                today: dt.date) -> Parsed | None:
    try:
        return _parse(grid, layout, submitter, parks, today)
    except _Fallback:
        return None


def _parse(grid: Grid, layout: Layout, submitter, parks, today) -> Parsed:
    kind = layout.kind
    fields = {f.name: f for f in reference.kinds()[kind]}
    start = layout.header_row + 1
    required_idx = [c.index for n, c in layout.columns.items() if fields[n].required == "yes"]
    if (may_have_footer(grid.text.split("\n", start)[-1]) if grid.text is not None
            else footer_rows(grid.rows, layout.header_row, required_idx)):
        raise _Fallback  # a note or sign-off under the table: skipped and named by the row-by-row path
    read = grid.body(start)
    if read is not None:  # a plain CSV, read by Polars; Python's strip and Polars' agree on it
        frame = read.select([(pl.col(read.columns[c.index]) if c.index < read.width else pl.lit(""))
                             .str.strip_chars().alias(n) for n, c in layout.columns.items()])
        whole = [pl.col(c).str.strip_chars() == "" for c in read.columns]
        blank = read.select(pl.all_horizontal(whole) if whole else pl.lit(True)).to_series()
        if read.width and read.select(pl.any_horizontal([pl.col(c).str.contains(_TOTAL_HINT)
                                                         for c in read.columns]).any()).item():
            raise _Fallback  # perhaps a totals row: the row-by-row path decides, and names it
    else:
        body = grid.rows[start:]
        frame = pl.DataFrame({n: [(r[c.index] if c.index < len(r) else "").strip() for r in body]
                              for n, c in layout.columns.items()}, schema={n: pl.String for n in layout.columns})
        blank = pl.Series([not any(t.strip() for t in r) for r in body], dtype=pl.Boolean)
        if any(_TOTAL_RE.search(t) for r in body for t in r):
            raise _Fallback
    if frame.height == 0:
        raise _Fallback
    frame = frame.with_columns(row_number=pl.int_range(start + 1, start + 1 + frame.height, dtype=pl.Int64))
    required = [n for n in layout.columns if fields[n].required == "yes"]
    empty = [pl.col(n) == "" for n in required]
    some_empty = pl.any_horizontal(empty) if empty else pl.lit(False)
    # blank lines are skipped by both paths; a row missing any required value needs
    # the row-by-row path (an error, or a note or footer it names on the receipt)
    frame = frame.filter(~blank)
    if frame.height == 0 or frame.select(some_empty.any()).item():
        raise _Fallback
    out: dict[str, pl.Series] = {}

    now_period = f"{today.year:04d}-{today.month:02d}"
    if "period" in fields:
        out["period"] = _map_unique(frame["period"], _strict(parse_period, ValueProblem))
        # as the row-by-row path: no rates or codes of a year to come
        years = out["period"].str.slice(0, 4).cast(pl.Int32).clip(upper_bound=today.year)
    else:
        years = pl.Series([today.year] * frame.height, dtype=pl.Int32)

    for n, col in layout.columns.items():
        f = fields[n]
        if n == "period":
            continue
        text = frame[n]
        if f.type in ("money", "number", "quantity"):
            out.update(_numbers(f, col, layout, text, years))
        elif f.type in ("level", "category", "bool", "tags", "integer"):
            out[n] = _map_unique(text, _strict(lambda t, f=f: other_cell(f, t), CellProblem))
        elif f.type == "date":
            out[n] = _dates(text)
        elif f.type in ("code", "region", "park"):
            out[n] = _map_other(text, [_PLAIN_CODE, _not_a_marker()],
                                lambda t: parse_code(t) if t and not is_missing(t) else None)
        elif n in SIMPLIFIED_TEXT:
            out[n] = _map_unique(text, lambda t, f=f: text_cell(f, t))
        else:
            out[n] = _map_other(text, [_not_a_marker()], lambda t: None if is_missing(t) else t)

    # what the rows must satisfy once read: the table of row checks, as the row-by-row path
    table = pl.DataFrame(out).with_columns(frame["row_number"])
    checked = row_checks.prepare(table, kind, {n: frame[n] for n in layout.columns}, years, submitter, parks)
    prm = row_checks.params(submitter, now_period)
    parsed = Parsed(kind)
    every_row = table  # a rejected row names its period too (marts.submission_status)
    if row_checks.fires(checked, kind, prm):
        found = row_checks.run(checked, kind, prm, {n: c.header for n, c in layout.columns.items()},
                               {n: c.index for n, c in layout.columns.items()})
        parsed.messages = [m for _, m in found.messages]
        every_row = table = table.with_columns(found.frame.select(row_checks.set_fields(kind)))
        table = table.filter(~found.rejected)
    parsed.frame = table
    if "period" in table.columns:
        parsed.period_rows = dict(every_row.drop_nulls("period").group_by("period").len().sort("period").iter_rows())
        parsed.periods = (set(parsed.period_rows) if table is every_row
                          else set(table["period"].drop_nulls().unique().to_list()))
    return parsed


def _dates(text: pl.Series) -> pl.Series:
    """ISO dates (2023-03-01) by Polars — an impossible one (02-30) is null
    there and an error for ``parse_date``, so it goes back to the row-by-row
    path; every other distinct text through ``parse_date``."""
    iso = text.str.contains(r"^[12][0-9]{3}-[0-9]{2}-[0-9]{2}$")  # years Python's date and Polars' share
    dates = text.str.to_date("%Y-%m-%d", strict=False)
    if (iso & dates.is_null()).any():
        raise _Fallback
    if iso.all():
        return dates
    return dates.scatter((~iso).arg_true(),
                         _map_unique(text.filter(~iso), _strict(parse_date, ValueProblem)).cast(pl.Date))


def _numbers(f, col, layout: Layout, text: pl.Series, years: pl.Series) -> dict[str, pl.Series]:
    """A money, quantity or number column: plain ASCII numbers cast by Polars,
    every other distinct text through ``cell_number`` (missing markers,
    full-width digits, thousands separators...); money and quantities times
    their unit's exact factor (and that year's USD rate) by ``exact_amounts``,
    as the row-by-row path does."""
    n = f.name
    plain = text.str.contains(_PLAIN_NUMBER)
    values = text.cast(pl.Float64, strict=False)
    if not plain.all():
        number = _strict(lambda t: cell_number(f, t), CellProblem)
        values = values.scatter((~plain).arg_true(), _map_unique(text.filter(~plain), number).cast(pl.Float64))
    if f.type not in AMOUNT_TYPES:
        return {n: values.alias(n)}
    try:
        factors = [amount_factor(f, col, layout, int(y)) for y in years.unique().sort().to_list()]
    except CellProblem:
        raise _Fallback from None
    by_year = dict(zip(years.unique().sort().to_list(), factors))
    unit = factors[0][1]
    factor = years.replace_strict({y: fu[0] for y, fu in by_year.items()}, return_dtype=FACTOR)
    present = values.is_not_null()
    return {n: exact_amounts(values, factor).alias(n), n + "__text": text.set(~present, None).alias(n + "__text"),
            n + "__unit": pl.Series(n + "__unit", [unit] * len(text), dtype=pl.String).set(~present, None)}
