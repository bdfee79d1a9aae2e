"""The comparison marts on files written here (never seen by the project):
each figure computed by hand and compared with what the published marts say."""

from __future__ import annotations


import pytest

from tests.conftest import csv_bytes, drop, env_vars, make_home, query, refresh, xlsx_bytes

PROJ_H = ["统计期", "项目代码", "项目名称", "所属地区代码", "总投资", "年度计划投资", "本年累计完成投资"]


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    with env_vars(PARKSTAT_NOW="2022-05-10T09:00:00"):
        home = make_home(tmp_path_factory.mktemp("marts") / "wh")
        drop(home, "431300", "名录.csv", csv_bytes([["园区代码", "园区名称", "所属地区代码"],
                                                  ["431300-ETDZ", "娄底经济技术开发区", "431302"],
                                                  ["431300-LSJ", "冷水江经济开发区", "431381"]]))
        drop(home, "431300", "地区.xlsx", xlsx_bytes([
            ["单位：亿元"], ["统计期", "地区代码", "地区生产总值", "税收"],
            ["2020", "431300", 1000, 10], ["2021", "431300", 1100, 11],
            ["2021", "431302", 300, None], ["2021", "431321", 250, None], ["2021", "431322", 200, None],
            ["2021", "431381", 200, None], ["2021", "431382", 150, None]]))
        drop(home, "431300", "园区.csv", csv_bytes([["统计期", "园区代码", "税收（万元）"],
                                                  ["2020", "431300-ETDZ", "100"], ["2021", "431300-ETDZ", "150"],
                                                  ["2020", "431300-LSJ", "200"], ["2021", "431300-LSJ", "220"]]))
        drop(home, "431381", "项目.csv", csv_bytes([PROJ_H, ["2022年1-3月", "A", "甲", "431381", "9000", "1000", "500"],
                                                   ["2022年1-3月", "B", "乙", "431381", "9000", "3000", "700"]]))
        drop(home, "431382", "项目.csv", csv_bytes([PROJ_H, ["2022-03", "C", "丙", "431382", "9000", "2000", "1000"]]))
        drop(home, "431382", "项目4月.csv", csv_bytes([PROJ_H, ["2022-04", "C", "丙", "431382", "9000", "x", "1200"]]))
        assert refresh(home)
        yield home


def test_investment_progress_by_county_city_and_province(wh):
    rows = query(wh, """select region_code, region_level, parent_code, project_count, annual_plan, ytd_completed,
                               completion_pct, pace_gap_pp, rank_in_parent
                        from marts.investment_progress where period = '2022-03' order by region_code""")
    assert rows == [
        ("430000", "province", None, 3, 6000.0, 2200.0, pytest.approx(2200 / 60), pytest.approx(2200 / 60 - 25), 1),
        ("431300", "city", "430000", 3, 6000.0, 2200.0, pytest.approx(2200 / 60), pytest.approx(2200 / 60 - 25), 1),
        ("431381", "county", "431300", 2, 4000.0, 1200.0, pytest.approx(30.0), pytest.approx(5.0), 2),
        ("431382", "county", "431300", 1, 2000.0, 1000.0, pytest.approx(50.0), pytest.approx(25.0), 1)]


def test_growth_against_the_parent(wh):
    rows = query(wh, """select entity_type, entity_code, value, value_prior_year, growth_pct, parent_code,
                               parent_growth_pct, growth_gap_pp
                        from marts.growth_comparison where period = '2021-12' and indicator = 'tax'
                        order by entity_type, entity_code""")
    assert rows == [
        ("park", "431300-ETDZ", 150.0, 100.0, pytest.approx(50.0), "431300", pytest.approx(10.0), pytest.approx(40.0)),
        ("park", "431300-LSJ", 220.0, 200.0, pytest.approx(10.0), "431300", pytest.approx(10.0), pytest.approx(0.0)),
        ("region", "431300", 110000.0, 100000.0, pytest.approx(10.0), "430000", None, None)]


def test_rankings_by_scale_and_growth(wh):
    rows = query(wh, """select park_code, scale_rank, growth_rank, is_top10_scale, is_top10_growth
                        from marts.park_rankings where period = '2021-12' and indicator = 'tax' order by 1""")
    assert rows == [("431300-ETDZ", 2, 1, True, True), ("431300-LSJ", 1, 2, True, True)]
    assert query(wh, """select growth_rank, is_top10_growth from marts.park_rankings
                        where period = '2020-12'""") == [(None, False), (None, False)]


def test_region_shares_and_the_county_domain(wh):
    rows = query(wh, """select scope, region_code, value, parent_value, share_pct, regions_summed
                        from marts.region_share where period = '2021-12' and indicator = 'gdp'
                        order by scope, region_code""")
    assert rows[0] == ("county_domain", "431300", 8_000_000.0, 11_000_000.0, pytest.approx(800 / 11), 4)
    assert [r[1] for r in rows[1:]] == ["431302", "431321", "431322", "431381", "431382"]
    assert rows[1][4] == pytest.approx(300 / 11)  # a district: its own row, outside the domain


def test_who_reported_and_who_is_late(wh):
    status = {(p, s, k): (st, files, rows, errs, late) for p, s, k, st, files, rows, errs, late in query(wh, """
        select period, submitter_code, report_kind, status, files_received, rows_accepted, errors, is_late
        from marts.submission_status""")}
    assert status[("2022-03", "431381", "project_progress")] == ("accepted", 1, 2, 0, False)
    assert status[("2022-04", "431382", "project_progress")] == ("rejected", 1, 0, 1, False)
    # the calendar expects 娄底 itself to send the city's monthly report, due 15 days after the month
    assert status[("2022-03", "431300", "project_progress")] == ("missing", 0, 0, 0, True)
    assert status[("2022-04", "431300", "project_progress")] == ("missing", 0, 0, 0, False)  # due 2022-05-15
    assert status[("2021-12", "431300", "region_indicators")] == ("accepted", 1, 6, 0, False)
    assert status[("2021-12", "430100", "park_indicators")][0] == "missing"
