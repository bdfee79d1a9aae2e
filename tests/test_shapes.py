"""Well-formed files in every shape the contract lists, each taken in with the
right values in 万元 — a fixed corpus for every report kind, and files drawn at
random (hypothesis) from the contract's shapes that no one wrote by hand."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import reference
from ingest.pipeline import ingest_landing
from ingest.synthetic.shapes import PERIOD_STYLES, period_text
from tests.conftest import csv_bytes, drop, ledger_rows, make_home, workbook, xls_bytes, xlsx_bytes

REGISTRY = [["园区代码", "园区名称", "所属地区代码", "园区级别", "规划面积（亩）"],
            ["431300-ETDZ", "娄底经济技术开发区", "431302", "国家级", "30,000"],
            ["431300-LSJ", "冷水江经济开发区", "431381", "省级", "１２０００"]]


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setenv("PARKSTAT_NOW", "2023-06-15T09:00:00")


def take(home, submitter: str, name: str, data: bytes, with_registry: bool = True):
    if with_registry:
        drop(home, "431300", "名录.csv", csv_bytes(REGISTRY))
    drop(home, submitter, name, data)
    receipts = {r.file_name: r for r in ingest_landing(home).receipts}
    r = receipts[name]
    assert r.status in ("accepted", "accepted_with_warnings"), r.text()
    return r


# -- key projects (重点项目进度) ------------------------------------------------------

PROJECT_ROWS = [("XM-001", "冷钢技改", "431381", "431300-LSJ", "改建和技术改造", "续建", 50000.0, 12000.0, 4100.0,
                 dt.date(2021, 3, 1)),
                ("XM-002", "新材料产业园", "431381", None, "新建", "新开工", 80000.0, 20000.0, 2500.0, None)]


def project_values(home):
    return ledger_rows(home, """select project_code, project_name, region_code, park_code, nature, stage,
                                       total_investment, annual_plan, ytd_completed, start_date
                                from project_progress order by project_code""")


PROJECT_SHAPES = {
    "csv_plain": csv_bytes([
        ["统计期", "项目代码", "项目名称", "所属地区代码", "所属园区代码", "建设性质", "项目阶段", "总投资",
         "年度计划投资", "本年累计完成投资", "开工日期"],
        ["2022年1-4月", "XM-001", "冷钢技改", "431381", "431300-LSJ", "改建和技术改造", "续建", "50,000", "12000", "4100",
         "2021-03-01"],
        ["2022年1-4月", "XM-002", "新材料产业园", "431381", "—", "新建", "新开工", "80000", "20000", "2500", "/"]]),
    # the seeds' layout: a title, a unit line, and 投资情况 merged over plan and completion, in 亿元
    "xlsx_merged_yi": xlsx_bytes([
        ["2022年1-4月冷水江市重点产业项目建设进度表"], ["单位：万元"],
        ["统计期", "项目代码", "项目名称", "所属地区代码", "所属园区代码", "建设性质", "项目状态", "总 投 资",
         "投资情况（亿元）", None, "开工时间"],
        [None, None, None, None, None, None, None, None, "年度计划", "累计完成", None],
        ["2022年4月", "XM-001", "冷钢技改", "431381", "431300-LSJ", "改建和技术改造", "续建", 50000, 1.2, 0.41,
         "2021年3月1日"],
        ["2022年4月", "XM-002", "新材料产业园", "431381", None, "新建", "新开工", 80000, 2, 0.25, None]],
        merges=["A3:A4", "B3:B4", "C3:C4", "D3:D4", "E3:E4", "F3:F4", "G3:G4", "H3:H4", "I3:J3", "K3:K4"]),
    "xls_legacy_yuan": xls_bytes([
        ["重点项目进度"],
        ["统计期", "项目代码", "项目名称", "所属地区代码", "所属园区代码", "建设性质", "项目阶段", "总投资(元)",
         "年度计划投资(元)", "本年累计完成投资(元)", "开工日期"],
        ["202204", "XM-001", "冷钢技改", "431381", "431300-LSJ", "改建和技术改造", "续建", 500000000, 120000000,
         41000000, "2021-03-01"],
        ["202204", "XM-002", "新材料产业园", "431381", "", "新建", "新开工", 800000000, 200000000, 25000000, ""]],
        sheet="重点项目"),
    "traditional_gb18030": csv_bytes([
        ["統計期", "項目代碼", "項目名稱", "所屬地區代碼", "所屬園區代碼", "建設性質", "項目階段", "總投資（億元）",
         "年度計劃投資", "本年累計完成投資", "開工日期"],
        ["2022.4", "XM-001", "冷钢技改", "431381", "431300-LSJ", "改建和技术改造", "续建", "5", "12000", "4100",
         "2021/3/1"],
        ["2022.4", "XM-002", "新材料产业园", "431381", "无", "新建", "新开工", "8", "20000", "2500", "-"]], "gb18030"),
    "english_utf8_bom": csv_bytes(bom=True, rows=[
        ["period", "project_code", "project_name", "region_code", "park_code", "nature", "stage",
         "total_investment", "annual_plan", "ytd_completed", "start_date"],
        ["2022-04", "XM-001", "冷钢技改", "431381", "431300-LSJ", "改建和技术改造", "续建", "50000", "12000", "4100",
         "2021-03-01"],
        ["2022-04", "XM-002", "新材料产业园", "431381", "", "新建", "新开工", "80000", "20000", "2500", ""]]),
}


@pytest.mark.parametrize("shape", list(PROJECT_SHAPES))
def test_key_project_reports_in_every_shape(home, shape):
    name = "项目." + ("xlsx" if "xlsx" in shape else "xls" if "xls_" in shape else "csv")
    r = take(home, "431381", name, PROJECT_SHAPES[shape])
    assert r.report_kind == "project_progress" and r.row_count == 2
    got = project_values(home)
    assert [g[:6] for g in got] == [p[:6] for p in PROJECT_ROWS]
    for g, p in zip(got, PROJECT_ROWS):
        assert g[6:9] == pytest.approx(p[6:9])
        assert g[9] == p[9]
    assert ledger_rows(home, "select distinct period from project_progress") == [("2022-04",)]


def test_the_sheet_that_names_the_kind_is_read(home):
    data = workbook([("填表说明", [["请按要求填写"]], "visible"),
                     ("園區指標", [["统计期", "园区代码", "税收"], ["2022-04", "431300-ETDZ", 12]], "visible")])
    take(home, "431300", "workbook.xlsx", data)
    assert ledger_rows(home, "select f.sheet, iv.value_wan from indicator_values iv join files f using (file_id)") \
        == [("園區指標", 12.0)]


def test_registry_values_and_area(home):
    take(home, "431300", "名录.csv", csv_bytes(REGISTRY), with_registry=False)
    assert ledger_rows(home, "select park_code, region_code, park_level, area_mu from park_registry order by 1") == [
        ("431300-ETDZ", "431302", "国家级", 30000.0), ("431300-LSJ", "431381", "省级", 12000.0)]


def test_every_period_format_and_the_missing_markers_in_one_region_file(home):
    rows = [["地区代码", "统计期", "地区生产总值", "税收"]]
    formats = ["2022-04", "202205", "2022.6", "2022年7月", "2022年1-8月", "2022年1—9月", "2021", "2020年"]
    for i, p in enumerate(formats):
        rows.append(["431300", p, str(1000 + i), ["—", "-", "/", "无", "", " — ", "１", "２"][i]])
    take(home, "431300", "地区.csv", csv_bytes(rows, "gbk"), with_registry=False)
    got = ledger_rows(home, "select period, indicator, value_wan from indicator_values order by 1, 2")
    assert got == [("2020-12", "gdp", 1007.0), ("2020-12", "tax", 2.0), ("2021-12", "gdp", 1006.0),
                   ("2021-12", "tax", 1.0), ("2022-04", "gdp", 1000.0), ("2022-05", "gdp", 1001.0),
                   ("2022-06", "gdp", 1002.0), ("2022-07", "gdp", 1003.0), ("2022-08", "gdp", 1004.0),
                   ("2022-09", "gdp", 1005.0)]


def test_january_and_february_together(home):
    take(home, "431300", "1-2.csv", csv_bytes([["统计期", "地区代码", "地区生产总值"], ["2022年1-2月", "431300", "300"],
                                              ["2022年1-3月", "431300", "480"]]), with_registry=False)
    assert ledger_rows(home, "select period, value_wan from indicator_values order by 1") == [
        ("2022-02", 300.0), ("2022-03", 480.0)]


def test_usd_in_yi_dollars_with_the_year_rate(home):
    take(home, "431300", "trade.csv", csv_bytes([["单位：万元"], ["统计期", "园区代码", "进出口总额（亿美元）", "税收"],
                                                 ["2021", "431300-LSJ", "1.5", "300"]]))
    assert ledger_rows(home, "select indicator, value_wan, original_value, original_unit from indicator_values "
                             "order by 1") == [("import_export", pytest.approx(1.5 * 10000 * 6.4515), "1.5", "亿美元"),
                                               ("tax", 300.0, "300", "万元")]


def test_a_merged_cell_unit_beats_the_unit_line(home):
    take(home, "431300", "merged.xlsx", xlsx_bytes([
        ["单位：元"], ["统计期", "园区代码", "主要指标（亿元）", None, "税收"], [None, None, "园区生产总值", "进出口总额", None],
        ["2022-04", "431300-ETDZ", 1.25, 0.5, 1000000]], merges=["A2:A3", "B2:B3", "C2:D2", "E2:E3"]))
    assert ledger_rows(home, "select indicator, value_wan from indicator_values order by 1") == [
        ("gdp", 12500.0), ("import_export", 5000.0), ("tax", 100.0)]


def test_a_title_right_above_the_header_is_not_a_merged_header_row(home):
    # found by the random shapes below: the title's "（第1页）" was read as the unit of the cells under it
    take(home, "431300", "t.xlsx", xlsx_bytes([["2018年园区主要经济指标（第1页）"], ["period", "park_code", "gdp"],
                                               ["2018-01", "431300-ETDZ", 5]]))
    assert ledger_rows(home, "select value_wan from indicator_values") == [(5.0,)]


# -- files nobody wrote by hand: random combinations of the contract's shapes -----------

HEADERS = {
    "simplified": {"period": "统计期", "park_code": "园区代码", "gdp": "园区生产总值", "tax": "税收",
                   "import_export": "进出口总额", "industrial_value_added": "规模以上工业增加值"},
    "traditional": {"period": "統計期", "park_code": "園區代碼", "gdp": "園區生產總值", "tax": "稅收",
                    "import_export": "進出口總額", "industrial_value_added": "規模以上工業增加值"},
    "english": {"period": "period", "park_code": "park_code", "gdp": "gdp", "tax": "tax",
                "import_export": "import_export", "industrial_value_added": "industrial_value_added"},
    "spaced": {"period": " 统 计 期 ", "park_code": "园区\n代码", "gdp": "园区生产\r\n总值", "tax": "税　收",
               "import_export": "进 出 口 总 额", "industrial_value_added": "规上工业\n增加值"},
}
UNIT_WORDS = {"元": Decimal("0.0001"), "万元": Decimal(1), "亿元": Decimal(10000)}
BRACKETS = [("（", "）"), ("(", ")"), ("[", "]"), ("【", "】")]
FULLWIDTH = str.maketrans("0123456789,.", "０１２３４５６７８９，．")


def drawn_period(year: int, month: int, style: int) -> str:
    """One of the generator's period spellings (the year ones for December only)."""
    styles = PERIOD_STYLES if month == 12 else [s for s in PERIOD_STYLES if not s.startswith("year")]
    return period_text(styles[style % len(styles)], year, month)


def number_text(v: Decimal, style: str) -> str:
    plain = format(v.normalize(), "f")
    if style == "thousands":
        whole, _, frac = plain.partition(".")
        return f"{int(whole):,}" + (f".{frac}" if frac else "")
    if style == "fullwidth":
        return plain.translate(FULLWIDTH)
    if style == "spaces":
        return f"  {plain} "
    return plain


@st.composite
def submissions(draw):
    lang = draw(st.sampled_from(sorted(HEADERS)))
    fmt = draw(st.sampled_from(["csv-utf8", "csv-bom", "csv-gbk", "csv-gb18030", "xlsx", "xls"]))
    unit_mode = draw(st.sampled_from(["none", "line", "header", "header-over-line"]))
    unit = draw(st.sampled_from(sorted(UNIT_WORDS)))
    indicators = draw(st.lists(st.sampled_from(["gdp", "tax", "industrial_value_added", "import_export"]),
                               min_size=1, max_size=4, unique=True))
    usd = "import_export" in indicators and draw(st.booleans())
    year = draw(st.integers(2018, 2022))
    months = draw(st.lists(st.integers(1, 12), min_size=1, max_size=3, unique=True))
    parks = draw(st.lists(st.sampled_from(["431300-ETDZ", "431300-LSJ"]), min_size=1, max_size=2, unique=True))
    titles = draw(st.integers(0, 2))
    blanks = draw(st.integers(0, 2))
    numbers = draw(st.sampled_from(["plain", "thousands", "fullwidth", "spaces"]))
    period_style = draw(st.integers(0, 7))
    values = {(p, m, i): Decimal(draw(st.integers(0, 10**9))) / 100 for p in parks for m in months for i in indicators}
    return dict(lang=lang, fmt=fmt, unit_mode=unit_mode, unit=unit, indicators=indicators, usd=usd, year=year,
                months=months, parks=parks, titles=titles, blanks=blanks, numbers=numbers,
                period_style=period_style, values=values)


def render(sub: dict) -> tuple[str, bytes, dict]:
    """The file, and the 万元 values ingest must store for it."""
    names = HEADERS[sub["lang"]]
    left, right = BRACKETS[sub["months"][0] % len(BRACKETS)]
    header_unit = sub["unit_mode"] in ("header", "header-over-line")
    unit = sub["unit"]
    if sub["lang"] == "traditional":
        unit_shown = unit.replace("万", "萬").replace("亿", "億")
    else:
        unit_shown = unit
    header = [names["period"], names["park_code"]]
    for ind in sub["indicators"]:
        h = names[ind]
        if ind == "import_export" and sub["usd"]:
            h += f"{left}万美元{right}"
        elif header_unit:
            h += f"{left}{unit_shown}{right}"
        header.append(h)
    rows: list[list] = [[f"{sub['year']}年园区主要经济指标（第{i + 1}页）"] for i in range(sub["titles"])]
    if sub["unit_mode"] == "line":
        rows.append([f"单位：{unit_shown}"])
    elif sub["unit_mode"] == "header-over-line":
        rows.append(["单位：亿元" if unit != "亿元" else "单位：元"])  # the header cell's unit must win
    rows += [[] for _ in range(sub["blanks"])]
    rows.append(header)
    expected = {}
    line_or_header = sub["unit_mode"] != "none"
    factor = UNIT_WORDS[unit] if line_or_header else Decimal(1)
    rate = Decimal(str(reference.usd_rates()[sub["year"]]))
    for p in sub["parks"]:
        for m in sub["months"]:
            row = [drawn_period(sub["year"], m, sub["period_style"] + m), p]
            for ind in sub["indicators"]:
                wan = sub["values"][(p, m, ind)]
                if ind == "import_export" and sub["usd"]:
                    shown = wan  # in 万美元
                    expected[(p, f"{sub['year']}-{m:02d}", ind)] = float(wan * rate)
                else:
                    shown = wan / factor
                    expected[(p, f"{sub['year']}-{m:02d}", ind)] = float(wan)
                row.append(number_text(shown, sub["numbers"]))
            rows.append(row)
    fmt = sub["fmt"]
    if fmt == "xlsx":
        return "report.xlsx", xlsx_bytes(rows), expected
    if fmt == "xls":
        return "report.xls", xls_bytes(rows), expected
    enc = {"csv-utf8": "utf-8", "csv-bom": "utf-8-sig", "csv-gbk": "gbk", "csv-gb18030": "gb18030"}[fmt]
    return "report.csv", csv_bytes(rows, enc), expected


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(sub=submissions())
def test_files_in_random_contract_shapes_are_taken_in_with_the_right_wan(sub):
    name, data, expected = render(sub)
    with tempfile.TemporaryDirectory() as tmp:
        home = make_home(Path(tmp) / "wh")
        r = take(home, "431300", name, data)
        assert r.report_kind == "park_indicators"
        got = {(e, p, i): v for e, p, i, v in ledger_rows(
            home, "select entity_code, period, indicator, value_wan from indicator_values")}
        assert got.keys() == expected.keys(), r.text()
        for k, v in expected.items():
            assert float(got[k]) == pytest.approx(v, rel=1e-9, abs=1e-9), (k, r.text())
