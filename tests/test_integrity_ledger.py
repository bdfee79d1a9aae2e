"""Issue 15: nothing wrong published without a word. Hostile or unlucky
submissions that used to be taken silently — a county taking over another
city's park or a project code, totals-word rows dropped, a correction deleted
unread, a clerk's check failing the night, a rejected file resent after its
reason was gone — each through the real ``parkstat refresh`` (and ``parkstat
check``), asserting the receipt, in Chinese and English, and the published marts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from decimal import Decimal

import pytest
from typer.testing import CliRunner

import ingest.landing as landing
import ingest.pipeline as pipeline
from orchestration.cli import app
from ingest.pipeline import ingest_landing
from tests.conftest import csv_bytes, drop, ledger_rows, make_home, query, refresh

NOW = "2023-06-15T09:00:00"
REG_H = ["园区代码", "园区名称", "所属地区代码", "园区级别"]
PARK_H = ["统计期", "园区代码", "园区生产总值"]
REGION_H = ["统计期", "地区代码", "地区生产总值"]
PROJ_H = ["统计期", "项目代码", "项目名称", "所属地区代码", "总投资", "年度计划投资", "本年累计完成投资"]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PARKSTAT_NOW", NOW)
    return make_home(tmp_path / "wh")


def receipts_of(home, submitter: str) -> list[dict]:
    out = []
    for p in sorted((home.receipts / submitter).glob("*.json")):
        r = json.loads(p.read_text(encoding="utf-8"))
        r["text"] = p.with_suffix(".txt").read_text(encoding="utf-8")
        out.append(r)
    return out


def receipt_for(home, submitter: str, name: str) -> dict:
    [r] = [r for r in receipts_of(home, submitter) if r["file_name"] == name]
    return r


def check(home, path, as_: str):
    return CliRunner().invoke(app, ["check", str(path), "--as", as_, "--home", str(home.root)])


# -- 1. a park's registration, a project's region --------------------------------------------

def test_a_county_cannot_take_over_another_citys_park_nor_a_project_code(home, tmp_path):
    drop(home, "430000", "名录.csv", csv_bytes([REG_H, ["430100-CS", "长沙经开区", "430121", "国家级"],
                                                ["431300-LSJ", "冷水江经开区", "431381", "省级"]]))
    drop(home, "430100", "园区.csv", csv_bytes([PARK_H, ["2022-12", "430100-CS", "800"]]))
    drop(home, "430100", "全市.csv", csv_bytes([REGION_H, ["2022-12", "430100", "10000"]]))
    drop(home, "431300", "全市.csv", csv_bytes([REGION_H, ["2022-12", "431300", "1000"]]))
    drop(home, "431300", "园区.csv", csv_bytes([PARK_H, ["2022-12", "431300-LSJ", "300"]]))
    drop(home, "431381", "项目.csv", csv_bytes([PROJ_H, ["2023-05", "XM-001", "冷钢技改", "431381", "500", "100", "40"]]))
    assert refresh(home)

    takeover = csv_bytes([REG_H, ["430100-CS", "长沙经开区", "431381", "国家级"]])
    f = tmp_path / "takeover.csv"
    f.write_bytes(takeover)
    res = check(home, f, "431381")
    assert res.exit_code == 1
    assert ("park 430100-CS is registered in 430121 (长沙县); 431381 may not move it to 431381 "
            "(only a submitter whose area covers both may)") in res.output
    drop(home, "431381", "名录.csv", takeover)
    drop(home, "431382", "项目.csv", csv_bytes([PROJ_H, ["2023-05", "XM-001", "涟源项目", "431382", "90", "50", "10"]]))
    assert refresh(home)

    r = receipt_for(home, "431381", "名录.csv")
    assert r["status"] == "rejected"
    [m] = r["messages"]
    assert (m["code"], m["row"], m["column"], m["value"]) == ("registered_elsewhere", 2, "所属地区代码", "431381")
    assert "园区 430100-CS 现登记在 430121（长沙县），431381 无权将其改登记到 431381（须由同时管辖两地的单位报送）" in r["text"]
    assert "park 430100-CS is registered in 430121 (长沙县); 431381 may not move it to 431381" in r["text"]
    p = receipt_for(home, "431382", "项目.csv")
    assert p["status"] == "rejected"
    assert [(m["code"], m["row"], m["value"]) for m in p["messages"]] == [("project_elsewhere", 2, "XM-001")]
    assert "项目代码 XM-001 已属于 431381（冷水江市），不能作为 431382 的项目报送" in p["text"]
    assert "project code XM-001 belongs to 431381 (冷水江市); it cannot be reported as a project of 431382" in p["text"]

    # the published warehouse: 娄底's park share is its own (30 %), 长沙's park is still 长沙's
    shares = dict(query(home, """select city_code, round(park_share_pct, 6) from marts.park_share_comparison
                                 where period = '2022-12' and indicator = 'gdp'"""))
    assert shares == {"430100": Decimal(8), "431300": Decimal(30)}
    assert query(home, "select region_code from core.dim_park where park_code = '430100-CS'") == [("430121",)]
    assert query(home, """select region_code, project_code from core.dim_project where project_code = 'XM-001'""") \
        == [("431381", "XM-001")]

    # 长沙 still reports its own park; the city moves it within itself, and 娄底 a project between its counties
    drop(home, "430100", "园区5月.csv", csv_bytes([PARK_H, ["2023-05", "430100-CS", "90"]]))
    drop(home, "430100", "名录.csv", csv_bytes([REG_H, ["430100-CS", "长沙经开区", "430181", "国家级"]]))
    drop(home, "431300", "项目.csv", csv_bytes([PROJ_H, ["2023-05", "XM-001", "冷钢技改", "431382", "500", "100", "40"]]))
    assert refresh(home)
    for sub, name in (("430100", "园区5月.csv"), ("430100", "名录.csv"), ("431300", "项目.csv")):
        assert receipt_for(home, sub, name)["status"].startswith("accepted"), receipt_for(home, sub, name)["text"]
    assert query(home, "select region_code from core.dim_park where park_code = '430100-CS'") == [("430181",)]


# -- 3. rows skipped only as totals, and every skipped row named ------------------------------

def test_a_row_is_skipped_only_when_it_is_a_totals_row_and_each_is_named(home):
    drop(home, "430000", "名录.csv", csv_bytes([REG_H, ["431300-LSJ", "冷水江经开区", "431381", "省级"]]))
    # a 2-row file whose second row lacks its 年度计划投资 and whose name holds 合计: an error, not a total
    drop(home, "431381", "配合.csv", csv_bytes([
        PROJ_H, ["2023-05", "XM-1", "总计算中心", "431381", "500", "100", "40"],
        ["2023-05", "XM-2", "配合计划", "431381", "90", "", "10"]]))
    # a real totals row (序号 column) and a line of text: skipped and named; a numbered empty line is a blank row
    # (a footer such as 填报人：… is named as one, footer_skipped: tests/test_integrity_reading.py)
    drop(home, "431300", "项目.csv", csv_bytes([
        ["序号", *PROJ_H], ["1", "2023-05", "XM-3", "娄底项目", "431302", "300", "60", "20"],
        ["2", "2023-05", "XM-4", "总计算中心二期", "431302", "200", "40", "10"],
        ["3", "", "", "", "", "", "", ""],
        ["合 计：", "", "", "", "", "500", "100", "30"],
        ["数据截至5月底", "", "", "", "", "", "", ""]]))
    assert refresh(home)

    bad = receipt_for(home, "431381", "配合.csv")
    assert bad["status"] == "rejected" and bad["row_count"] == 0
    assert [(m["code"], m["row"], m["column"]) for m in bad["messages"]] == [("missing_value", 3, "年度计划投资")]
    assert "第3行［年度计划投资］：必填项为空 / error row 3 [年度计划投资]: required value is empty" in bad["text"]

    good = receipt_for(home, "431300", "项目.csv")
    assert good["status"] == "accepted" and good["row_count"] == 2
    assert [(m["severity"], m["code"], m["row"]) for m in good["messages"]] == [
        ("note", "total_row", 5), ("note", "note_row", 6)]
    assert "说明 第5行 “合 计：”：合计行，不作为数据入库 / note row 5: a totals row; not stored as data" in good["text"]
    assert ("说明 第6行 “数据截至5月底”：该行未填任何必填项（统计期、项目代码、项目名称、所属地区代码、总投资、年度计划投资、"
            "本年累计完成投资），视为说明文字，不作为数据入库") in good["text"]
    assert "none of the required values (period, project_code" in good["text"]
    assert query(home, """select project_code from core.fct_project_investment where period = '2023-05'
                          order by 1""") == [("XM-3",), ("XM-4",)]
    assert query(home, """select row_number, severity, code, reason_zh, reason_en from marts.submission_messages
                          where file_name = '项目.csv' and submitter_code = '431300' order by seq""") == [
        (5, "note", "total_row", "合计行，不作为数据入库", "a totals row; not stored as data"),
        (6, "note", "note_row", good["messages"][1]["zh"], good["messages"][1]["en"])]


def test_figures_with_no_key_are_a_warning_naming_the_row(home):
    drop(home, "431300", "全市.csv", csv_bytes([REGION_H, ["2022-12", "431300", "1000"], ["", "", "55"]]))
    r = ingest_landing(home).receipts[0]
    assert r.status == "accepted_with_warnings" and r.row_count == 1
    assert [m.line() for m in r.messages] == [
        "警告 第3行：该行有数字但未填任何必填项（统计期、地区代码），未入库 / warning row 3: this row has figures but "
        "none of the required values (period, region_code); not stored"]


# -- 4. a file replaced while the refresh runs ----------------------------------------------

def test_a_file_replaced_during_a_refresh_is_kept_and_answered_next_time(home, monkeypatch):
    first = csv_bytes([REGION_H, ["2022-12", "431300", "1000"]])
    correction = csv_bytes([REGION_H, ["2022-12", "431300", "1200"]])
    path = drop(home, "431300", "全市.csv", first)
    archive = pipeline.archive_arrival

    def replaced_meanwhile(h, arr, *batch):  # the clerk's correction lands after the scan read the first version
        out = archive(h, arr, *batch)
        if arr.name == "全市.csv" and path.read_bytes() == first:
            path.write_bytes(correction)
        return out

    monkeypatch.setattr(pipeline, "archive_arrival", replaced_meanwhile)
    assert refresh(home)
    assert path.read_bytes() == correction  # not deleted unread
    [one] = receipts_of(home, "431300")
    assert one["status"] == "accepted"
    assert query(home, "select value_wan from core.fct_indicator_values where entity_code = '431300'") \
        == [(Decimal(1000),)]
    monkeypatch.undo()
    monkeypatch.setenv("PARKSTAT_NOW", NOW)
    assert refresh(home)
    assert not path.exists()
    both = receipts_of(home, "431300")
    sha = pipeline.hashlib.sha256(correction).hexdigest()
    assert len(both) == 2 and {r["file_sha256"] for r in both} == {one["file_sha256"], sha}
    [second] = [r for r in both if r["file_sha256"] == sha]
    assert second["status"] == "accepted"
    assert "取代此前文件 1（全市.csv）2022-12 的指标：地区生产总值" in second["text"]
    assert "replaces file 1 (全市.csv) for 2022-12 in: gdp" in second["text"]
    assert query(home, "select value_wan from core.fct_indicator_values where entity_code = '431300'") \
        == [(Decimal(1200),)]
    assert (home.archive / one["file_sha256"][:2] / one["file_sha256"]).read_bytes() == first


def test_a_file_still_changing_while_read_is_left_whole(home, monkeypatch):
    path = drop(home, "431300", "全市.csv", csv_bytes([REGION_H, ["2022-12", "431300", "1000"]]))
    real = landing._identity
    calls = []

    def growing(p):  # a writer appending between the two looks
        calls.append(p)
        if len(calls) == 2:
            with open(path, "ab") as fh:
                fh.write(b"2021-12,431300,900\n")
        return real(p)

    monkeypatch.setattr(landing, "_identity", growing)
    s = ingest_landing(home)
    assert s.receipts == [] and s.waiting == ["431300/全市.csv"] and path.exists()
    monkeypatch.setattr(landing, "_identity", real)
    r = ingest_landing(home).receipts[0]
    assert r.status == "accepted" and r.row_count == 2 and not path.exists()


# -- 7. a clerk's check never holds the ledger a refresh needs --------------------------------

HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from ingest.settings import WarehouseHome
    {body}
    print("open", flush=True)
    time.sleep(120)
""")


def _hold(home, body: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD.format(body=body)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.stdout.readline().strip() == "open"
    return proc


def test_a_check_held_open_during_a_refresh_does_not_fail_it(home, tmp_path, monkeypatch):
    monkeypatch.setenv("PARKSTAT_LEDGER_WAIT_SECONDS", "2")
    drop(home, "431300", "全市.csv", csv_bytes([REGION_H, ["2022-12", "431300", "1000"]]))
    assert refresh(home)
    # a clerk's check, reading what it reads, held open while the night's refresh runs
    checker = _hold(home, f"from ingest.pipeline import open_for_check\n"
                          f"l = open_for_check(WarehouseHome(Path({str(home.root)!r})))\n"
                          f"assert l.earlier('x', '431300') == (None, None)")
    try:
        drop(home, "431300", "全市2.csv", csv_bytes([REGION_H, ["2022-12", "431300", "1100"]]))
        assert refresh(home)
        f = tmp_path / "c.csv"
        f.write_bytes(csv_bytes([REGION_H, ["2022-12", "431300", "1100"]]))
        res = check(home, f, "431300")  # answered from the copy the refresh just left
        assert res.exit_code == 1 and "the same bytes were processed before" in res.output
    finally:
        checker.kill()
        checker.wait()
    assert query(home, "select value_wan from core.fct_indicator_values where entity_code = '431300'") \
        == [(Decimal(1100),)]


def test_a_refresh_that_fails_on_the_ledgers_lock_names_the_process(home, monkeypatch):
    monkeypatch.setenv("PARKSTAT_LEDGER_WAIT_SECONDS", "1")
    drop(home, "431300", "全市.csv", csv_bytes([REGION_H, ["2022-12", "431300", "1000"]]))
    assert refresh(home)
    holder = _hold(home, f"import duckdb\ncon = duckdb.connect({str(home.ledger)!r}, read_only=True)")
    try:
        drop(home, "431300", "全市2.csv", csv_bytes([REGION_H, ["2022-12", "431300", "1100"]]))
        assert not refresh(home)
    finally:
        holder.kill()
        holder.wait()
    [alert] = [json.loads(p.read_text(encoding="utf-8")) for p in home.alerts.glob("*.json")]
    assert f"被另一进程（PID {holder.pid}" in alert["error"]
    assert f"the ledger {home.ledger} is locked by another process, PID {holder.pid}" in alert["error"]
    assert (home.landing / "431300" / "全市2.csv").exists()  # nothing taken: the next run does it
    assert refresh(home)
    assert query(home, "select value_wan from core.fct_indicator_values where entity_code = '431300'") \
        == [(Decimal(1100),)]


# -- 8. a rejected file resent once its reason is gone --------------------------------------

def test_a_rejected_file_resent_is_processed_again_an_accepted_one_is_a_duplicate(home, tmp_path):
    figures = csv_bytes([PARK_H, ["2022-12", "431300-NEW", "300"]])
    drop(home, "431300", "园区.csv", figures)
    assert refresh(home)
    [first] = receipts_of(home, "431300")
    assert first["status"] == "rejected" and first["messages"][0]["code"] == "unknown_park"

    # the park is registered; the clerk sends the very same bytes again
    drop(home, "431300", "名录.csv", csv_bytes([REG_H, ["431300-NEW", "娄底新园区", "431302", "省级"]]))
    assert refresh(home)
    f = tmp_path / "again.csv"
    f.write_bytes(figures)
    res = check(home, f, "431300")
    assert res.exit_code == 0, res.output
    assert "相同内容的文件此前已收到并被退回（文件编号 1），本次重新处理" in res.output
    time.sleep(0.01)
    drop(home, "431300", "园区.csv", figures)
    assert refresh(home)
    [again] = [r for r in receipts_of(home, "431300") if r["file_name"] == "园区.csv" and r["status"] != "rejected"]
    assert again["status"] == "accepted"
    assert ("说明 文件：相同内容的文件此前已收到并被退回（文件编号 1），本次重新处理 / note file: the same bytes were "
            "received before and rejected (file 1); processed again") in again["text"]
    assert query(home, """select park_value from marts.park_share_comparison
                          where city_code = '431300' and indicator = 'gdp'""") == [(Decimal(300),)]
    assert query(home, """select status from marts.submission_receipts where file_name = '园区.csv'
                          order by file_id""") == [("rejected",), ("accepted",)]

    # accepted now: the same bytes once more are a duplicate
    drop(home, "431300", "园区.csv", figures)
    assert refresh(home)
    assert query(home, """select status, duplicate_of from marts.submission_receipts where file_name = '园区.csv'
                          order by file_id""")[-1] == ("duplicate", 3)


def test_a_rejected_files_copy_left_by_a_killed_run_is_not_a_resend(home):
    """Killed after recording a rejection, before the landing copy was removed:
    the copy (older than its archived bytes) is that file, answered as a duplicate."""
    data = csv_bytes([PARK_H, ["2022-12", "431300-NEW", "300"]])
    path = drop(home, "431300", "园区.csv", data)
    old = time.time() - 60
    os.utime(path, (old, old))
    r = ingest_landing(home).receipts[0]
    assert r.status == "rejected"
    path = drop(home, "431300", "园区.csv", data)
    os.utime(path, (old, old))  # as the killed run left it
    r2 = ingest_landing(home).receipts[0]
    assert r2.status == "duplicate" and ledger_rows(home, "select count(*) from files where status = 'rejected'") == [(1,)]


# -- files arriving at the same time ----------------------------------------------------------

def test_files_arriving_at_the_same_time_are_taken_in_name_order_with_a_warning(home):
    a = drop(home, "431300", "a.csv", csv_bytes([REGION_H, ["2022-12", "431300", "1000"]]))
    b = drop(home, "431300", "b.csv", csv_bytes([REGION_H, ["2022-12", "431300", "1500"]]))
    c = drop(home, "431300", "c.csv", csv_bytes([REGION_H, ["2021-12", "431300", "900"]]))
    d = drop(home, "431300", "d.csv", csv_bytes([["统计期", "地区代码", "税收"], ["2022-12", "431300", "80"]]))
    t = time.time_ns() - 5_000_000_000
    for p in (b, a, c, d):
        os.utime(p, ns=(t, t))
    assert refresh(home)
    rs = {r["file_name"]: r for r in receipts_of(home, "431300")}
    # c: another period, d: another indicator (neither replaces a figure of the other): no word
    assert [rs[n]["status"] for n in ("a.csv", "c.csv", "d.csv")] == ["accepted"] * 3
    assert rs["b.csv"]["status"] == "accepted_with_warnings"
    assert sorted(m["code"] for m in rs["b.csv"]["messages"]) == ["same_arrival_time", "supersedes"]  # a's figure
    assert ("警告 文件：与文件“a.csv”到达时间相同且同报 2022-12：同时到达的文件按文件名顺序处理，本文件在后，以本文件为准 / "
            "warning file: arrived at the same time as 'a.csv' which also reports 2022-12: files arriving at the same "
            "time are taken in name order; this one comes later and stands") in rs["b.csv"]["text"]
    # the published warehouse: b (later by name) stands for 2022-12's GDP, whatever order the scan listed them
    assert query(home, """select period, indicator, value_wan from core.fct_indicator_values
                          where entity_code = '431300' order by 1, 2""") == [
        ("2021-12", "gdp", Decimal(900)), ("2022-12", "gdp", Decimal(1500)), ("2022-12", "tax", Decimal(80))]
    assert query(home, """select file_name, status from marts.submission_receipts where file_name in ('a.csv', 'b.csv')
                          order by file_id""") == [("a.csv", "superseded"), ("b.csv", "accepted_with_warnings")]


def test_a_retired_code_owns_its_projects_under_its_successor():
    import datetime as dt

    import polars as pl

    from ingest.ownership import ownership_problems

    table = pl.DataFrame({"project_code": ["QY-1", "QY-2"], "region_code": ["431181", "431181"],
                          "period": ["2022-04", "2022-04"], "row_number": [2, 3]})
    owners = {"QY-1": "431121", "QY-2": "431102"}  # 祁阳县 (431181 祁阳市 from 2021); 零陵区
    got = ownership_problems("431181", "project_progress", table, {"project_code": "项目代码"}, {}, owners,
                             dt.date(2022, 5, 1))
    assert [(m.code, m.row, m.value) for m in got] == [("project_elsewhere", 3, "QY-2")]
    # the city of both (永州 431100) may move it
    assert ownership_problems("431100", "project_progress", table, {}, {}, owners, dt.date(2022, 5, 1)) == []


def test_a_build_that_fails_on_a_figure_names_the_file_and_the_figure(home):
    """Ingest rejects a figure beyond its bound; a ledger written before a bound existed
    can still hold one. The build's test figures_within_bounds stops it, and the run
    — its alert and its output — names the file, the row and the figure."""
    import duckdb

    drop(home, "431300", "地区.csv", csv_bytes([REGION_H, ["2022-12", "431300", "1000"]]))
    assert refresh(home)
    # what an older parkstat recorded: the staged figure beyond GDP's bound
    (part,) = [p for p in (home.staged / "indicator_values").glob("part-*.parquet")
               if duckdb.sql(f"select count(*) from read_parquet('{p}')").fetchall()[0][0]]
    tmp = part.with_suffix(".tmp")
    duckdb.sql(f"""copy (select * replace (cast(5000000000000 as decimal(38, 10)) as value_wan)
                         from read_parquet('{part}')) to '{tmp}' (format parquet)""")
    os.replace(tmp, part)
    drop(home, "431300", "地区2.csv", csv_bytes([REGION_H, ["2022-11", "431302", "300"]]))  # same year: rebuilt
    published = (home.current / "publish.json").read_text()
    assert not refresh(home)
    (alert,) = [json.loads(p.read_text()) for p in home.alerts.glob("*_cli.json")]
    assert ("431300/地区.csv (file 1) row 2: gdp = 5,000,000,000,000.00 万元, above its bound 1,000,000,000 万元"
            in alert["error"]), alert["error"]
    assert "figures beyond their plausibility bound" in alert["error"]
    assert (home.current / "publish.json").read_text() == published  # the previous publish still served
