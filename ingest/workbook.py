"""Reading a workbook (XLSX, XLS) into a grid: which sheet, and the cells as text.

Runs inside the sandboxed reader process (``ingest/sandbox.py``). Read with
fastexcel (Rust calamine), every cell as text, no header assumed.

Which sheet: hidden sheets are never read (a stale copy kept out of sight is
not the report). Of the visible sheets, the one whose header parkstat
recognises; two or more such sheets reject the workbook, naming them (one
table per file); none: the first visible one, or the one whose name names a
report kind (its receipt then says no header was found). Another visible sheet
holding cells but no header (a 续表) is not read, and the receipt says so (not a
sheet named for notes: 说明, 填报说明).
A hidden row is read as it is, and named on the receipt.

XLSX only, when the sheet calls for it (openpyxl, streaming): a formula with
no saved result is an error naming the cell (calamine would read it as empty),
and so is a cell whose value is an Excel error (#DIV/0!, #N/A: empty to
calamine too); a formula whose result is empty text (=IF(…,"",…)) is an empty cell;
a number formatted as a percentage is read as what it shows (``12%``, which a
money column refuses); a number whose format shows another number (``0!.0000``:
80000000 shown as 8000.0000; ``#,##0,``: thousands) is an error naming the cell; a
cell merged down over several rows (统计期 once for a block of rows) counts for each
of them. Zero-width characters are removed.
"""

from __future__ import annotations

import io
import re

from ingest import reference
from ingest.messages import error, note, warning
from ingest.grid import XLSX_MAGIC, Grid, check_width
from ingest.textfile import INVISIBLE, UnreadableFile, invisible_note
from ingest.text import to_simplified

# the names of an encrypted Office file's streams (UTF-16LE, as the container's directory holds them)
_ENCRYPTED = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))
_MERGE = re.compile(rb'<mergeCell\s+ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')

PASSWORD = ("工作簿设有打开密码（已加密），无法读取：请取消密码（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码）后重新报送",
            "the workbook is password-protected (encrypted) and cannot be read: remove the password "
            "(File → Info → Protect Workbook → Encrypt with Password, clear it) and send it again")


def pick_sheet(names: list[str]) -> int:
    for i, name in enumerate(names):
        n = to_simplified(name).lower()
        if any(h in n for hints in reference.sheet_hints().values() for h in hints):
            return i
    return 0


def check_inflated_size(data: bytes) -> None:
    """An XLSX is a zip: refuse one that would inflate past the limit (a zip bomb)
    from its directory alone, before anything is decompressed."""
    import zipfile

    from ingest.config import current

    limit = current().limits.max_inflated_bytes
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError) as exc:
        # NotImplementedError: a directory claiming a zip version Python cannot read (found by the fuzzer)
        raise UnreadableFile("无法读取电子表格（压缩包损坏）", f"cannot read the spreadsheet: {exc}") from exc
    if total > limit:
        raise UnreadableFile(f"工作簿解压后达 {total / 2**20:,.0f} MB，超过上限 {limit / 2**20:,.0f} MB",
                             f"the workbook inflates to {total / 2**20:,.0f} MB, over the limit of "
                             f"{limit / 2**20:,.0f} MB")


def _rows(table) -> list[list[str]]:
    cols = [c.to_pylist() for c in table.columns]
    return [[("" if c[i] is None else str(c[i])) for c in cols] for i in range(table.num_rows)]


def _strip_invisible(rows: list[list[str]]) -> list[int]:
    """Remove zero-width characters from every cell; the rows (1-based) that had some."""
    touched = []
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if any(ord(ch) in INVISIBLE for ch in cell):
                row[c] = cell.translate(INVISIBLE)
                if not touched or touched[-1] != r + 1:
                    touched.append(r + 1)
    return touched


def _choose(reader, names: list[str], notes: list):
    """(index, table) of the sheet to read (module docstring); each visible sheet
    is parsed once."""
    from ingest.layout import SCAN_ROWS, Layout, find_layout

    def load(i: int):
        # skip_rows=0 keeps leading blank rows, so row numbers are the ones the submitter sees
        return reader.load_sheet(i, header_row=None, dtypes="string", skip_rows=0)

    visible, hidden, tables = [], [], {}
    for i, name in enumerate(names):
        sheet = load(i)
        if getattr(sheet, "visible", "visible") != "visible":
            hidden.append(name)
            continue
        table = sheet.to_arrow()
        if len(names) == 1:  # nothing to choose from
            return 0, table
        head = _rows(table.slice(0, SCAN_ROWS + 1))
        _strip_invisible(head)
        has = isinstance(find_layout(head), Layout)
        visible.append((i, has, any(c.strip() for r in head for c in r)))
        if has or not tables:
            tables[i] = table
    if hidden:
        notes.append(note("hidden_sheet", f"已忽略隐藏的工作表：{'、'.join(hidden)}（隐藏的工作表从不读取）",
                          f"hidden sheet(s) ignored: {', '.join(hidden)} (hidden sheets are never read)"))
    if not visible:
        raise UnreadableFile("工作簿中没有可见的工作表（隐藏的工作表不读取）：请取消隐藏要报送的表",
                             "the workbook has no visible sheet (hidden sheets are not read): unhide the sheet "
                             "you mean to send", code="unreadable")
    with_data = [i for i, has, _ in visible if has]
    if len(with_data) > 1:
        listed = "、".join(f"“{names[i]}”" for i in with_data)
        raise UnreadableFile(f"工作簿有 {len(with_data)} 个数据表（{listed}），一个文件只能报送一个表：请把每个表另存为单独的文件分别报送",
                             f"the workbook has {len(with_data)} data sheets ({', '.join(names[i] for i in with_data)}); "
                             "one file carries one table: save each sheet as a file of its own and send them "
                             "separately", code="several_sheets")
    if with_data:
        # a visible sheet with content but no header: a 续表 of the same table, or notes — not read, and said
        others = [names[i] for i, has, filled in visible if filled and i != with_data[0] and not _notes_sheet(names[i])]
        if others:
            listed = "、".join(f"“{n}”" for n in others)
            notes.append(warning("other_sheets_not_read",
                                 f"工作表 {listed} 有内容但没有表头，未读取（只读取“{names[with_data[0]]}”）：如是同一表的续表，"
                                 "请把其中的行并入该表后重新报送",
                                 f"sheet(s) {', '.join(others)} hold cells but no header and were not read (only "
                                 f"{names[with_data[0]]} was): if they continue the table, move their rows into it "
                                 "and send the file again"))
        return with_data[0], tables[with_data[0]]
    shown = [i for i, _, _ in visible]
    idx = shown[pick_sheet([names[i] for i in shown])]
    return idx, tables[idx] if idx in tables else load(idx).to_arrow()


def _notes_sheet(name: str) -> bool:
    """A sheet named for notes (说明, 填报说明, 备注, 注意事项: the words of reference/footer_words.csv),
    as the intake site's own templates carry one: not a table left unread."""
    simplified = to_simplified(name)
    return any(word in simplified for word in reference.footer_words())


def read_excel_bytes(data: bytes) -> Grid:
    import fastexcel

    if data.startswith(XLSX_MAGIC):
        check_inflated_size(data)
    notes: list = []
    merged: list = []
    try:
        reader = fastexcel.read_excel(data)
        names = reader.sheet_names
        if not names:
            raise UnreadableFile("工作簿中没有工作表", "the workbook has no sheet")
        idx, table = _choose(reader, names, notes)
    except UnreadableFile:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine reports broken files in many ways, even as a Rust panic
        # (pyo3's PanicException derives from BaseException; found by the fuzzer on a mutated .xls)
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        # an encrypted workbook is a container of those streams (its directory may sit anywhere): calamine
        # cannot tell it from a broken file; an XLS with a password says so in calamine's words
        if re.search("password|encrypt", str(exc), re.I) or any(name in data for name in _ENCRYPTED):
            raise UnreadableFile(*PASSWORD, code="password_protected") from None
        raise UnreadableFile("无法读取电子表格（文件已损坏，或不是 Excel 工作簿）：请在 Excel 中打开、另存为 .xlsx 后重新报送",
                             f"cannot read the spreadsheet ({type(exc).__name__}: {first}): the file is damaged or "
                             "not an Excel workbook; open it in Excel, save it as .xlsx and send it again") from None
    from ingest.config import current

    if table.num_columns > current().limits.max_columns:
        raise UnreadableFile(f"工作表有 {table.num_columns:,} 列，超过上限", f"the sheet has {table.num_columns:,} "
                             f"columns, over the limit of {current().limits.max_columns}")
    rows = _rows(table)
    if data.startswith(XLSX_MAGIC):
        try:
            _xlsx_cells(data, names[idx], rows, notes, merged)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # calamine read the cells; openpyxl's refinement could not (found by the fuzzer)
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            notes.append(warning(
                "cells_unchecked", f"无法检查工作簿的公式和单元格格式（{type(exc).__name__}: {first}）：没有保存结果的公式"
                "会读作空白，百分比格式的数会读作小数，合并单元格只算第一行；请核对这些单元格，或在 Excel 中另存后重新报送",
                f"the workbook's formulas and cell formats could not be checked ({type(exc).__name__}: {first}): a "
                "formula with no saved result reads as empty, a number formatted as a percentage as a fraction, a "
                "merged cell for its first row only; check such cells, or save the workbook again in Excel and resend"))
    touched = _strip_invisible(rows)
    if touched:
        notes.append(invisible_note(touched))
    check_width(rows)
    return Grid(rows, sheet=names[idx], notes=notes, merged=merged)


# a number format's literal text ("万元", \., !.) and its [colour]/[condition] parts
_QUOTED = re.compile(r'"[^"]*"|\\.|!.|\[[^\]]*\]|_.|\*.')
# digit placeholders followed by commas that nothing follows: each comma divides by 1,000 (#,##0,)
_SCALING = re.compile(r"[0#?],+(?![0#?,.])")


def _rescales(code: str) -> bool:
    """Whether a number format shows a number other than the cell's value (percentages
    aside): thousands scaling (``#,##0,``) or a decimal point or digit written as text
    among the digits (``0!.0000``, ``0"."0000``: 80000000 shown as 8000.0000)."""
    section = code.split(";")[0]
    core = _QUOTED.sub("", section)
    if not re.search(r"[0#?]", core):
        return False
    literal = "".join(m.group(0) for m in _QUOTED.finditer(section) if not m.group(0).startswith(("[", "_", "*")))
    return bool(_SCALING.search(core)) or bool(re.search(r"[.0-9]", literal))


def _shown_styles(wb) -> tuple[set[int], dict[int, str]]:
    """The indexes of the cell styles whose number format shows a percentage, and
    {index: format} of those that show another number than the value (``_rescales``)."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS

    percent, rescaled = set(), {}
    for i, style in enumerate(wb._cell_styles):
        fid = style.numFmtId
        code = BUILTIN_FORMATS.get(fid) if fid < 164 else wb._number_formats[fid - 164]
        if code and "%" in code:
            percent.add(i)
        elif code and _rescales(code):
            rescaled[i] = code
    return percent, rescaled


def _scan(xml: bytes, percent: set[int], rescaled: dict[int, str]):
    """One streaming pass over a sheet's XML: formula cells with no saved result
    [(ref, formula)], numbers in a percent style [(ref, value as written)], cells
    holding an Excel error [(ref, error, formula or "")], numbers in a style that
    shows another number [(ref, value, format)], and the first column holding a
    value (where calamine's grid starts); the rows hidden that hold a value."""
    import xml.etree.ElementTree as ET

    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    missing, percents, errors, shown_otherwise, hidden_rows, first_col = [], [], [], [], [], None
    row_has_value = False
    for _event, el in ET.iterparse(io.BytesIO(xml), events=("end",)):
        if el.tag == ns + "c":
            ref, kind = el.get("r"), el.get("t", "n")
            f, v = el.find(ns + "f"), el.find(ns + "v")
            has_value = (v is not None and v.text not in (None, "")) or kind == "inlineStr"
            if ref and has_value:
                row_has_value = True
                col = column_index_from_string(coordinate_from_string(ref)[0])
                first_col = col if first_col is None else min(first_col, col)
            if ref and kind == "e" and has_value:  # #DIV/0!, #N/A, #REF!...: calamine reads an empty cell
                errors.append((ref, v.text, "=" + f.text if f is not None and f.text else ""))
            # a formula whose saved result is the empty string (=IF(…,"",…)) has a result: ""
            elif ref and f is not None and not has_value and not (kind == "str" and v is not None):
                missing.append((ref, "=" + (f.text or "")))
            elif ref and has_value and kind == "n":
                style = int(el.get("s", 0))
                if style in percent:
                    percents.append((ref, v.text))
                elif style in rescaled:
                    shown_otherwise.append((ref, v.text, rescaled[style]))
            el.clear()
        elif el.tag == ns + "row":
            if row_has_value and el.get("hidden") in ("1", "true") and (el.get("r") or "").isdigit():
                hidden_rows.append(int(el.get("r")))
            row_has_value = False
            el.clear()
    return missing, percents, errors, shown_otherwise, hidden_rows, first_col


def _xlsx_cells(data: bytes, sheet_name: str, rows: list[list[str]], notes: list, merged: list) -> None:
    """What calamine's text leaves out (module docstring), for the XLSX sheet read:
    the sheet's XML is scanned (one streaming pass) only when it holds a formula,
    a merged cell, or the workbook a percent style. ``merged``: (range, last row)
    of each cell merged down, for the receipt (``readers.reading_notes``)."""
    from decimal import Decimal, InvalidOperation

    from openpyxl import load_workbook
    from openpyxl.utils import range_boundaries
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        xml = wb[sheet_name]._get_source().read()
        percent, rescaled = _shown_styles(wb)
    finally:
        wb.close()
    formulas = b"<f>" in xml or b"<f " in xml or b't="e"' in xml
    merges = [range_boundaries(m.decode()) for m in _MERGE.findall(xml)]
    hidden = b'hidden="1"' in xml or b'hidden="true"' in xml
    if not (formulas or percent or rescaled or merges or hidden):
        return
    missing, percents, errors, shown_otherwise, hidden_rows, first_col = _scan(xml, percent, rescaled)
    offset = (first_col - 1) if first_col else 0  # calamine's grid starts at the first column used
    width = max((len(r) for r in rows), default=0)

    def at(r: int, c: int) -> tuple[int, int] | None:
        rr, cc = r - 1, c - 1 - offset
        if not (0 <= rr < len(rows) and 0 <= cc < width):
            return None
        rows[rr].extend([""] * (width - len(rows[rr])))
        return rr, cc

    def where(ref: str) -> tuple[int, int] | None:
        col, row = coordinate_from_string(ref)
        return at(row, column_index_from_string(col))

    for ref, formula in missing:
        cell = where(ref)
        if cell is not None and not rows[cell[0]][cell[1]].strip():
            notes.append(error("formula_without_value",
                               f"单元格 {ref} 是公式（{formula}），但没有保存计算结果：请在 Excel 中打开、"
                               "重新计算并保存后再报送，或把公式换成数值",
                               f"cell {ref} holds a formula ({formula}) with no saved result: open the "
                               "workbook in Excel, recalculate and save it, or replace the formula by its value",
                               row=cell[0] + 1, value=formula))
    for ref, shown, formula in errors:
        cell = where(ref)
        if cell is not None:
            made = f"（{formula}）" if formula else ""
            made_en = f" ({formula})" if formula else ""
            notes.append(error("excel_error_value",
                               f"单元格 {ref} 的值是 Excel 错误 {shown}{made}：请在 Excel 中更正公式或数据后再报送，"
                               "没有数据的单元格请留空",
                               f"cell {ref} holds the Excel error {shown}{made_en}: correct the formula or its "
                               "data in Excel and send the file again (leave a cell with no figure empty)",
                               row=cell[0] + 1, value=shown))
    hidden_rows = [r for r in hidden_rows if at(r, first_col or 1) is not None]
    if hidden_rows:
        listed = "、".join(map(str, hidden_rows[:10])) + ("…" if len(hidden_rows) > 10 else "")
        listed_en = ", ".join(map(str, hidden_rows[:10])) + ("…" if len(hidden_rows) > 10 else "")
        notes.append(warning("hidden_rows", f"第 {listed} 行在工作表中被隐藏，仍按所填内容读取：不应报送的行请删除，而不是隐藏",
                             f"row(s) {listed_en} are hidden in the sheet and were read as they are: delete a row that "
                             "is not to be reported rather than hiding it", row=hidden_rows[0]))
    for ref, value, code in shown_otherwise:
        cell = where(ref)
        if cell is not None:
            notes.append(error("number_format_rescales",
                               f"单元格 {ref} 的数字格式（{code}）显示的数与单元格的值（{value}）不同：请把单元格的值"
                               "写成表头单位下的数字（或清除该数字格式）后再报送",
                               f"cell {ref}'s number format ({code}) shows another number than the cell's value "
                               f"({value}): write the value in the header's unit (or clear the number format) and "
                               "send the file again", row=cell[0] + 1, value=value))
    for ref, written in percents:
        cell = where(ref)
        try:
            shown = (Decimal(written) * 100).normalize()
        except InvalidOperation:
            continue
        if cell is not None:
            rows[cell[0]][cell[1]] = f"{shown:f}%"
    for min_col, min_row, _max_col, max_row in merges:
        top = at(min_row, min_col)
        if top is None or max_row <= min_row:
            continue
        value = rows[top[0]][top[1]]
        for r in range(min_row + 1, max_row + 1):
            cell = at(r, min_col)
            if cell is not None and value:
                rows[cell[0]][cell[1]] = rows[cell[0]][cell[1]] or value
        merged.append((f"{_ref(min_col, min_row)}:{_ref(min_col, max_row)}", max_row))


def _ref(col: int, row: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(col)}{row}"
