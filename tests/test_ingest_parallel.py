"""Files read and checked on every core (ingest/parallel.py) and recorded a
batch per ledger transaction (PARKSTAT_INGEST_BATCH_FILES): the ledger, the
receipts and the staged Parquet are the very same as reading every file in the
ingest's own process and committing each file alone — with a workbook, a
rejected file and a resend among the generated ones — and a worker killed
mid-night loses nothing: its files are read in the pipeline instead; a
pipeline killed mid-night leaves none of its processes behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingest.ledger import EXPORTED
from ingest.parallel import POOL_FROM_FILES
from ingest.pipeline import ingest_landing
from ingest.synthetic import SIZES, generate
from tests.conftest import copy_tree, csv_bytes, drop, env_vars, make_home, xlsx_bytes


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("gen") / "tiny"
    generate("tiny", data)
    return data


def night(tmp: Path, landing: Path, **settings: str):
    """A home with the generated files and a few of our own, ingested once under ``settings``."""
    home = make_home(tmp)
    copy_tree(landing / "full", home.landing)
    city = sorted(p.name for p in home.landing.iterdir())[0]
    drop(home, city, "园区指标.xlsx", xlsx_bytes([["单位：万元"], ["统计期", "园区代码", "园区生产总值"],
                                                  ["2023", "NOT-A-PARK", 100]]))
    drop(home, city, "坏文件.csv", csv_bytes([["统计期", "项目代码", "项目名称"], ["2023年13月", "X", "Y"]]))
    drop(home, city, "坏期别.csv", csv_bytes([["统计期", "园区代码", "园区生产总值"], ["2023年13月", "NOT-A-PARK", "1"]]))
    again = next(p for p in sorted((home.landing / city).iterdir()) if p.suffix == ".csv")
    drop(home, city, "重发-" + again.name, again.read_bytes())  # the same bytes twice in one night
    env = {"PARKSTAT_NOW": SIZES["tiny"].now, "PARKSTAT_SETTLE_SECONDS": "0",
           "PARKSTAT_REPORTING_CALENDAR": str(landing / "reporting_calendar.csv"), **settings}
    with env_vars(**env):
        summary = ingest_landing(home)
    return home, summary


def contents(home) -> dict:
    """Every ledger table, every receipt and every staged file, as comparable values."""
    con = duckdb.connect(str(home.ledger), read_only=True)
    try:
        tables = {t: con.execute(f"select * from {t} order by all").fetchall() for t in EXPORTED}
    finally:
        con.close()
    receipts = {str(p.relative_to(home.receipts)): json.loads(p.read_text(encoding="utf-8"))
                for p in sorted(home.receipts.rglob("*.json"))}
    staged = {}
    for p in sorted(home.staged.rglob("*.parquet")):
        frame = pl.read_parquet(p)
        staged[str(p.relative_to(home.staged))] = frame.sort(frame.columns).rows() if frame.width else []
    return {"ledger": tables, "receipts": receipts, "staged": staged}


def test_on_every_core_in_batches_the_ledger_and_receipts_are_the_same(tmp_path, landing):
    alone, s1 = night(tmp_path / "alone", landing, PARKSTAT_INGEST_WORKERS="1", PARKSTAT_INGEST_BATCH_FILES="1")
    pooled, s2 = night(tmp_path / "pooled", landing, PARKSTAT_INGEST_WORKERS="2", PARKSTAT_INGEST_BATCH_FILES="7")
    assert len(s1.receipts) >= POOL_FROM_FILES  # enough files for the pool to start
    # read in the workers: every file but the registers (read first, here), the workbook (through the
    # pipeline's sandbox), the resend (never read again) and the file of no known kind (answered already)
    here = [r for r in s2.receipts if r.report_kind in ("park_registry", None) or r.sheet]
    others = sorted(r.file_name.split("-")[0] for r in here if r.report_kind != "park_registry")
    assert others == ["园区指标.xlsx", "坏文件.csv", "重发"], others
    assert s1.read_in_workers == 0 and s2.read_in_workers == len(s2.receipts) - len(here), here
    statuses = sorted({r.status for r in s1.receipts})
    assert statuses == ["accepted", "duplicate", "rejected"], statuses  # (the night has each kind of answer)
    a, b = contents(alone), contents(pooled)
    assert a["ledger"] == b["ledger"]
    assert a["receipts"] == b["receipts"]
    assert a["staged"] == b["staged"]
    assert [r.file_name for r in s1.receipts] == [r.file_name for r in s2.receipts]
    assert not [p for p in pooled.landing.rglob("*") if p.is_file()]  # every file answered and taken


def test_a_worker_killed_mid_night_loses_no_file(tmp_path, landing):
    alone, _ = night(tmp_path / "alone", landing, PARKSTAT_INGEST_WORKERS="1")
    # every worker kills itself at its first file (ingest.failpoints): the pipeline reads them all itself
    killed, summary = night(tmp_path / "killed", landing, PARKSTAT_INGEST_WORKERS="2",
                            PARKSTAT_FAILPOINT="ingest.worker")
    assert summary.read_in_workers == 0  # no worker lived to answer
    assert contents(killed) == contents(alone)
    assert not [p for p in killed.landing.rglob("*") if p.is_file()]


def _carrying(marker: str) -> list[int]:
    """The processes whose environment carries ``marker`` (a run's, inherited by what it starts)."""
    found = []
    for d in Path("/proc").iterdir():
        try:
            if d.name.isdigit() and marker.encode() in (d / "environ").read_bytes():
                found.append(int(d.name))
        except OSError:  # gone meanwhile, or not ours to read
            pass
    return found


def test_a_pipeline_killed_mid_night_leaves_no_process_behind(tmp_path, landing):
    """kill -9 of the pipeline's process alone (not its group: a scheduler's timeout, a stopped
    run) while its pool reads files and the workbook reader is up: its workers and the
    forkserver end too (ingest/sandbox.py, ``follow``), not wait on their queues for good."""
    home = make_home(tmp_path)
    copy_tree(landing / "full", home.landing)
    assert sum(p.is_file() for p in home.landing.rglob("*")) >= POOL_FROM_FILES  # the pool starts
    city = sorted(p.name for p in home.landing.iterdir())[0]
    drop(home, city, "园区指标.xlsx", xlsx_bytes([["统计期", "园区代码", "园区生产总值"], ["2023", "X", 1]]))
    marker = f"parkstat-test-{uuid.uuid4().hex}"
    env = {**os.environ, "PARKSTAT_NOW": SIZES["tiny"].now, "PARKSTAT_SETTLE_SECONDS": "0",
           "PARKSTAT_REPORTING_CALENDAR": str(landing / "reporting_calendar.csv"), "PARKSTAT_INGEST_WORKERS": "2",
           "PARKSTAT_INGEST_BATCH_FILES": "5", "PARKSTAT_FAILPOINT": "ingest.before_commit", "PARKSTAT_TEST_RUN": marker}
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from pathlib import Path; "
                             "from ingest.pipeline import ingest_landing; from ingest.settings import WarehouseHome; "
                             "ingest_landing(WarehouseHome(Path(sys.argv[1])))", str(home.root)], env=env)
    most = 0
    while proc.poll() is None:
        most = max(most, len(_carrying(marker)))
        time.sleep(0.05)
    assert proc.returncode == -signal.SIGKILL  # killed itself at its first batch's commit, pool running
    assert most >= 4  # the pipeline, the forkserver, the reader, a worker at least
    deadline = time.monotonic() + 20
    while _carrying(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _carrying(marker) == []
