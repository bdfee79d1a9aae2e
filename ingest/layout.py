"""Finding the table in a grid: the header row (or two merged header rows), the
report kind, each column's field and unit, and the unit line above the table.

Everything it matches against (synonyms, unit words) is reference data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest import reference
from ingest.text import nfkc, split_header_unit, to_simplified

# how far down the header may be (title rows, a long 填报说明 above the table)
SCAN_ROWS = 200
# a unit line above the table: 单位：亿元, 金额单位：亿元, 单位（亿元）, 单位 亿元, or a unit in
# brackets in the title (…进度表（亿元）); not 填报单位：<an office> nor 单位（盖章）: see _unit_line
_UNIT_LINE = re.compile(r"单位\s*([:：]|[（(]|\s)\s*([^\s,，;；)）:：]+)")
_BRACKETED = re.compile(r"[（(]\s*([^\s()（）]+?)\s*[)）]")


@dataclass
class Column:
    index: int
    field: str
    header: str  # the header text as the submitter wrote it
    unit: str | None  # unit word from the header cell or a merged cell above


@dataclass
class Layout:
    kind: str
    header_row: int  # 0-based index of the (lower) header row
    columns: dict[str, Column]
    unit_line: str | None
    ignored_headers: list[str] = field(default_factory=list)


@dataclass
class LayoutProblem:
    code: str  # no_header | missing_column | ambiguous_kind | duplicate_column
    zh: str
    en: str
    column: str = ""
    value: str = ""
    row: int | None = None


def _match(text: str) -> list[tuple[str, frozenset[str]]]:
    name, _ = split_header_unit(text)
    return reference.synonyms().get(name, []) if name else []


def _ffill(cells: list[str]) -> list[str]:
    """A merged header cell spans the empty cells to its right (as merged
    cells read from a spreadsheet: the value sits in the first cell only)."""
    out, last = [], ""
    for c in cells:
        last = c if c.strip() else last
        out.append(last)
    return out


def _candidates(upper: list[str] | None, lower: list[str]) -> list[tuple[int, str, str, str | None]]:
    """(column, header text, matched-synonym text, unit) for every cell that names a field."""
    out = []
    upper_f = _ffill(upper) if upper is not None else None
    for i, cell in enumerate(lower):
        up = upper_f[i] if upper_f is not None and i < len(upper_f) else ""
        up_raw = upper[i] if upper is not None and i < len(upper) else ""
        _, up_unit = split_header_unit(up) if up else ("", None)
        if cell.strip() and _match(cell):
            out.append((i, cell, cell, split_header_unit(cell)[1] or up_unit))
        elif not cell.strip() and up_raw.strip() and _match(up_raw):
            # a header cell merged vertically over both rows
            out.append((i, up_raw, up_raw, split_header_unit(up_raw)[1]))
    return out


def _assign(cands, kind: str) -> tuple[dict[str, Column], list[str]]:
    cols: dict[str, Column] = {}
    dupes: list[str] = []
    for i, header, text, unit in cands:
        fields = [f for f, ks in _match(text) if not ks or kind in ks]
        kind_fields = {f.name for f in reference.kinds()[kind]}
        fields = [f for f in fields if f in kind_fields]
        if not fields:
            continue
        f = fields[0]
        if f in cols:
            dupes.append(header)
            continue
        cols[f] = Column(i, f, header.strip(), unit)
    return cols, dupes


def _missing(kind: str, cols: dict[str, Column]) -> list[str]:
    fields = reference.kinds()[kind]
    missing = [f.name for f in fields if f.required == "yes" and f.name not in cols]
    indicators = [f.name for f in fields if f.required == "indicator"]
    if indicators and not any(i in cols for i in indicators):
        missing.append("|".join(indicators))
    return missing


def _is_title(row: list[str]) -> bool:
    """A title or unit line (one cell, in the first column: "2022年…进度表（第1页）",
    "单位：万元"), never the upper row of a two-row header."""
    return [i for i, c in enumerate(row) if c.strip()] in ([], [0])


def _options(rows: list[list[str]], r: int, best_partial: list) -> list[tuple]:
    """Every complete reading of row ``r`` as the header (alone, or as the lower
    row under ``r - 1``): (columns found, kind, columns, duplicates, two-row)."""
    options = []
    for upper in ([rows[r - 1]] if r > 0 and not _is_title(rows[r - 1]) else []) + [None]:
        cands = _candidates(upper, rows[r])
        if not cands:
            continue
        for kind in reference.kinds():
            cols, dupes = _assign(cands, kind)
            missing = _missing(kind, cols)
            if not missing:
                options.append((len(cols), kind, cols, dupes, upper is not None))
            elif len(cols) >= 2 and (not best_partial or len(cols) > best_partial[0][0]):
                best_partial[:] = [(len(cols), kind, missing, r)]
    return options


def find_layout(rows: list[list[str]]) -> Layout | LayoutProblem:
    best_partial: list[tuple[int, str, list[str], int]] = []  # the fullest incomplete reading: (score, kind, missing, row)
    for r in range(min(SCAN_ROWS, len(rows))):
        options = _options(rows, r, best_partial)
        if not options:
            continue
        # the upper row of a merged two-row header can be complete on its own
        # (统计期 | 园区代码 | 税收 over a spanned 主要指标): read the next row under it too
        if r + 1 < len(rows):
            below = [o for o in _options(rows, r + 1, []) if o[4]]
            if below and max(o[0] for o in below) > max(o[0] for o in options):
                options, r = below, r + 1
        top = max(o[0] for o in options)
        best = [o for o in options if o[0] == top]
        kinds_ = sorted({o[1] for o in best})
        if len(kinds_) > 1:
            return LayoutProblem("ambiguous_kind", f"表头同时符合多种报表：{'、'.join(kinds_)}",
                                 f"the header fits more than one report kind: {', '.join(kinds_)}", row=r + 1)
        _, kind, cols, dupes, _two = max(best, key=lambda o: o[4])  # prefer the two-row reading
        if dupes:
            return LayoutProblem("duplicate_column", "列重复", "the same column appears twice", column=dupes[0], row=r + 1)
        used = {c.index for c in cols.values()}
        ignored = [h for i, h in enumerate(rows[r]) if h.strip() and i not in used]
        # a unit line above the table, or written in a cell of the header row that names no column
        return Layout(kind, r, cols, _unit_line(rows[:r] + [ignored]), ignored)
    if best_partial:
        _, kind, missing, r = best_partial[0]
        zh = "、".join(_zh(kind, m) for m in missing)
        return LayoutProblem("missing_column", f"缺少必填列：{zh}（{kind}）", f"missing required column(s): {', '.join(missing)} ({kind})",
                             column=", ".join(missing), row=r + 1)
    return LayoutProblem("no_header", f"找不到可识别的表头（已查看前 {SCAN_ROWS} 行）：表头须写出各列名称，"
                         "如 统计期、园区代码、税收（见报送模板）",
                         f"no recognisable header row (the first {SCAN_ROWS} rows were searched): the header names "
                         "the columns, e.g. 统计期, 园区代码, 税收 (see the templates)")


def _zh(kind: str, name: str) -> str:
    by = {f.name: f.zh for f in reference.kinds()[kind]}
    return "/".join(by.get(n, n) for n in name.split("|"))


def _unit_line(rows_above: list[list[str]]) -> str | None:
    """The unit the rows above the header state (the last one stated). After 单位 and a
    colon, a bracket or a space: a unit word of reference/units.csv, or — after a colon —
    any word naming 元 (千元: refused by the money columns, by name, rather than ignored);
    another word (填报单位：娄底市发改委, 单位（盖章）) is not a unit. In brackets alone, in a
    title row (…进度表（亿元）), a unit word of units.csv only — never in the upper row of a
    two-row header, whose （亿元） speaks of the columns under it."""
    known = reference.units()
    unit = None
    for row in rows_above:
        for cell in row:
            text = to_simplified(nfkc(cell))
            for m in _UNIT_LINE.finditer(text):
                word = m.group(2)
                if word in known or (m.group(1) in ":：" and "元" in word):
                    unit = word
            for m in _BRACKETED.finditer(text) if _is_title(row) else ():  # not a header's upper row
                if m.group(1) in known:
                    unit = m.group(1)
    return unit
