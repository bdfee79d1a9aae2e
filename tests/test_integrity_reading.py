"""Issue 15 (items 5, 6, 9): nothing wrong published without a word.

Files that used to be stored wrong or rejected unclearly, through the real
``parkstat refresh`` (and ``parkstat check``): each either read right — the
published values checked — or rejected with its reason, Chinese and English,
on the receipt. Every receipt names the encoding (CSV) or the sheet (workbook)
it was read with."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from tests.conftest import csv_bytes, drop, encrypted, env_vars, make_home, query, refresh, workbook, xlsx_bytes

NOW = "2025-11-15T09:00:00"
PARK_H = ["统计期", "园区代码", "园区生产总值"]
# a short register in GBK under an English header: its bytes read as Big5 too (新园 as 陔埶)
REGISTER = [["park_code", "park_name", "region_code"], ["431300-ETDZ", "娄底经开区", "431302"],
            ["431300-LSJ", "冷水江园", "431381"], ["431300-XY", "新园", "431302"]]


def park(*rows: list, encoding: str = "utf-8") -> bytes:
    return csv_bytes([PARK_H, *rows], encoding)


ACCEPTED = {  # file name -> (bytes, period, figure in 万元 published for 431300-ETDZ)
    "date_cell.xlsx": (xlsx_bytes([PARK_H, [dt.datetime(2024, 3, 31, 13, 5), "431300-ETDZ", 100]]), "2024-03", 100),
    "merged_period.xlsx": (xlsx_bytes([PARK_H, ["2024-04", "431300-ETDZ", 200], [None, "431300-LSJ", 210]],
                                      merges=["A2:A3"]), "2024-04", 200),
    "footer.csv": (csv_bytes([PARK_H, ["2024-05", "431300-ETDZ", "300"], ["注：本表为快报数", "", ""],
                              ["2. 含税收入", "", ""], ["填报人：张三", "", "联系电话：0738-8311234"]]), "2024-05", 300),
    "late_header.csv": (csv_bytes([[f"填报说明第{i}条"] for i in range(1, 46)] + [PARK_H, ["2024-06", "431300-ETDZ", "400"]]),
                        "2024-06", 400),
    "utf16_no_bom.csv": ("统计期,园区代码,园区生产总值\n2024-07,431300-ETDZ,500\n".encode("utf-16-le"), "2024-07", 500),
    "bom_gbk.csv": (b"\xef\xbb\xbf" + park(["2024-08", "431300-ETDZ", "600"], encoding="gbk"), "2024-08", 600),
    "semicolon.csv": ("2024年娄底市园区指标，单位：亿元\n统计期;园区代码;园区生产总值\n2024-09;431300-ETDZ;0.07\n".encode(),
                      "2024-09", 700),
    "ctrl_z.csv": (park(["2024-10", "431300-ETDZ", "800"]) + b"\x1a", "2024-10", 800),
    "zero_width.csv": (csv_bytes([["统计期", "园区\u200b代码", "园区生产总值"], ["2024-11", "431300-ETDZ\u200b", "900"]]),
                       "2024-11", 900),
    "unit_in_header_row.csv": (csv_bytes([PARK_H + ["单位：亿元"], ["2024-12", "431300-ETDZ", "0.1"]]), "2024-12", 1000),
    "dot_period.csv": (park(["2025.10", "431300-ETDZ", "2000"]), "2025-10", 2000),
    "hidden_stale.xlsx": (workbook([("园区指标", [PARK_H, ["2025-01", "431300-ETDZ", 1]], "hidden"),
                                    ("Sheet2", [PARK_H, ["2025-01", "431300-ETDZ", 1100]], "visible")]), "2025-01", 1100),
}

# file name -> (bytes, code, Chinese fragment, English fragment, row)
REJECTED = {
    "numeric_dot_period.xlsx": (xlsx_bytes([PARK_H, [2025.10, "431300-ETDZ", 1]]), "ambiguous_period",
                                "可能是 2025年1月，也可能是被表格存成数字的 2025.10", "January 2025, or 2025.10 (October)", 2),
    "day_32.csv": (park(["2025-08-32", "431300-ETDZ", "1"]), "bad_period", "不是有效的日期", "is not a valid date", 2),
    "decimal_comma.csv": (park(["2025-06", "431300-ETDZ", "3,5"]), "ambiguous_number", "逗号只能用作千位分隔符",
                          "a comma is read only as a thousands separator", 2),
    "percent_cell.xlsx": (workbook([("Sheet1", [PARK_H, ["2025-06", "431300-ETDZ", 0.12]], "visible")],
                                   formats={"C2": "0%"}), "percent_in_money", "金额不能是百分比",
                          "a money figure cannot be a percentage", 2),
    "formula.xlsx": (xlsx_bytes([PARK_H, ["2025-06", "431300-ETDZ", "=2*50"]]), "formula_without_value",
                     "单元格 C2 是公式（=2*50），但没有保存计算结果", "cell C2 holds a formula (=2*50) with no saved result", 2),
    "two_sheets.xlsx": (workbook([("一月", [PARK_H, ["2025-01", "431300-ETDZ", 1]], "visible"),
                                  ("二月", [PARK_H, ["2025-02", "431300-ETDZ", 2]], "visible")]), "several_sheets",
                        "工作簿有 2 个数据表（“一月”、“二月”），一个文件只能报送一个表", "the workbook has 2 data sheets (一月, 二月)",
                        None),
    "password.xlsx": (encrypted(xlsx_bytes([PARK_H, ["2025-06", "431300-ETDZ", 1]])), "password_protected",
                      "工作簿设有打开密码", "the workbook is password-protected (encrypted)", None),
    "bom_only.csv": (b"\xef\xbb\xbf", "unreadable", "文件只有字节序标记（BOM）", "holds only a byte-order mark", None),
    "march_april.csv": (park(["2024年3-4月", "431300-ETDZ", "1"]), "bad_period", "不是自年初起的累计",
                        "does not start in January", 2),
    "usd_2024.csv": (csv_bytes([["统计期", "园区代码", "进出口总额（万美元）"], ["2024", "431300-ETDZ", "100"]]), "bad_unit",
                     "没有 2024 年的美元汇率，无法折算（汇率表为 2018–2023 年）：请将该列折算为万元后报送",
                     "no CNY/USD rate for 2024 to convert with (the rate table covers 2018–2023): send this column in 万元",
                     2),
    "huge.csv": (park(["2025-06", "431300-ETDZ", "1e300"]), "not_a_number", "数值过大（不小于 10^16）",
                 "the number is too large (10^16 or more)", 2),  # it once stopped every later build (money_sum)
    "hidden_only.xlsx": (workbook([("旧表", [PARK_H, ["2025-01", "431300-ETDZ", 1]], "hidden"),
                                   ("空", [], "visible")]), "no_header", "找不到可识别的表头", "no recognisable header", None),
}


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    with env_vars(PARKSTAT_NOW=NOW):
        home = make_home(tmp_path_factory.mktemp("integrity") / "wh")
        drop(home, "431300", "register.csv", csv_bytes(REGISTER, "gbk"))
        for name, (data, *_rest) in {**ACCEPTED, **REJECTED}.items():
            drop(home, "431300", name, data)
        assert refresh(home)
        receipts = {}
        for path in (home.receipts / "431300").glob("*.json"):
            body = json.loads(path.read_text(encoding="utf-8"))
            receipts[body["file_name"]] = (body, path.with_suffix(".txt").read_text(encoding="utf-8"))
        yield {"home": home, "receipts": receipts}


def test_a_short_gbk_register_is_read_as_gb18030_and_says_so(night):
    data = csv_bytes(REGISTER, "gbk")
    assert data.decode("big5") != data.decode("gbk")  # the file Big5 used to win
    body, txt = night["receipts"]["register.csv"]
    assert body["status"] == "accepted" and body["encoding"] == "GB18030"
    assert "编码 / encoding:      GB18030" in txt
    assert query(night["home"], "select encoding, sheet from marts.submission_receipts where file_name = ?",
                 ["register.csv"]) == [("GB18030", None)]
    names = dict(query(night["home"], "select park_code, park_name from core.dim_park"))
    assert names == {"431300-ETDZ": "娄底经开区", "431300-LSJ": "冷水江园", "431300-XY": "新园"}


@pytest.mark.parametrize("name", ACCEPTED)
def test_each_file_is_read_right_and_published(night, name):
    _data, period, figure = ACCEPTED[name]
    body, txt = night["receipts"][name]
    assert body["status"] == "accepted", txt
    if name.endswith(".xlsx"):
        assert body["sheet"] and "工作表 / sheet:" in txt and body["encoding"] is None
    else:
        assert body["encoding"] and "编码 / encoding:" in txt and body["sheet"] is None
    got = query(night["home"], """select value from core.fct_indicator_values where entity_type = 'park'
                                   and entity_code = '431300-ETDZ' and indicator = 'gdp' and period = ?""", [period])
    assert got == [(Decimal(figure),)]


NOTES = {  # what the receipt says of the reading, Chinese and English
    "merged_period.xlsx": ("merged_cells", "纵向合并的单元格（A2:A3）的值已用于其中每一行", "merged down over several rows (A2:A3)"),
    "footer.csv": ("footer_skipped", "第 3–5 行是表尾（注：本表为快报数；2. 含税收入；填报人：张三），未作为数据读取",
                   "row(s) 3–5 are the table's footer"),
    "utf16_no_bom.csv": ("encoding", "无字节序标记（BOM）的 UTF-16LE", "UTF-16LE without a byte-order mark"),
    "bom_gbk.csv": ("encoding", "内容却是 GB18030 编码：已按 GB18030 读取", "but its text is GB18030: read as GB18030"),
    "ctrl_z.csv": ("end_of_file_mark", "^Z（0x1A）已忽略", "^Z (0x1A) at the end of the file was ignored"),
    "zero_width.csv": ("invisible_characters", "已删除第 1、2 行中的零宽字符", "were removed from row(s) 1, 2"),
    "hidden_stale.xlsx": ("hidden_sheet", "已忽略隐藏的工作表：园区指标", "hidden sheet(s) ignored: 园区指标"),
}


@pytest.mark.parametrize("name", NOTES)
def test_what_reading_did_is_on_the_receipt(night, name):
    code, zh, en = NOTES[name]
    body, txt = night["receipts"][name]
    notes = [m for m in body["messages"] if m["code"] == code]
    assert notes and notes[0]["severity"] == "note", txt
    assert zh in notes[0]["zh"] and en in notes[0]["en"]
    assert zh in txt and en in txt
    assert body["warning_count"] == 0 and body["error_count"] == 0  # notes are neither


def test_the_published_values_of_the_special_layouts(night):
    home = night["home"]
    # both rows under the merged 统计期; the stale hidden sheet's figure (1) nowhere
    assert query(home, """select entity_code, value from core.fct_indicator_values
                          where period = '2024-04' order by 1""") == [("431300-ETDZ", Decimal(200)),
                                                                        ("431300-LSJ", Decimal(210))]
    assert query(home, "select count(*) from core.fct_indicator_values where value = 1") == [(0,)]
    body, _ = night["receipts"]["hidden_stale.xlsx"]
    assert body["sheet"] == "Sheet2"
    assert query(home, "select encoding, sheet from marts.submission_receipts where file_name = 'hidden_stale.xlsx'"
                 ) == [(None, "Sheet2")]
    assert query(home, "select encoding from marts.submission_receipts where file_name = 'utf16_no_bom.csv'"
                 ) == [("UTF-16LE",)]
    # the unit in the header row and the unit line above a ';' table: 亿元
    assert query(home, """select original_value, original_unit from core.fct_indicator_values
                          where period in ('2024-09', '2024-12') order by period""") == [
        ("0.07", "亿元"), ("0.1", "亿元")]


@pytest.mark.parametrize("name", REJECTED)
def test_each_file_is_rejected_with_its_reason(night, name):
    _data, code, zh, en, row = REJECTED[name]
    body, txt = night["receipts"][name]
    assert body["status"] == "rejected", txt
    ours = [m for m in body["messages"] if m["code"] == code]
    assert ours, txt
    assert zh in ours[0]["zh"] and en in ours[0]["en"], ours[0]
    assert ours[0]["row"] == row
    assert zh in txt and en in txt and "已退回" in txt
    assert "\n" not in ours[0]["en"]  # one line, whatever the library said


def test_nothing_of_the_rejected_files_reached_the_warehouse(night):
    periods = {p for (p,) in query(night["home"], "select distinct period from core.fct_indicator_values")}
    assert periods == {p for _d, p, _f in ACCEPTED.values()}


def _check(home, path, code="431300"):
    res = CliRunner().invoke(app, ["check", str(path), "--as", code, "--home", str(home.root), "--json"])
    return res.exit_code, json.loads(res.stdout)


def test_parkstat_check_names_the_encoding_the_sheet_and_the_reasons(night, tmp_path):
    home = night["home"]
    with env_vars(PARKSTAT_NOW=NOW):
        for name, (data, code, zh, en, _row) in REJECTED.items():
            p = tmp_path / name
            p.write_bytes(data)
            exit_code, body = _check(home, p, "431302")  # the county of 431300-ETDZ: not a duplicate of the night's
            assert exit_code == 1 and body["status"] == "rejected"
            assert any(m["code"] == code and zh in m["zh"] and en in m["en"] for m in body["messages"]), body
        p = tmp_path / "gbk.csv"
        p.write_bytes(park(["2025-06", "431300-XY", "5"], encoding="gbk"))
        assert _check(home, p) == (0, _check(home, p)[1])
        assert _check(home, p)[1]["encoding"] == "GB18030"
        p = tmp_path / "book.xlsx"
        p.write_bytes(workbook([("数据", [PARK_H, ["2025-06", "431300-XY", 5]], "visible")]))
        exit_code, body = _check(home, p)
        assert exit_code == 0 and body["sheet"] == "数据"


def test_a_file_that_reads_both_ways_is_read_as_gb18030_with_a_warning_naming_the_guess(night, tmp_path):
    # 园区 written in Big5 (園區) is also valid GBK: the reading cannot be told from the text alone
    data = csv_bytes([["period", "park_code", "park_name", "gdp"], ["2025-06", "431300-XY", "園區", "5"]], "big5")
    p = tmp_path / "big5.csv"
    p.write_bytes(data)
    with env_vars(PARKSTAT_NOW=NOW):
        exit_code, body = _check(night["home"], p)
    assert exit_code == 0 and body["status"] == "accepted_with_warnings" and body["encoding"] == "GB18030"
    warn = [m for m in body["messages"] if m["code"] == "ambiguous_encoding"][0]
    assert warn["severity"] == "warning"
    assert "无法确定文件编码：已按 GB18030 读取" in warn["zh"] and "按 Big5 则为“園區”" in warn["zh"]
    assert "read as GB18030" in warn["en"] and "as Big5 it would be '園區'" in warn["en"]


def test_a_big5_file_with_a_traditional_header_is_read_as_big5(night, tmp_path):
    p = tmp_path / "big5_header.csv"
    p.write_bytes(csv_bytes([["統計期", "園區代碼", "園區生產總值"], ["2025-06", "431300-XY", "5"]], "big5"))
    with env_vars(PARKSTAT_NOW=NOW):
        exit_code, body = _check(night["home"], p)
    assert exit_code == 0 and body["encoding"] == "Big5" and body["status"] == "accepted"


def test_a_two_row_header_merged_down_is_no_news_on_the_receipt(night, tmp_path):
    # the commissions' own layout: title, unit line, 统计期 and the codes merged over two header rows
    rows = [["2025年1-6月园区主要指标"], ["单位：万元"], ["统计期", "园区代码", "主要指标"], [None, None, "园区生产总值"],
            ["2025-06", "431300-XY", 5]]
    p = tmp_path / "two_rows.xlsx"
    p.write_bytes(xlsx_bytes(rows, merges=["A3:A4", "B3:B4", "A1:C1"]))
    with env_vars(PARKSTAT_NOW=NOW):
        exit_code, body = _check(night["home"], p)
    assert exit_code == 0 and body["status"] == "accepted" and body["row_count"] == 1
    assert body["messages"] == []
