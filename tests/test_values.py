"""Cell parsers: periods, numbers, units, header text."""

import pytest

from ingest.text import normalise_header, split_header_unit
from ingest.values import ValueProblem, money_to_wan, parse_number, parse_period


@pytest.mark.parametrize("text,expected", [
    ("2022-04", "2022-04"), ("202204", "2022-04"), ("2022.4", "2022-04"), ("2022年4月", "2022-04"),
    ("2022年1-4月", "2022-04"), ("2022年1—4月", "2022-04"), ("2022年1-2月", "2022-02"), ("2020", "2020-12"),
    ("2020年", "2020-12"), ("２０２２年１－４月", "2022-04"), (" 2021-6 ", "2021-06"), ("2020.0", "2020-12"),
    # date cells, as calamine writes them, with or without a time of day; a date written with slashes
    ("2022-04-30 00:00:00", "2022-04"), ("2022-04-30 13:05:00", "2022-04"), ("2022-04-30T08:00", "2022-04"),
    ("2022/4/30", "2022-04"), ("2025.10", "2025-10"), ("2025.01", "2025-01"), ("2025.2", "2025-02"),
])
def test_every_period_format_of_the_contract(text, expected):
    assert parse_period(text) == expected


@pytest.mark.parametrize("text", ["2022-13", "22年4月", "April 2022", "2022年5-4月x", "", "1900"])
def test_bad_periods_are_named(text):
    with pytest.raises(ValueProblem) as exc:
        parse_period(text)
    assert exc.value.zh == "无法识别的统计期" and exc.value.en == "unrecognised period"


@pytest.mark.parametrize("text,code,zh,en", [
    ("2025.1", "ambiguous_period", "统计期“2025.1”有歧义：可能是 2025年1月，也可能是被表格存成数字的 2025.10（10月）",
     "the period '2025.1' is ambiguous: January 2025, or 2025.10 (October)"),
    ("2025-08-32", None, "统计期“2025-08-32”不是有效的日期", "the period '2025-08-32' is not a valid date"),
    ("2023-02-29 00:00:00", None, "统计期“2023-02-29”不是有效的日期", "is not a valid date"),
    ("2024年3-4月", None, "统计期“2024年3-4月”不是自年初起的累计：所有数字须为 1 月起的累计数，请报送 2024年1-4月",
     "the period '2024年3-4月' does not start in January: every figure is cumulative from January; send 2024年1-4月"),
])
def test_periods_that_would_be_read_wrong_are_refused_saying_why(text, code, zh, en):
    with pytest.raises(ValueProblem) as exc:
        parse_period(text)
    assert exc.value.code == code and zh in exc.value.zh and en in exc.value.en


@pytest.mark.parametrize("text", ["3,5", "1,23", "12,3456", ",5", "1,234,5", "1,,234"])
def test_a_comma_that_is_not_a_thousands_separator_is_ambiguous(text):
    with pytest.raises(ValueProblem) as exc:
        parse_number(text)
    assert exc.value.code == "ambiguous_number"
    assert "逗号只能用作千位分隔符" in exc.value.zh and "a comma is read only as a thousands separator" in exc.value.en


@pytest.mark.parametrize("text,expected", [
    ("12,345,678.25", 12345678.25), ("-1,000", -1000.0), ("1,000%", 1000.0), ("１，２３４", 1234.0),
    ("1,234.5", 1234.5), ("１２３", 123.0), ("12.5%", 12.5), (" 7 ", 7.0), ("—", None), ("-", None),
    ("/", None), ("无", None), ("", None), ("1 234", 1234.0), ("-3", -3.0),
])
def test_numbers(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["abc", "1.2.3", "12万", "inf", "nan", "1e999"])
def test_non_numbers_are_named(text):
    with pytest.raises(ValueProblem) as exc:
        parse_number(text)
    assert exc.value.en in ("not a number", "not a finite number")


@pytest.mark.parametrize("cell,name,unit", [
    ("總投資（億元）", "总投资", "亿元"), ("总 投 资\n(万元)", "总投资", "万元"), ("税收[元]", "税收", "元"),
    ("  園區代碼 ", "园区代码", None), ("GDP", "gdp", None), ("规划面积（亩）", "规划面积", "亩"),
])
def test_header_cells_fold_to_one_form(cell, name, unit):
    assert split_header_unit(cell) == (name, unit)
    assert normalise_header(cell) == name


def test_money_units_and_usd():
    assert money_to_wan(1.5, "亿元", 2020, False) == 15000
    assert money_to_wan(20000, "元", 2020, False) == 2
    assert money_to_wan(3, None, 2020, False) == 3
    assert money_to_wan(10, "万美元", 2020, True) == pytest.approx(68.976)
    with pytest.raises(ValueProblem, match="foreign-currency"):
        money_to_wan(10, "万美元", 2020, False)
    with pytest.raises(ValueProblem, match="no CNY/USD rate for 1999"):
        money_to_wan(10, "亿美元", 1999, True)
    with pytest.raises(ValueProblem, match="unknown unit '万欧元'"):
        money_to_wan(10, "万欧元", 2020, True)


def test_indicator_names_cover_exactly_the_contract_indicators():
    from ingest import reference

    names = {r["indicator"] for r in reference.read_csv("indicators.csv")}
    assert names == set(reference.INDICATORS)
    assert set(reference.INDICATORS) == {f.name for f in reference.kinds()["region_indicators"]
                                         if f.required == "indicator"}


def test_the_reporting_calendar_expands_its_months():
    from ingest import reference

    cal = reference.reporting_calendar()
    monthly = [r["period_month"] for r in cal if r["report_kind"] == "project_progress"]
    assert monthly == list(range(2, 13))
    assert reference._months("3,6,9,12") == [3, 6, 9, 12]
    with pytest.raises(ValueError, match="bad months '13'"):
        reference._months("13")


def test_a_deployments_own_calendar_is_read_when_named_and_forgotten_when_not(tmp_path):
    """One process may serve several homes (the test workers, a long-lived daemon):
    the calendar follows PARKSTAT_REPORTING_CALENDAR and the file's changes."""
    import os

    from ingest import reference
    from tests.conftest import env_vars

    own = tmp_path / "calendar.csv"
    own.write_text("report_kind,submitters,within,months,from_period,to_period,due_days,notes\n"
                   "project_progress,city,43,6,2023-06,,15,\n", encoding="utf-8")
    default = reference.reporting_calendar()
    with env_vars(PARKSTAT_REPORTING_CALENDAR=str(own)):
        assert [(r["period_month"], r["within"]) for r in reference.reporting_calendar()] == [(6, "43")]
        own.write_text(own.read_text(encoding="utf-8").replace(",6,2023-06", ",12,2023-12"), encoding="utf-8")
        os.utime(own, ns=(own.stat().st_mtime_ns + 10**9,) * 2)
        assert [r["period_month"] for r in reference.reporting_calendar()] == [12]
    assert reference.reporting_calendar() == default and len(default) > 11
