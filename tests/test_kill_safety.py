"""SIGKILL at every stage of the nightly refresh — in ingest before the night's
archive copies are flushed, inside a batch of files, after a batch is
recorded, before the Parquet hand-off, in the middle of dbt's build, while the
publish is assembled, just before and just after the swap. After each kill the
published file opens and is the previous publish (or, after the swap, the new
one whole); the next refresh recovers with no manual step, publishes
everything received, and no file is lost or processed twice.

The refresh runs as ``python -m orchestration.cli refresh`` in its own process group;
the named kill points are ``ingest.failpoints`` (PARKSTAT_FAILPOINT)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys

import duckdb
import pytest

from tests.conftest import csv_bytes, drop, env_vars, ledger_rows, make_home, query, refresh

pytestmark = pytest.mark.slow

NOW = "2022-05-20T09:00:00"
REGISTRY = [["园区代码", "园区名称", "所属地区代码"], ["431300-ETDZ", "娄底经济技术开发区", "431302"]]


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def park_file(year: int, value: int) -> bytes:
    return csv_bytes([["统计期", "园区代码", "园区生产总值"], [str(year), "431300-ETDZ", str(value)]])


def run_refresh(home, failpoint: str | None = None, kill_when: str | None = None) -> int:
    env = {**os.environ, "WAREHOUSE_HOME": str(home.root), "PARKSTAT_NOW": NOW}
    env.pop("PARKSTAT_FAILPOINT", None)
    if failpoint:
        env["PARKSTAT_FAILPOINT"] = failpoint
    proc = subprocess.Popen([sys.executable, "-m", "orchestration.cli", "refresh", "--verbose"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True, text=True, errors="replace")
    try:
        if kill_when:
            for line in proc.stdout:
                if kill_when in line:
                    os.killpg(proc.pid, signal.SIGKILL)
                    break
        proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


def opens_and_reads(home) -> str:
    con = duckdb.connect(str(home.published_db), read_only=True)
    try:
        con.execute("select count(*) from marts.park_share_comparison").fetchone()
        return con.execute("select run_id from meta.publish").fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    with env_vars(PARKSTAT_NOW=NOW):
        home = make_home(tmp_path_factory.mktemp("kill") / "wh")
        drop(home, "431300", "名录.csv", csv_bytes(REGISTRY))
        drop(home, "431300", "2015.csv", park_file(2015, 100))
        assert refresh(home)
        yield {"home": home, "sent": {"名录.csv", "2015.csv"}}


# (kill point, how: a failpoint name or a line of the run's log to kill at)
KILLS = [("ingest.before_archive_commit", None), ("ingest.after_record", None), ("ingest.before_export", None), (None, "Running dbt command"),
         ("publish.before_history", None), ("publish.before_replace", None)]


@pytest.mark.parametrize("i,point,when", [(i, p, w) for i, (p, w) in enumerate(KILLS)],
                         ids=[p or "during_dbt_build" for p, _ in KILLS])
def test_a_kill_leaves_the_previous_publish_served(wh, i, point, when):
    home = wh["home"]
    before, served_run = sha(home.published_db), opens_and_reads(home)
    name = f"{2016 + i}.csv"
    drop(home, "431300", name, park_file(2016 + i, 200 + i))
    wh["sent"].add(name)
    assert run_refresh(home, failpoint=point, kill_when=when) == -signal.SIGKILL
    if point == "ingest.before_archive_commit":  # the night's copy written, not yet flushed nor renamed in
        assert [p.name for p in home.archive.glob("*/*.tmp")] == [sha(home.landing / "431300" / name) + ".tmp"]
    assert sha(home.published_db) == before
    assert opens_and_reads(home) == served_run
    assert os.readlink(home.current).endswith(served_run[:8])


def test_a_kill_inside_a_batch_records_none_of_its_files(wh):
    # files are recorded a batch per ledger transaction (PARKSTAT_INGEST_BATCH_FILES): killed before
    # the batch commits, none of its files is in the ledger, and every one is still in the landing area
    home = wh["home"]
    before, served_run = sha(home.published_db), opens_and_reads(home)
    names = ["2012.csv", "2013.csv"]
    for n, name in enumerate(names):
        drop(home, "431300", name, park_file(2012 + n, 400 + n))
    wh["sent"].update(names)
    assert run_refresh(home, failpoint="ingest.before_commit") == -signal.SIGKILL
    assert set(names) <= {p.name for p in (home.landing / "431300").iterdir()}  # (an earlier kill's may be there too)
    recorded = ledger_rows(home, "select file_name from files")
    assert recorded and not set(names) & {n for n, in recorded}
    assert not [p for p in (home.receipts / "431300").glob("*.json")
                if json.loads(p.read_text(encoding="utf-8"))["file_name"] in names]
    assert sha(home.published_db) == before and opens_and_reads(home) == served_run


def test_a_kill_just_after_the_swap_leaves_the_new_publish_whole(wh):
    home = wh["home"]
    before = opens_and_reads(home)
    drop(home, "431300", "2010.csv", park_file(2010, 300))
    wh["sent"].add("2010.csv")
    assert run_refresh(home, failpoint="publish.after_replace") == -signal.SIGKILL
    now_served = opens_and_reads(home)
    assert now_served != before
    assert os.readlink(home.current).endswith(now_served[:8])
    publish = json.loads((home.current / "publish.json").read_text())
    assert publish["run_id"] == now_served


def test_the_next_refresh_recovers_and_publishes_everything_received_once(wh):
    home = wh["home"]
    assert refresh(home)
    # nothing left behind by the kills
    assert not list(home.published.glob(".candidate-*")) and not list(home.published_history.glob("*.partial"))
    assert not [p for p in home.landing.rglob("*") if p.is_file()]
    assert not list(home.archive.glob("*/*.tmp"))  # the archive copies a kill left half-made: cleared
    # every file sent is in the ledger exactly once as processed (a repeat is a duplicate), accepted
    files = ledger_rows(home, "select file_name, status from files where status <> 'duplicate' order by 1")
    assert sorted(n for n, _ in files) == sorted(wh["sent"])
    assert {s for _, s in files} == {"accepted"}
    # and every one of them has its receipt, even the one killed between record and receipt
    for name, in ledger_rows(home, "select file_name from files where status <> 'duplicate'"):
        receipts = [json.loads(p.read_text(encoding="utf-8")) for p in (home.receipts / "431300").glob("*.json")]
        assert any(r["file_name"] == name and r["status"] == "accepted" for r in receipts), name
    years = [y for (y,) in query(home, """select period from core.fct_indicator_values
                                          where entity_code = '431300-ETDZ' order by 1""")]
    sent_years = sorted({int(n.removesuffix(".csv")) for n in wh["sent"] if n != "名录.csv"})
    assert years == [f"{y}-12" for y in sent_years]  # the kills before this one (any order) and the first
