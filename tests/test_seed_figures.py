"""The bundled sample, refreshed through the real nightly job, reproduces every
figure the seed documents print — each checked by querying the published
marts — and every query of docs/analysts.md runs. The same warehouse shows the
analyst documentation (COMMENTs, the dbt docs site) and the Dagster asset
checks of every mart."""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from ingest.synthetic.sample import write_demo
from tests.conftest import env_vars, make_home, materialized_row_counts, query, refresh

NOW = "2024-06-15T09:00:00"
MARTS = ["park_share_comparison", "investment_progress", "growth_comparison", "park_rankings", "region_share",
         "submission_status", "submission_receipts", "investment_by_group", "project_starts", "economic_structure",
         "park_evaluations", "park_evaluation_counts"]
SEED_LOUDI_2020 = {"gdp": 32.3, "industrial_value_added": 68.0, "hightech_value_added": 80.9,
                   "import_export": 80.0, "tax": 59.6}
SEED_PROVINCE_2020 = {"gdp": 35.0, "industrial_value_added": 69.0, "hightech_value_added": 65.0,
                      "import_export": 72.0, "tax": 42.0}
ANALYSTS = Path(__file__).parents[1] / "docs" / "analysts.md"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    with env_vars(PARKSTAT_NOW=NOW):
        home = make_home(tmp_path_factory.mktemp("sample") / "wh")
        write_demo(home)  # as the demo does: its calendar (it ends with the data) and the sample
        assert refresh(home)
        yield home


def test_every_sample_file_is_accepted(sample):
    assert query(sample, "select status, count(*) from marts.submission_receipts group by 1") == [("accepted", 104)]
    assert query(sample, "select count(distinct city_code), count(distinct period) from marts.park_share_comparison") \
        == [(14, 5)]


def test_loudi_2020_park_shares_beside_the_province(sample):
    rows = query(sample, """select indicator, park_share_pct, province_park_share_pct, gap_pp, city_name
                            from marts.park_share_comparison where city_code = '431300' and period = '2020-12'""")
    got = {r[0]: r for r in rows}
    for ind, share in SEED_LOUDI_2020.items():
        assert round(got[ind][1], 1) == share
        assert round(got[ind][2], 1) == SEED_PROVINCE_2020[ind]
        assert got[ind][3] == pytest.approx(got[ind][1] - got[ind][2])
        assert got[ind][4] == "娄底市"


def test_qiyang_2022_jan_apr_key_projects_53_93_yi_is_33_7_pct_of_160_yi(sample):
    [(name, level, parent, plan, done, pct, elapsed, gap)] = query(sample, """
        select region_name, region_level, parent_code, annual_plan, ytd_completed, completion_pct,
               time_elapsed_pct, pace_gap_pp
        from marts.investment_progress where region_code = '431181' and period = '2022-04'""")
    assert (name, level, parent) == ("祁阳市", "county", "431100")
    assert round(done / 10000, 2) == Decimal("53.93") and round(plan / 10000, 2) == 160  # exact decimals
    assert round(pct, 1) == 33.7
    assert elapsed == pytest.approx(100 * 4 / 12) and gap == pytest.approx(pct - elapsed)


def test_loudi_2021_jan_jun_shuangyinqing_69_73_yi_is_96_9_pct(sample):
    [(done, pct, level)] = query(sample, """select ytd_completed, completion_pct, region_level
                                            from marts.investment_progress
                                            where region_code = '431300' and period = '2021-06'""")
    assert level == "city" and round(done / 10000, 2) == Decimal("69.73") and round(pct, 1) == 96.9
    ranks = query(sample, """select rank_in_parent, completion_pct from marts.investment_progress
                             where parent_code = '431300' and period = '2021-06' order by rank_in_parent""")
    assert [r[0] for r in ranks] == list(range(1, len(ranks) + 1)) and len(ranks) == 5
    assert [r[1] for r in ranks] == sorted((r[1] for r in ranks), reverse=True)


def test_loudi_2021_parks_profit_growth_26_5_pct_11_4_points_above_the_city(sample):
    [(park, city, gap)] = query(sample, """select park_growth_pct, city_growth_pct, growth_gap_pp
                                           from marts.park_share_comparison
                                           where city_code = '431300' and period = '2021-12' and indicator = 'profit'""")
    assert round(park, 1) == 26.5 and round(gap, 1) == 11.4 and round(city, 1) == 15.1
    # the city's growth is the same figure growth_comparison gives the city against the province
    [(g,)] = query(sample, """select growth_pct from marts.growth_comparison where entity_type = 'region'
                              and entity_code = '431300' and period = '2021-12' and indicator = 'profit'""")
    assert g == pytest.approx(city)


def test_hengyang_2021_parks_fixed_asset_investment_904_6_yi_is_47_pct(sample):
    [(v, pct)] = query(sample, """select park_value, park_share_pct from marts.park_share_comparison
                                  where city_code = '430400' and period = '2021-12'
                                    and indicator = 'fixed_asset_investment'""")
    assert round(v / 10000, 1) == Decimal("904.6") and round(pct, 1) == 47.0


def test_hengyang_2021_county_domain_63_6_pct_six_counties_over_300_yi_two_over_400(sample):
    [(share, n)] = query(sample, """select share_pct, regions_summed from marts.region_share
                                    where scope = 'county_domain' and region_code = '430400'
                                      and period = '2021-12' and indicator = 'gdp'""")
    assert round(share, 1) == 63.6 and n == 7
    values = [v for (v,) in query(sample, """
        select s.value from marts.region_share s join core.dim_region r using (region_code)
        where s.scope = 'region' and s.city_code = '430400' and s.period = '2021-12' and s.indicator = 'gdp'
          and r.is_county_domain""")]
    assert sum(v > 3_000_000 for v in values) == 6 and sum(v > 4_000_000 for v in values) == 2
    # districts and the statistical unit are outside the domain but still have their own rows
    assert query(sample, """select count(*) from marts.region_share where scope = 'region' and city_code = '430400'
                            and period = '2021-12' and indicator = 'gdp'""")[0][0] > 7


def test_rankings_are_ten_strong_and_ten_fast_per_indicator(sample):
    rows = query(sample, """select indicator, count(*) filter (where is_top10_scale),
                                   count(*) filter (where is_top10_growth), min(scale_rank), count(*)
                            from marts.park_rankings where period = '2022-12' group by 1""")
    assert len(rows) == 8 and all(r[1] == 10 and r[2] == 10 and r[3] == 1 and r[4] == 144 for r in rows)
    top = query(sample, """select value from marts.park_rankings where period = '2022-12' and indicator = 'tax'
                           order by scale_rank limit 11""")
    assert [v for (v,) in top] == sorted((v for (v,) in top), reverse=True)


def test_who_has_not_reported(sample):
    status = dict(((p, s, k), (st, late)) for p, s, k, st, late in query(sample, """
        select period, submitter_code, report_kind, status, is_late from marts.submission_status"""))
    assert status[("2022-04", "431100", "project_progress")] == ("accepted", False)
    assert status[("2022-05", "431100", "project_progress")] == ("missing", True)
    assert status[("2021-06", "431300", "project_progress")] == ("accepted", False)
    assert status[("2023-12", "430000", "region_indicators")] == ("accepted", False)
    assert status[("2022-04", "431181", "project_progress")] == ("accepted", False)  # received, not expected
    assert status[("2023-11", "430800", "project_progress")] == ("missing", True)  # 张家界, late on purpose
    # the sample's calendar ends where its data ends: nothing is expected after 2023
    assert max(p for p, _, k in status if k == "project_progress") == "2023-12"


# each query of the guide, then its documented answer: a ```text block whose
# first line is "-- answer" and whose other lines are the rows, values joined by "|"
GUIDE_BLOCK = re.compile(r"```(sql|text)\n(.*?)```", flags=re.S)
ANSWER_MARK = "-- answer"


def guide_blocks() -> list[tuple[str, str]]:
    return GUIDE_BLOCK.findall(ANALYSTS.read_text(encoding="utf-8"))


def sql_blocks() -> list[str]:
    return [body for kind, body in guide_blocks() if kind == "sql"]


def answer_blocks() -> list[str | None]:
    """Per sql block, the answer block right after it (None if there is none)."""
    blocks = guide_blocks()
    out = []
    for i, (kind, _) in enumerate(blocks):
        if kind != "sql":
            continue
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        out.append(nxt[1] if nxt and nxt[0] == "text" and nxt[1].startswith(ANSWER_MARK + "\n") else None)
    return out


def answer_value(v) -> str:
    """One value as docs/analysts.md prints it: text as is; numbers (integer,
    DECIMAL, DOUBLE) in plain notation without trailing zeros (33.0 -> 33,
    399.4897000000 -> 399.4897); true/false; NULL; dates ISO."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        v = Decimal(repr(v))
    if isinstance(v, Decimal):
        text = format(v.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v.isoformat()
    return str(v)


def answer_lines(rows: list[tuple]) -> list[str]:
    return ["|".join(answer_value(v) for v in row) for row in rows]


def documented_lines(block: str) -> list[str]:
    return [line.strip() for line in block.splitlines()[1:] if line.strip()]


def test_the_analyst_guide_has_a_query_for_each_question():
    assert len(sql_blocks()) >= 30
    # every figure of contract v2 has a question with a query that uses it
    queries = "\n".join(sql_blocks())
    for name in ("investment_by_group", "project_starts", "economic_structure", "park_evaluation_counts",
                 "park_evaluations", "projects_not_reported", "is_complete", "parks_compared",
                 "park_growth_change_pp", "'county_domain'", "regions_expected", "regions_compared",
                 "growth_rank_in_parent", "scale_rank_in_city", "share_of_plan_pct", "projects_completed",
                 "primary_share_change_pp", "period_label", "original_unit"):
        assert name in queries, f"no query of docs/analysts.md uses {name}"


def test_every_query_of_the_analyst_guide_has_its_documented_answer():
    """Each ```sql block is followed by a ```text block starting "-- answer"
    with at least one row, so the guide shows what each query returns."""
    missing = [q.strip().splitlines()[0] for q, a in zip(sql_blocks(), answer_blocks())
               if a is None or not documented_lines(a)]
    assert missing == [], f"queries of docs/analysts.md without a '{ANSWER_MARK}' block after them: {missing}"


@pytest.mark.parametrize("i", range(len(sql_blocks())))
def test_every_query_of_the_analyst_guide_runs_and_answers(sample, i):
    sql, answer = sql_blocks()[i], answer_blocks()[i]
    assert answer is not None, f"no '{ANSWER_MARK}' block after:\n{sql}"
    got, want = answer_lines(query(sample, sql)), documented_lines(answer)
    assert got, sql
    if got != want:
        diff = "\n".join(difflib.unified_diff(want, got, "documented", "returned", lineterm=""))
        pytest.fail(f"query {i} of docs/analysts.md answers differently:\n{sql}\n{diff}")


def test_every_published_table_and_column_is_described_in_chinese_and_english(sample):
    con = duckdb.connect(str(sample.published_db), read_only=True)
    try:
        tables = con.execute("""select schema_name || '.' || table_name, comment from duckdb_tables()
                                where schema_name in ('marts', 'core')""").fetchall()
        cols = con.execute("""select schema_name || '.' || table_name || '.' || column_name, comment
                              from duckdb_columns() where schema_name in ('marts', 'core')""").fetchall()
    finally:
        con.close()
    assert {t for t, _ in tables} >= {f"marts.{m}" for m in MARTS}
    assert {c.split(".")[0] for c, _ in cols} == {"marts", "core"}
    undocumented = [t for t, c in tables + cols
                    if not c or "/" not in c or not re.search(r"[\u4e00-\u9fff]", c) or not re.search(r"[a-z]", c)]
    assert undocumented == []


def test_the_docs_site_is_published_and_works_offline(sample):
    site = sample.current / "docs" / "index.html"
    html = site.read_text(encoding="utf-8")
    assert "investment_progress" in html and "county_domain" in html
    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']https?://", html)


def test_dagster_recorded_passing_checks_on_every_mart(sample):
    from dagster import DagsterEventType, DagsterInstance

    os.environ["DAGSTER_HOME"] = str(sample.dagster_home)
    with DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        evals = [e.dagster_event.event_specific_data for e in
                 instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)]
    by_mart: dict[str, dict[str, bool]] = {}
    for ev in evals:
        if ev.asset_key.path[0] == "marts":
            by_mart.setdefault(ev.asset_key.path[1], {})[ev.check_name] = ev.passed
    assert set(MARTS) <= set(by_mart)
    assert all(all(v.values()) for v in by_mart.values()), by_mart
    # each mart's key, and its columns' rules in one check (tests/generic/column_rules.sql)
    assert all(f"column_rules_{m}" in by_mart[m] and any(c.startswith(("unique_combination_", "unique_"))
                                                         for c in by_mart[m]) for m in MARTS), by_mart


def test_a_row_breaking_its_columns_rules_fails_their_check_which_names_each_rule(sample, tmp_path):
    """A model's column rules (not_null, accepted_values, between) are one dbt test a model
    (tests/generic/column_rules.sql), not one a column and rule: a row breaking them fails it,
    and its rows, named in dbt's message (a view in the build), name every rule each row
    breaks; a NULL passes accepted_values and between, as in dbt's own tests."""
    import shutil
    import subprocess
    import sys

    from orchestration.project import DBT_DIR

    work = tmp_path / "build.duckdb"
    shutil.copyfile(sample.work_db, work)
    with duckdb.connect(str(work)) as con:
        con.execute("create temp table good as select * from marts.investment_by_group limit 1")
        for bad in ("null as period, 'town' as region_level, 13 as period_month",
                    "null as group_type, 0 as project_count", "null as period_month"):
            con.execute(f"insert into marts.investment_by_group select * replace ({bad}) from good")
    env = {**os.environ, "PARKSTAT_WORK_DB": str(work), "PARKSTAT_STAGED": str(sample.staged)}
    out = subprocess.run([sys.executable, "-m", "dbt.cli.main", "--no-use-colors", "test", "--select",
                          "column_rules_investment_by_group",
                          "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
                          "--target-path", str(tmp_path / "target")], cwd=DBT_DIR, env=env, capture_output=True,
                         text=True)
    assert out.returncode == 1, out.stdout
    assert "in test column_rules_investment_by_group (models/marts/_marts.yml)" in out.stdout, out.stdout
    assert "Got 3 results, configured to fail if != 0" in out.stdout, out.stdout
    # the message names the failing rows, kept as a view in the build (store_failures_as: view)
    view = '"build"."dbt_test__audit"."column_rules_investment_by_group"'
    assert "See test failures:" in out.stdout and f"select * from {view}" in out.stdout, out.stdout
    with duckdb.connect(str(work), read_only=True) as con:
        broken = sorted(r[0] for r in con.execute(f"select broken_rules from {view}").fetchall())
    assert broken == ["group_type not_null; project_count between; ",
                      "period not_null; region_level accepted_values; period_month between; ",
                      "period_month not_null; "]


def test_every_table_model_materialization_carries_its_row_count(sample):
    counts, tables = materialized_row_counts(sample)
    inner = {k: v for k, v in counts.items() if k.startswith("intermediate/")}
    # every core and mart table, as many rows as were published; no view counted
    assert {k: v for k, v in counts.items() if k not in inner} == tables
    # the intermediate tables (built by period year) count theirs too: a standing report a project-month
    assert sorted(inner) == ["intermediate/int_project_investment__group_sums",
                             "intermediate/int_project_investment__region_sums",
                             "intermediate/int_project_progress__standing"]
    assert inner["intermediate/int_project_progress__standing"] == tables["core/fct_project_investment"]
    assert inner["intermediate/int_project_investment__region_sums"] == tables["marts/investment_progress"]


def test_the_nightly_build_ran_the_dbt_unit_tests_of_the_rules(sample):
    """dbt's unit tests (models/*/_unit_tests.yml) run in every DuckDB build, before the
    model they test: the standing rule, the county domain, the monthly derivation,
    同口径 growth and the projects that dropped out of a period."""
    import json

    from orchestration.engines import Build

    results = json.loads((Build(sample, "duckdb").dbt_target_path / "run_results.json").read_text())["results"]
    units = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    assert units == {"standing_rule_an_indicator_report_stands_per_indicator_it_carries": "pass",
                     "county_domain_counts_counties_and_county_level_cities_in_force_that_year": "pass",
                     "monthly_amounts_are_differences_of_cumulative_reports_within_a_year": "pass",
                     "comparable_growth_counts_only_the_parks_that_reported_in_both_years": "pass",
                     "a_project_missing_from_a_later_period_of_its_year_is_not_reported_there": "pass"}


def test_the_readmes_check_example_and_duckdb_hint_work_on_the_demos_home(sample):
    """The README's ``parkstat check`` example names the file the demo leaves in place,
    and its ``duckdb`` command (the shell in the project's environment) answers."""
    import shlex
    import subprocess
    import sys

    from typer.testing import CliRunner

    from orchestration.cli import app

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    (check,) = re.findall(r"^uv run parkstat check (\"warehouse/examples/.+)$", readme, flags=re.M)
    file, flag, code = shlex.split(check)
    assert file.startswith("warehouse/examples/") and flag == "--as"
    res = CliRunner().invoke(app, ["check", str(sample.root / file.removeprefix("warehouse/")), "--as", code,
                                   "--home", str(sample.root)])
    assert res.exit_code == 0 and "已接收 / accepted" in res.output, res.output
    (hint,) = re.findall(r"^uv run duckdb (.+?) \\\n\s+(.+)$", readme, flags=re.M)
    flag, db = shlex.split(hint[0])
    assert flag == "-readonly" and db == "warehouse/published/warehouse.duckdb"
    out = subprocess.run([str(Path(sys.executable).parent / "duckdb"), "-readonly", str(sample.published_db),
                          *shlex.split(hint[1])], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "娄底市" in out.stdout and out.stderr == "", out.stderr
