"""Shared helpers: a fresh warehouse home per test, writers for real files in
every promised shape (the generator's, ``ingest/synthetic/files.py``), and the
real refresh (the Dagster job, in-process)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from ingest.settings import WarehouseHome
# the file builders the tests import from here are the generator's own
from ingest.synthetic.files import csv_bytes, workbook, xls_bytes, xlsx_bytes  # noqa: F401

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


def encrypted(data: bytes, password: str = "口令") -> bytes:
    """An Office file encrypted with a password to open it, as Excel writes one (msoffcrypto-tool)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()


def copy_tree(src: Path, dst: Path) -> None:
    """Every file under ``src`` copied to the same place under ``dst`` (a generated landing area)."""
    for p in sorted(src.rglob("*")):
        if p.is_file():
            t = dst / p.relative_to(src)
            t.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, t)


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


def materialized_row_counts(home: WarehouseHome) -> tuple[dict[str, int], dict[str, int]]:
    """The home's last run: ({asset: dagster/row_count} of its materializations,
    {asset: rows} of the core and mart tables its publish wrote), asset keys as 'core/dim_region'."""
    import json

    from dagster import DagsterEventType

    from orchestration.instance import open_instance

    with open_instance(home) as instance:
        run = instance.get_runs(limit=1)[0]
        mats = [e.dagster_event.event_specific_data.materialization for e in
                instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)]
    counts = {"/".join(m.asset_key.path): m.metadata["dagster/row_count"].value
              for m in mats if "dagster/row_count" in m.metadata}
    published = json.loads((home.current / "publish.json").read_text())["tables"]
    return counts, {k.replace(".", "/"): v for k, v in published.items() if k.split(".")[0] in ("core", "marts")}


def ledger_rows(home: WarehouseHome, sql: str) -> list[tuple]:
    con = duckdb.connect(str(home.ledger), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
