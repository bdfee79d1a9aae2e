"""Shared helpers: a fresh warehouse home per test, writers for real files in
every promised shape, and the real refresh (the Dagster job, in-process)."""

from __future__ import annotations

import contextlib
import csv
import io
import os
from pathlib import Path

import duckdb
import pytest

from ingest.settings import WarehouseHome

# The longest modules first (pytest-xdist hands out whole modules in collection
# order, --no-loadscope-reorder): a long module started last would run alone at
# the end. Seconds per module on 2 cores, measured; the rest follow alphabetically.
LONGEST_FIRST = ("test_spark_parity.py", "test_benchmarks.py", "test_seed_figures.py", "test_contract_v2.py",
                 "test_integrity_ledger.py", "test_kill_safety.py", "test_packaging.py", "test_history.py", "test_end_to_end.py",
                 "test_operations.py", "test_plain_output.py", "test_daemon.py", "test_intake.py",
                 "test_malformed_corpus.py", "test_integrity_reading.py",
                 "test_incremental.py")


def pytest_collection_modifyitems(items: list) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(Path(str(item.fspath)).name, len(rank)))


os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
# tests drop a file and ingest at once: no settle time (its own test sets one)
os.environ.setdefault("PARKSTAT_SETTLE_SECONDS", "0")


@contextlib.contextmanager
def env_vars(**values: str | None):
    """Set (None: unset) environment variables for a block (module fixtures cannot use monkeypatch)."""
    saved = {k: os.environ.get(k) for k in values}
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def home(tmp_path: Path) -> WarehouseHome:
    return WarehouseHome(tmp_path / "wh").ensure()


def make_home(path: Path) -> WarehouseHome:
    return WarehouseHome(path).ensure()


def csv_bytes(rows: list[list], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list], sheet: str = "Sheet1", merges: list[str] = ()) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(r)
    for m in merges:
        ws.merge_cells(m)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def workbook(sheets: list[tuple[str, list[list], str]], *, merges=(), formats=None) -> bytes:
    """An XLSX of several sheets: (title, rows, state: visible | hidden) each;
    ``merges`` and ``formats`` ({cell: number format}) on the first visible one."""
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
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def encrypted(data: bytes, password: str = "口令") -> bytes:
    """An Office file encrypted with a password to open it, as Excel writes one (msoffcrypto-tool)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()


def xls_bytes(rows: list[list], sheet: str = "Sheet1") -> bytes:
    """A legacy Excel 97-2003 workbook (BIFF8), written with xlwt."""
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


def drop(home: WarehouseHome, submitter: str, name: str, data: bytes) -> Path:
    p = home.landing / submitter / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def refresh(home: WarehouseHome) -> bool:
    """The real nightly job, in-process, recorded in the home's Dagster instance."""
    from orchestration.cli import _home, run_refresh

    return run_refresh(_home(home.root))


def query(home: WarehouseHome, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(home.published_db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def ledger_rows(home: WarehouseHome, sql: str) -> list[tuple]:
    con = duckdb.connect(str(home.ledger), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
