"""Rows to file bytes: the one place that turns a table (a list of rows) into a
CSV in an encoding, an XLSX (merged cells, several sheets, number formats) or a
legacy XLS. Every generator of submissions — the bundled sample, the
benchmark's sizes and the tests' hand-written files — writes through these."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile


def csv_text(rows: list[list], lineterminator: str = "\n") -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=lineterminator).writerows(rows)
    return buf.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8", lineterminator: str = "\n", bom: bool = False,
              errors: str = "strict") -> bytes:
    """A CSV in ``encoding`` (``utf-8-sig`` or ``bom=True``: with a byte-order mark;
    ``errors`` as ``str.encode`` takes it)."""
    return (b"\xef\xbb\xbf" if bom else b"") + csv_text(rows, lineterminator).encode(encoding, errors)


def workbook(sheets: list[tuple[str, list[list], str]], *, merges=(), formats=None, hidden_rows=()) -> bytes:
    """An XLSX of several sheets: (title, rows, state: visible | hidden) each;
    ``merges`` (cell ranges, "A1:D1"), ``formats`` ({cell: number format}) and
    ``hidden_rows`` (1-based row numbers) on the first visible one."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows, state in sheets:
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
        ws.sheet_state = state
    first = wb[next(title for title, _rows, state in sheets if state == "visible")]
    for m in merges:
        first.merge_cells(m)
    for cell, fmt in (formats or {}).items():
        first[cell].number_format = fmt
    for r in hidden_rows:
        first.row_dimensions[r].hidden = True
    return _saved(wb)


# a workbook's own timestamps (its properties, its zip entries): fixed, so the
# same rows give the same bytes (the generator's same seed, same bytes)
STAMP = dt.datetime(2020, 1, 1)


class _StampedZip(zipfile.ZipFile):
    def writestr(self, name, data, *args, **kwargs):
        if isinstance(name, str):
            name = zipfile.ZipInfo(name, STAMP.timetuple()[:6])
            name.compress_type = zipfile.ZIP_DEFLATED
        super().writestr(name, data, *args, **kwargs)

    def write(self, filename, arcname=None, *args, **kwargs):  # openpyxl writes each sheet from a temporary file
        with open(filename, "rb") as fh:
            self.writestr(str(arcname or filename), fh.read())


def _saved(wb) -> bytes:
    from openpyxl.writer.excel import ExcelWriter

    wb.properties.created = wb.properties.modified = STAMP
    buf = io.BytesIO()
    ExcelWriter(wb, _StampedZip(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True)).save()
    return buf.getvalue()


def xlsx_bytes(rows: list[list], sheet: str = "Sheet1", merges=()) -> bytes:
    """An XLSX of one sheet; ``merges`` are cell ranges ("A3:A4")."""
    return workbook([(sheet, rows, "visible")], merges=merges)


def xls_bytes(rows: list[list], sheet: str = "Sheet1") -> bytes:
    """A legacy Excel 97-2003 workbook (BIFF8), written with xlwt (a development
    dependency: only the tests write this shape)."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(sheet)
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v is not None:
                ws.write(r, c, v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def merge_range(row: int, col: int, end_row: int, end_col: int) -> str:
    """A1-style range of 1-based coordinates: merge_range(3, 1, 4, 1) == "A3:A4"."""
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(col)}{row}:{get_column_letter(end_col)}{end_row}"
