"""Resubmission and history through the real nightly job: a corrected file
changes the marts while ``parkstat as-of`` still answers with what was known
before; key projects end to end (type-2 project dimension, 当期/当月 amounts);
``parkstat check`` answers like ingest and stores nothing; ingest progress."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import duckdb
import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from ingest.pipeline import ingest_landing
from ingest.progress import IngestProgress
from tests.conftest import csv_bytes, drop, make_home, query, refresh

REGISTRY = [["园区代码", "园区名称", "所属地区代码"], ["431300-ETDZ", "娄底经济技术开发区", "431302"],
            ["431300-LSJ", "冷水江经济开发区", "431381"]]
PROJ_H = ["统计期", "项目代码", "项目名称", "所属地区代码", "所属园区代码", "建设性质", "项目阶段", "总投资",
          "年度计划投资", "本年累计完成投资"]


def at(moment: str) -> None:
    os.environ["PARKSTAT_NOW"] = moment


@pytest.fixture
def clock():
    saved = os.environ.get("PARKSTAT_NOW")
    yield at
    if saved is None:
        os.environ.pop("PARKSTAT_NOW", None)
    else:
        os.environ["PARKSTAT_NOW"] = saved


def share(home, indicator="gdp"):
    return query(home, """select park_value, city_value, park_share_pct from marts.park_share_comparison
                          where city_code = '431300' and period = '2022-04' and indicator = ?""", [indicator])


def test_a_corrected_file_changes_the_marts_and_as_of_still_answers_the_earlier_figures(tmp_path, clock):
    home = make_home(tmp_path / "wh")
    clock("2022-05-10T09:00:00")
    drop(home, "431300", "名录.csv", csv_bytes(REGISTRY))
    drop(home, "431300", "全市.csv", csv_bytes([["统计期", "地区代码", "地区生产总值"], ["2022年1-4月", "431300", "5000"]]))
    drop(home, "431300", "园区.csv", csv_bytes([["统计期", "园区代码", "园区生产总值"],
                                              ["2022年1-4月", "431300-ETDZ", "1000"], ["2022年1-4月", "431300-LSJ", "500"]]))
    assert refresh(home)
    assert share(home) == [(1500.0, 5000.0, pytest.approx(30.0))]

    clock("2022-05-20T16:30:00")  # 娄底 corrects its parks' figures
    drop(home, "431300", "园区（更正）.csv", csv_bytes([["统计期", "园区代码", "园区生产总值"],
                                                    ["2022年1-4月", "431300-ETDZ", "1250"],
                                                    ["2022年1-4月", "431300-LSJ", "500"]]))
    assert refresh(home)
    assert share(home) == [(1750.0, 5000.0, pytest.approx(35.0))]
    receipts = query(home, """select file_name, status from marts.submission_receipts
                              where report_kind = 'park_indicators' order by received_at""")
    assert receipts == [("园区.csv", "superseded"), ("园区（更正）.csv", "accepted")]

    runner = CliRunner()

    def as_of(moment: str) -> list[list[str]]:
        res = runner.invoke(app, ["as-of", moment, "--home", str(home.root), "--period", "2022-04",
                                  "--indicator", "gdp", "--csv"])
        assert res.exit_code == 0, res.output
        lines = [line.split(",") for line in res.output.strip().splitlines()]
        head = lines[0]
        return sorted([dict(zip(head, r))[c] for c in ("entity_code", "value_wan", "file_name")] for r in lines[1:])

    # exact amounts, as written (no float noise, no storage zeros)
    before = [["431300", "5000", "全市.csv"], ["431300-ETDZ", "1000", "园区.csv"], ["431300-LSJ", "500", "园区.csv"]]
    after = [["431300", "5000", "全市.csv"], ["431300-ETDZ", "1250", "园区（更正）.csv"],
             ["431300-LSJ", "500", "园区（更正）.csv"]]
    assert as_of("2022-05-15") == before
    assert as_of("2022-05-20T16:29:59") == before
    assert as_of("2022-05-20") == after  # a date means the end of that day
    assert as_of("2022-05-01") == []  # nothing was known yet
    # the documented query gives the same answer as the command
    con = duckdb.connect(str(home.published_db), read_only=True)
    try:
        from ingest.asof import indicators_as_of
        import datetime as dt
        rows = con.execute(indicators_as_of(), {"moment": dt.datetime(2022, 5, 15), "period": "2022-04",
                                              "entity": "431300-ETDZ", "indicator": None}).fetchall()
    finally:
        con.close()
    assert [(r[3], r[4]) for r in rows] == [("gdp", 1000.0)]
    bad = runner.invoke(app, ["as-of", "last tuesday", "--home", str(home.root)])
    assert bad.exit_code == 2 and "cannot read the moment 'last tuesday'" in bad.output


def test_key_projects_end_to_end_with_attribute_history_and_monthly_amounts(tmp_path, clock):
    home = make_home(tmp_path / "wh")
    clock("2022-05-10T09:00:00")
    drop(home, "431300", "名录.csv", csv_bytes(REGISTRY))
    drop(home, "431381", "项目1-2月.csv", csv_bytes([PROJ_H, ["2022年1-2月", "XM-1", "冷钢技改", "431381", "431300-LSJ",
                                                            "改建和技术改造", "续建", "50000", "12000", "1500"]]))
    drop(home, "431381", "项目3月.csv", csv_bytes([PROJ_H, ["2022年1-3月", "XM-1", "冷钢技改", "431381", "431300-LSJ",
                                                          "改建和技术改造", "续建", "50000", "12000", "2700"]]))
    drop(home, "431381", "项目4月.xlsx", __import__("tests.conftest", fromlist=["x"]).xlsx_bytes(
        [["2022年1-4月冷水江市重点产业项目建设进度表"], ["单位：万元"],
         ["统计期", "项目代码", "项目名称", "所属地区代码", "所属园区代码", "建设性质", "项目状态", "总投资",
          "投资情况", None], [None, None, None, None, None, None, None, None, "年度计划投资", "本年累计完成投资"],
         ["2022年1-4月", "XM-1", "冷钢技改", "431381", "431300-LSJ", "改建和技术改造", "竣工", 50000, 12000, 4100]],
        merges=["I3:J3"]))
    assert refresh(home)
    fact = query(home, """select period, ytd_completed, period_completed, months_covered, monthly_completed,
                                 completion_pct from core.fct_project_investment order by period""")
    assert fact == [("2022-02", 1500.0, 1500.0, 2, None, pytest.approx(12.5)),
                    ("2022-03", 2700.0, 1200.0, 1, 1200.0, pytest.approx(22.5)),
                    ("2022-04", 4100.0, 1400.0, 1, 1400.0, pytest.approx(4100 / 120))]
    versions = query(home, """select version, valid_from_period, valid_to_period, is_current, stage, nature,
                                     city_code from core.dim_project order by version""")
    assert versions == [(1, "2022-02", "2022-04", False, "续建", "改建和技术改造", "431300"),
                        (2, "2022-04", None, True, "竣工", "改建和技术改造", "431300")]
    # the April report is corrected: the stage goes back, the figure rises; history keeps both
    clock("2022-05-12T09:00:00")
    drop(home, "431381", "项目4月（更正）.csv", csv_bytes([PROJ_H, ["2022-04", "XM-1", "冷钢技改", "431381",
                                                               "431300-LSJ", "改建和技术改造", "续建", "50000", "12000",
                                                               "4300"]]))
    assert refresh(home)
    assert query(home, "select count(*), max(stage) from core.dim_project") == [(1, "续建")]
    assert query(home, "select monthly_completed from core.fct_project_investment where period = '2022-04'") == \
        [(1600.0,)]
    res = CliRunner().invoke(app, ["as-of", "2022-05-11", "--projects", "--period", "2022-04", "--csv",
                                   "--home", str(home.root)])
    assert res.exit_code == 0 and ",4100," in res.output and "4300" not in res.output, res.output


def test_monthly_amounts_of_indicators_from_cumulative_figures(tmp_path, clock):
    home = make_home(tmp_path / "wh")
    clock("2022-08-10T09:00:00")
    drop(home, "431300", "全市.csv", csv_bytes([["统计期", "地区代码", "税收"], ["2022年1-2月", "431300", "200"],
                                              ["2022年1-3月", "431300", "290"], ["2022年1-5月", "431300", "500"],
                                              ["2021年", "431300", "1200"]]))
    assert refresh(home)
    got = query(home, """select period, value_wan, period_value, months_covered, monthly_value
                         from core.fct_indicator_values order by period""")
    assert got == [("2021-12", 1200.0, 1200.0, 12, None), ("2022-02", 200.0, 200.0, 2, None),
                   ("2022-03", 290.0, 90.0, 1, 90.0), ("2022-05", 500.0, 210.0, 2, None)]


# -- parkstat check ----------------------------------------------------------------------

def tree_state(root) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_check_answers_like_ingest_and_stores_nothing(tmp_path, clock):
    clock("2022-05-10T09:00:00")
    home = make_home(tmp_path / "wh")
    drop(home, "431300", "名录.csv", csv_bytes(REGISTRY))
    ingest_landing(home)
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes([["统计期", "园区代码", "税收"], ["2022-04", "431300-LSJ", "12"]]))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([["统计期", "园区代码", "税收"], ["2022-04", "431300-ETDZ", "x"],
                               ["2022-04", "431300-LSJ", "-1"]]))
    before = tree_state(home.root)
    runner = CliRunner()
    ok = runner.invoke(app, ["check", str(good), "--as", "431381", "--home", str(home.root)])
    assert ok.exit_code == 0, ok.output
    assert "预检回执（未入库）" in ok.output and "已接收 / accepted" in ok.output
    no = runner.invoke(app, ["check", str(bad), "--as", "431381", "--home", str(home.root)])
    assert no.exit_code == 1
    assert "would be rejected" in no.output
    assert "431381 may not report for 431302 (park 431300-ETDZ is registered in 431302)" in no.output
    assert "第3行［税收］ “-1”：不能为负数 / error row 3 [税收]: must not be negative" in no.output
    other = runner.invoke(app, ["check", str(good), "--as", "431302", "--home", str(home.root), "--json"])
    assert other.exit_code == 1 and '"code": "outside_jurisdiction"' in other.output
    assert tree_state(home.root) == before  # nothing archived, recorded or written
    # the same file then sent for real is accepted exactly as check said
    drop(home, "431381", "good.csv", good.read_bytes())
    assert ingest_landing(home).receipts[0].status == "accepted"
    again = runner.invoke(app, ["check", str(good), "--as", "431381", "--home", str(home.root)])
    assert again.exit_code == 1 and "the same bytes were processed before" in again.output


def test_check_on_a_warehouse_with_no_ledger_yet_and_while_a_refresh_holds_it(tmp_path, clock):
    clock("2022-05-10T09:00:00")
    home = make_home(tmp_path / "wh")
    f = tmp_path / "region.csv"
    f.write_bytes(csv_bytes([["统计期", "地区代码", "税收"], ["2022-04", "431381", "12"]]))
    res = CliRunner().invoke(app, ["check", str(f), "--as", "431381", "--home", str(home.root)])
    assert res.exit_code == 0, res.output
    assert not home.ledger.exists()
    writer = duckdb.connect(str(home.ledger))  # a refresh writing the ledger right now
    try:
        env = {**os.environ, "WAREHOUSE_HOME": str(home.root)}
        busy = subprocess.run([sys.executable, "-m", "orchestration.cli", "check", str(f), "--as", "431381"],
                              capture_output=True, text=True, env=env, timeout=120)
    finally:
        writer.close()
    assert busy.returncode == 2, busy.stdout + busy.stderr
    assert "in use by a running refresh; try again in a few minutes" in busy.stderr
    missing = CliRunner().invoke(app, ["check", str(tmp_path / "nope.csv"), "--as", "431381"])
    assert missing.exit_code == 2 and "does not exist" in missing.output


# -- progress ----------------------------------------------------------------------------

@pytest.mark.parametrize("interactive", [False, True])
def test_ingest_reports_its_progress(home, interactive):
    os.environ["PARKSTAT_NOW"] = "2022-05-10T09:00:00"
    drop(home, "431300", "名录.csv", csv_bytes(REGISTRY))
    drop(home, "431300", "a.csv", csv_bytes([["统计期", "园区代码", "税收"], ["2022-04", "431300-LSJ", "12"],
                                            ["2022-04", "431300-ETDZ", "3"]]))
    drop(home, "431300", "b.csv", csv_bytes([["统计期", "园区代码", "税收"], ["2022-04", "431300-XX", "12"]]))
    lines: list[str] = []
    progress = IngestProgress(lines.append, every=2, interactive=interactive)
    ingest_landing(home, progress=progress)
    assert lines[-1].startswith("ingest: 3/3 files, 4 rows taken in, 1 rejected")
    if not interactive:
        assert lines[0].startswith("ingest: 2/3 files")
    os.environ.pop("PARKSTAT_NOW")
