"""A file's cells as read (``Grid``), the bytes that tell a workbook, and the
column limit: what the CSV reader (``readers.py``) and the workbook reader
(``workbook.py``) share."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ingest.messages import Message
from ingest.textfile import UnreadableFile

if TYPE_CHECKING:  # (Polars is imported where a frame is made)
    import polars as pl

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def is_workbook(head: bytes) -> bool:
    """The file's first bytes are an XLSX (zip) or an XLS (OLE2) workbook's."""
    return head.startswith(XLSX_MAGIC) or head.startswith(XLS_MAGIC)


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


def check_width(rows: list[list[str]]) -> None:
    from ingest.config import current

    limit = current().limits.max_columns
    for i, r in enumerate(rows, 1):
        if len(r) > limit:
            raise UnreadableFile(f"第{i}行有 {len(r):,} 列，超过上限 {limit} 列",
                                 f"row {i} has {len(r):,} columns, over the limit of {limit}")
