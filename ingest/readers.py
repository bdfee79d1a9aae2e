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
import re

from ingest.grid import Grid, check_width, is_workbook
from ingest.messages import Message
from ingest.textfile import UnreadableFile, decode, encoding_name, sniff_delimiter

__all__ = ["Grid", "UnreadableFile", "read_grid", "check_width"]

# text the csv module splits exactly as a plain split on the delimiter does (no
# quotes, no lone CR, no blank line inside, no character Python strips but
# Polars does not), which Polars may then read column by column
_NOT_PLAIN = re.compile(r'["\x1c-\x1f]|\r(?!\n)|\n\r?\n(?=.)', re.S)


def read_csv_bytes(data: bytes) -> Grid:
    text, enc, notes = decode(data)
    grid = Grid(text=text, encoding=enc, delimiter=sniff_delimiter(text[:20_000]), notes=notes)
    if _NOT_PLAIN.search(text) is None:  # split on demand; only the width is checked now
        from ingest.config import current

        lines = grid._lines()
        grid.lines = len(lines)
        grid.width = max((line.count(grid.delimiter) + 1 for line in lines), default=0)
        longest = max((len(line) for line in lines), default=0)
        if grid.width <= current().limits.max_columns and longest < csv.field_size_limit():
            return grid
    try:
        grid._rows = grid.rows
    except csv.Error as exc:
        raise UnreadableFile("CSV 格式错误（如引号未成对）：请用 Excel 打开后另存为“CSV UTF-8（逗号分隔）”再报送",
                             f"malformed CSV ({exc}): open it in Excel and save it again as "
                             "'CSV UTF-8 (Comma delimited)'") from exc
    grid.text = None
    check_width(grid.rows)
    return grid


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
    if is_workbook(data):
        from ingest.sandbox import IsolatedFailure, run_isolated
        from ingest.workbook import read_excel_bytes

        try:
            return run_isolated(read_excel_bytes, data)
        except IsolatedFailure as exc:
            raise UnreadableFile(exc.zh, exc.en) from None
    lower = file_name.lower()
    if lower.endswith((".xlsx", ".xls", ".xlsm")):
        raise UnreadableFile("扩展名为电子表格但内容不是", "named as a spreadsheet but the content is not one")
    return read_csv_bytes(data)
