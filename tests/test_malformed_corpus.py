"""The malformed corpus: more than forty broken submissions, written here in
every promised format, each rejected whole with its own reason (code, Chinese
and English text, row and column as the submitter sees them) on the receipt
file, and the warehouse's data identical before and after each of them.

One warehouse serves the module: a baseline of good files is refreshed first;
every case is then ingested alone against it; at the end a full refresh must
publish exactly the baseline's facts, dimensions and comparison marts."""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import pytest

from ingest.pipeline import ingest_landing
from tests.conftest import csv_bytes, drop, encrypted, env_vars, make_home, refresh, workbook, xls_bytes, xlsx_bytes

NOW = "2023-06-15T09:00:00"
PARK_H = ["统计期", "园区代码", "园区生产总值", "税收"]
REGION_H = ["统计期", "地区代码", "地区生产总值", "税收"]
PROJ_H = ["统计期", "项目代码", "项目名称", "所属地区代码", "所属园区代码", "建设性质", "项目阶段",
          "总投资", "年度计划投资", "本年累计完成投资", "开工日期"]
REG_H = ["园区代码", "园区名称", "所属地区代码", "园区级别", "规划面积（亩）"]
REGISTRY = [REG_H, ["431300-ETDZ", "娄底经济技术开发区", "431302", "国家级", "30000"],
            ["431300-LSJ", "冷水江经济开发区", "431381", "省级", "12000"]]
GOOD_PROJECT = ["2022-04", "XM-001", "冷钢技改", "431381", "431300-LSJ", "改建和技术改造", "续建",
                "50000", "12000", "4100", "2021-03-01"]


def table(header: list, *rows: list, encoding: str = "utf-8") -> bytes:
    return csv_bytes([header, *rows], encoding)


def park(*rows: list) -> bytes:
    return table(PARK_H, *rows)


def project(**changes) -> bytes:
    row = dict(zip(PROJ_H, GOOD_PROJECT))
    row.update(changes)
    return table(PROJ_H, list(row.values()))


def with_cell(xlsx: bytes, ref: str, xml: str) -> bytes:
    """The workbook with cell ``ref`` of its first sheet written as ``xml`` — as Excel saves a
    formula's error result (``t="e"``), which the writers the tests use do not write."""
    import io
    import re
    import zipfile

    src, out = zipfile.ZipFile(io.BytesIO(xlsx)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                body, n = re.subn(rf'<c r="{ref}"(?:[^>]*/>|[^>]*>.*?</c>)'.encode(), xml.encode(), body)
                assert n == 1, ref
            dst.writestr(item, body)
    return out.getvalue()


def hide_all(xlsx: bytes) -> bytes:
    """The workbook with every sheet hidden (Excel and openpyxl refuse to write one; other programs do)."""
    import io
    import re
    import zipfile

    src, out = zipfile.ZipFile(io.BytesIO(xlsx)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename == "xl/workbook.xml":
                body = re.sub(rb'<sheet (?![^>]*state=)', b'<sheet state="hidden" ',
                              body.replace(b'state="visible"', b'state="hidden"'))
            dst.writestr(item, body)
    return out.getvalue()


def good_xlsx() -> bytes:
    return xlsx_bytes([PARK_H, ["2022-04", "431300-ETDZ", 100, 10]])


@dataclass
class Bad:
    id: str
    data: bytes
    code: str  # the reason code on the receipt
    zh: str  # a fragment of the Chinese reason
    en: str  # a fragment of the English reason
    row: int | None = None  # the row the submitter sees, None for the whole file
    submitter: str = "431300"
    name: str = "report.csv"
    value: str | None = None  # the offending cell, verbatim


CASES = [
    # -- the file as a whole --------------------------------------------------
    Bad("empty_file", b"", "unreadable", "文件为空", "the file is empty"),
    Bad("binary_bytes", bytes(range(256)) * 8, "unreadable", "二进制", "binary content", name="data.csv"),
    Bad("csv_named_xlsx", park(["2022-04", "431300-ETDZ", "3", "3"]), "unreadable", "扩展名为电子表格",
        "named as a spreadsheet", name="report.xlsx"),
    Bad("truncated_xlsx", good_xlsx()[:400], "unreadable", "无法读取电子表格", "cannot read the spreadsheet",
        name="report.xlsx"),
    Bad("broken_xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "unreadable", "无法读取电子表格",
        "cannot read the spreadsheet", name="report.xls"),
    Bad("password_protected", encrypted(good_xlsx()), "password_protected", "工作簿设有打开密码（已加密），无法读取：请取消密码",
        "the workbook is password-protected (encrypted) and cannot be read: remove the password", name="report.xlsx"),
    Bad("two_data_sheets", workbook([("园区", [PARK_H, ["2022-04", "431300-ETDZ", 1, 1]], "visible"),
                                     ("园区 (2)", [PARK_H, ["2022-04", "431300-LSJ", 1, 1]], "visible")]),
        "several_sheets", "工作簿有 2 个数据表（“园区”、“园区 (2)”），一个文件只能报送一个表：请把每个表另存为单独的文件",
        "one file carries one table: save each sheet as a file of its own", name="report.xlsx"),
    Bad("utf16_bom_alone", b"\xff\xfe", "unreadable", "文件只有字节序标记（BOM），没有内容",
        "the file holds only a byte-order mark (BOM) and no content"),
    Bad("every_sheet_hidden", hide_all(workbook([("园区", [PARK_H, ["2022-04", "431300-ETDZ", 1, 1]], "visible"),
                                                 ("旧", [PARK_H, ["2022-03", "431300-ETDZ", 1, 1]], "hidden")])),
        "unreadable", "工作簿中没有可见的工作表（隐藏的工作表不读取）：请取消隐藏要报送的表",
        "the workbook has no visible sheet (hidden sheets are not read): unhide the sheet", name="report.xlsx"),
    Bad("bom_alone", b"\xef\xbb\xbf", "unreadable", "文件只有字节序标记（BOM），没有内容",
        "the file holds only a byte-order mark (BOM) and no content"),
    Bad("header_below_row_200", csv_bytes([[f"说明{i}"] for i in range(201)] + [PARK_H, ["2022-04", "431300-ETDZ", "1", "1"]]),
        "no_header", "找不到可识别的表头（已查看前 200 行）", "the first 200 rows were searched"),
    Bad("title_rows_only", csv_bytes([["2022年1-4月娄底市园区主要经济指标"], ["单位：万元"], []]), "no_header",
        "找不到可识别的表头", "no recognisable header"),
    Bad("xlsx_numbers_only", xlsx_bytes([[1, 2, 3], [4, 5, 6]]), "no_header", "找不到可识别的表头",
        "no recognisable header", name="numbers.xlsx"),
    Bad("no_period_column", table(["园区代码", "园区生产总值", "税收"], ["431300-ETDZ", "1", "1"]), "missing_column",
        "缺少必填列：统计期", "missing required column(s): period", row=1),
    Bad("no_indicator_column", table(["统计期", "园区代码", "园区名称"], ["2022-04", "431300-ETDZ", "娄底经开区"]),
        "missing_column", "园区生产总值/规模工业增加值", "gdp|industrial_value_added", row=1),
    Bad("project_without_plan", table([h for h in PROJ_H if h != "年度计划投资"],
                                      [v for h, v in zip(PROJ_H, GOOD_PROJECT) if h != "年度计划投资"]),
        "missing_column", "年度计划投资", "annual_plan", row=1),
    Bad("two_kinds_at_once", table(["统计期", "地区代码", "园区代码", "园区生产总值"],
                                   ["2022-04", "431302", "431300-ETDZ", "1"]),
        "ambiguous_kind", "表头同时符合多种报表", "more than one report kind", row=1),
    Bad("same_column_twice", table(["统计期", "园区代码", "税收", "税收收入"], ["2022-04", "431300-ETDZ", "1", "2"]),
        "duplicate_column", "列重复", "the same column appears twice", row=1),
    Bad("header_without_rows", table(PARK_H), "no_rows", "没有数据行", "no data rows", row=1),
    # -- who sends it ----------------------------------------------------------
    Bad("folder_not_a_division", park(["2022-04", "431300-ETDZ", "1", "1"]), "unknown_submitter",
        "不是有效的区划代码", "not a valid division code", submitter="999999"),
    Bad("folder_not_a_code", park(["2022-04", "431300-ETDZ", "2", "2"]), "unknown_submitter",
        "不是有效的区划代码", "'loudi' is not a valid division code", submitter="loudi"),
    Bad("folder_of_a_retired_county", table(REGION_H, ["2022-04", "431181", "1", "1"]), "unknown_submitter",
        "不是有效的区划代码", "'431121' is not a valid division code", submitter="431121"),
    # -- periods ----------------------------------------------------------------
    Bad("month_13", park(["2022年13月", "431300-ETDZ", "1", "1"]), "bad_period", "无法识别的统计期",
        "unrecognised period", row=2, value="2022年13月"),
    Bad("period_in_words", park(["上半年", "431300-ETDZ", "1", "1"]), "bad_period", "无法识别的统计期",
        "unrecognised period", row=2, value="上半年"),
    Bad("future_period", park(["2099-01", "431300-ETDZ", "1", "1"]), "future_period", "尚未到来",
        "period 2099-01 is in the future", row=2),
    Bad("period_number_2022_10", xlsx_bytes([PARK_H, [2022.10, "431300-ETDZ", 1, 1]]), "ambiguous_period",
        "可能是 2022年1月，也可能是被表格存成数字的 2022.10", "January 2022, or 2022.10 (October)", row=2,
        name="指标.xlsx", value="2022.1"),
    Bad("period_day_that_does_not_exist", park(["2022-02-30", "431300-ETDZ", "1", "1"]), "bad_period",
        "统计期“2022-02-30”不是有效的日期", "the period '2022-02-30' is not a valid date", row=2),
    Bad("period_day_32", park(["2022-08-32", "431300-ETDZ", "1", "1"]), "bad_period",
        "统计期“2022-08-32”不是有效的日期", "the period '2022-08-32' is not a valid date", row=2, value="2022-08-32"),
    Bad("period_not_from_january", park(["2022年3-4月", "431300-ETDZ", "1", "1"]), "bad_period",
        "不是自年初起的累计：所有数字须为 1 月起的累计数，请报送 2022年1-4月", "does not start in January", row=2),
    Bad("period_left_empty", park(["", "431300-ETDZ", "1", "1"]), "missing_value", "必填项为空",
        "required value is empty", row=2),
    # -- numbers and money --------------------------------------------------------
    Bad("word_for_money", park(["2022-04", "431300-ETDZ", "abc", "1"]), "not_a_number", "不是数字",
        "not a number", row=2, value="abc"),
    Bad("fullwidth_garbage", park(["2022-04", "431300-ETDZ", "１２３ａｂｃ", "1"]), "not_a_number", "不是数字",
        "not a number", row=2, value="１２３ａｂｃ"),
    Bad("infinite_money", park(["2022-04", "431300-ETDZ", "1e999", "1"]), "not_a_number", "不是有限的数字",
        "not a finite number", row=2),
    Bad("number_1e300", park(["2022-04", "431300-ETDZ", "1e300", "1"]), "not_a_number", "数值过大（不小于 10^16），请检查单位和数字",
        "the number is too large (10^16 or more); check the figure and its unit", row=2, value="1e300"),
    # plausibility bounds (ingest/reference/bounds.csv): a figure in 元 under a 亿元 header, a slip of the pen
    Bad("gdp_in_yuan_under_yi", table(["统计期", "园区代码", "园区生产总值（亿元）"],
                                      ["2022-04", "431300-ETDZ", "3456000000"]),
        "implausible_value", "数值不合常理：折合 34,560,000,000,000.00 万元，超过该项上限 1,000,000,000 万元",
        "implausible figure: 34,560,000,000,000.00 万元, above this field's bound of 1,000,000,000 万元", row=2,
        value="3456000000"),
    Bad("project_total_1e12", project(**{"总投资": "1000000000000"}), "implausible_value", "超过该项上限 100,000,000 万元",
        "check the figure and its unit (元, 万元, 亿元)", row=2, value="1000000000000", submitter="431381"),
    Bad("negative_money", park(["2022-04", "431300-ETDZ", "-5", "1"]), "negative_money", "不能为负数",
        "must not be negative", row=2, value="-5"),
    Bad("percent_as_money", park(["2022-04", "431300-ETDZ", "12%", "1"]), "percent_in_money", "金额不能是百分比",
        "cannot be a percentage", row=2, value="12%"),
    Bad("decimal_comma", park(["2022-04", "431300-ETDZ", "3,5", "1"]), "ambiguous_number", "逗号只能用作千位分隔符",
        "a comma is read only as a thousands separator", row=2, value="3,5"),
    Bad("percent_formatted_money", workbook([("Sheet1", [PARK_H, ["2022-04", "431300-ETDZ", 0.12, 1]], "visible")],
                                            formats={"C2": "0%"}), "percent_in_money", "金额不能是百分比",
        "cannot be a percentage", row=2, name="指标.xlsx", value="12%"),
    # a number format that shows another number than the value: 80000000 (元) shown as 8000.0000 under a
    # 万元 header, or 1250000 shown as 1,250 (thousands): read as the value, 10,000 or 1,000 × what the clerk sees
    Bad("display_scaled_figure", workbook([("Sheet1", [PARK_H, ["2022-04", "431300-ETDZ", 80000000, 1]], "visible")],
                                          formats={"C2": "0!.0000"}), "number_format_rescales",
        "单元格 C2 的数字格式（0!.0000）显示的数与单元格的值（80000000）不同",
        "cell C2's number format (0!.0000) shows another number than the cell's value (80000000)", row=2,
        name="指标.xlsx", value="80000000"),
    Bad("thousands_scaled_figure", workbook([("Sheet1", [PARK_H, ["2022-04", "431300-ETDZ", 1, 1250000]], "visible")],
                                            formats={"D2": "#,##0,"}), "number_format_rescales",
        "单元格 D2 的数字格式（#,##0,）", "cell D2's number format (#,##0,) shows another number", row=2,
        name="指标.xlsx", value="1250000"),
    Bad("formula_without_value", xlsx_bytes([PARK_H, ["2022-04", "431300-ETDZ", "=SUM(C3:C9)", 1]]),
        "formula_without_value", "单元格 C2 是公式（=SUM(C3:C9)），但没有保存计算结果",
        "cell C2 holds a formula (=SUM(C3:C9)) with no saved result", row=2, name="指标.xlsx"),
    # a formula whose saved result is an Excel error: calamine reads an empty cell, which in an
    # optional column would silently drop the figure (and replace the one standing)
    Bad("excel_error_in_an_optional_column",
        with_cell(xlsx_bytes([PARK_H, ["2022-04", "431300-ETDZ", 1, 1]]), "D2",
                  '<c r="D2" t="e"><f>C2/0</f><v>#DIV/0!</v></c>'), "excel_error_value",
        "单元格 D2 的值是 Excel 错误 #DIV/0!（=C2/0）", "cell D2 holds the Excel error #DIV/0! (=C2/0)", row=2,
        name="指标.xlsx", value="#DIV/0!"),
    Bad("excel_error_typed_in", with_cell(xlsx_bytes([PARK_H, ["2022-04", "431300-ETDZ", 1, 1]]), "C2",
                                          '<c r="C2" t="e"><v>#N/A</v></c>'), "excel_error_value",
        "单元格 C2 的值是 Excel 错误 #N/A：", "cell C2 holds the Excel error #N/A: correct", row=2, name="指标.xlsx",
        value="#N/A"),
    Bad("unknown_unit_in_header", table(["统计期", "园区代码", "园区生产总值（千元）"], ["2022-04", "431300-ETDZ", "1"]),
        "bad_unit", "不认识的单位“千元”", "unknown unit '千元'", row=2),
    Bad("unknown_unit_line", csv_bytes([["单位：千元"], PARK_H, ["2022-04", "431300-ETDZ", "1", "1"]]), "bad_unit",
        "不认识的单位“千元”", "unknown unit '千元'", row=3),
    Bad("usd_without_rate", table(["统计期", "园区代码", "进出口总额（万美元）"], ["2017", "431300-ETDZ", "100"]),
        "bad_unit", "没有 2017 年的美元汇率", "no CNY/USD rate for 2017", row=2),
    Bad("usd_tax", table(["统计期", "园区代码", "税收（万美元）"], ["2022-04", "431300-ETDZ", "100"]), "bad_unit",
        "不接受外币单位", "foreign-currency unit '万美元' is not accepted", row=2),
    Bad("euro_trade", table(["统计期", "园区代码", "进出口总额（万欧元）"], ["2022-04", "431300-ETDZ", "100"]),
        "bad_unit", "不认识的单位“万欧元”", "unknown unit '万欧元'", row=2),
    Bad("area_unit_on_money", table(["统计期", "园区代码", "税收（亩）"], ["2022-04", "431300-ETDZ", "100"]),
        "bad_unit", "金额单位不能是“亩”", "'亩' is not a money unit", row=2),
    # -- codes, history and jurisdiction --------------------------------------------
    Bad("unknown_region", table(REGION_H, ["2022-04", "439999", "1", "1"]), "unknown_region", "未知的区划代码",
        "unknown region code", row=2, value="439999"),
    Bad("short_region_code", table(REGION_H, ["2022-04", "4313", "1", "1"]), "unknown_region", "6位数字",
        "a region code has 6 digits", row=2, value="4313"),
    Bad("code_before_it_existed", table(REGION_H, ["2019", "431181", "1", "1"]), "region_not_yet_valid",
        "2021 年起才启用", "exists only from 2021", row=2, submitter="431100"),
    Bad("retired_without_successor", table(REGION_H, ["2020", "430402", "1", "1"]), "region_retired",
        "已于 2001 年撤销，且无承继代码", "retired in 2001 with no successor", row=2, submitter="430000"),
    Bad("unregistered_park", park(["2022-04", "431300-NOPE", "1", "1"]), "unknown_park", "未在园区名录中登记",
        "not in the park register", row=2, value="431300-NOPE"),
    Bad("county_reports_neighbour", table(REGION_H, ["2022-04", "431302", "1", "1"]), "outside_jurisdiction",
        "431381 无权报送 431302", "431381 may not report for 431302", row=2, submitter="431381"),
    Bad("county_reports_foreign_park", park(["2022-04", "431300-LSJ", "1", "1"]), "outside_jurisdiction",
        "431302 无权报送 431381", "431302 may not report for 431381 (park 431300-LSJ is registered in 431381)",
        row=2, submitter="431302"),
    Bad("city_reports_other_city", table(REGION_H, ["2022-04", "430102", "1", "1"]), "outside_jurisdiction",
        "431300 无权报送 430102", "431300 may not report for 430102", row=2),
    Bad("same_key_twice", park(["2022-04", "431300-ETDZ", "1", "1"], ["2022年4月", "431300-ETDZ", "2", "2"]),
        "duplicate_key", "与第2行重复", "same key as row 2", row=3),
    # -- the park register -----------------------------------------------------------
    Bad("registry_without_name", table(REG_H, ["431300-NEW", "", "431302", "省级", "100"]), "missing_value",
        "必填项为空", "required value is empty", row=2, name="名录.csv"),
    Bad("registry_in_other_city", table(REG_H, ["431300-NEW", "新园区", "430102", "省级", "100"]),
        "outside_jurisdiction", "431300 无权报送 430102", "431300 may not report for 430102", row=2, name="名录.csv"),
    Bad("registry_area_in_words", table(REG_H, ["431300-NEW", "新园区", "431302", "省级", "三千"]), "not_a_number",
        "不是数字", "not a number", row=2, name="名录.csv", value="三千"),
    Bad("registry_negative_area", table(REG_H, ["431300-NEW", "新园区", "431302", "省级", "-30"]),
        "negative_number", "不能为负数", "must not be negative", row=2, name="名录.csv"),
    # -- key projects -------------------------------------------------------------------
    Bad("project_bad_start_date", project(开工日期="2022-13-45"), "bad_date", "无法识别的日期", "unrecognised date",
        row=2, submitter="431381", value="2022-13-45"),
    # 2023.10 stored as the number 2023.1 by a spreadsheet: January or October? (it was stored as January)
    Bad("project_start_date_ambiguous", project(开工日期="2023.1"), "bad_date", "日期“2023.1”有歧义",
        "the date '2023.1' is ambiguous: January 2023, or 2023.10 (October)", row=2, submitter="431381",
        value="2023.1"),
    Bad("project_start_date_two_digit_year", project(开工日期="23.5.18"), "bad_date", "年份须为四位数字",
        "must have four digits", row=2, submitter="431381", value="23.5.18"),  # (it was 0023-05-18)
    Bad("project_without_code", project(项目代码=""), "missing_value", "必填项为空", "required value is empty",
        row=2, submitter="431381"),
    Bad("project_in_unregistered_park", project(所属园区代码="431381-XX"), "unknown_park", "未在园区名录中登记",
        "not in the park register", row=2, submitter="431381"),
    Bad("project_negative_total", project(总投资="-50000"), "negative_money", "不能为负数", "must not be negative",
        row=2, submitter="431381"),
    Bad("project_in_neighbour_county", project(所属地区代码="431382", 所属园区代码=""), "outside_jurisdiction",
        "431381 无权报送 431382", "431381 may not report for 431382", row=2, submitter="431381"),
    Bad("project_total_in_usd", table([*PROJ_H[:7], "总投资（万美元）", *PROJ_H[8:]], GOOD_PROJECT), "bad_unit",
        "不接受外币单位", "foreign-currency unit '万美元' is not accepted", row=2, submitter="431381"),
    Bad("project_twice_in_a_period", table(PROJ_H, GOOD_PROJECT, GOOD_PROJECT), "duplicate_key", "与第2行重复",
        "same key as row 2", row=3, submitter="431381"),
    # -- the same problems in the other formats, with the submitter's row numbers ----------
    Bad("legacy_xls_bad_number", xls_bytes([["2022年娄底市园区指标"], PARK_H, ["2022-04", "431300-ETDZ", "十二", 1]]),
        "not_a_number", "不是数字", "not a number", row=3, name="指标.xls", value="十二"),
    Bad("xlsx_blank_rows_above", xlsx_bytes([[None], [None], ["娄底市园区指标"], PARK_H,
                                             ["2022-04", "431300-ETDZ", 1, 1], ["2022-04", "431300-ETDZ", 2, 2]]),
        "duplicate_key", "与第5行重复", "same key as row 5", row=6, name="指标.xlsx"),
    Bad("traditional_gbk_bad_period", csv_bytes([["統計期", "園區代碼", "園區生產總值", "稅收"],
                                                 ["2022年1-13月", "431300-ETDZ", "1", "1"]], "gbk"),
        "bad_period", "无法识别的统计期", "unrecognised period", row=2),
    # -- issue 15: what used to be taken silently ---------------------------------
    Bad("registry_takeover", table(REG_H, ["431300-ETDZ", "娄底经济技术开发区", "431381", "国家级", "30000"]),
        "registered_elsewhere", "园区 431300-ETDZ 现登记在 431302（娄星区），431381 无权将其改登记到 431381",
        "park 431300-ETDZ is registered in 431302 (娄星区); 431381 may not move it to 431381", row=2,
        submitter="431381", value="431381"),
    Bad("project_code_of_another_county", project(**{"所属地区代码": "431382", "所属园区代码": "", "项目名称": "涟源同码项目"}),
        "project_elsewhere", "项目代码 XM-001 已属于 431381（冷水江市），不能作为 431382 的项目报送",
        "project code XM-001 belongs to 431381 (冷水江市); it cannot be reported as a project of 431382", row=2,
        submitter="431382", value="XM-001"),
    Bad("totals_word_inside_a_name", table(PROJ_H, ["2022-04", "XM-002", "总计算中心", "431381", "", "", "", "10", "5",
                                                    "1", ""],
                                           ["2022-04", "XM-003", "配合计划", "431381", "", "", "", "10", "", "1", ""]),
        "missing_value", "必填项为空", "required value is empty", row=3, submitter="431381"),
    Bad("utf16_negative", "\ufeff".encode("utf-16-le") + "统计期\t园区代码\t税收\n2022-04\t431300-ETDZ\t-1\n"
        .encode("utf-16-le"), "negative_money", "不能为负数", "must not be negative", row=2),
]


def data_snapshot(home) -> dict[str, list[tuple]]:
    """Everything a rejection must leave alone: the ledger's data tables."""
    con = duckdb.connect(str(home.ledger), read_only=True)
    try:
        return {t: con.execute(f"select * from {t} order by all").fetchall()
                for t in ("indicator_values", "park_registry", "project_progress", "file_periods")}
    finally:
        con.close()


def published_snapshot(home) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(home.published_db), read_only=True)
    try:
        names = con.execute("""select table_schema || '.' || table_name from information_schema.tables
                               where table_schema in ('core', 'marts')
                                 and table_name not like 'submission%'
                                 and table_name not like 'fct_submission%' order by 1""").fetchall()
        return {n: con.execute(f"select * exclude (received_at) from {n} order by all").fetchall()
                if "received_at" in [d[0] for d in con.execute(f"select * from {n} limit 0").description]
                else con.execute(f"select * from {n} order by all").fetchall() for (n,) in names}
    finally:
        con.close()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    with env_vars(PARKSTAT_NOW=NOW):
        home = make_home(tmp_path_factory.mktemp("corpus") / "wh")
        drop(home, "431300", "名录.csv", csv_bytes(REGISTRY))
        drop(home, "431300", "指标.csv", park(["2022-04", "431300-ETDZ", "1000", "100"],
                                             ["2022-04", "431300-LSJ", "500", "50"]))
        drop(home, "431300", "全市.csv", table(REGION_H, ["2022-04", "431300", "5000", "400"]))
        drop(home, "431381", "项目.csv", table(PROJ_H, GOOD_PROJECT))
        assert refresh(home)
        state = {"home": home, "data": data_snapshot(home), "published": published_snapshot(home)}
        yield state


def test_the_corpus_is_large_and_every_case_distinct():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    assert len({c.data for c in CASES}) == len(CASES)  # no two cases are the same bytes


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_malformed_file_is_rejected_with_its_reason_and_changes_nothing(warehouse, case):
    home = warehouse["home"]
    drop(home, case.submitter, case.name, case.data)
    summary = ingest_landing(home)
    assert len(summary.receipts) == 1
    receipt = summary.receipts[0]
    assert receipt.status == "rejected", receipt.text()
    assert receipt.row_count == 0
    ours = [m for m in receipt.messages if m.code == case.code]
    assert ours, f"expected a {case.code} message:\n{receipt.text()}"
    m = ours[0]
    assert case.zh in m.zh and case.en in m.en, m.line()
    assert m.row == case.row, m.line()
    if case.value is not None:
        assert m.value == case.value
    # the submitter's receipt file says the same, Chinese and English
    folder = home.receipts / (case.submitter if case.submitter.isdigit() and len(case.submitter) == 6
                              else "_unknown")
    written = [p for p in folder.glob("*.json") if receipt.file_sha256[:12] in p.name]
    assert len(written) == 1
    on_disk = json.loads(written[0].read_text(encoding="utf-8"))
    assert on_disk["status"] == "rejected"
    assert any(d["code"] == case.code and case.en in d["en"] for d in on_disk["messages"])
    txt = written[0].with_suffix(".txt").read_text(encoding="utf-8")
    assert case.zh in txt and case.en in txt and "已退回" in txt
    # nothing of it reached the data; the bytes are archived, the landing copy gone
    assert data_snapshot(home) == warehouse["data"]
    assert (home.archive / receipt.file_sha256[:2] / receipt.file_sha256).read_bytes() == case.data
    assert not (home.landing / case.submitter / case.name).exists()


def test_every_problem_of_a_file_is_listed_not_the_first(warehouse):
    home = warehouse["home"]
    drop(home, "431300", "many.csv", park(["2022-04", "431300-ETDZ", "abc", "-1"],
                                          ["2099-01", "431300-NOPE", "1", "1"],
                                          ["2022-04", "431300-ETDZ", "1", "12%"]))
    receipt = ingest_landing(home).receipts[0]
    got = sorted((m.row, m.code) for m in receipt.messages)
    assert got == [(2, "negative_money"), (2, "not_a_number"), (3, "future_period"), (3, "unknown_park"),
                   (4, "duplicate_key"), (4, "percent_in_money")]
    assert data_snapshot(home) == warehouse["data"]


def test_after_the_whole_corpus_the_published_warehouse_is_unchanged(warehouse):
    home = warehouse["home"]
    assert refresh(home)
    assert published_snapshot(home) == warehouse["published"]
    con = duckdb.connect(str(home.published_db), read_only=True)
    try:
        rejected = con.execute("select count(*) from marts.submission_receipts where status = 'rejected'").fetchone()
    finally:
        con.close()
    con = duckdb.connect(str(home.ledger), read_only=True)
    try:
        in_ledger = con.execute("select count(*) from files where status = 'rejected'").fetchone()
    finally:
        con.close()
    assert rejected[0] == in_ledger[0] >= 1
