"""Turning a grid into typed records of one report kind, with every problem found.

Checks that need only the file (and the reference data and park register) live
here; checks against what the warehouse already holds (falling cumulative
figures, conflicts, totals) are run by the ledger in SQL.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from dataclasses import dataclass, field

import polars as pl

from ingest import reference
from ingest.footers import footer_note, footer_rows
from ingest.layout import Layout
from ingest.text import nfkc, normalise_word
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
        if self.frame is not None:
            return self.frame
        fields = {f.name: f for f in reference.kinds()[self.kind]} if self.kind else {}
        names = [n for n in fields if any(n in r for r in self.records)]
        types = {"number": pl.Float64, "date": pl.Date, "bool": pl.Boolean, "integer": pl.Int64}
        cols: dict[str, pl.Series] = {}
        for n in names:
            if fields[n].type in AMOUNT_TYPES:
                orig = [r.get(n + "__original") for r in self.records]
                cols[n] = exact_amounts(pl.Series([o[2] if o else None for o in orig], dtype=pl.Float64),
                                        pl.Series([r.get(n + "__factor") for r in self.records], dtype=FACTOR)
                                        ).alias(n)
                cols[n + "__text"] = pl.Series([o[0] if o else None for o in orig], dtype=pl.String)
                cols[n + "__unit"] = pl.Series([o[1] if o else None for o in orig], dtype=pl.String)
                continue
            cols[n] = pl.Series(n, [r.get(n) for r in self.records], dtype=types.get(fields[n].type, pl.String))
        cols["row_number"] = pl.Series([r["row_number"] for r in self.records], dtype=pl.Int64)
        self.frame = pl.DataFrame(cols)
        return self.frame

    @property
    def errors(self) -> list[Message]:
        return [m for m in self.messages if m.severity == "error"]

    @property
    def warnings(self) -> list[Message]:
        return [m for m in self.messages if m.severity == "warning"]


def in_jurisdiction(submitter: str, code: str) -> bool:
    return submitter in reference.ancestors(code)


def check_submitter(submitter: str) -> Message | None:
    div = reference.divisions().get(submitter)
    if div is None or div.valid_to is not None:
        return error("unknown_submitter", f"提交目录“{submitter}”不是有效的区划代码",
                     f"the landing folder '{submitter}' is not a valid division code", value=submitter)
    return None


def resolve_region(code: str, year: int) -> tuple[str | None, Message | None]:
    """The code to store for ``code`` reported for ``year``, or an error.
    A retired code used after its last year maps to its successor (warning)."""
    divs = reference.divisions()
    div = divs.get(code)
    if div is None:
        return None, error("unknown_region", "未知的区划代码", "unknown region code", value=code)
    if div.valid_from is not None and year < div.valid_from:
        return None, error("region_not_yet_valid", f"该代码自 {div.valid_from} 年起才启用",
                           f"this code exists only from {div.valid_from}", value=code)
    seen = set()
    while div.valid_to is not None and year > div.valid_to:
        if not div.successor_code or div.successor_code in seen or div.successor_code not in divs:
            return None, error("region_retired", f"该代码已于 {div.valid_to + 1} 年撤销，且无承继代码",
                               f"this code was retired in {div.valid_to + 1} with no successor", value=code)
        seen.add(div.code)
        div = divs[div.successor_code]
    if div.code != code:
        return div.code, warning("region_mapped", f"{code}（{divs[code].name}）已撤销，按承继代码 {div.code}（{div.name}）入库",
                                 f"retired code {code} stored as its successor {div.code}", value=code)
    return code, None


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


def row_rules(kind: str, rec: dict) -> list[tuple[str, str, str, str, str]]:
    """Rules across the cells of one row: (field, severity, code, zh, en)."""
    out = []
    if kind == "project_progress":
        plan, done = rec.get("annual_plan"), rec.get("ytd_completed")
        over = reference.threshold("completion_over_plan")
        if plan and done is not None and done > plan * over:
            pct = round((over - 1) * 100)
            out.append(("ytd_completed", "warning", "completed_above_plan", f"本年累计完成投资超过年度计划 {pct}% 以上",
                        f"completed investment exceeds the annual plan by more than {pct} %"))
    if kind == "park_evaluations":
        stars, category = rec.get("stars"), rec.get("category")
        if category == "星级" and (stars is None or not 1 <= stars <= 5):
            out.append(("stars", "error", "bad_stars", "星级评价须填写 1–5 的星级",
                        "a 星级 row needs a star rating from 1 to 5"))
        elif category not in (None, "星级") and stars is not None:
            out.append(("stars", "error", "stars_without_rating", "只有“星级”类别的行可填星级",
                        "only a 星级 row may carry a star rating"))
    return out


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


def parse_rows(rows: list[list[str]], layout: Layout, submitter: str, parks: dict[str, str],
                today: dt.date) -> Parsed:
    kind = layout.kind
    fields = {f.name: f for f in reference.kinds()[kind]}
    out = Parsed(kind)
    now_period = f"{today.year:04d}-{today.month:02d}"
    seen_keys: dict[tuple, int] = {}
    required_cols = [c for n, c in layout.columns.items() if fields[n].required == "yes"]
    footer = footer_rows(rows, layout.header_row, [c.index for c in required_cols])
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
            out.messages.append(skipped)
            continue
        if not any(cell.values()):
            continue  # a numbered empty line
        rec: dict = {"row_number": rownum}
        problems: list[Message] = []

        def bad(n: str, code: str, zh: str, en: str) -> None:
            problems.append(error(code, zh, en, row=rownum, column=layout.columns[n].header, value=cell[n]))

        period = None
        if "period" in fields:
            try:
                period = parse_period(cell["period"]) if cell["period"] else None
                if period is None:
                    bad("period", "missing_value", "必填项为空", "required value is empty")
                elif period > now_period:
                    bad("period", "future_period", f"统计期 {period} 尚未到来", f"period {period} is in the future")
                    period = None
            except ValueProblem as p:
                bad("period", p.code or "bad_period", p.zh, p.en)
            rec["period"] = period
        year = int(period[:4]) if period else today.year

        for n, col in layout.columns.items():
            f = fields[n]
            text = cell[n]
            if n == "period":
                continue
            if f.type in ("money", "number", "quantity"):
                try:
                    value, original, factor = number_cell(f, col, layout, text, year)
                except CellProblem as p:
                    bad(n, p.code, p.zh, p.en)
                    continue
                rec[n] = value
                if original is not None:
                    rec[n + "__original"] = original
                    rec[n + "__factor"] = factor
                if value is None and f.required == "yes":
                    bad(n, "missing_value", "必填项为空", "required value is empty")
            elif f.type in ("level", "category", "bool", "tags", "integer"):
                try:
                    rec[n] = other_cell(f, text)
                except CellProblem as p:
                    bad(n, p.code, p.zh, p.en)
                    continue
                if rec[n] is None and f.required == "yes":
                    bad(n, "missing_value", "必填项为空", "required value is empty")
            elif f.type == "date":
                try:
                    rec[n] = parse_date(text)
                except ValueProblem as p:
                    bad(n, "bad_date", p.zh, p.en)
            elif f.type in ("code", "region", "park"):
                code = parse_code(text) if text and not is_missing(text) else ""
                if not code:
                    if f.required == "yes":
                        bad(n, "missing_value", "必填项为空", "required value is empty")
                    rec[n] = None
                    continue
                rec[n] = code
            else:
                rec[n] = None if is_missing(text) else text
                if rec[n] is None and f.required == "yes":
                    bad(n, "missing_value", "必填项为空", "required value is empty")

        # codes: existence, history and jurisdiction
        for n in layout.columns:
            f = fields[n]
            code = rec.get(n)
            if not code or f.type not in ("region", "park"):
                continue
            if f.type == "region":
                if not (len(code) == 6 and code.isdigit()):
                    bad(n, "unknown_region", "区划代码应为6位数字", "a region code has 6 digits")
                    rec[n] = None
                    continue
                stored, msg = resolve_region(code, year)
                if msg is not None:
                    msg.row, msg.column = rownum, layout.columns[n].header
                    problems.append(msg)
                rec[n] = stored
                region = stored
            else:
                if code not in parks:
                    bad(n, "unknown_park", "园区代码未在园区名录中登记", "park code is not in the park register")
                    rec[n] = None
                    continue
                region = parks[code]
            if region and not in_jurisdiction(submitter, region):
                where = f"（园区 {code} 属于 {region}）" if f.type == "park" else ""
                where_en = f" (park {code} is registered in {region})" if f.type == "park" else ""
                bad(n, "outside_jurisdiction", f"{submitter} 无权报送 {region} 的数据{where}",
                    f"{submitter} may not report for {region}{where_en}")

        key = tuple(rec.get(f.name) for f in fields.values() if f.key)
        if all(k is not None for k in key):
            if key in seen_keys:
                problems.append(error("duplicate_key", f"与第{seen_keys[key]}行重复（同一主键出现两次）",
                                      f"same key as row {seen_keys[key]} (a key appears twice in the file)",
                                      row=rownum, value=" / ".join(map(str, key))))
            else:
                seen_keys[key] = rownum
        for n, severity, code, zh, en in row_rules(kind, rec):
            col = layout.columns.get(n)
            problems.append((error if severity == "error" else warning)(
                code, zh, en, row=rownum, column=col.header if col else "", value=cell.get(n, "")))
        out.messages.extend(problems)
        if period:
            out.period_rows[period] = out.period_rows.get(period, 0) + 1
        if not any(p.severity == "error" for p in problems):
            out.records.append(rec)
            if period:
                out.periods.add(period)
    if footer:
        out.messages.append(footer_note(rows, footer))
    if not out.records and not out.errors:
        out.messages.append(error("no_rows", "表中没有数据行", "the table has no data rows",
                                  row=layout.header_row + 1))
    return out
