"""Reading a submitted file's bytes into a grid of cell texts.

CSV: the encoding is detected (UTF-8 with or without BOM, GBK/GB18030, UTF-16)
with charset-normalizer, then parsed with the standard ``csv`` module.
XLSX/XLS: read with fastexcel (Rust calamine), every cell as text, no header
assumed. Which sheet: the first, unless a sheet's name names a report kind.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

from ingest.text import to_simplified

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# sheet names that name a report kind (compared after Traditional->Simplified)
SHEET_HINTS = {
    "project_progress": ("重点项目", "项目进度", "project"),
    "park_indicators": ("园区指标", "园区", "park_indicators"),
    "region_indicators": ("区域指标", "地区指标", "region"),
    "park_registry": ("园区名录", "名录", "registry"),
    "park_evaluations": ("园区评价", "评价", "evaluation"),
}


class UnreadableFile(Exception):
    """The bytes are not a CSV or spreadsheet parkstat can read."""

    def __init__(self, zh: str, en: str):
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en

    def __reduce__(self):  # travels back from the sandboxed reader process
        return (UnreadableFile, (self.zh, self.en))


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


def detect_encoding(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[:200_000], cp_isolation=["gb18030", "utf_16", "big5"]).best()
    if best is None:
        raise UnreadableFile("无法识别文件编码", "cannot detect the text encoding")
    enc = best.encoding
    # GB18030 is a superset of GBK/GB2312: decode every GB file with it
    return "gb18030" if enc in ("gb2312", "gbk", "gb18030", "hz") else enc


def read_csv_bytes(data: bytes) -> Grid:
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile("文件不是文本表格（含二进制内容）", "not a text table (binary content)")
    enc = detect_encoding(data)
    try:
        text = data.decode(enc)
    except (UnicodeDecodeError, LookupError) as exc:
        raise UnreadableFile(f"按 {enc} 解码失败", f"cannot decode as {enc}: {exc}") from exc
    sample = text[:20_000]
    if not any(d in sample for d in "\t;|"):
        delimiter = ","  # the only candidate present: what the sniffer would answer, or its fallback
    else:
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
            delimiter = dialect.delimiter
        except csv.Error:
            delimiter = ","
    grid = Grid(text=text, encoding=enc, delimiter=delimiter)
    if _NOT_PLAIN.search(text) is None:  # split on demand; only the width is checked now
        from ingest.settings import Limits

        lines = grid._lines()
        grid.lines = len(lines)
        grid.width = max((line.count(delimiter) + 1 for line in lines), default=0)
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


def pick_sheet(names: list[str]) -> int:
    for i, name in enumerate(names):
        n = to_simplified(name).lower()
        if any(h in n for hints in SHEET_HINTS.values() for h in hints):
            return i
    return 0


def check_inflated_size(data: bytes) -> None:
    """An XLSX is a zip: refuse one that would inflate past the limit (a zip bomb)
    from its directory alone, before anything is decompressed."""
    import zipfile

    from ingest.settings import Limits

    limit = Limits.from_env().max_inflated_bytes
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UnreadableFile("无法读取电子表格（压缩包损坏）", f"cannot read the spreadsheet: {exc}") from exc
    if total > limit:
        raise UnreadableFile(f"工作簿解压后达 {total / 2**20:,.0f} MB，超过上限 {limit / 2**20:,.0f} MB",
                             f"the workbook inflates to {total / 2**20:,.0f} MB, over the limit of "
                             f"{limit / 2**20:,.0f} MB")


def check_width(rows: list[list[str]]) -> None:
    from ingest.settings import Limits

    limit = Limits.from_env().max_columns
    for i, r in enumerate(rows, 1):
        if len(r) > limit:
            raise UnreadableFile(f"第{i}行有 {len(r):,} 列，超过上限 {limit} 列",
                                 f"row {i} has {len(r):,} columns, over the limit of {limit}")


def read_excel_bytes(data: bytes) -> Grid:
    import fastexcel

    if data.startswith(XLSX_MAGIC):
        check_inflated_size(data)

    try:
        reader = fastexcel.read_excel(data)
        names = reader.sheet_names
        if not names:
            raise UnreadableFile("工作簿中没有工作表", "the workbook has no sheet")
        idx = pick_sheet(names)
        # skip_rows=0 keeps leading blank rows, so row numbers are the ones the submitter sees
        sheet = reader.load_sheet(idx, header_row=None, dtypes="string", skip_rows=0)
        table = sheet.to_arrow()
    except UnreadableFile:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine reports broken files in many ways, even as a Rust panic
        # (pyo3's PanicException derives from BaseException; found by the fuzzer on a mutated .xls)
        raise UnreadableFile("无法读取电子表格", f"cannot read the spreadsheet: {type(exc).__name__}: {exc}") from exc
    from ingest.settings import Limits

    if table.num_columns > Limits.from_env().max_columns:
        raise UnreadableFile(f"工作表有 {table.num_columns:,} 列，超过上限", f"the sheet has {table.num_columns:,} "
                             f"columns, over the limit of {Limits.from_env().max_columns}")
    cols = [c.to_pylist() for c in table.columns]
    rows = [[("" if c[i] is None else str(c[i])) for c in cols] for i in range(table.num_rows)]
    return Grid(rows, sheet=names[idx])


def read_grid(data: bytes, file_name: str) -> Grid:
    if not data.strip():
        raise UnreadableFile("文件为空", "the file is empty")
    if data.startswith(XLSX_MAGIC) or data.startswith(XLS_MAGIC):
        from ingest.sandbox import IsolatedFailure, run_isolated

        try:
            return run_isolated(read_excel_bytes, data)
        except IsolatedFailure as exc:
            raise UnreadableFile(exc.zh, exc.en) from None
    lower = file_name.lower()
    if lower.endswith((".xlsx", ".xls", ".xlsm")):
        raise UnreadableFile("扩展名为电子表格但内容不是", "named as a spreadsheet but the content is not one")
    return read_csv_bytes(data)
