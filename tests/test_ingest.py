"""Ingest on real files (GBK/GB18030/UTF-8 CSV, XLSX) into a real ledger:
every shape taken in with the right 万元 values, every bad file rejected whole
with its reason on the receipt, and the ledger's data unchanged by a rejection."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ingest.pipeline import ingest_landing
from tests.conftest import csv_bytes, drop, ledger_rows, xlsx_bytes

REGISTRY = [["园区代码", "园区名称", "所属地区代码", "园区级别"],
            ["431300-ETDZ", "娄底经济技术开发区", "431302", "国家级"],
            ["431300-LSJ", "冷水江经济开发区", "431381", "省级"]]


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setenv("PARKSTAT_NOW", "2023-06-15T09:00:00")


def registered(home):
    drop(home, "431300", "名录.csv", csv_bytes(REGISTRY))
    s = ingest_landing(home)
    assert [r.status for r in s.receipts] == ["accepted"]
    return home


def values(home):
    return sorted(ledger_rows(home, "select entity_code, period, indicator, value_wan from indicator_values"))


@pytest.mark.parametrize("name,data", [
    ("gbk_title_unit_line.csv", csv_bytes([["2020年娄底市园区主要经济指标"], ["单位：亿元"], [],
                                            ["统计期", "园区代码", "园区生产总值", "税收"],
                                            ["2020年", "431300-ETDZ", "12.5", "1.25"]], "gbk")),
    # the unit line in other ways clerks write it: in brackets, after a space, in the title; an office's
    # 填报单位 above the table is not a unit
    ("unit_line_in_brackets.csv", csv_bytes([["2020年娄底市园区主要经济指标"], ["单位（亿元）"],
                                             ["统计期", "园区代码", "园区生产总值", "税收"],
                                             ["2020年", "431300-ETDZ", "12.5", "1.25"]], "gbk")),
    ("unit_line_after_a_space.csv", csv_bytes([["单位 亿元", "填报单位：娄底市发改委"],
                                               ["统计期", "园区代码", "园区生产总值", "税收"],
                                               ["2020年", "431300-ETDZ", "12.5", "1.25"]])),
    ("unit_in_the_title.xlsx", xlsx_bytes([["2020年娄底市园区主要经济指标（亿元）"],
                                           ["统计期", "园区代码", "园区生产总值", "税收"],
                                           ["2020年", "431300-ETDZ", 12.5, 1.25]])),
    ("an_office_is_not_a_unit.csv", csv_bytes([["填报单位：娄底市发展和改革委员会", "单位（盖章）："],
                                               ["统计期", "园区代码", "园区生产总值", "税收"],
                                               ["2020年", "431300-ETDZ", "125000", "12500"]])),
    ("gb18030_header_units.csv", csv_bytes([["统计期", "园区代码", "园区生产总值（元）", "税收(元)"],
                                            ["2020", "431300-ETDZ", "1,250,000,000", "125,000,000"]], "gb18030")),
    ("utf8_bom_english.csv", b"\xef\xbb\xbf" + csv_bytes([["period", "park_code", "gdp", "tax"],
                                                          ["2020-12", "431300-ETDZ", "125000", "12500"]])),
    ("traditional.xlsx", xlsx_bytes([["2020年婁底市園區指標"], ["單位：萬元"],
                                     ["統計期", "園區代碼", "園區生產總值", "稅收"],
                                     ["2020年", "431300-ETDZ", 125000, 12500]])),
    ("merged_two_rows.xlsx", xlsx_bytes([["统计期", "园区代码", "主要指标（亿元）", None],
                                         [None, None, "园区生产总值", "税收"],
                                         ["2020", "431300-ETDZ", 12.5, 1.25]],
                                        merges=["A1:A2", "B1:B2", "C1:D1"])),
    # a two-row header's upper （亿元） speaks of the columns under it only: 税收 beside it is in 万元
    ("upper_row_unit_stays_with_its_columns.xlsx", xlsx_bytes([["统计期", "园区代码", "主要指标（亿元）", "税收"],
                                                               [None, None, "园区生产总值", None],
                                                               ["2020", "431300-ETDZ", 12.5, 12500]],
                                                              merges=["A1:A2", "B1:B2", "D1:D2"])),
    ("header_cell_beats_unit_line.csv", csv_bytes([["单位：元"], ["统计期", "园区代码", "园区生产总值（亿元）", "税收（万元）"],
                                                   ["2020", "431300-ETDZ", "12.5", "12500"]])),
    ("fullwidth_and_spaces.csv", csv_bytes([["统 计 期", "园区代码", "园区生产总值\n（万元）", "税收"],
                                            ["２０２０年", "431300-ETDZ", "１２５，０００", " 12,500 "]])),
])
def test_each_shape_is_taken_in_in_wan(home, name, data):
    registered(home)
    drop(home, "431300", name, data)
    s = ingest_landing(home)
    assert [(r.status, r.report_kind) for r in s.receipts] == [("accepted", "park_indicators")], \
        s.receipts[0].text()
    assert values(home) == [("431300-ETDZ", "2020-12", "gdp", 125000.0), ("431300-ETDZ", "2020-12", "tax", 12500.0)]


def test_usd_import_export_is_converted_and_the_original_kept(home):
    registered(home)
    drop(home, "431300", "ie.csv", csv_bytes([["统计期", "园区代码", "进出口总额（万美元）"],
                                              ["2020", "431300-ETDZ", "1000"]]))
    assert ingest_landing(home).receipts[0].status == "accepted"
    assert ledger_rows(home, "select value_wan, original_value, original_unit from indicator_values") == \
        [(Decimal("6897.6"), "1000", "万美元")]  # exact: 1000 × 6.8976


def test_retired_code_is_mapped_to_its_successor_with_a_warning(home):
    drop(home, "431100", "r.csv", csv_bytes([["统计期", "地区代码", "地区生产总值"], ["2021", "431121", "100"],
                                             ["2020", "431121", "90"]]))
    r = ingest_landing(home).receipts[0]
    assert r.status == "accepted_with_warnings"
    assert any(m.code == "region_mapped" and "431181" in m.en for m in r.messages)
    assert values(home) == [("431121", "2020-12", "gdp", 90.0), ("431181", "2021-12", "gdp", 100.0)]


def test_same_bytes_twice_are_processed_once(home):
    registered(home)
    data = csv_bytes([["period", "park_code", "gdp"], ["2020", "431300-ETDZ", "5"]])
    drop(home, "431300", "a.csv", data)
    drop(home, "431300", "copy-of-a.csv", data)
    s = ingest_landing(home)
    assert sorted(r.status for r in s.receipts) == ["accepted", "duplicate"]
    drop(home, "431300", "again.csv", data)
    assert [r.status for r in ingest_landing(home).receipts] == ["duplicate"]
    assert values(home) == [("431300-ETDZ", "2020-12", "gdp", 5.0)]
    assert ledger_rows(home, "select count(distinct sha256), count(*) from files where report_kind = "
                             "'park_indicators' or status = 'duplicate'") == [(1, 3)]


def test_everything_is_archived_and_receipts_are_written(home):
    registered(home)
    drop(home, "431300", "bad.csv", csv_bytes([["period", "park_code", "gdp"], ["2020", "431300-ETDZ", "x"]]))
    r = ingest_landing(home).receipts[0]
    assert (home.archive / r.file_sha256[:2] / r.file_sha256).exists()
    assert not (home.landing / "431300" / "bad.csv").exists()
    txt = next((home.receipts / "431300").glob(f"*_{r.file_sha256[:12]}_*.txt")).read_text(encoding="utf-8")
    assert "已退回 / rejected" in txt and "第2行［gdp］ “x”：不是数字 / error row 2 [gdp]: not a number" in txt
    js = json.loads(next((home.receipts / "431300").glob(f"*_{r.file_sha256[:12]}_*.json")).read_text("utf-8"))
    assert js["status"] == "rejected" and js["messages"][0]["value"] == "x"


def test_every_problem_is_listed_not_just_the_first(home):
    registered(home)
    drop(home, "431300", "many.csv", csv_bytes([
        ["统计期", "园区代码", "园区生产总值", "税收"],
        ["2020", "431300-ETDZ", "abc", "-1"],
        ["2020-13", "431300-LSJ", "1", "1"],
        ["2020", "431300-XX", "1", "1"]]))
    r = ingest_landing(home).receipts[0]
    got = [(m.row, m.column, m.code) for m in r.messages]
    assert got == [(2, "园区生产总值", "not_a_number"), (2, "税收", "negative_money"), (3, "统计期", "bad_period"),
                   (4, "园区代码", "unknown_park")]


def test_a_partial_row_is_an_error_but_a_totals_row_is_skipped(home):
    registered(home)
    drop(home, "431300", "t.csv", csv_bytes([
        ["统计期", "园区代码", "园区生产总值"], ["2020", "431300-ETDZ", "1"], ["合计", "", "1"],
        ["", "431300-LSJ", "2"]]))
    r = ingest_landing(home).receipts[0]
    assert [(m.row, m.code) for m in r.messages] == [(3, "total_row"), (4, "missing_value")]


def test_unknown_submitter_folder_is_rejected(home):
    drop(home, "999999", "a.csv", csv_bytes([["period", "region_code", "gdp"], ["2020", "431300", "1"]]))
    r = ingest_landing(home).receipts[0]
    assert r.status == "rejected" and "the landing folder '999999' is not a valid division code" in r.text()


def test_county_may_not_report_a_park_of_another_county(home):
    registered(home)
    drop(home, "431381", "p.csv", csv_bytes([["period", "park_code", "gdp"], ["2020", "431300-ETDZ", "1"],
                                             ["2020", "431300-LSJ", "1"]]))
    r = ingest_landing(home).receipts[0]
    assert r.status == "rejected"
    assert [m.en for m in r.messages] == ["431381 may not report for 431302 (park 431300-ETDZ is registered in 431302)"]


def test_history_warnings(home):
    registered(home)
    drop(home, "431300", "a.csv", csv_bytes([["period", "region_code", "gdp"], ["2020-06", "431300", "100"],
                                             ["2019-06", "431300", "10"], ["2020-03", "431300", "120"]]))
    r = ingest_landing(home).receipts[0]
    codes = sorted(m.code for m in r.messages)
    assert codes == ["cumulative_fell", "yoy_above_300"], r.text()  # 2020-03 has no 2019-03 to compare
    drop(home, "431381", "b.csv", csv_bytes([["period", "region_code", "gdp"], ["2020-06", "431381", "50"]]))
    drop(home, "431300", "c.csv", csv_bytes([["period", "park_code", "gdp"], ["2020-06", "431300-LSJ", "70"]]))
    s = ingest_landing(home)
    park = [x for x in s.receipts if x.file_name == "c.csv"][0]
    assert any(m.code == "parks_above_region" and "431381 2020-06: parks sum to 70.00 万元, above the region's total"
               in m.en for m in park.messages), park.text()
    drop(home, "431300", "d.csv", csv_bytes([["period", "region_code", "gdp"], ["2020-06", "431381", "80"]]))
    conflict = ingest_landing(home).receipts[0]
    assert any(m.code == "conflict" and "431381 reported this figure too (50.00 万元)" in m.en
               for m in conflict.messages), conflict.text()


def test_history_warnings_read_what_earlier_files_left_standing(home):
    """An indicator file is compared with its own entities' series and its periods' sums as
    they will stand (ingest reads only those of the standing figures): the previous period
    and last year's from another file, a park the file does not carry in its region's sum,
    the parks' sum against a region total the file lowers — and not a park of the
    submitter's own earlier file that this one supersedes for the period, whose figures
    no longer hide another submitter's."""
    registered(home)

    def night(submitter: str, name: str, rows: list[list[str]], header=("period", "region_code", "gdp")):
        drop(home, submitter, name, csv_bytes([list(header), *rows]))
        return ingest_landing(home).receipts[0]

    parks = ("period", "park_code", "gdp")
    night("431300", "a.csv", [["2021-03", "431300", "80"], ["2021-06", "431300", "100"], ["2020-09", "431300", "10"]])
    assert night("431300", "b.csv", [["2021-06", "431300-ETDZ", "60"]], parks).messages == []
    c = night("431381", "c.csv", [["2021-06", "431300-LSJ", "50"]], parks)
    assert [(m.code, m.en) for m in c.messages] == [
        ("parks_above_region", "431300 2021-06: parks sum to 110.00 万元, above the region's total 100.00 万元 (gdp)")]
    d = night("431300", "d.csv", [["2021-09", "431300", "90"], ["2021-06", "431300", "95"]])
    assert [(m.code, m.row, m.en) for m in d.messages if m.code != "supersedes"] == [
        ("cumulative_fell", 2, "cumulative figure below the previous period's (2021-06: 95.00 万元)"),
        ("yoy_above_300", 2, "year-on-year growth above 300 % (same period last year: 10.00 万元)"),
        ("parks_above_region", None, "431300 2021-06: parks sum to 110.00 万元, above the region's total 95.00 万元 (gdp)")]
    # 431300's new park file for 2021-06 replaces b.csv's: 431300-ETDZ's 60 no longer stands, so the
    # parks sum to 40 (this file's 431300-LSJ, over 431381's 50), below the region's 95
    e = night("431300", "e.csv", [["2021-06", "431300-LSJ", "40"]], parks)
    assert [(m.code, m.en) for m in e.messages] == [
        ("conflict", "431381 reported this figure too (50.00 万元); this file's figure stands"),
        ("supersedes", "replaces file 3 (b.csv) for 2021-06 in: gdp; its other indicators stand")]
    # and its next one replaces e.csv: 431381's 50, which e.csv's 40 hid (the later file stands), stands
    # beside this one once e.csv is superseded — a conflict, as it was for e.csv
    f = night("431300", "f.csv", [["2021-06", "431300-LSJ", "45"]], parks)
    assert [(m.code, m.en) for m in f.messages] == [
        ("conflict", "431381 reported this figure too (50.00 万元); this file's figure stands"),
        ("supersedes", f"replaces file {e.file_id} (e.csv) for 2021-06 in: gdp; its other indicators stand")]


def test_a_later_file_supersedes_the_earlier_for_its_periods(home):
    drop(home, "431300", "v1.csv", csv_bytes([["period", "region_code", "gdp"], ["2020", "431300", "100"],
                                              ["2021", "431300", "110"]]))
    ingest_landing(home)
    drop(home, "431300", "v2.csv", csv_bytes([["period", "region_code", "gdp"], ["2020", "431300", "105"]]))
    ingest_landing(home)
    assert ledger_rows(home, """select f.file_name, fp.period, fp.superseded_by is not null from file_periods fp
                                join files f using (file_id) order by 1, 2""") == [
        ("v1.csv", "2020-12", True), ("v1.csv", "2021-12", False), ("v2.csv", "2020-12", False)]


def test_files_of_one_night_supersede_each_other_indicator_by_indicator(home):
    """Three files of one submitter in one run: each later one supersedes what the
    earlier ones stood for, indicator by indicator, in the ledger and in the receipts'
    notes — what an earlier file of the same run stands for is known without the
    ledger being read again (ingest keeps it as files are recorded)."""
    import os

    rows = {"a.csv": [["period", "region_code", "gdp", "tax"], ["2020", "431300", "100", "10"],
                      ["2021", "431300", "110", "11"]],
            "b.csv": [["period", "region_code", "gdp"], ["2020", "431300", "101"]],
            "c.csv": [["period", "region_code", "gdp", "tax"], ["2020", "431300", "102", "12"]]}
    for i, (name, table) in enumerate(rows.items()):
        os.utime(drop(home, "431300", name, csv_bytes(table)), ns=(10**18 + i, 10**18 + i))
    s = ingest_landing(home)
    ids = {r.file_name: r.file_id for r in s.receipts}
    assert [r.file_name for r in s.receipts] == ["a.csv", "b.csv", "c.csv"]
    notes = {r.file_name: [m.en for m in r.messages if m.code == "supersedes"] for r in s.receipts}
    assert notes == {"a.csv": [],
                     "b.csv": [f"replaces file {ids['a.csv']} (a.csv) for 2020-12 in: gdp; its other indicators stand"],
                     "c.csv": [f"replaces file {ids['a.csv']} (a.csv) for 2020-12 in: tax; its other indicators stand",
                               f"replaces file {ids['b.csv']} (b.csv) for 2020-12 in: gdp; its other indicators stand"]}
    assert ledger_rows(home, """select f.file_name, fp.period, fp.indicator, s.file_name from file_periods fp
                                join files f using (file_id) left join files s on s.file_id = fp.superseded_by
                                order by 1, 2, 3""") == [
        ("a.csv", "2020-12", "gdp", "b.csv"), ("a.csv", "2020-12", "tax", "c.csv"),
        ("a.csv", "2021-12", "gdp", None), ("a.csv", "2021-12", "tax", None),
        ("b.csv", "2020-12", "gdp", "c.csv"), ("c.csv", "2020-12", "gdp", None), ("c.csv", "2020-12", "tax", None)]


PROJECT_HEADER = ["统计期", "项目代码", "项目名称", "所属地区代码", "总投资", "年度计划投资", "本年累计完成投资"]


def project_file(period: str, *rows: tuple[str, str, float]) -> bytes:
    return csv_bytes([PROJECT_HEADER, *[[period, code, "项目", region, "9000", "1000", str(ytd)]
                                        for code, region, ytd in rows]])


def warnings_of(receipt) -> list[tuple[str, str]]:
    return [(m.code, m.en) for m in receipt.messages if m.severity == "warning"]


@pytest.mark.parametrize("one_batch", [False, True])
def test_project_warnings_follow_what_stands(home, one_batch):
    """Cumulative falls and other submitters' reports, against the figures that
    stand — across runs (read back from the ledger) and within one run (kept
    current as each file is recorded); a correction that drops a project takes
    its figure out of what stands."""
    import os

    files = [("431300", "03.csv", project_file("2023-03", ("XM1", "431302", 500), ("XM2", "431302", 50))),
             ("431300", "04.csv", project_file("2023-04", ("XM1", "431302", 400))),
             ("430000", "省04.csv", project_file("2023-04", ("XM1", "431302", 450))),
             ("431300", "03更正.csv", project_file("2023-03", ("XM2", "431302", 60))),
             ("431300", "04更正.csv", project_file("2023-04", ("XM1", "431302", 300)))]
    receipts = []
    for i, (who, name, data) in enumerate(files):
        path = drop(home, who, name, data)
        os.utime(path, (1_000_000 + i, 1_000_000 + i))  # the order they arrived in
        if not one_batch:
            receipts += ingest_landing(home).receipts
    if one_batch:
        receipts = ingest_landing(home).receipts
    by_name = {r.file_name: r for r in receipts}
    assert [r.status for r in receipts] == ["accepted", "accepted_with_warnings", "accepted_with_warnings",
                                            "accepted", "accepted_with_warnings"]
    assert warnings_of(by_name["04.csv"]) == [
        ("cumulative_fell", "cumulative figure below the previous period's (2023-03: 500.00 万元)")]
    assert warnings_of(by_name["省04.csv"]) == [
        ("cumulative_fell", "cumulative figure below the previous period's (2023-03: 500.00 万元)"),
        ("conflict", "431300 reported this project for this period too (400.00 万元); this file's figures stand")]
    # 03更正 leaves XM1 out of March: nothing to fall below; the province's April figure still stands beside it
    assert warnings_of(by_name["04更正.csv"]) == [
        ("conflict", "430000 reported this project for this period too (450.00 万元); this file's figures stand")]


def test_an_earlier_month_corrected_above_a_later_one_that_stands_is_warned(home):
    """A correction of April above May's standing figure makes May's own amount
    negative: the correction's receipt says so (the build's reconciliation test did, to the
    operator only)."""
    drop(home, "431300", "05.csv", project_file("2023-05", ("XM1", "431302", 1000), ("XM2", "431302", 800)))
    assert [r.status for r in ingest_landing(home).receipts] == ["accepted"]
    drop(home, "431300", "04更正.csv", project_file("2023-04", ("XM1", "431302", 1200), ("XM2", "431302", 700)))
    (r,) = ingest_landing(home).receipts
    assert r.status == "accepted_with_warnings"
    assert warnings_of(r) == [("cumulative_fell", "cumulative figure above the later period already reported "
                                                  "(2023-05: 1,000.00 万元): 2023-05's amount for the period turns "
                                                  "negative; check both")]
    (m,) = [m for m in r.messages if m.code == "cumulative_fell"]
    assert m.row == 2 and m.value == "1,200.00" and "累计数高于已报送的后一期（2023-05：1,000.00万元）" in m.zh


@pytest.mark.parametrize("one_batch", [False, True])
def test_a_project_file_is_checked_against_what_will_stand_once_it_is_accepted(home, one_batch):
    """A project file supersedes its submitter's earlier ones for its periods, every
    project of them: a project it leaves out of a period is compared with what stood
    before that period, not with the figure the file replaces there; and another
    submitter's figure that only the replaced one hid is a conflict."""
    import os

    def months(*rows: tuple[str, str, float]) -> bytes:
        return csv_bytes([PROJECT_HEADER, *[[period, code, "项目", "431302", "9000", "1000", str(ytd)]
                                            for period, code, ytd in rows]])

    files = [("430000", "省04.csv", months(("2023-04", "XM1", 450))),
             ("431300", "02-04.csv", months(("2023-02", "XM1", 100), ("2023-03", "XM1", 200),
                                            ("2023-04", "XM1", 400), ("2023-03", "XM2", 50))),
             # XM1 left out of March: its 150 in April is above February's 100 (March's 200 no longer stands)
             ("431300", "03-04更正.csv", months(("2023-03", "XM2", 60), ("2023-04", "XM1", 150)))]
    receipts = []
    for i, (who, name, data) in enumerate(files):
        os.utime(drop(home, who, name, data), (1_000_000 + i, 1_000_000 + i))
        if not one_batch:
            receipts += ingest_landing(home).receipts
    if one_batch:
        receipts = ingest_landing(home).receipts
    by_name = {r.file_name: r for r in receipts}
    conflict = ("conflict", "430000 reported this project for this period too (450.00 万元); this file's figures stand")
    assert warnings_of(by_name["02-04.csv"]) == [conflict]
    assert warnings_of(by_name["03-04更正.csv"]) == [conflict]
    assert ledger_rows(home, """select fp.period, s.file_name from file_periods fp join files f using (file_id)
                                left join files s on s.file_id = fp.superseded_by
                                where f.file_name = '02-04.csv' order by 1""") == [
        ("2023-02", None), ("2023-03", "03-04更正.csv"), ("2023-04", "03-04更正.csv")]


def test_a_municipality_reports_a_district_whose_listed_parent_is_not_in_the_list(home):
    # 500105 江北区 (until 2024) names 500100 as its parent, which the division
    # list does not hold: the chain goes on to 重庆市 by the code itself
    drop(home, "500000", "重庆2022.csv", csv_bytes([["统计期", "地区代码", "地区生产总值"], ["2022", "500105", "100"]]))
    [r] = ingest_landing(home).receipts
    assert r.status == "accepted", r.text()
    drop(home, "510000", "四川2022.csv", csv_bytes([["统计期", "地区代码", "地区生产总值"], ["2022", "500105", "100"]]))
    [r] = ingest_landing(home).receipts
    assert r.status == "rejected" and "510000 may not report for 500105" in r.text()


def test_a_ledger_of_contract_v1_is_migrated_in_place(tmp_path):
    """A ledger written before contract v2 (double money, whole-period
    supersession) opens migrated: exact decimals, each indicator file's periods
    per indicator with their earlier state, the new columns."""
    import datetime as dt

    import duckdb

    from ingest.ledger import Ledger

    path = tmp_path / "ingest.duckdb"
    con = duckdb.connect(str(path))
    con.execute("""
        create table files (file_id bigint primary key, sha256 varchar, submitter_code varchar, file_name varchar,
            size_bytes bigint, received_at timestamp, report_kind varchar, status varchar, duplicate_of bigint,
            row_count integer, error_count integer, warning_count integer, encoding varchar, sheet varchar,
            archive_path varchar);
        create table file_periods (file_id bigint not null, submitter_code varchar not null,
            report_kind varchar not null, period varchar not null, superseded_by bigint, superseded_at timestamp);
        create table indicator_values (file_id bigint not null, entity_type varchar not null,
            entity_code varchar not null, entity_name varchar, period varchar not null, indicator varchar not null,
            value_wan double, original_value varchar, original_unit varchar, row_number integer);
        create table project_progress (file_id bigint not null, period varchar not null, project_code varchar not null,
            project_name varchar, region_code varchar, park_code varchar, industry_chain varchar, nature varchar,
            stage varchar, total_investment double, annual_plan double, ytd_completed double, start_date date,
            row_number integer);
        create sequence file_id_seq start 3;
    """)
    at = dt.datetime(2024, 1, 1)
    con.execute("insert into files values (1,'a','431300','a.csv',1,?,'region_indicators','accepted',null,1,0,0,"
                "null,null,'x'), (2,'b','431300','b.csv',1,?,'region_indicators','accepted',null,1,0,0,null,null,"
                "'y')", [at, at])
    con.execute("insert into file_periods values (1,'431300','region_indicators','2022-12',2,?),"
                "(2,'431300','region_indicators','2022-12',null,null)", [at])
    con.execute("insert into indicator_values values (1,'region','431300',null,'2022-12','gdp',3994897.0000000005,"
                "'399.4897','亿元',2), (1,'region','431300',null,'2022-12','tax',5,'5',null,2),"
                "(2,'region','431300',null,'2022-12','gdp',4000000,'400','亿元',2)")
    con.close()

    Ledger(path).close()
    con = duckdb.connect(str(path), read_only=True)
    try:
        types = dict(con.execute("""select table_name || '.' || column_name, data_type from duckdb_columns()
                                    where column_name in ('value_wan', 'ytd_completed', 'unit', 'indicator')""")
                     .fetchall())
        assert types == {"indicator_values.value_wan": "DECIMAL(38,10)", "project_progress.ytd_completed":
                         "DECIMAL(38,10)", "indicator_values.unit": "VARCHAR", "file_periods.indicator": "VARCHAR",
                         "indicator_values.indicator": "VARCHAR"}
        assert con.execute("select value_wan from indicator_values where file_id = 1 and indicator = 'gdp'"
                           ).fetchone() == (Decimal("3994897"),)  # the float's noise gone
        assert con.execute("select file_id, indicator, superseded_by from file_periods order by 1, 2").fetchall() \
            == [(1, "gdp", 2), (1, "tax", 2), (2, "gdp", None)]
        assert con.execute("select distinct unit from indicator_values").fetchall() == [("万元",)]
    finally:
        con.close()
    # opened again: nothing more to do, nothing changed
    Ledger(path).close()
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("select count(*) from file_periods").fetchone() == (3,)
    finally:
        con.close()


def test_a_batchs_project_rows_held_for_one_insert_are_read_by_the_run_and_lost_with_an_uncommitted_batch(tmp_path):
    """A batch's project rows and received periods go into the ledger with one insert when it
    commits (ingest/ledger.py); until then what the run reads of them — a year's standing series,
    the projects' owners — sees them, and a batch that never commits leaves none behind."""
    import datetime as dt

    import polars as pl

    from ingest.ledger import Ledger
    from ingest.series import ProjectSeries

    def project_file(led: Ledger, n: int, code: str) -> int:
        table = pl.DataFrame({"period": ["2024-03"], "project_code": [code], "region_code": ["431302"],
                              "ytd_completed": [100.0 * n], "row_number": [2]})
        return led.record(sha=f"{n:064d}", submitter="431300", file_name=f"{n}.csv", size=1,
                          received_at=dt.datetime(2024, 4, n), kind="project_progress", status="accepted",
                          duplicate_of=None, table=table, messages=[], period_rows={"2024-03": 1},
                          encoding="utf-8", sheet=None, archive_path="")

    def counts(path) -> tuple:
        led = Ledger(path)
        try:
            return tuple(led.con.execute(f"select count(*) from {t}").fetchone()[0]
                         for t in ("files", "project_progress", "received_periods"))
        finally:
            led.close()

    path = tmp_path / "ledger.duckdb"
    led = Ledger(path)
    led.begin_batch()
    project_file(led, 1, "XM1")
    series = ProjectSeries(led.con, before_read=led.flush_rows)  # as the project warnings make it
    assert series.standing(pl.DataFrame({"project_code": ["XM1"], "period": ["2024-03"]})).rows() == [
        ("XM1", "2024-03", 100.0, "431300")]
    project_file(led, 2, "XM2")
    assert led.project_owners() == {"XM1": "431302", "XM2": "431302"}
    project_file(led, 3, "XM3")
    led.close()  # the batch never committed
    assert counts(path) == (0, 0, 0)

    led = Ledger(path)
    led.begin_batch()
    for n, code in enumerate(("XM1", "XM2", "XM3"), 1):
        project_file(led, n, code)
    led.commit_batch()
    led.close()
    assert counts(path) == (3, 3, 3)


def test_a_formula_whose_saved_result_is_empty_text_is_an_empty_cell_not_a_missing_result(home):
    """=IF(…,"",…) saved by Excel: a string result that is empty (``t="str"`` with an empty
    ``<v>``) — the cell is empty, not a formula without its result (which Excel cannot fix by
    saving again)."""
    from tests.test_malformed_corpus import with_cell

    registered(home)
    data = with_cell(xlsx_bytes([["统计期", "园区代码", "园区生产总值", "税收", "备注"],
                                 ["2020", "431300-ETDZ", 125000, 12500, "x"]]), "E2",
                     '<c r="E2" t="str"><f>IF(1=1,"","x")</f><v></v></c>')
    drop(home, "431300", "备注为公式.xlsx", data)
    r = ingest_landing(home).receipts[0]
    assert r.status == "accepted", r.text()
    assert values(home) == [("431300-ETDZ", "2020-12", "gdp", 125000.0), ("431300-ETDZ", "2020-12", "tax", 12500.0)]


def test_a_csv_whose_lines_end_in_a_carriage_return_alone_is_read_line_by_line_saying_so(home):
    """Excel's "CSV (Macintosh)" ends each line with CR alone: Python's csv module refused the
    file with its own words ("new-line character seen in unquoted field")."""
    registered(home)
    text = "统计期,园区代码,园区生产总值,税收\r2020,431300-ETDZ,125000,12500\r"
    drop(home, "431300", "mac.csv", text.encode("gbk"))
    r = ingest_landing(home).receipts[0]
    assert r.status == "accepted", r.text()
    assert [m.code for m in r.messages] == ["line_endings"]
    assert "carriage return alone" in r.messages[0].en and "单独的回车符" in r.messages[0].zh
    assert values(home) == [("431300-ETDZ", "2020-12", "gdp", 125000.0), ("431300-ETDZ", "2020-12", "tax", 12500.0)]


def test_a_hidden_row_is_read_and_named_a_sheet_without_header_beside_the_table_is_named(home):
    """A row the clerk hid (to leave a project out?) is still a row of the file: read, and the
    receipt names it. A visible sheet holding cells but no header (a 续表 of the same table) is
    not read, and the receipt names it — neither was said before."""
    import io

    from openpyxl import load_workbook

    from tests.conftest import workbook

    registered(home)
    data = workbook([("Sheet1", [["统计期", "园区代码", "园区生产总值", "税收"], ["2020", "431300-ETDZ", 125000, 12500],
                                 ["2021", "431300-ETDZ", 130000, 13000]], "visible")], hidden_rows=[3])
    assert load_workbook(io.BytesIO(data)).active.row_dimensions[3].hidden
    drop(home, "431300", "隐藏行.xlsx", data)
    r = ingest_landing(home).receipts[0]
    assert r.status == "accepted_with_warnings", r.text()
    (m,) = [m for m in r.messages if m.code == "hidden_rows"]
    assert m.row == 3 and "第 3 行在工作表中被隐藏，仍按所填内容读取" in m.zh and "row(s) 3 are hidden" in m.en
    assert ("431300-ETDZ", "2021-12", "gdp", 130000.0) in values(home)

    drop(home, "431300", "续表.xlsx", workbook([
        ("Sheet1", [["统计期", "园区代码", "园区生产总值", "税收"], ["2022", "431300-ETDZ", 140000, 14000]], "visible"),
        ("续表", [["2023", "431300-ETDZ", 150000, 15000]], "visible"),
        ("填报说明", [["第2行起为数据；金额单位万元"]], "visible")]))  # a notes sheet is not a table left unread
    r = ingest_landing(home).receipts[0]
    assert r.status == "accepted_with_warnings", r.text()
    (m,) = [m for m in r.messages if m.code == "other_sheets_not_read"]
    assert "工作表 “续表” 有内容但没有表头，未读取（只读取“Sheet1”）" in m.zh and "sheet(s) 续表 hold cells" in m.en
    assert not [v for v in values(home) if v[1] == "2023-12"]
