"""Publishing and operations through the real nightly job: readers that query
the published file throughout a refresh (no error, every answer from one
publish), idempotence, the last N publishes and rollback, the outputs of each
publish (Parquet, XLSX, the HTML report rendered in headless Chromium), and
``parkstat status``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time

import duckdb
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from orchestration.cli import _home, app, run_refresh
from tests.conftest import csv_bytes, drop, env_vars, make_home, query, refresh

HOSTILE_NAME = '=HYPERLINK("http://example.invalid","点我")<script>alert(1)</script>'
REGISTRY = [["园区代码", "园区名称", "所属地区代码"], ["431300-ETDZ", HOSTILE_NAME, "431302"],
            ["431300-LSJ", "冷水江经济开发区", "431381"]]
REGION_H = ["统计期", "地区代码", "地区生产总值", "税收"]
PARK_H = ["统计期", "园区代码", "园区生产总值", "税收"]
PROJ_H = ["统计期", "项目代码", "项目名称", "所属地区代码", "总投资", "年度计划投资", "本年累计完成投资"]

READER = textwrap.dedent("""
    import sys, time, duckdb
    path, stop, out = sys.argv[1], sys.argv[2], sys.argv[3]
    import os
    answers, errors = [], []
    while not os.path.exists(stop):
        try:
            con = duckdb.connect(path, read_only=True)
            try:
                run = con.execute("select run_id from meta.publish").fetchone()[0]
                total = con.execute("select sum(park_value) from marts.park_share_comparison").fetchone()[0]
                n = con.execute("select count(*) from marts.growth_comparison").fetchone()[0]
            finally:
                con.close()
            answers.append(f"{run}\\t{total}\\t{n}")
        except Exception as exc:
            errors.append(repr(exc))
        time.sleep(0.01)
    with open(out, "w") as fh:
        fh.write("\\n".join(answers) + "\\n--errors--\\n" + "\\n".join(errors))
""")


def marts_snapshot(home) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(home.published_db), read_only=True)
    try:
        names = [n for (n,) in con.execute("select table_name from duckdb_tables() where schema_name = 'marts' "
                                           "order by 1").fetchall()]
        return {n: con.execute(f"select * from marts.{n} order by all").fetchall() for n in names}
    finally:
        con.close()


@pytest.fixture(scope="module")
def ops(tmp_path_factory):
    with env_vars(PARKSTAT_NOW="2022-05-20T09:00:00", PARKSTAT_KEEP_PUBLISHES="3"):
        home = make_home(tmp_path_factory.mktemp("ops") / "wh")
        drop(home, "431300", "名录.csv", csv_bytes(REGISTRY))
        drop(home, "431300", "地区.csv", csv_bytes([REGION_H, ["2020", "431300", "10000", "900"],
                                                  ["2021", "431300", "11000", "1000"]]))
        drop(home, "431300", "园区.csv", csv_bytes([PARK_H, ["2020", "431300-ETDZ", "3000", "300"],
                                                  ["2021", "431300-ETDZ", "3300", "360"],
                                                  ["2021", "431300-LSJ", "1000", "100"]]))
        drop(home, "431381", "=cmd|' /C calc'!A0.csv", csv_bytes([PROJ_H, ["2022-04", "P1", "冷钢技改", "431381",
                                                                          "9000", "4000", "1500"]]))
        assert refresh(home)
        # three publishes, each one's marts kept: the first data, the same again (a full refresh
        # always publishes), and a correction. Every test reads these or adds to them: none needs
        # another to have run first
        snaps = {served_id(home): marts_snapshot(home)}
        assert run_refresh(_home(home.root), full_refresh=True)
        snaps[served_id(home)] = marts_snapshot(home)
        drop(home, "431300", "园区（更正）.csv", csv_bytes([PARK_H, ["2021", "431300-ETDZ", "3300", "360"],
                                                         ["2021", "431300-LSJ", "1200", "130"]]))
        assert refresh(home)
        snaps[served_id(home)] = marts_snapshot(home)
        assert len(snaps) == 3
        yield {"home": home, "snaps": snaps}


def served_id(home) -> str:
    return os.readlink(home.current).rsplit("/", 1)[-1]


def test_a_refresh_without_new_input_publishes_nothing_and_a_full_one_identical_marts(ops, capsys):
    home = ops["home"]
    first_id = json.loads((home.current / "publish.json").read_text())["run_id"]
    before = marts_snapshot(home)
    capsys.readouterr()
    assert refresh(home)
    assert "nothing new  since publish" in capsys.readouterr().out
    assert json.loads((home.current / "publish.json").read_text())["run_id"] == first_id  # still served
    assert run_refresh(_home(home.root), full_refresh=True)  # asked for: built and published again
    assert marts_snapshot(home) == before
    assert json.loads((home.current / "publish.json").read_text())["run_id"] != first_id  # a new publish
    ops["snaps"][served_id(home)] = before


def test_readers_during_a_refresh_see_no_error_and_one_publish_per_answer(ops, tmp_path):
    home = ops["home"]
    before = query(home, "select run_id from meta.publish")[0][0]
    stop = tmp_path / "stop"
    script = tmp_path / "reader.py"
    script.write_text(READER)
    outs = [tmp_path / f"reader{i}.txt" for i in range(3)]
    readers = [subprocess.Popen([sys.executable, str(script), str(home.published_db), str(stop), str(o)])
               for o in outs]
    try:
        time.sleep(1.0)
        assert run_refresh(_home(home.root), full_refresh=True)  # a full refresh always publishes
        time.sleep(1.0)
    finally:
        stop.write_text("stop")
        for r in readers:
            r.wait(timeout=60)
    after = query(home, "select run_id from meta.publish")[0][0]
    assert after != before
    seen: dict[str, set] = {}
    total_answers = 0
    for o in outs:
        answers, _, errors = o.read_text().partition("\n--errors--\n")
        assert errors.strip() == "", errors  # no lock error, no half-built file, ever
        for line in answers.strip().splitlines():
            run, total, n = line.split("\t")
            seen.setdefault(run, set()).add((total, n))
            total_answers += 1
    assert total_answers > 50
    assert {before, after} <= set(seen)  # the readers saw both sides of the swap
    assert all(len(v) == 1 for v in seen.values()), seen  # each publish answers one way only
    ops["snaps"][served_id(home)] = marts_snapshot(home)


def test_history_keeps_the_last_publishes_and_rollback_serves_an_earlier_one(ops):
    home = ops["home"]
    runner = CliRunner()
    kept = sorted(p.name for p in home.published_history.iterdir())
    assert len(kept) == 3 and os.readlink(home.current) == f"history/{kept[-1]}"
    res = runner.invoke(app, ["rollback", "--home", str(home.root)])
    assert res.exit_code == 0, res.output
    assert f"now serving publish {kept[-2]}" in res.output
    assert marts_snapshot(home) == ops["snaps"][kept[-2]]  # the publish before the last one's marts
    assert os.readlink(home.current) == f"history/{kept[-2]}"
    bad = runner.invoke(app, ["rollback", "--to", "nope", "--home", str(home.root)])
    assert bad.exit_code == 1 and "no publish 'nope' is kept" in bad.output
    res = runner.invoke(app, ["rollback", "--to", kept[-1], "--home", str(home.root)])
    assert res.exit_code == 0 and marts_snapshot(home) == ops["snaps"][kept[-1]]
    first = runner.invoke(app, ["rollback", "--to", kept[0], "--home", str(home.root)])
    assert first.exit_code == 0
    earliest = runner.invoke(app, ["rollback", "--home", str(home.root)])
    assert earliest.exit_code == 1 and "there is no earlier publish to roll back to" in earliest.output
    runner.invoke(app, ["rollback", "--to", kept[-1], "--home", str(home.root)])


def test_each_publish_has_every_mart_as_parquet(ops):
    home = ops["home"]
    # analysts' and leaders' files are read-only, the served one included
    assert all(os.stat(p).st_mode & 0o222 == 0 for p in [home.published_db, *home.current.rglob("*")]
               if p.is_file())
    con = duckdb.connect()
    marts = [t for (t,) in query(home, "select table_name from duckdb_tables() where schema_name = 'marts'")]
    assert len(marts) >= 13
    for mart in marts:
        n = con.execute("select count(*) from read_parquet(?)", [str(home.current / "marts" / f"{mart}.parquet")])
        assert n.fetchone()[0] == query(home, f"select count(*) from marts.{mart}")[0][0]


def test_the_workbook_has_a_sheet_per_mart_chinese_headers_numbers_and_no_formulas(ops):
    home = ops["home"]
    wb = load_workbook(home.current / "parkstat.xlsx")
    # the sheets the dbt project names (meta.sheet, in meta.sheet_order), then the notes
    assert wb.sheetnames == ["园区占比对比", "重点项目投资进度", "同比增速对比", "园区十强十快", "县市区及县域占比",
                             "重点项目分组投资", "项目开工竣工", "经济结构", "园区评价", "园区评价分市统计", "报送情况",
                             "报送回执", "回执明细", "说明"]
    assert query(home, "select count(*) from meta.marts where required") == [(12,)]
    ws = wb["园区占比对比"]
    header = [c.value for c in ws[1]]
    # an aggregate's completeness comes first, then the mart's columns
    assert header[:7] == ["完整性", "统计期", "市（州）代码", "市（州）名称", "指标代码", "指标名称", "全市园区合计"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    gdp_2021 = [r for r in rows if r[1] == "2021-12" and r[4] == "gdp"][0]
    # (the corrected file superseded the first one's 2021 as a whole)
    assert gdp_2021[6] == 4500 and isinstance(gdp_2021[7], (int, float))  # numbers, not text
    assert abs(gdp_2021[8] - 100 * 4500 / 11000) < 1e-9
    assert all(r[0] == "完整" or r[0].startswith("不完整（已报 ") for r in rows)
    # text that looks like a formula is text: the hostile park name and file name
    hostile = [c for row in wb["园区十强十快"].iter_rows(min_row=2) for c in row if c.value == HOSTILE_NAME]
    assert hostile and all(c.data_type == "s" for c in hostile)
    receipts = [c for row in wb["报送回执"].iter_rows(min_row=2) for c in row
                if isinstance(c.value, str) and c.value.startswith("=cmd")]
    assert receipts and all(c.data_type == "s" for c in receipts)
    formulas = [c for s in wb.worksheets for row in s.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []


def test_the_html_report_renders_its_charts_in_headless_chromium(ops, tmp_path):
    from PIL import Image

    home = ops["home"]
    report = home.current / "report.html"
    html = report.read_text(encoding="utf-8")
    assert "<script" not in html  # no script at all, and nothing fetched from anywhere
    assert not re.search(r"(src|href|url)\s*[=(]\s*[\"']?\s*(https?:)?//", html)
    assert "&lt;script&gt;" in html  # the hostile name is shown, escaped
    shot = tmp_path / "report.png"
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "Chromium is needed for this test: `apt-get install chromium` (.ci/run does it)"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,2000",
                    f"--screenshot={shot}", report.as_uri()], check=True, capture_output=True, timeout=120)
    img = Image.open(shot).convert("RGB")
    colors = img.getcolors(maxcolors=1 << 20)
    counts = {rgb: n for n, rgb in colors}
    assert counts.get((0xC0, 0x39, 0x2B), 0) > 2000  # the parks' share bars
    assert counts.get((0x1F, 0x61, 0x8D), 0) > 500  # the investment bars


def test_status_shows_runs_checks_publishes_and_who_is_late(ops):
    home = ops["home"]
    res = CliRunner().invoke(app, ["status", "--json", "--home", str(home.root)])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert info["runs"][0]["status"] == "SUCCESS" and info["runs"][0]["checks_passed"] > 50
    assert info["runs"][0]["checks_failed"] == []
    assert [p["served"] for p in info["publishes"]] == [False, False, True]
    late = {r["submitter_code"]: r for r in info["late"]}  # one line per submitter, not one a month
    assert late["431300"]["submitter_name"] == "娄底市" and "project_progress" in late["431300"]["kinds"]
    assert late["431300"]["late_since"] <= "2021-12" and late["431300"]["reports"] >= 3
    assert len(info["late"]) == len(late)
    text = CliRunner().invoke(app, ["status", "--home", str(home.root)])
    assert text.exit_code == 0 and "◀ served" in text.output and "last runs" in text.output


def test_the_workbook_keeps_each_type_and_marks_the_row_of_an_incomplete_total(tmp_path):
    import datetime as dt
    from decimal import Decimal

    from openpyxl import load_workbook

    from orchestration.outputs import write_workbook

    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("""create table marts.investment_progress as select * from (values
        ('2022-04', '=1+1', 12.5::decimal(38,10), true, 3, 1, 1, date '2022-04-30', timestamp '2022-05-03 08:00:00',
         '2022-03', 0.1::double),
        ('2022-04', '+cmd|x', null, false, 3, 2, 3, null, null, '2022-03', null),
        ('2022-04', '@SUM(A1)', 7::decimal(38,10), null, 1, null, null, null, null, null, -1.25::double))
        as v(period, name, amount, is_complete, projects_not_reported, submitters_reported, submitters_expected,
             day, received_at, prior_period, share)""")
    con.execute("create schema meta")
    con.execute("create table meta.marts as select 'investment_progress' as table_name, "
                "'重点项目投资进度' as sheet_name, 1 as sheet_order, true as required")
    con.execute("""create table meta.mart_columns as select * from (values
        ('investment_progress', 'period', '统计期'), ('investment_progress', 'prior_period', '上年同期'),
        ('investment_progress', 'share', '上年同期')) as v(table_name, column_name, header_zh)""")
    assert write_workbook(con, tmp_path / "w.xlsx") == {"重点项目投资进度": 3}
    ws = load_workbook(tmp_path / "w.xlsx")["重点项目投资进度"]
    # two columns under one header are told apart by their names; the mark comes first
    assert [c.value for c in ws[1]] == ["完整性", "统计期", "name", "amount", "is_complete", "projects_not_reported",
                                       "submitters_reported", "submitters_expected", "day", "received_at",
                                       "上年同期（prior_period）", "上年同期（share）"]
    assert all(c.font.b for c in ws[1]) and ws.freeze_panes == "B2"
    rows = {r[2].value: r for r in ws.iter_rows(min_row=2)}
    first, second, third = rows["=1+1"], rows["+cmd|x"], rows["@SUM(A1)"]
    # text that looks like a formula stays text; numbers, booleans and times keep their type
    assert [first[2].data_type, second[2].data_type, third[2].data_type] == ["s", "s", "s"]
    assert first[3].value == 12.5 and first[3].data_type == "n" and third[3].value == 7
    assert first[4].value is True and second[4].value is False and third[4].value is None
    assert first[8].value == dt.datetime(2022, 4, 30) and first[8].number_format == "yyyy-mm-dd"
    assert first[9].value == dt.datetime(2022, 5, 3, 8) and first[9].number_format == "yyyy-mm-dd hh:mm:ss"
    assert third[11].value == -1.25 and second[11].value is None and second[3].value is None
    # the incomplete total's whole row is shown as a warning; a complete one and a non-aggregate are not
    assert second[0].value == "不完整（已报 2/3；未报项目 3）"
    assert all(c.fill.fgColor.rgb == "FFFFC7CE" and c.font.b for c in second if c.value is not None)
    assert first[0].value == "完整" and first[0].fill.fgColor.rgb != "FFFFC7CE"
    assert third[0].value is None and third[2].fill.fgColor.rgb != "FFFFC7CE"
    formulas = [c for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == [] and Decimal(str(first[3].value)) == Decimal("12.5")


def test_a_cell_longer_than_excel_holds_is_cut_saying_so_and_an_infinite_figure_shows(tmp_path):
    """Excel refuses a cell over 32,767 characters (the writer would fail the whole publish):
    a submitted text that long is cut in the workbook, saying so; the published file keeps it."""
    from openpyxl import load_workbook

    from orchestration.outputs import CUT_MARK, EXCEL_MAX_CHARS, write_workbook

    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.submission_messages as select * from (values "
                "(1, repeat('名', 40000), 'inf'::double), (2, repeat('x', 32767), '-inf'::double), "
                "(3, 'short', 1.5::double)) as v(file_id, cell_text, figure)")
    con.execute("create schema meta")
    con.execute("create table meta.marts as select 'submission_messages' as table_name, '回执明细' as sheet_name, "
                "1 as sheet_order, true as required")
    con.execute("create table meta.mart_columns as select 'submission_messages' as table_name, "
                "'cell_text' as column_name, '单元格原文' as header_zh")
    assert write_workbook(con, tmp_path / "w.xlsx") == {"回执明细": 3}
    rows = {r[0]: r for r in load_workbook(tmp_path / "w.xlsx")["回执明细"].iter_rows(min_row=2, values_only=True)}
    cut = rows[1][1]
    assert len(cut) == EXCEL_MAX_CHARS and cut.endswith(CUT_MARK) and cut.startswith("名" * 100)
    assert "已截断" in CUT_MARK and "cut at Excel's cell limit" in CUT_MARK
    assert rows[2][1] == "x" * 32767 and rows[3][1] == "short"  # what fits is whole
    assert (rows[1][2], rows[2][2], rows[3][2]) == ("INF", "-INF", 1.5)


def test_a_mart_over_the_workbook_budget_keeps_its_latest_periods(tmp_path, monkeypatch):
    from openpyxl import load_workbook

    from orchestration.outputs import write_workbook

    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.park_share_comparison as select p as period, '431300' as city_code, i as x "
                "from (values ('2022-12'), ('2023-12'), ('2024-12')) v(p), range(10) r(i)")
    # the layout a publish records from the dbt project's meta
    con.execute("create schema meta")
    con.execute("create table meta.marts as select 'park_share_comparison' as table_name, '园区占比对比' as sheet_name, "
                "1 as sheet_order, true as required")
    con.execute("create table meta.mart_columns as select 'park_share_comparison' as table_name, "
                "'period' as column_name, '统计期' as header_zh")
    monkeypatch.setenv("PARKSTAT_WORKBOOK_MAX_ROWS", "25")
    written = write_workbook(con, tmp_path / "w.xlsx")
    assert written["园区占比对比"] == 20  # 2023-12 and 2024-12 fit; 2022-12 does not
    wb = load_workbook(tmp_path / "w.xlsx")
    assert [c.value for c in wb["园区占比对比"][1]][:3] == ["统计期", "city_code", "x"]  # no header: the name
    periods = {r[0] for r in wb["园区占比对比"].iter_rows(min_row=2, values_only=True)}
    assert periods == {"2023-12", "2024-12"}
    notes = [r[0] for r in wb["说明"].iter_rows(values_only=True)]
    assert any("2023-12" in n and "latest periods only" in n for n in notes), notes
    monkeypatch.setenv("PARKSTAT_WORKBOOK_MAX_ROWS", "5")  # even the latest period is over: its first rows
    assert write_workbook(con, tmp_path / "w5.xlsx")["园区占比对比"] == 5
