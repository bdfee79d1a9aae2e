"""Contract v2 (shared/spec/reports.md §0–§8) end to end: files written here in
the shapes submitters send (GBK CSV with a title row and a 单位：亿元 line, XLSX
with a two-row merged header, Traditional and English headers, units in header
cells, 人 and 公顷), two runs of the real nightly job (``refresh``: Dagster and
dbt) on a fixed clock with a small reporting calendar of the test's own, and
every figure read back from the published marts, the workbook (openpyxl) and
the HTML report (headless Chromium).

The scene:
- 娄底 (431300) sends its parks' register, its parks' 税收 for 2019–2021 (涟源's
  park drops out in 2021, 双峰's reports for the first time), its region
  figures for 2020 (English headers) and for 2021 as two tables — GDP and its
  structure (GBK, 亿元), then fiscal revenue, tax, people and land (units in
  the header cells: 人, 公顷) — and, in the second run, a GDP-only correction
  that leaves 新化 and 娄星区 out; a file with 亿元 on the enterprise count is
  rejected.
- 永州 (431100): every one of its 11 counties reports key projects for
  2022年1-2月; only 祁阳 for 1-4月 (one of its projects dropped out) and, in the
  second run, 1-5月 in a slimmer workbook; 祁阳's projects carry levels,
  programmes, the industrial flag and start dates in Chinese words, 零陵's in
  Traditional, 冷水滩's in English.
- The province (430000) sends its 2021 park evaluations; one file names an
  unregistered park, another a 星级 row without stars (both rejected).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from tests.conftest import csv_bytes, drop, env_vars, make_home, query, refresh, xlsx_bytes

FIRST_RUN = "2022-06-20T09:00:00"
SECOND_RUN = "2022-06-21T09:00:00"

# the deployment's own calendar: 娄底 reports its parks and its regions yearly,
# 永州's counties their key projects monthly (1-2月 together)
CALENDAR = """report_kind,submitters,within,months,from_period,to_period,due_days,notes
region_indicators,city,4313,12,2019-12,2023-12,60,test: 娄底's regions yearly
park_indicators,city,4313,12,2019-12,2023-12,60,test: 娄底's parks yearly
project_progress,county,4311,2-12,2022-02,2023-12,15,test: 永州's counties monthly
"""

YONGZHOU_COUNTIES = ["431102", "431103", "431122", "431123", "431124", "431125", "431126", "431127", "431128",
                     "431129", "431181"]

REGISTRY_LOUDI = [["园区代码", "园区名称", "所属地区代码", "园区级别"],
                  ["431300-ETDZ", "娄底经济技术开发区", "431302", "国家级"],
                  ["431300-LSJ", "冷水江经济开发区", "431381", "省级"],
                  ["431300-LY", "涟源经济开发区", "431382", "省级"],
                  ["431300-SF", "双峰经济开发区", "431321", "省级"]]
REGISTRY_YONGZHOU = [["园区代码", "园区名称", "所属地区代码"], ["431100-QY", "祁阳经济开发区", "431181"]]

PARKS_LOUDI = [["统计期", "园区代码", "园区名称", "税收"],
               ["2019年", "431300-ETDZ", "娄底经济技术开发区", "90"],
               ["2019年", "431300-LSJ", "冷水江经济开发区", "50"],
               ["2019年", "431300-LY", "涟源经济开发区", "60"],
               ["2020年", "431300-ETDZ", "娄底经济技术开发区", "100"],
               ["2020年", "431300-LSJ", "冷水江经济开发区", "60"],
               ["2020年", "431300-LY", "涟源经济开发区", "80"],
               ["2021年", "431300-ETDZ", "娄底经济技术开发区", "108"],
               ["2021年", "431300-LSJ", "冷水江经济开发区", "68"],
               ["2021年", "431300-SF", "双峰经济开发区", "200"]]  # 涟源's park left out; 双峰's new
PARKS_YONGZHOU = [["统计期", "园区代码", "税收"], ["2020", "431100-QY", "400"], ["2021", "431100-QY", "500"]]

# 2020 region figures, English headers, 万元
REGIONS_2020 = [["period", "region_code", "gdp", "primary_value_added", "secondary_value_added",
                 "tertiary_value_added", "fixed_asset_investment", "industrial_investment",
                 "general_budget_revenue", "tax"],
                ["2020", "431300", "16000000", "2400000", "6400000", "7200000", "8000000", "3200000", "80000",
                 "50000"],
                ["2020", "431302", "", "", "", "", "", "", "15000", ""],
                ["2020", "431321", "", "", "", "", "", "", "10000", ""],
                ["2020", "431381", "", "", "", "", "", "", "20000", ""],
                ["2020", "431382", "", "", "", "", "", "", "10000", ""]]  # 新化 (431322) not in 2020
# 2019 fiscal revenue (for last year's growth beside this year's)
REVENUE_2019 = [["统计期", "地区代码", "一般公共预算收入"], ["2019年", "431300", "70000"], ["2019年", "431321", "8000"],
                ["2019年", "431381", "16000"], ["2019年", "431382", "10000"]]

# 2021, first table: GDP and its structure, GBK, a title row and 单位：亿元
GDP_FILE = "2021年娄底市地区生产总值.csv"
GDP_2021 = [["2021年娄底市及所辖县市区地区生产总值"], ["单位：亿元"],
            ["统计期", "地区代码", "地区名称", "地区生产总值", "第一产业增加值", "第二产业增加值", "第三产业增加值",
             "固定资产投资", "产业投资"],
            ["2021年", "431300", "娄底市", "950", "130", "459.4897", "410.5103", "900", "405"],
            ["2021年", "431302", "娄星区", "310", "", "60", "", "", ""],
            ["2021年", "431321", "双峰县", "300", "", "100.1234", "", "", ""],
            ["2021年", "431322", "新化县", "250", "", "99.8765", "", "", ""],
            ["2021年", "431381", "冷水江市", "280", "", "120.3456", "", "", ""],
            ["2021年", "431382", "涟源市", "260", "", "79.1442", "", "", ""]]

# 2021, second table: fiscal revenue, tax, people, land, enterprises; units in the header cells
FISCAL_FILE = "2021年娄底市财政收入人口面积.csv"
FISCAL_2021 = [["统计期", "地区代码", "地方一般公共预算收入（万元）", "税收（万元）", "常住人口（人）",
                "行政区域面积（公顷）", "规模工业企业数（家）"],
               ["2021年", "431300", "100000", "60000", "3826996", "810700", "520"],
               ["2021年", "431302", "18500", "", "640000", "43000", ""],
               ["2021年", "431321", "12000", "", "840000", "171500", ""],
               ["2021年", "431322", "9000", "", "1100000", "364200", ""],
               ["2021年", "431381", "21000", "", "340000", "43900", ""],
               ["2021年", "431382", "12500", "", "900000", "183000", ""]]

# second run: GDP only, 新化 and 娄星区 left out
GDP_FIX_FILE = "2021年地区生产总值（更正）.csv"
GDP_FIX_2021 = [["统计期", "地区代码", "地区生产总值（亿元）"],
                ["2021年", "431300", "1000"], ["2021年", "431321", "310"], ["2021年", "431381", "290"],
                ["2021年", "431382", "270"]]

BAD_UNIT_FILE = "2021年规模工业企业数.csv"
BAD_UNIT = [["统计期", "地区代码", "规模工业企业数（亿元）"], ["2021年", "431300", "5"]]

EVALUATIONS = [["评价年度", "园区代码", "园区名称", "评价类别", "名次", "星级"],
               ["2021", "431300-ETDZ", "娄底经济技术开发区", "十强", "3", ""],
               ["2021", "431300-LSJ", "冷水江经济开发区", "十快", "5", ""],
               ["2021", "431300-SF", "双峰经济开发区", "十先進園區", "7", ""],
               ["2021", "431300-ETDZ", "娄底经济技术开发区", "星级", "", "3"],
               ["2021", "431300-LY", "涟源经济开发区", "星级", "", "1"]]
EVAL_UNREGISTERED = [["评价年度", "园区代码", "评价类别", "名次"], ["2021", "431300-XX", "十强", "1"]]
EVAL_NO_STARS = [["评价年度", "园区代码", "评价类别", "名次", "星级"], ["2021", "431300-LSJ", "星级", "", ""]]

# 祁阳 1-2月: XLSX, title, 单位：万元, a two-row merged header, 总投资 in 亿元 in its own cell
QIYANG_H1 = ["统计期", "项目代码", "项目名称", "所属地区代码", "所属园区代码", "项目级别", "专项", "是否产业项目",
             "开工日期", "项目阶段", "总投资（亿元）", "投资情况", None]
QIYANG_H2 = [None] * 11 + ["年度计划投资", "本年累计完成投资"]
QIYANG_FEB = [["2022年1-2月祁阳市重点产业项目建设进度表"], ["单位：万元"], QIYANG_H1, QIYANG_H2,
              ["2022年1-2月", "QY-1", "祁阳新材料产业园一期", "431181", "431100-QY", "省重点", "双引擎；三高四新", "是",
               "2022-03-15", "新开工", 12.5, 40000, 5000],
              ["2022年1-2月", "QY-2", "祁阳物流园", "431181", None, "市州重点", "三高四新", "否", "2021-06-01", "续建",
               8, 30000, 6000],
              ["2022年1-2月", "QY-3", "祁阳污水处理厂提质", "431181", None, "县重点", None, "否", "2021-09-01", "续建",
               3, 10000, 2000]]
# 零陵 1-2月: Traditional headers and words (programmes separated by 、; put into production: 投產)
LINGLING_FEB = [["統計期", "項目代碼", "項目名稱", "所屬地區代碼", "項目級別", "專項", "是否產業項目", "產業鏈",
                 "項目階段", "總投資", "年度計劃投資", "本年累計完成投資"],
                ["2022年1-2月", "LL-1", "零陵電子信息產業園", "431102", "省級重點", "雙引擎、產業鏈鏈長制", "是",
                 "電子信息", "投產", "50000", "20000", "3000"]]
# 冷水滩 1-2月: English headers and words (programmes separated by a comma)
LENGSHUITAN_FEB = [["period", "project_code", "project_name", "region_code", "Project Level", "programme",
                    "industrial", "industry_chain", "total_investment", "annual_plan", "ytd_completed"],
                   ["2022-02", "LST-1", "Lengshuitan logistics hub", "431103", "City", "三高四新,产业链链长制", "N",
                    "电子信息", "40000", "15000", "2500"]]
PLAIN_H = ["统计期", "项目代码", "项目名称", "所属地区代码", "总投资", "年度计划投资", "本年累计完成投资"]
# 祁阳 1-4月: QY-3 dropped out, QY-4 new (starts in May), QY-2 completed (竣工)
QIYANG_APR_H = ["统计期", "项目代码", "项目名称", "所属地区代码", "所属园区代码", "项目级别", "专项", "是否产业项目",
                "开工日期", "项目阶段", "总投资", "年度计划投资", "本年累计完成投资"]
QIYANG_APR = [QIYANG_APR_H,
              ["2022年1-4月", "QY-1", "祁阳新材料产业园一期", "431181", "431100-QY", "省重点", "双引擎；三高四新", "是",
               "2022-03-15", "新开工", "125000", "40000", "15000"],
              ["2022年1-4月", "QY-2", "祁阳物流园", "431181", "", "市重点", "三高四新", "否", "2021-06-01", "竣工",
               "80000", "30000", "14000"],
              ["2022年1-4月", "QY-4", "祁阳智能制造产业园", "431181", "", "县重点", "双引擎", "是", "2022-05-10", "前期",
               "60000", "20000", "500"]]
# 祁阳 1-5月, second run: slimmer — no 项目级别, 是否产业项目, 开工日期, 园区 columns; 专项 present, QY-1's cell empty
QIYANG_MAY = [["2022年1-5月祁阳市重点产业项目建设进度表"],
              ["统计期", "项目代码", "项目名称", "所属地区代码", "专项", "项目阶段", "总投资", "年度计划投资",
               "本年累计完成投资"],
              ["2022年1-5月", "QY-1", "祁阳新材料产业园一期", "431181", None, "续建", 125000, 40000, 20000],
              ["2022年1-5月", "QY-2", "祁阳物流园", "431181", "三高四新", "竣工", 80000, 30000, 18000],
              ["2022年1-5月", "QY-4", "祁阳智能制造产业园", "431181", "双引擎", "新开工", 60000, 20000, 3000]]


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    """The warehouse after two nightly runs; ``before`` holds what the first run published of §0."""
    root = tmp_path_factory.mktemp("contract_v2")
    calendar = root / "calendar.csv"
    calendar.write_text(CALENDAR, encoding="utf-8")
    home = make_home(root / "wh")
    drop(home, "431300", "娄底园区名录.csv", csv_bytes(REGISTRY_LOUDI))
    drop(home, "431100", "永州园区名录.csv", csv_bytes(REGISTRY_YONGZHOU))
    drop(home, "431300", "娄底园区税收2019-2021.csv", csv_bytes(PARKS_LOUDI, encoding="utf-8-sig"))
    drop(home, "431100", "永州园区税收.csv", csv_bytes(PARKS_YONGZHOU))
    drop(home, "431300", "2020年主要指标.csv", csv_bytes(REGIONS_2020))
    drop(home, "431300", "2019年财政收入.csv", csv_bytes(REVENUE_2019))
    drop(home, "431300", GDP_FILE, csv_bytes(GDP_2021, encoding="gbk"))
    drop(home, "431300", FISCAL_FILE, csv_bytes(FISCAL_2021))
    drop(home, "431300", BAD_UNIT_FILE, csv_bytes(BAD_UNIT))
    drop(home, "430000", "2021年园区综合评价.csv", csv_bytes(EVALUATIONS))
    drop(home, "430000", "评价（未登记园区）.csv", csv_bytes(EVAL_UNREGISTERED))
    drop(home, "430000", "评价（缺星级）.csv", csv_bytes(EVAL_NO_STARS))
    drop(home, "431181", "祁阳1-2月.xlsx", xlsx_bytes(QIYANG_FEB, merges=["L3:M3"]))
    drop(home, "431102", "零陵1-2月.csv", csv_bytes(LINGLING_FEB))
    drop(home, "431103", "lengshuitan-2022-02.csv", csv_bytes(LENGSHUITAN_FEB))
    for i, code in enumerate(c for c in YONGZHOU_COUNTIES if c not in ("431181", "431102", "431103")):
        drop(home, code, f"{code}项目1-2月.csv",
             csv_bytes([PLAIN_H, ["2022年1-2月", f"P-{code}", f"项目{i}", code, "50000", "10000", "1000"]]))
    drop(home, "431181", "祁阳1-4月.csv", csv_bytes(QIYANG_APR))
    with env_vars(PARKSTAT_NOW=FIRST_RUN, PARKSTAT_REPORTING_CALENDAR=str(calendar)):
        assert refresh(home)
        before = {
            "values": query(home, """select entity_code, indicator, value from core.fct_indicator_values
                                     where entity_type = 'region' and period = '2021-12'
                                     order by entity_code, indicator"""),
        }
        drop(home, "431300", GDP_FIX_FILE, csv_bytes(GDP_FIX_2021))
        drop(home, "431181", "祁阳1-5月.xlsx", xlsx_bytes(QIYANG_MAY))
    with env_vars(PARKSTAT_NOW=SECOND_RUN, PARKSTAT_REPORTING_CALENDAR=str(calendar)):
        assert refresh(home)
    return {"home": home, "before": before, "root": root}


def values_2021(rows) -> dict[tuple[str, str], Decimal]:
    return {(e, i): v for e, i, v in rows}


def receipt(home, file_name: str) -> tuple:
    rows = query(home, "select status, file_id from marts.submission_receipts where file_name = ?", [file_name])
    assert len(rows) == 1, rows
    return rows[0]


def messages(home, file_name: str) -> list[tuple]:
    return query(home, """select severity, code, column_name, value, reason_zh, reason_en
                          from marts.submission_messages where file_name = ? order by seq""", [file_name])


def approx(x: float):
    return pytest.approx(x, abs=1e-9)


# -- §0 ------------------------------------------------------------------------------------------

def test_s0_two_region_tables_for_one_city_year_both_stand(wh):
    got = values_2021(wh["before"]["values"])
    assert got[("431300", "gdp")] == Decimal("9500000")  # from the GDP table (950 亿元)
    assert got[("431300", "secondary_value_added")] == Decimal("4594897")
    assert got[("431300", "general_budget_revenue")] == Decimal("100000")  # from the fiscal table
    assert got[("431300", "resident_population")] == Decimal("382.6996")
    assert got[("431322", "gdp")] == Decimal("2500000")
    assert got[("431322", "general_budget_revenue")] == Decimal("9000")
    for name in (GDP_FILE, FISCAL_FILE):
        status, _ = receipt(wh["home"], name)
        assert status in ("accepted", "accepted_with_warnings"), (name, status)


def test_s0_a_later_gdp_only_file_replaces_gdp_and_leaves_revenue_standing(wh):
    home = wh["home"]
    rows = query(home, """select f.entity_code, f.indicator, f.value, r.file_name
                          from core.fct_indicator_values as f
                          join marts.submission_receipts as r on r.file_id = f.file_id
                          where f.entity_type = 'region' and f.period = '2021-12'""")
    got = {(e, i): (v, n) for e, i, v, n in rows}
    assert got[("431300", "gdp")] == (Decimal("10000000"), GDP_FIX_FILE)
    assert got[("431321", "gdp")] == (Decimal("3100000"), GDP_FIX_FILE)
    # left out of the later GDP file: no GDP from 娄底 any more
    assert ("431322", "gdp") not in got
    assert ("431302", "gdp") not in got
    # what the GDP file carried besides GDP, and the fiscal table, stand
    assert got[("431300", "primary_value_added")] == (Decimal("1300000"), GDP_FILE)
    assert got[("431322", "secondary_value_added")] == (Decimal("998765"), GDP_FILE)
    assert got[("431322", "general_budget_revenue")] == (Decimal("9000"), FISCAL_FILE)
    assert got[("431300", "general_budget_revenue")] == (Decimal("100000"), FISCAL_FILE)
    # the earlier files are not shown as replaced whole
    assert receipt(home, GDP_FILE)[0] in ("accepted", "accepted_with_warnings")
    assert receipt(home, FISCAL_FILE)[0] in ("accepted", "accepted_with_warnings")


def test_s0_the_receipt_names_the_superseded_file_and_its_indicators(wh):
    home = wh["home"]
    _, gdp_id = receipt(home, GDP_FILE)
    notes = [m for m in messages(home, GDP_FIX_FILE) if m[0] == "note"]
    assert len(notes) == 1, notes  # the GDP table only: the fiscal table carried no GDP
    _, code, _, _, zh, en = notes[0]
    assert code == "supersedes"
    assert zh == f"取代此前文件 {gdp_id}（{GDP_FILE}）2021-12 的指标：地区生产总值；其他指标仍以原文件为准"
    assert en == f"replaces file {gdp_id} ({GDP_FILE}) for 2021-12 in: gdp; its other indicators stand"
    # the receipt file the submitter reads says the same
    found = []
    for p in (home.receipts / "431300").glob("*.json"):
        doc = json.loads(p.read_text(encoding="utf-8"))
        if doc["file_name"] == GDP_FIX_FILE:
            found.append([m for m in doc["messages"] if m["severity"] == "note"])
    assert len(found) == 1 and [m["en"] for m in found[0]] == [en]


# -- §1 ------------------------------------------------------------------------------------------

def progress(home, period: str) -> dict[str, tuple]:
    rows = query(home, """select region_code, submitters_expected, submitters_reported, projects_not_reported,
                                 is_complete, project_count
                          from marts.investment_progress where period = ?""", [period])
    return {r[0]: r[1:] for r in rows}


def test_s1_a_partial_month_is_incomplete_for_the_city_and_the_province(wh):
    feb, apr = progress(wh["home"], "2022-02"), progress(wh["home"], "2022-04")
    # 1-2月: all eleven counties reported
    assert feb["431100"] == (11, 11, 0, True, 13)
    assert feb["430000"] == (11, 11, 0, True, 13)
    # 1-4月: 祁阳 alone; the other ten counties' projects and 祁阳's QY-3 did not report
    assert apr["431100"] == (11, 1, 11, False, 3)
    assert apr["430000"] == (11, 1, 11, False, 3)


def test_s1_a_project_that_dropped_out_is_counted_in_projects_not_reported(wh):
    apr = progress(wh["home"], "2022-04")
    # 祁阳 itself reported (1/1) but QY-3, reported in 1-2月, is missing from 1-4月
    assert apr["431181"] == (1, 1, 1, False, 3)
    feb = progress(wh["home"], "2022-02")
    assert feb["431181"] == (1, 1, 0, True, 3)


def test_s1_park_share_with_parks_missing_is_incomplete(wh):
    rows = query(wh["home"], """select period, parks_registered, parks_reported, submitters_expected,
                                       submitters_reported, city_value, is_complete
                                from marts.park_share_comparison
                                where city_code = '431300' and indicator = 'tax' order by period""")
    got = {r[0]: r[1:] for r in rows}
    # 2020: all three parks active then reported, the city's total is there
    assert got["2020-12"] == (3, 3, 1, 1, Decimal("50000"), True)
    # 2021: 涟源's park (active since 2019) did not report
    assert got["2021-12"] == (4, 3, 1, 1, Decimal("60000"), False)


def test_s1_county_domain_summed_from_three_of_four_counties_is_incomplete(wh):
    rows = query(wh["home"], """select indicator, regions_summed, regions_expected, submitters_expected,
                                       submitters_reported, is_complete, value
                                from marts.region_share
                                where scope = 'county_domain' and region_code = '431300' and period = '2021-12'""")
    got = {r[0]: r[1:] for r in rows}
    assert got["gdp"] == (3, 4, 1, 1, False, Decimal("8700000"))  # 新化 left out of the later GDP file
    assert got["general_budget_revenue"] == (4, 4, 1, 1, True, Decimal("54500"))


# -- §2 ------------------------------------------------------------------------------------------

def test_s2_a_park_new_this_year_is_left_out_of_comparable_growth(wh):
    rows = query(wh["home"], """select period, park_value, parks_compared, park_value_comparable,
                                       park_value_prior_year_comparable, park_growth_pct,
                                       park_growth_pct_prior_year, park_growth_change_pp
                                from marts.park_share_comparison
                                where city_code = '431300' and indicator = 'tax' order by period""")
    got = {r[0]: r[1:] for r in rows}
    period_2021 = got["2021-12"]
    assert period_2021[0] == Decimal("376")  # all three reporting parks
    # 双峰's new park (200) and 涟源's missing one are out: (108 + 68) / (100 + 60)
    assert period_2021[1:4] == (2, Decimal("176"), Decimal("160"))
    assert period_2021[4] == approx(10.0)
    assert period_2021[5] == approx(20.0)  # 2020 over 2019, three parks: 240 / 200
    assert period_2021[6] == approx(-10.0)
    assert got["2020-12"][1] == 3 and got["2020-12"][4] == approx(20.0)


def test_s2_county_domain_growth_is_over_comparable_counties(wh):
    rows = query(wh["home"], """select entity_code, entity_name, parent_code, value, value_prior_year,
                                       regions_compared, growth_pct, parent_growth_pct, growth_gap_pp,
                                       growth_pct_prior_year, growth_change_pp, parent_growth_pct_prior_year
                                from marts.growth_comparison
                                where entity_type = 'county_domain' and indicator = 'general_budget_revenue'
                                  and period = '2021-12'""")
    assert len(rows) == 1, rows
    code, name, parent, value, prior, compared, growth, parent_growth, gap, last_year, change, parent_last = rows[0]
    assert (code, name, parent) == ("431300", "娄底市县域", "431300")
    # 双峰, 冷水江, 涟源 (新化 has no 2020 figure): 45500 / 40000
    assert (value, prior, compared) == (Decimal("45500"), Decimal("40000"), 3)
    assert growth == approx(13.75)
    assert parent_growth == approx(25.0)
    assert gap == approx(-11.25)
    # a year earlier, the same three: 40000 / 34000; the city 80000 / 70000
    assert last_year == approx(100 * 6000 / 34000)
    assert change == approx(13.75 - 100 * 6000 / 34000)
    assert parent_last == approx(100 * 10000 / 70000)


# -- §3 ------------------------------------------------------------------------------------------

def test_s3_period_keys_and_prior_year_period(wh):
    home = wh["home"]
    got = dict((p, rest) for p, *rest in query(home, """
        select distinct period, period_year, period_month, period_label from marts.investment_progress"""))
    assert got["2022-04"] == [2022, 4, "2022年1-4月"]
    assert got["2022-02"] == [2022, 2, "2022年1-2月"]
    assert got["2022-05"] == [2022, 5, "2022年1-5月"]
    parks = query(home, """select distinct period_year, period_month, period_label, prior_year_period
                           from marts.park_share_comparison where period = '2020-12'""")
    assert parks == [(2020, 12, "2020年", "2019-12")]
    growth = query(home, """select distinct period_label, prior_year_period from marts.growth_comparison
                            where period = '2021-12'""")
    assert growth == [("2021年", "2020-12")]
    types = dict(query(home, """select column_name, data_type from duckdb_columns()
                                where schema_name = 'marts' and table_name = 'investment_progress'
                                  and column_name in ('period_year', 'period_month')"""))
    assert types == {"period_year": "INTEGER", "period_month": "INTEGER"}


def test_s3_every_mart_with_a_period_has_period_keys(wh):
    rows = query(wh["home"], """select table_name, list(column_name) from duckdb_columns()
                                where schema_name = 'marts' group by table_name""")
    cols = dict(rows)
    with_period = sorted(t for t, c in cols.items() if "period" in c)
    assert {"investment_by_group", "project_starts", "economic_structure", "park_evaluations",
            "park_evaluation_counts", "investment_progress", "region_share"} <= set(with_period)
    for t in with_period:
        assert {"period_year", "period_month", "period_label"} <= set(cols[t]), t
    for t in ("park_share_comparison", "growth_comparison", "park_rankings", "economic_structure"):
        assert "prior_year_period" in cols[t], t


# -- §4 ------------------------------------------------------------------------------------------

def test_s4_money_in_yi_is_stored_and_summed_exactly(wh):
    home = wh["home"]
    stored = query(home, """select value, value_wan, original_unit from core.fct_indicator_values
                            where entity_code = '431300' and indicator = 'secondary_value_added'
                              and period = '2021-12'""")
    assert stored == [(Decimal("4594897"), Decimal("4594897"), "亿元")]
    # 100.1234 + 99.8765 + 120.3456 + 79.1442 亿元 = 399.4897 亿元 (floats: 3994896.9999999995)
    summed = query(home, """select value from marts.region_share where scope = 'county_domain'
                            and region_code = '431300' and indicator = 'secondary_value_added'
                            and period = '2021-12'""")
    assert summed == [(Decimal("3994897"),)]
    assert isinstance(summed[0][0], Decimal)
    types = dict(query(home, """select table_schema || '.' || table_name || '.' || column_name, data_type
                                from information_schema.columns
                                where table_schema || '.' || table_name || '.' || column_name in (
                                  'core.fct_indicator_values.value_wan', 'core.fct_project_investment.annual_plan',
                                  'marts.region_share.value', 'marts.investment_progress.ytd_completed',
                                  'marts.park_share_comparison.park_value')"""))
    assert len(types) == 5 and all(t.startswith("DECIMAL") for t in types.values()), types
    plan = query(home, """select total_investment from core.fct_project_investment
                          where project_code = 'QY-1' and period = '2022-02'""")
    assert plan == [(Decimal("125000"),)]  # 12.5 亿元 in its header cell, over the 单位：万元 line


# -- §5 ------------------------------------------------------------------------------------------

def attributes(home, period: str) -> dict[str, tuple]:
    rows = query(home, """select project_code, project_level, programmes, is_industrial, park_code, start_date
                          from core.fct_project_investment where period = ?""", [period])
    return {r[0]: r[1:] for r in rows}


def test_s5_level_and_industrial_from_chinese_traditional_and_english_words(wh):
    feb = attributes(wh["home"], "2022-02")
    assert feb["QY-1"][0] == "province" and feb["QY-1"][2] is True  # 省重点, 是
    assert feb["QY-2"][0] == "city" and feb["QY-2"][2] is False  # 市州重点, 否
    assert feb["QY-3"][0] == "county" and feb["QY-3"][1] is None  # 县重点, empty 专项
    assert feb["LL-1"][0] == "province" and feb["LL-1"][2] is True  # 省級重點, 是 (Traditional header)
    assert feb["LST-1"][0] == "city" and feb["LST-1"][2] is False  # City, N (English header)
    assert feb["LST-1"][1] == "三高四新；产业链链长制"  # "三高四新,产业链链长制"
    assert feb["QY-1"][1] == "双引擎；三高四新"
    assert feb["P-431122"][:3] == (None, None, None)  # no such columns, nothing earlier: unknown


def test_s5_programmes_written_in_traditional_are_stored_simplified(wh):
    # 零陵 wrote 專項 “雙引擎”: the programme is 双引擎 (one group with 祁阳's), not a second spelling
    feb = attributes(wh["home"], "2022-02")
    assert feb["LL-1"][1] == "双引擎；产业链链长制"  # "雙引擎、產業鏈鏈長制"
    groups = query(wh["home"], """select project_count from marts.investment_by_group
                                  where period = '2022-02' and region_code = '431100'
                                    and group_type = 'programme' and group_value = '双引擎'""")
    assert groups == [(2,)]


def test_s5_chain_and_stage_written_in_traditional_are_one_group_with_the_simplified(wh):
    # 零陵's 產業鏈 電子信息 and 冷水滩's 电子信息 are one industry-chain group; 零陵's stage 投產 is 投产
    rows = query(wh["home"], """select group_type, group_value, group_name, project_count, annual_plan,
                                       share_of_plan_pct
                                from marts.investment_by_group
                                where period = '2022-02' and region_code = '431100'
                                  and group_type in ('industry_chain', 'programme')
                                  and group_value in ('电子信息', '電子信息', '产业链链长制')""")
    assert sorted(r[:5] for r in rows) == [("industry_chain", "电子信息", "电子信息", 2, Decimal("35000")),
                                           ("programme", "产业链链长制", "产业链链长制", 2, Decimal("35000"))]
    assert all(r[5] == pytest.approx(100.0 * 35000 / 195000) for r in rows)
    stage = query(wh["home"], "select stage from core.fct_project_investment where project_code = 'LL-1'")
    assert stage == [("投产",)]
    completed = query(wh["home"], """select projects_completed from marts.project_starts
                                     where period = '2022-02' and region_code = '431102'""")
    assert completed == [(1,)]


def test_s5_a_slimmer_later_report_keeps_attributes_and_an_empty_cell_clears_one(wh):
    may = attributes(wh["home"], "2022-05")
    # no 项目级别 / 是否产业项目 / 园区 / 开工日期 columns in 1-5月: kept from 1-4月
    assert may["QY-1"][0] == "province" and may["QY-1"][2] is True
    assert may["QY-1"][3] == "431100-QY" and str(may["QY-1"][4]) == "2022-03-15"
    assert may["QY-4"][0] == "county" and may["QY-4"][2] is True
    # 专项 present, QY-1's cell empty: cleared; QY-2's stated
    assert may["QY-1"][1] is None
    assert may["QY-2"][1] == "三高四新"
    stage = query(wh["home"], "select stage from core.fct_project_investment where project_code = 'QY-4' "
                              "and period = '2022-05'")
    assert stage == [("新开工",)]


def test_s5_investment_by_group_per_level_programme_industrial_and_park(wh):
    rows = query(wh["home"], """select group_type, group_value, group_name, project_count, annual_plan,
                                       share_of_plan_pct, submitters_expected, submitters_reported, is_complete,
                                       period_label
                                from marts.investment_by_group where period = '2022-02' and region_code = '431100'""")
    got = {(r[0], r[1]): r[2:] for r in rows}
    whole = 195000  # 永州's whole 1-2月 plan: 40000 + 30000 + 10000 + 20000 + 15000 + 8 × 10000
    expected = {("level", "province"): ("省重点", 2, 60000), ("level", "city"): ("市重点", 2, 45000),
                ("level", "county"): ("县重点", 1, 10000),
                ("programme", "三高四新"): ("三高四新", 3, 85000),
                ("industrial", "true"): ("产业项目", 2, 60000), ("industrial", "false"): ("非产业项目", 3, 55000),
                ("park", "431100-QY"): ("祁阳经济开发区", 1, 40000)}
    for key, (name, n, plan) in expected.items():
        assert key in got, (key, sorted(got))
        g = got[key]
        assert g[:3] == (name, n, Decimal(plan)), (key, g)
        assert g[3] == pytest.approx(100.0 * plan / whole), key
        assert g[4:] == (11, 11, True, "2022年1-2月"), key
    apr = query(wh["home"], """select project_count, share_of_plan_pct, is_complete from marts.investment_by_group
                               where period = '2022-04' and region_code = '431100' and group_type = 'level'
                                 and group_value = 'province'""")
    assert apr == [(1, pytest.approx(100.0 * 40000 / 90000), False)]


def test_s5_project_starts_counts_starts_and_completions(wh):
    rows = query(wh["home"], """select period, region_code, projects_started, started_total_investment,
                                       started_annual_plan, industrial_started, industrial_started_total_investment,
                                       projects_completed, is_complete
                                from marts.project_starts where region_code in ('431181', '431100')""")
    got = {(r[0], r[1]): r[2:] for r in rows}
    # QY-1 starts 2022-03-15, QY-4 2022-05-10 (its date kept from 1-4月); QY-2 reaches 竣工 in 1-4月
    assert got[("2022-02", "431181")] == (0, 0, 0, 0, 0, 0, True)
    assert got[("2022-04", "431181")] == (1, Decimal("125000"), Decimal("40000"), 1, Decimal("125000"), 1, False)
    assert got[("2022-05", "431181")] == (2, Decimal("185000"), Decimal("60000"), 2, Decimal("185000"), 1, False)
    # 永州: and 零陵's LL-1, put into production (投產) in 1-2月
    assert got[("2022-05", "431100")][:6] == (2, Decimal("185000"), Decimal("60000"), 2, Decimal("185000"), 2)
    province = query(wh["home"], """select projects_started, projects_completed, submitters_expected,
                                           submitters_reported, is_complete, period_label
                                    from marts.project_starts where region_code = '430000' and period = '2022-05'""")
    assert province == [(2, 2, 11, 1, False, "2022年1-5月")]


# -- §6 ------------------------------------------------------------------------------------------

def test_s6_people_and_land_converted_into_their_units(wh):
    rows = query(wh["home"], """select indicator, value, unit, original_value, original_unit
                                from core.fct_indicator_values
                                where entity_code = '431300' and period = '2021-12'
                                  and indicator in ('resident_population', 'land_area', 'industrial_enterprises')""")
    got = {r[0]: r[1:] for r in rows}
    assert got["resident_population"][:2] == (Decimal("382.6996"), "万人")
    assert got["land_area"][:2] == (Decimal("8107"), "平方公里")
    assert got["industrial_enterprises"][:2] == (Decimal("520"), "个")
    assert Decimal(str(got["resident_population"][2])) == Decimal("3826996")
    assert got["resident_population"][3] == "人" and got["land_area"][3] == "公顷"
    # never money: no 万元 figure for them
    wan = query(wh["home"], """select value_wan from core.fct_indicator_values
                               where entity_code = '431300' and period = '2021-12' and indicator = 'land_area'""")
    assert wan == [(None,)]
    share = query(wh["home"], """select indicator, value, unit, share_pct from marts.region_share
                                 where scope = 'county_domain' and region_code = '431300' and period = '2021-12'
                                   and indicator in ('resident_population', 'land_area')""")
    got = {r[0]: r[1:] for r in share}
    assert got["resident_population"][:2] == (Decimal("318"), "万人")
    assert got["resident_population"][2] == pytest.approx(100 * 318 / 382.6996)
    assert got["land_area"][:2] == (Decimal("7626"), "平方公里")
    assert got["land_area"][2] == pytest.approx(100 * 7626 / 8107)


def test_s6_a_money_unit_on_a_count_column_is_rejected_with_its_reason(wh):
    home = wh["home"]
    assert receipt(home, BAD_UNIT_FILE)[0] == "rejected"
    errors = [m for m in messages(home, BAD_UNIT_FILE) if m[0] == "error"]
    assert [(m[1], m[2]) for m in errors] == [("bad_unit", "规模工业企业数（亿元）")]
    assert errors[0][4] == "该列应以“个”计，不能用单位“亿元”"
    assert errors[0][5] == "this column is counted in 个; '亿元' is not a unit of it"
    # the count that stands is the fiscal table's 520, not a 5 from the rejected file
    assert query(home, """select value from core.fct_indicator_values where entity_code = '431300'
                          and indicator = 'industrial_enterprises'""") == [(Decimal("520"),)]


def test_s6_economic_structure_shares_and_change(wh):
    rows = query(wh["home"], """select primary_share_pct, secondary_share_pct, tertiary_share_pct,
                                       industrial_investment_share_pct, primary_share_pct_prior_year,
                                       primary_share_change_pp, secondary_share_change_pp, tertiary_share_change_pp,
                                       industrial_investment_share_change_pp, period_label, prior_year_period
                                from marts.economic_structure
                                where scope = 'region' and region_code = '431300' and period = '2021-12'""")
    assert len(rows) == 1, rows
    r = rows[0]
    # over the corrected GDP (1000 亿元): 130, 459.4897, 410.5103; 2020: 15 / 40 / 45 %, 产业投资 40 %
    assert r[0] == approx(13.0) and r[1] == approx(45.94897) and r[2] == approx(41.05103)
    assert r[3] == approx(45.0)
    assert r[4] == approx(15.0)
    assert r[5] == approx(-2.0) and r[6] == approx(5.94897) and r[7] == approx(-3.94897)
    assert r[8] == approx(5.0)
    assert r[9:] == ("2021年", "2020-12")


def test_s6_county_domain_structure_is_incomplete_when_a_county_lacks_gdp(wh):
    # 新化 is in the county domain's 第二产业 (the GDP table) but has no GDP since the correction:
    # the domain's structure is not the whole domain's
    rows = query(wh["home"], """select submitters_expected, submitters_reported, is_complete
                                from marts.economic_structure
                                where scope = 'county_domain' and region_code = '431300' and period = '2021-12'""")
    assert rows == [(1, 1, False)]


def test_s6_county_domain_structure_divides_over_the_same_counties(wh):
    # 第二产业 over GDP of the counties that have both (双峰, 冷水江, 涟源), not 4 counties' 第二产业 over 3's GDP
    rows = query(wh["home"], """select secondary_share_pct from marts.economic_structure
                                where scope = 'county_domain' and region_code = '431300' and period = '2021-12'""")
    # (or no share at all: what may not be shown is 4 counties' 第二产业 over 3 counties' GDP, 45.9 %)
    same_counties = 100 * (100.1234 + 120.3456 + 79.1442) / (310 + 290 + 270)
    assert len(rows) == 1 and (rows[0][0] is None or rows[0][0] == approx(same_counties)), rows


# -- §7 ------------------------------------------------------------------------------------------

def test_s7_park_evaluations_from_the_province(wh):
    home = wh["home"]
    assert receipt(home, "2021年园区综合评价.csv")[0] in ("accepted", "accepted_with_warnings")
    rows = query(home, """select park_code, category, rank, stars, city_code, city_name, park_name, period_label
                          from marts.park_evaluations where period = '2021-12' order by park_code, category""")
    assert rows == [("431300-ETDZ", "十强", 3, None, "431300", "娄底市", "娄底经济技术开发区", "2021年"),
                    ("431300-ETDZ", "星级", None, 3, "431300", "娄底市", "娄底经济技术开发区", "2021年"),
                    ("431300-LSJ", "十快", 5, None, "431300", "娄底市", "冷水江经济开发区", "2021年"),
                    ("431300-LY", "星级", None, 1, "431300", "娄底市", "涟源经济开发区", "2021年"),
                    ("431300-SF", "十先进", 7, None, "431300", "娄底市", "双峰经济开发区", "2021年")]


def test_s7_an_unregistered_park_and_a_star_row_without_stars_are_rejected(wh):
    home = wh["home"]
    assert receipt(home, "评价（未登记园区）.csv")[0] == "rejected"
    errors = [m for m in messages(home, "评价（未登记园区）.csv") if m[0] == "error"]
    assert [(m[1], m[3], m[4]) for m in errors] == [("unknown_park", "431300-XX", "园区代码未在园区名录中登记")]
    assert receipt(home, "评价（缺星级）.csv")[0] == "rejected"
    errors = [m for m in messages(home, "评价（缺星级）.csv") if m[0] == "error"]
    assert [(m[1], m[4], m[5]) for m in errors] == [
        ("bad_stars", "星级评价须填写 1–5 的星级", "a 星级 row needs a star rating from 1 to 5")]
    # nothing of either stands
    assert query(home, "select count(*) from marts.park_evaluations where park_code = '431300-XX' "
                       "or (park_code = '431300-LSJ' and category = '星级')") == [(0,)]


def test_s7_park_evaluation_counts_by_city_with_zeros(wh):
    rows = query(wh["home"], """select city_code, city_name, top10_scale_count, top10_growth_count,
                                       top10_advanced_count, stars_2plus_count, parks_registered, period_label
                                from marts.park_evaluation_counts where period = '2021-12' order by city_code""")
    assert rows == [("431100", "永州市", 0, 0, 0, 0, 1, "2021年"),
                    ("431300", "娄底市", 1, 1, 1, 1, 4, "2021年")]


# -- §8 ------------------------------------------------------------------------------------------

def test_s8_ranks_within_a_city(wh):
    rows = query(wh["home"], """select park_code, scale_rank, scale_rank_in_city, growth_rank, growth_rank_in_city
                                from marts.park_rankings where indicator = 'tax' and period = '2021-12'""")
    got = {r[0]: r[1:] for r in rows}
    # tax 2021: 祁阳 500 (+25 %), 双峰 200 (new), 娄底经开 108 (+8 %), 冷水江 68 (+13.3 %)
    assert got == {"431100-QY": (1, 1, 1, 1), "431300-SF": (2, 1, None, None),
                   "431300-ETDZ": (3, 2, 3, 2), "431300-LSJ": (4, 3, 2, 1)}


def test_s8_growth_rank_among_siblings(wh):
    rows = query(wh["home"], """select entity_code, growth_pct, growth_rank_in_parent
                                from marts.growth_comparison
                                where entity_type = 'region' and parent_code = '431300'
                                  and indicator = 'general_budget_revenue' and period = '2021-12'""")
    got = {r[0]: (round(r[1], 6), r[2]) for r in rows}
    assert got == {"431382": (25.0, 1), "431302": (round(100 * 3500 / 15000, 6), 2), "431321": (20.0, 3),
                   "431381": (5.0, 4)}


# -- the workbook and the HTML report --------------------------------------------------------------

def test_the_workbook_marks_every_incomplete_total(wh):
    from openpyxl import load_workbook

    wb = load_workbook(wh["home"].current / "parkstat.xlsx", read_only=False)
    marked_sheets = []
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        if not rows or rows[0][0] != "完整性":
            continue
        marked_sheets.append(ws.title)
        for i, row in enumerate(rows[1:], 2):
            mark = row[0]
            if mark is None:  # no aggregate: a single region's own figures
                assert "region" in row, (ws.title, i, row)
                continue
            assert mark == "完整" or mark.startswith("不完整（已报 "), (ws.title, i, row)
    assert {"重点项目投资进度", "园区占比对比", "县市区及县域占比", "重点项目分组投资", "项目开工竣工"} <= set(marked_sheets)

    def row_of(sheet: str, *values) -> tuple[int, tuple]:
        found = [(i, r) for i, r in enumerate(wb[sheet].iter_rows(values_only=True), 1)
                 if all(v in r for v in values)]
        assert len(found) == 1, (sheet, values, found)
        return found[0]

    i, r = row_of("重点项目投资进度", "2022-04", "永州市", "city")
    assert r[0] == "不完整（已报 1/11；未报项目 11）"
    cell = wb["重点项目投资进度"].cell(row=i, column=1)
    assert cell.fill.fgColor.rgb == "FFFFC7CE" and cell.font.b  # shown as a warning, not plain text
    i, r = row_of("重点项目投资进度", "2022-02", "永州市", "city")
    assert r[0] == "完整"
    assert wb["重点项目投资进度"].cell(row=i, column=1).fill.fgColor.rgb != "FFFFC7CE"
    _, r = row_of("园区占比对比", "2021-12", "娄底市", "tax")
    assert r[0] == "不完整（已报 1/1；园区 3/4）"
    _, r = row_of("县市区及县域占比", "2021-12", "county_domain", "gdp", "娄底市县域")
    assert r[0] == "不完整（已报 1/1；县市区 3/4）"


class _Dom(HTMLParser):
    """The dumped DOM as tables (rows of (class, text) cells) and SVG text labels."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[list[tuple[str, str]]]] = []
        self.labels: list[str] = []
        self._cell: list | None = None
        self._label: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables and self.tables[-1]:
            self._cell = [a.get("class") or "", ""]
        elif tag == "text":
            self._label = [""]

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(tuple(self._cell))
            self._cell = None
        elif tag == "text" and self._label is not None:
            self.labels.append(self._label[0])
            self._label = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1] += data
        if self._label is not None:
            self._label[0] += data


def test_the_html_report_never_shows_an_incomplete_total_unmarked(wh, tmp_path):
    report = wh["home"].current / "report.html"
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "Chromium is needed for this test: `apt-get install chromium` (.ci/run does it)"
    done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", report.as_uri()],
                          check=True, capture_output=True, timeout=120)
    dom = _Dom()
    dom.feed(done.stdout.decode("utf-8"))
    assert dom.tables and dom.labels
    marked_tables = [t for t in dom.tables if t and t[0] and t[0][0][1] == "完整性"]
    assert len(marked_tables) >= 2, "the investment and the starts tables lead with 完整性"
    seen = {}
    for table in marked_tables:
        for row in table[1:]:
            (cls, mark), texts = row[0], [t for _, t in row]
            assert mark == "完整" or (cls == "incomplete" and re.match(r"不完整（已报 \d+/\d+", mark)), row
            for region in ("永州市", "湖南省", "祁阳市"):
                if region in texts:
                    seen.setdefault(region, []).append(mark)
    # 1-5月, the latest: 祁阳 alone of 永州's eleven counties
    assert seen["永州市"] and all(m.startswith("不完整（已报 1/11") for m in seen["永州市"]), seen
    assert seen["湖南省"] and all(m.startswith("不完整（已报 1/11") for m in seen["湖南省"]), seen
    assert seen["祁阳市"] and all(m == "不完整（已报 1/1；未报项目 1）" for m in seen["祁阳市"]), seen
    # the charts' labels: never the bare name of an incomplete total
    for name in ("永州市", "娄底市", "祁阳市"):
        labels = [t for t in dom.labels if t.startswith(name)]
        assert labels, (name, dom.labels)
        assert all("不完整（已报 " in t for t in labels), (name, labels)
    assert any(t.startswith("永州市（不完整（已报 1/11") for t in dom.labels)
    assert any(t.startswith("娄底市（不完整（已报 1/1；园区 3/4") for t in dom.labels)
