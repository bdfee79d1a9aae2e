"""Turning a grid into typed records of one report kind, with every problem found.

Reading each cell (text -> number, date, period, word, code) lives here; what a
row must satisfy once read (required values, codes against the registers and
the submitter's area, duplicates, cross-cell rules) is the table of row checks
(``ingest/row_checks.py``, ``reference/row_checks.csv``), run once over every
row read. Checks against what the warehouse already holds (falling cumulative
figures, conflicts, totals) are run by the ledger in SQL.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from dataclasses import dataclass, field

import polars as pl

from ingest import reference, row_checks
from ingest.footers import footer_note, footer_rows
from ingest.layout import Layout
from ingest.text import nfkc, normalise_word, to_simplified
from ingest.messages import Message, error, note, warning
from ingest.values import (FACTOR, ValueProblem, exact_amounts, is_missing, money_factor, parse_code,
                           parse_date, parse_integer, parse_number, parse_period, parse_tags, parse_word,
                           quantity_factor)

AMOUNT_TYPES = ("money", "quantity")  # figures stored exactly, in a unit (万元, or the quantity's own)

# a label cell holding exactly one of these (spaces, colons, case and Traditional
# forms aside: 合 计, 總計：, TOTAL) makes its row a totals row, skipped
TOTAL_WORDS = frozenset({"合计", "总计", "小计", "共计", "total", "subtotal", "grandtotal"})
SUMMARY_WORDS = ("合计", "总计", "小计", "共计", "total")  # substrings: a cheap test before the exact one
FIGURE_TYPES = ("money", "number", "quantity", "integer")


@dataclass
class Parsed:
    kind: str | None
    records: list[dict] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    periods: set[str] = field(default_factory=set)
    # rows naming each period, errors or not: which periods a file reports
    # (a rejected file too, for marts.submission_status)
    period_rows: dict[str, int] = field(default_factory=dict)
    # the vectorised path's records, already a table (ingest/vectorized.py)
    frame: pl.DataFrame | None = None

    @property
    def row_count(self) -> int:
        return self.frame.height if self.frame is not None else len(self.records)

    def table(self) -> pl.DataFrame:
        """The accepted records as one table: a column per field read, money as
        ``<field>`` (万元), ``<field>__text`` and ``<field>__unit``; ``row_number``."""
        if self.frame is None:
            self.frame = records_table(self.kind, self.records)
        return self.frame

    @property
    def errors(self) -> list[Message]:
        return [m for m in self.messages if m.severity == "error"]

    @property
    def warnings(self) -> list[Message]:
        return [m for m in self.messages if m.severity == "warning"]


def records_table(kind: str | None, records: list[dict]) -> pl.DataFrame:
    """Records of the row-by-row path as one table (see ``Parsed.table``)."""
    fields = {f.name: f for f in reference.kinds()[kind]} if kind else {}
    names = [n for n in fields if any(n in r for r in records)]
    types = {"number": pl.Float64, "date": pl.Date, "bool": pl.Boolean, "integer": pl.Int64}
    cols: dict[str, pl.Series] = {}
    for n in names:
        if fields[n].type in AMOUNT_TYPES:
            orig = [r.get(n + "__original") for r in records]
            cols[n] = exact_amounts(pl.Series([o[2] if o else None for o in orig], dtype=pl.Float64),
                                    pl.Series([r.get(n + "__factor") for r in records], dtype=FACTOR)).alias(n)
            cols[n + "__text"] = pl.Series([o[0] if o else None for o in orig], dtype=pl.String)
            cols[n + "__unit"] = pl.Series([o[1] if o else None for o in orig], dtype=pl.String)
            continue
        cols[n] = pl.Series(n, [r.get(n) for r in records], dtype=types.get(fields[n].type, pl.String))
    cols["row_number"] = pl.Series([r["row_number"] for r in records], dtype=pl.Int64)
    return pl.DataFrame(cols)


def check_submitter(submitter: str) -> Message | None:
    div = reference.divisions().get(submitter)
    if div is None or div.valid_to is not None:
        return error("unknown_submitter", f"提交目录“{submitter}”不是有效的区划代码",
                     f"the landing folder '{submitter}' is not a valid division code", value=submitter)
    return None


class CellProblem(Exception):
    def __init__(self, code: str, zh: str, en: str):
        super().__init__(en)
        self.code, self.zh, self.en = code, zh, en


def cell_number(f, text: str) -> float | None:
    """The number a money or number cell states (None for a missing marker),
    before any unit; CellProblem for what is not accepted."""
    if f.type == "money" and nfkc(text).strip().endswith("%"):
        raise CellProblem("percent_in_money", "金额不能是百分比", "a money figure cannot be a percentage")
    try:
        v = parse_number(text)
    except ValueProblem as p:
        raise CellProblem(p.code or "not_a_number", p.zh, p.en) from None
    if v is not None and v < 0:
        raise CellProblem("negative_money" if f.type == "money" else "negative_number", "不能为负数",
                          "must not be negative")
    return v


def amount_factor(f, col, layout: Layout, year: int) -> tuple[Decimal, str]:
    """(exact factor to the stored unit, the unit the figures were written in) of
    a money or quantity column. Money: the header cell's unit, else the unit
    line (单位：亿元), else 万元. A quantity (常住人口, 面积, 企业数): the header
    cell's unit, else the unit line when it is one of the quantity's units,
    else the quantity's own unit (万人, 平方公里, 个). CellProblem when the unit
    does not fit the column."""
    try:
        if f.type == "money":
            unit = col.unit or layout.unit_line
            return money_factor(unit, year, usd_allowed=f.name in reference.usd_fields()), unit or reference.MONEY_UNIT
        stored = reference.indicator_units()[f.name]
        unit = col.unit
        if not unit and layout.unit_line:
            try:
                quantity_factor(layout.unit_line, stored)
                unit = layout.unit_line
            except ValueProblem:
                unit = None  # a money unit line (单位：亿元) speaks of the money columns only
        return quantity_factor(unit, stored), unit or stored
    except ValueProblem as p:
        raise CellProblem("bad_unit", p.zh, p.en) from None


def number_cell(f, col, layout: Layout, text: str, year: int) -> tuple[float | None, tuple[str, str] | None,
                                                                      Decimal | None]:
    """One money, quantity or number cell: (value, (original text, unit, the
    number as written), exact factor) with money in 万元 and a quantity in its
    stored unit; (None, None, None) for a missing marker; CellProblem for what
    is not accepted."""
    v = cell_number(f, text)
    if v is None or f.type not in AMOUNT_TYPES:
        return v, None, None
    factor, unit = amount_factor(f, col, layout, year)
    return v * float(factor), (text, unit, v), factor


def other_cell(f, text: str):
    """An enumerated, tagged, yes/no or whole-number cell as stored (None when
    missing); CellProblem for what is not accepted."""
    try:
        if f.type in ("level", "category"):
            return parse_word(f.name, text)
        if f.type == "bool":
            word = parse_word(f.name, text)
            return None if word is None else word == "true"
        if f.type == "tags":
            return parse_tags(text)
        return parse_integer(text)
    except ValueProblem as p:
        raise CellProblem("bad_value", p.zh, p.en) from None


# free-text words the marts group or test by (产业链, 项目阶段 竣工/投产, 建设性质): one
# spelling whatever the script, so 投產 counts as 投产 and 電子信息 joins 电子信息
SIMPLIFIED_TEXT = frozenset({"industry_chain", "stage", "nature"})


def text_cell(f, text: str) -> str | None:
    """A free-text cell as stored: None when missing; Simplified for SIMPLIFIED_TEXT."""
    if is_missing(text):
        return None
    return to_simplified(text) if f.name in SIMPLIFIED_TEXT else text


def is_total_word(text: str) -> bool:
    """``合计``, ``总 计：``, ``Total`` — not ``配合计划`` or ``总计算中心``."""
    return bool(text) and normalise_word(text).strip(":：") in TOTAL_WORDS


def _is_row_number(text: str) -> bool:
    t = text.strip()
    return not t or t.replace(".", "", 1).isdigit()


def skipped_row(row: list[str], cell: dict[str, str], layout: Layout, fields: dict, rownum: int) -> Message | None:
    """Why a row that is not blank is not data, as a receipt line — or None: it
    is data. A totals row: a label cell (any cell outside the figure columns,
    序号 included) holds exactly a totals word (note ``total_row``). A row with
    no required value: a note or footer (note ``note_row``), or, when it holds
    figures, a row whose figures have nothing to belong to (warning
    ``unkeyed_row``). Every skipped row is named on the receipt."""
    figures = {c.index for n, c in layout.columns.items() if fields[n].type in FIGURE_TYPES}
    headers = {c.index: c.header for c in layout.columns.values()}
    for i, text in enumerate(row):
        if i not in figures and is_total_word(text.strip()):
            return note("total_row", "合计行，不作为数据入库", "a totals row; not stored as data",
                        row=rownum, column=headers.get(i, ""), value=text.strip())
    required = [n for n in layout.columns if fields[n].required == "yes"]
    if any(cell[n] for n in required):
        return None
    if not any(cell.values()) and all(_is_row_number(t) for t in row):
        return None  # a template's numbered empty line (序号 only): nothing in it
    names_zh = "、".join(layout.columns[n].header for n in required)
    if any(cell[n] for n in layout.columns if fields[n].type in FIGURE_TYPES):
        return warning("unkeyed_row", f"该行有数字但未填任何必填项（{names_zh}），未入库",
                       f"this row has figures but none of the required values ({', '.join(required)}); "
                       "not stored", row=rownum)
    text = next((t.strip() for t in row if t.strip()), "")
    return note("note_row", f"该行未填任何必填项（{names_zh}），视为说明文字，不作为数据入库",
                f"none of the required values ({', '.join(required)}) in this row: taken as a note, "
                "not stored as data", row=rownum, value=text[:80])


def read_row(cell: dict[str, str], layout: Layout, fields: dict, rownum: int, today: dt.date):
    """One data row's cells as stored: (record, reading problems as (order, message),
    the fields whose cell could not be read, the year its units and codes are read
    in). What a row's values must satisfy once read is reference/row_checks.csv."""
    rec: dict = {"row_number": rownum}
    problems: list[tuple[tuple, Message]] = []
    unread: set[str] = set()

    def bad(n: str, code: str, zh: str, en: str) -> None:
        unread.add(n)
        order = (rownum, 0, -1 if n == "period" else layout.columns[n].index, -1)
        problems.append((order, error(code, zh, en, row=rownum, column=layout.columns[n].header, value=cell[n])))

    period = None
    if "period" in fields:
        try:
            period = parse_period(cell["period"]) if cell["period"] else None
        except ValueProblem as p:
            bad("period", p.code or "bad_period", p.zh, p.en)
        rec["period"] = period
    year = min(int(period[:4]), today.year) if period else today.year  # no rates or codes of a year to come
    for n, col in layout.columns.items():
        f = fields[n]
        text = cell[n]
        if n == "period":
            continue
        try:
            if f.type in ("money", "number", "quantity"):
                value, original, factor = number_cell(f, col, layout, text, year)
                rec[n] = value
                if original is not None:
                    rec[n + "__original"] = original
                    rec[n + "__factor"] = factor
            elif f.type in ("level", "category", "bool", "tags", "integer"):
                rec[n] = other_cell(f, text)
            elif f.type == "date":
                try:
                    rec[n] = parse_date(text)
                except ValueProblem as p:
                    raise CellProblem("bad_date", p.zh, p.en) from None
            elif f.type in ("code", "region", "park"):
                rec[n] = (parse_code(text) if text and not is_missing(text) else "") or None
            else:
                rec[n] = text_cell(f, text)
        except CellProblem as p:
            bad(n, p.code, p.zh, p.en)
    return rec, problems, unread, year


def parse_rows(rows: list[list[str]], layout: Layout, submitter: str, parks: dict[str, str],
               today: dt.date) -> Parsed:
    kind = layout.kind
    fields = {f.name: f for f in reference.kinds()[kind]}
    out = Parsed(kind)
    required_cols = [c for n, c in layout.columns.items() if fields[n].required == "yes"]
    footer = footer_rows(rows, layout.header_row, [c.index for c in required_cols])
    order: list[Message | int] = []  # a skipped row's message, or a data row (its index in ``data``)
    data: list[tuple] = []
    for r in range(layout.header_row + 1, len(rows)):
        if footer and r >= footer[0] and r in footer:
            continue
        row = rows[r]
        rownum = r + 1
        if not any(t.strip() for t in row):
            continue  # a blank line
        cell = {n: (row[c.index] if c.index < len(row) else "").strip() for n, c in layout.columns.items()}
        skipped = skipped_row(row, cell, layout, fields, rownum)
        if skipped is not None:
            order.append(skipped)
            continue
        if not any(cell.values()):
            continue  # a numbered empty line
        order.append(len(data))
        data.append((cell, *read_row(cell, layout, fields, rownum, today)))
    found = _row_checks(data, layout, submitter, parks, today) if data else {}
    for item in order:
        if isinstance(item, Message):
            out.messages.append(item)
            continue
        _cell, rec, problems, _unread, _year = data[item]
        messages = [m for _, m in sorted(problems + found.get(rec["row_number"], []), key=lambda p: p[0])]
        out.messages.extend(messages)
        period = rec.get("period")
        if period:
            out.period_rows[period] = out.period_rows.get(period, 0) + 1
        if not any(m.severity == "error" for m in messages):
            out.records.append(rec)
            if period:
                out.periods.add(period)
    if footer:
        out.messages.append(footer_note(rows, footer))
    if not out.records and not out.errors:
        out.messages.append(error("no_rows", "表中没有数据行", "the table has no data rows",
                                  row=layout.header_row + 1))
    return out


def _row_checks(data: list[tuple], layout: Layout, submitter: str, parks: dict[str, str],
                today: dt.date) -> dict[int, list[tuple[tuple, Message]]]:
    """The table of row checks over every data row read, at once; the values
    they set (a retired code's successor, a refused code) written back."""
    kind = layout.kind
    recs = [d[1] for d in data]
    cells = {n: pl.Series([d[0][n] for d in data], dtype=pl.String) for n in layout.columns}
    unread = {n: pl.Series([n in d[3] for d in data], dtype=pl.Boolean) for n in layout.columns}
    frame = row_checks.prepare(records_table(kind, recs), kind, cells, pl.Series([d[4] for d in data]),
                               submitter, parks, unread)
    outcome = row_checks.run(frame, kind, row_checks.params(submitter, f"{today.year:04d}-{today.month:02d}"),
                             {n: c.header for n, c in layout.columns.items()},
                             {n: c.index for n, c in layout.columns.items()})
    for f in row_checks.set_fields(kind):
        for rec, value in zip(recs, outcome.frame[f].to_list()):
            if f in rec:
                rec[f] = value
    found: dict[int, list[tuple[tuple, Message]]] = {}
    for key, m in outcome.messages:
        found.setdefault(m.row, []).append((key, m))
    return found
