"""Reading a submitted file's bytes into a grid of cell texts.

CSV: decoded by ``ingest/textfile.py`` (UTF-8 with or without BOM, UTF-16,
GB18030/GBK or Big5, chosen with the language in mind), then parsed with the
standard ``csv`` module. XLSX/XLS: ``ingest/workbook.py``, in the sandboxed
reader process. What reading did that the submitter should know (the
encoding's guess, zero-width characters removed, hidden sheets ignored, a
formula without its value) travels on the grid as ``notes``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from ingest.messages import Message
from ingest.textfile import UnreadableFile, decode, encoding_name, sniff_delimiter

__all__ = ["Grid", "UnreadableFile", "read_grid", "check_width"]

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# text the csv module splits exactly as a plain split on the delimiter does (no
# quotes, no lone CR, no blank line inside, no character Python strips but
# Polars does not), which Polars may then read column by column
_NOT_PLAIN = re.compile(r'["\x1c-\x1f]|\r(?!\n)|\n\r?\n(?=.)', re.S)


@dataclass
class Grid:
    """A file's cells. A plain CSV keeps its text and splits it only when asked:
    ``head`` for the layout, ``body`` for the vectorised path, ``rows`` (the
    csv module's reading, every row) for the row-by-row path."""

    _rows: list[list[str]] | None = None
    encoding: str | None = None
    sheet: str | None = None
    text: str | None = None  # a plain CSV's text (see _NOT_PLAIN)
    delimiter: str = ","
    width: int = 0  # a plain CSV's widest row
    lines: int = 0  # and its number of rows (both measured once, when it is read)
    # what reading did that the receipt should say (an uncertain encoding, zero-width
    # characters removed, a formula without its value...): notes, warnings or errors
    notes: list[Message] = field(default_factory=list)
    # cells of a workbook merged down over several rows, their value read for each: (range, last row)
    merged: list[tuple[str, int]] = field(default_factory=list)

    @property
    def rows(self) -> list[list[str]]:
        if self._rows is None:
            self._rows = [list(r) for r in csv.reader(io.StringIO(self.text), delimiter=self.delimiter)]
        return self._rows

    @property
    def row_count(self) -> int:
        return self.lines if self._rows is None else len(self._rows)

    def _lines(self) -> list[str]:
        lines = self.text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return lines

    def head(self, n: int) -> list[list[str]]:
        if self._rows is not None:
            return self._rows[:n]
        out = []
        for line in self.text.split("\n", n)[:n]:
            line = line[:-1] if line.endswith("\r") else line
            out.append(line.split(self.delimiter) if line else [])
        return out[: self.row_count]

    def body(self, start: int) -> "pl.DataFrame | None":
        """Rows ``start`` onwards of a plain CSV as a frame of texts (missing cells
        empty), read by Polars; None when the file is not plain."""
        if self.text is None:
            return None
        import polars as pl

        data = self.text.encode("utf-8")
        try:
            frame = pl.read_csv(data, has_header=False, separator=self.delimiter, quote_char=None,
                                infer_schema=False, skip_lines=start,
                                raise_if_empty=False)
        except Exception:  # ragged beyond the first row's width, or anything unplanned: rows it is
            return None
        if frame.height != self.row_count - start or frame.width < self.width:
            return None
        return frame.fill_null("")


def read_csv_bytes(data: bytes) -> Grid:
    text, enc, notes = decode(data)
    grid = Grid(text=text, encoding=enc, delimiter=sniff_delimiter(text[:20_000]), notes=notes)
    if _NOT_PLAIN.search(text) is None:  # split on demand; only the width is checked now
        from ingest.settings import Limits

        lines = grid._lines()
        grid.lines = len(lines)
        grid.width = max((line.count(grid.delimiter) + 1 for line in lines), default=0)
        longest = max((len(line) for line in lines), default=0)
        if grid.width <= Limits.from_env().max_columns and longest < csv.field_size_limit():
            return grid
    try:
        grid._rows = grid.rows
    except csv.Error as exc:
        raise UnreadableFile("CSV 格式错误", f"malformed CSV: {exc}") from exc
    grid.text = None
    check_width(grid.rows)
    return grid


def check_width(rows: list[list[str]]) -> None:
    from ingest.settings import Limits

    limit = Limits.from_env().max_columns
    for i, r in enumerate(rows, 1):
        if len(r) > limit:
            raise UnreadableFile(f"第{i}行有 {len(r):,} 列，超过上限 {limit} 列",
                                 f"row {i} has {len(r):,} columns, over the limit of {limit}")


def reading_notes(grid: Grid | None, layout=None) -> list[Message]:
    """What reading the file did, for its receipt (before the table's own messages);
    cells merged down are named when they reach below the header (统计期 once for
    a block of rows), not for a two-row header's merges."""
    from ingest.messages import note

    if grid is None:
        return []
    out = list(grid.notes)
    below = [ref for ref, last in grid.merged if layout is not None and last > layout.header_row + 1]
    if below:
        listed = "、".join(below[:10]) + ("…" if len(below) > 10 else "")
        out.append(note("merged_cells", f"纵向合并的单元格（{listed}）的值已用于其中每一行",
                        f"the value of each cell merged down over several rows ({listed.replace('、', ', ')}) "
                        "was read for every row it spans"))
    return out


def read_as(grid: Grid | None) -> dict[str, str | None]:
    """The encoding (of a CSV) and the sheet (of a workbook) a receipt names."""
    return {"encoding": encoding_name(grid.encoding) if grid else None, "sheet": grid.sheet if grid else None}


def read_grid(data: bytes, file_name: str) -> Grid:
    if not data.strip():
        raise UnreadableFile("文件为空", "the file is empty")
    if data.startswith(XLSX_MAGIC) or data.startswith(XLS_MAGIC):
        from ingest.sandbox import read_excel_isolated

        return read_excel_isolated(data)
    lower = file_name.lower()
    if lower.endswith((".xlsx", ".xls", ".xlsm")):
        raise UnreadableFile("扩展名为电子表格但内容不是", "named as a spreadsheet but the content is not one")
    return read_csv_bytes(data)
