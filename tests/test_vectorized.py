"""The vectorised path (ingest/vectorized.py) against the row-by-row path: on
every file it takes, the very same records and the very same messages (the
table of row checks, ingest/reference/row_checks.csv, worded by both); on
every file it declines, the row-by-row path has something to say. Files drawn at random from the
contract's shapes (tests/test_shapes.py's generator), the benchmark
generator's shapes, and the cells that are easy to get subtly wrong."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings

from ingest.synthetic import generate
from ingest.layout import SCAN_ROWS, Layout, find_layout
from ingest.readers import read_grid
from ingest.validate import parse_rows
from ingest.vectorized import parse_table
from tests.conftest import csv_bytes, xlsx_bytes
from tests.test_shapes import render, submissions

TODAY = dt.date(2025, 6, 15)
PARKS = {"431300-ETDZ": "431302", "431300-LSJ": "431381"}
taken = {"fast": 0, "declined": 0}


def both(data: bytes, name: str, submitter: str, parks: dict[str, str]):
    grid = read_grid(data, name)
    layout = find_layout(grid.head(SCAN_ROWS + 1))
    assert isinstance(layout, Layout), layout
    fast = parse_table(grid, layout, submitter, parks, TODAY)
    slow = parse_rows(read_grid(data, name).rows, layout, submitter, parks, TODAY)
    if fast is not None:
        assert [m.as_dict() for m in fast.messages] == [m.as_dict() for m in slow.messages]
        a, b = fast.table(), slow.table()
        assert sorted(a.columns) == sorted(b.columns)
        assert a.select(sorted(a.columns)).equals(b.select(sorted(b.columns))), (a, b)
        assert fast.period_rows == slow.period_rows and fast.periods == slow.periods
        assert fast.row_count == slow.row_count
    return fast, slow


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(sub=submissions())
def test_random_contract_shapes_give_the_same_records_on_both_paths(sub):
    name, data, _ = render(sub)
    both(data, name, "431300", PARKS)


def test_the_random_shapes_mostly_take_the_vectorised_path():
    # the property test's draws (derandomised: the same 60), counted here on their own, so that
    # this fails if the vectorised path quietly stopped taking plain files, whatever ran before
    taken = {"fast": 0, "declined": 0}

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(sub=submissions())
    def count(sub):
        name, data, _ = render(sub)
        fast, _ = both(data, name, "431300", PARKS)
        taken["fast" if fast is not None else "declined"] += 1

    count()
    assert taken["fast"] + taken["declined"] >= 60  # (hypothesis may run a draw again: at least the 60)
    assert taken["fast"] >= 30, taken


def test_every_generated_benchmark_file_takes_the_vectorised_path(tmp_path: Path):
    generate("tiny", tmp_path / "gen")
    files = sorted(p for p in (tmp_path / "gen" / "full").rglob("*") if p.is_file())
    registry = {}
    for p in files:  # the registers first, as ingest takes them
        if "园区名录" in p.name:
            reg = read_grid(p.read_bytes(), p.name)
            lay = find_layout(reg.head(SCAN_ROWS + 1))
            for row in parse_rows(reg.rows, lay, p.parent.name, {}, TODAY).records:
                registry[row["park_code"]] = row["region_code"]
    kinds = set()
    for p in files:
        fast, slow = both(p.read_bytes(), p.name, p.parent.name, registry)
        assert fast is not None, (p.name, [m.line() for m in slow.messages])
        kinds.add(fast.kind)
    assert kinds == {"park_registry", "park_indicators", "region_indicators", "project_progress"}


PROJECT_HEADER = ["统计期", "项目代码", "项目名称", "所属地区代码", "所属园区代码", "总投资（亿元）", "年度计划投资",
                  "本年累计完成投资", "开工日期"]


def project_rows(*rows: list) -> list[list]:
    return [["单位：万元"], PROJECT_HEADER, *rows]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_cells_that_are_not_plain_go_through_the_cell_functions(fmt):
    rows = project_rows(
        ["2024年1-5月", "XM１", "项目甲", "431302", "431300-ETDZ", "１.５", "12,000", "3000", "2023年3月"],
        ["2024-05", " XM2 ", "项目乙", "431302", "—", "2", "800", "  400.50 ", "2023-03-01"],
        ["2024-05", "XM3", "项目丙" * 10, "431381", "", "0.000001", "5e3", "0", "/"])
    data = xlsx_bytes(rows) if fmt == "xlsx" else csv_bytes(rows)
    fast, slow = both(data, f"p.{fmt}", "431300", PARKS)
    assert fast is not None
    t = fast.table()
    assert t["project_code"].to_list() == ["XM1", "XM2", "XM3"]
    assert t["park_code"].to_list()[1:] == [None, None]  # a missing marker, an empty cell
    assert t["total_investment"].to_list()[0] == pytest.approx(15000.0)
    assert t["annual_plan__text"].to_list()[0] == "12,000"


@pytest.mark.parametrize("row, why", [
    (["2024-05", "XM1", "项目", "431302", "431300-ETDZ", "1", "100", "-5", ""], "negative"),
    (["2024-05", "", "项目", "431302", "", "1", "100", "5", ""], "a required cell empty"),
    (["2024-05", "XM1", "项目", "431302", "", "1", "12%", "5", ""], "a percentage as money"),
    (["2024-05", "XM1", "项目", "431302", "", "1", "3,5", "5", ""], "a comma that is no thousands separator"),
    (["2024.1", "XM1", "项目", "431302", "", "1", "100", "5", ""], "2024.1: January, or 2024.10 as a number"),
    (["2024-02-30", "XM1", "项目", "431302", "", "1", "100", "5", ""], "a day that does not exist"),
])
def test_a_cell_that_cannot_be_read_is_left_to_the_row_by_row_path(row, why):
    rows = project_rows(["2024-05", "XM9", "项目", "431302", "", "1", "100", "5", ""], row)
    fast, slow = both(csv_bytes(rows), "p.csv", "430000", PARKS)  # the province: every code in its area
    assert fast is None, why
    assert slow.messages, why


@pytest.mark.parametrize("row, code, accepted", [
    (["2024-05", "XM1", "项目", "431302", "431300-XXXX", "1", "100", "5", ""], "unknown_park", 1),
    (["2024-05", "XM1", "项目", "440103", "", "1", "100", "5", ""], "outside_jurisdiction", 1),
    (["2024-05", "XM1", "项目", "431121", "", "1", "100", "5", ""], "region_mapped", 2),
    (["2024-05", "XM1", "项目", "4313", "", "1", "100", "5", ""], "unknown_region", 1),
    (["2024-05", "XM1", "项目", "431302", "", "1", "100", "500", ""], "completed_above_plan", 2),
    (["2099-05", "XM1", "项目", "431302", "", "1", "100", "5", ""], "future_period", 1),
    (["2024-05", "XM9", "项目", "431302", "", "1", "100", "5", ""], "duplicate_key", 1),
    (["2024-05", "XM1", "—", "431302", "", "1", "100", "5", ""], "missing_value", 1),
])
def test_what_the_row_checks_find_both_paths_word_alike(row, code, accepted):
    """Read cells that break a rule of the table of row checks: the vectorised
    path words it itself, as the row-by-row path does (compared in ``both``)."""
    rows = project_rows(["2024-05", "XM9", "项目", "431302", "", "1", "100", "5", ""], row)
    fast, slow = both(csv_bytes(rows), "p.csv", "430000", PARKS)  # the province: every code in its area
    assert fast is not None, code
    assert [(m.row, m.code) for m in fast.messages] == [(4, code)]
    assert fast.row_count == accepted


def test_a_totals_row_is_left_to_the_row_by_row_path_which_skips_it():
    rows = project_rows(["2024-05", "XM9", "项目", "431302", "", "1", "100", "5", ""],
                        ["合计", "", "", "", "", "1", "100", "5", ""])
    fast, slow = both(csv_bytes(rows), "p.csv", "431300", PARKS)
    assert fast is None and slow.row_count == 1
    assert [m.line() for m in slow.messages] == [
        "说明 第4行［统计期］ “合计”：合计行，不作为数据入库 / note row 4 [统计期]: a totals row; not stored as data"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_only_a_label_that_is_a_totals_word_makes_a_totals_row(fmt):
    """配合计划 and 总计算中心 hold 合计/总计 but are names: their rows are data (or
    errors), never skipped; both paths agree."""
    rows = project_rows(["2024-05", "XM9", "总计算中心", "431302", "", "1", "100", "5", ""],
                        ["2024-05", "XM8", "配合计划", "431302", "", "1", "100", "5", ""],
                        ["", "", "合 计：", "", "", "2", "200", "10", ""])
    data = csv_bytes(rows) if fmt == "csv" else xlsx_bytes(rows)
    fast, slow = both(data, "p." + fmt, "431300", PARKS)
    assert fast is None  # a totals word somewhere: the row-by-row path decides
    assert slow.row_count == 2 and [r["project_name"] for r in slow.records] == ["总计算中心", "配合计划"]
    assert [(m.row, m.code, m.value) for m in slow.messages] == [(5, "total_row", "合 计：")]
    partial = project_rows(["2024-05", "XM9", "配合计划", "431302", "", "1", "100", "", ""])
    fast, slow = both(csv_bytes(partial), "p.csv", "431300", PARKS)
    assert fast is None and slow.row_count == 0
    assert [(m.row, m.code) for m in slow.errors] == [(3, "missing_value")]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_footer_is_left_to_the_row_by_row_path_which_skips_and_names_it(fmt):
    rows = project_rows(["2024-05", "XM9", "项目", "431302", "", "1", "100", "5", ""],
                        ["注：本表为快报数", "", "", "", "", "", "", "", ""], ["填报人：张三", "", "", "", "", "", "", "", ""])
    data = xlsx_bytes(rows) if fmt == "xlsx" else csv_bytes(rows)
    fast, slow = both(data, f"p.{fmt}", "431300", PARKS)
    assert fast is None and slow.row_count == 1
    assert [(m.severity, m.code, m.row) for m in slow.messages] == [("note", "footer_skipped", 4)]


def test_usd_is_converted_with_the_rate_of_each_rows_year():
    rows = [["统计期", "园区代码", "进出口总额（亿美元）"], ["2020年", "431300-ETDZ", "1.25"],
            ["2021年", "431300-ETDZ", "2"]]
    fast, slow = both(csv_bytes(rows, "gbk"), "usd.csv", "431300", PARKS)
    assert fast is not None
    assert fast.table()["import_export__unit"].to_list() == ["亿美元", "亿美元"]


def test_a_plain_csv_is_read_by_polars_and_a_quoted_one_by_the_csv_module():
    plain = read_grid(csv_bytes(project_rows(["2024-05", "XM1", "项目", "431302", "", "1", "100", "5", ""])), "a.csv")
    assert plain.text is not None and isinstance(plain.body(2), pl.DataFrame)
    quoted = read_grid(csv_bytes(project_rows(["2024-05", "XM1", "项目", "431302", "", "1", "1,000", "5", ""])),
                       "b.csv")
    assert quoted.text is None and quoted.body(2) is None
    assert quoted.rows[2][6] == "1,000"
