"""Nightly runs cost what arrived: the staged Parquet grows by one part per run,
and the project facts rebuild only the years new files touched — with results
identical to a full rebuild of everything from the same ledger."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from ingest.synthetic import SIZES, generate
from ingest.settings import WarehouseHome
from orchestration.project import DBT_DIR
from tests.conftest import copy_tree, env_vars, make_home, query, refresh

SCHEMAS = ("core", "marts")


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    return [f"{s}.{t}" for s, t in con.execute(
        "select table_schema, table_name from information_schema.tables where table_catalog = ? "
        "and table_schema in ('core', 'marts') and table_type = 'BASE TABLE' order by 1, 2", [catalog]).fetchall()]


def _assert_equals_a_full_rebuild(tmp_path: Path, home: WarehouseHome) -> None:
    """Every core and mart table of the home's build equals a full rebuild from the same staged inputs."""
    full_db = tmp_path / "full.duckdb"
    env = {**os.environ, "PARKSTAT_WORK_DB": str(full_db), "PARKSTAT_STAGED": str(home.staged)}
    subprocess.run([sys.executable, "-m", "dbt.cli.main", "build", "--full-refresh", "--quiet",
                    "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
                    "--target-path", str(tmp_path / "target")], check=True, cwd=DBT_DIR, env=env)
    con = duckdb.connect()
    con.execute(f"attach '{home.work_db}' as inc (read_only)")
    con.execute(f"attach '{full_db}' as full_build (read_only)")
    tables = _tables(con, "inc")
    assert tables == _tables(con, "full_build") and "core.fct_project_investment" in tables
    for t in tables:
        n = con.execute(f"select count(*) from inc.{t}").fetchone()[0]
        assert n == con.execute(f"select count(*) from full_build.{t}").fetchone()[0], t
        diff = con.execute(f"select count(*) from (select * from inc.{t} except all select * from full_build.{t})"
                           ).fetchone()[0]
        assert diff == 0, f"{t}: {diff} of {n} rows differ from a full rebuild"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    generate("tiny", out)
    return out


def test_a_new_month_rebuilds_its_year_only_and_equals_a_full_rebuild(tmp_path: Path, data: Path):
    with env_vars(PARKSTAT_NOW=SIZES["tiny"].now, PARKSTAT_REPORTING_CALENDAR=str(data / "reporting_calendar.csv")):
        home = make_home(tmp_path / "wh")
        copy_tree(data / "full", home.landing)
        assert refresh(home)
        parts = sorted((home.staged / "project_progress").glob("part-*.parquet"))
        assert len(parts) == 1

        # mark a 2023 row in the working database: a rebuild of 2023 would wipe the mark
        con = duckdb.connect(str(home.work_db))
        code = con.execute("select min(project_code) from core.fct_project_investment where period = '2023-05'"
                           ).fetchone()[0]
        name = con.execute("update core.fct_project_investment set project_name = 'MARK' "
                           "where project_code = ? and period = '2023-05' returning project_code", [code]).fetchall()
        assert name
        before_2024 = con.execute("select count(*) from core.fct_project_investment where period_year = 2024"
                                  ).fetchone()[0]
        # and a 2023 report twice in the history (nothing reads that fact): a night that rebuilds
        # 2024 tests 2024, not the years it left as they were (macros/test_scope.sql)
        con.execute("insert into core.fct_project_progress_history select * from core.fct_project_progress_history "
                    "where project_code = ? and period = '2023-05'", [code])
        con.close()

        # the night: the new month, and one city's corrected March report
        copy_tree(data / "increment", home.landing)
        city = sorted(p.name for p in (data / "full").iterdir())[0]
        march = next((data / "full" / city).glob("2024年1-3月*"))
        text = march.read_bytes().decode("utf-8")
        first = text.splitlines()[1].split(",")
        first[10] = str(round(float(first[10]) * 1.01, 2))  # 本年累计完成投资, 1 % higher
        corrected = text.replace(text.splitlines()[1], ",".join(first))
        (home.landing / city / ("更正" + march.name)).write_bytes(corrected.encode("utf-8"))
        assert refresh(home)

        assert len(sorted((home.staged / "project_progress").glob("part-*.parquet"))) == 2
        con = duckdb.connect(str(home.work_db))
        try:
            assert con.execute("select * from intermediate.test_scope order by 1").fetchall() == [
                ("fct_project_investment", 2024), ("fct_project_progress_history", 2024)]
            assert con.execute("select project_name from core.fct_project_investment where project_code = ? "
                               "and period = '2023-05'", [code]).fetchone() == ("MARK",)  # 2023 untouched
            assert con.execute("select ytd_completed from core.fct_project_investment where project_code = ? "
                               "and period = '2024-03'", [first[1]]).fetchone() == (Decimal(first[10]),)  # exact
            after_2024 = con.execute("select count(*) from core.fct_project_investment where period_year = 2024"
                                     ).fetchone()[0]
            assert after_2024 > before_2024  # December came in
            con.execute("update core.fct_project_investment set project_name = (select project_name from "
                        "core.dim_project where project_code = ? and is_current) where project_name = 'MARK'", [code])
        finally:
            con.close()
        # `dbt test` scans every year: the 2023 duplicate fails the history's key
        env = {**os.environ, "PARKSTAT_WORK_DB": str(home.work_db), "PARKSTAT_STAGED": str(home.staged)}
        tested = subprocess.run([sys.executable, "-m", "dbt.cli.main", "--no-use-colors", "test",
                                 "--select", "fct_project_progress_history", "--project-dir", str(DBT_DIR),
                                 "--profiles-dir", str(DBT_DIR), "--target-path", str(tmp_path / "target-test")], cwd=DBT_DIR, env=env,
                                capture_output=True, text=True)
        assert tested.returncode == 1, tested.stdout[-2000:]
        assert "in test unique_combination_fct_project_progress_history_project_code__period__file_id" \
            in tested.stdout, tested.stdout[-2000:]
        assert "Got 1 result, configured to fail if != 0" in tested.stdout, tested.stdout[-2000:]
        con = duckdb.connect(str(home.work_db))
        try:
            assert con.execute("select * from intermediate.test_scope order by 1").fetchall() == [
                ("fct_project_investment", 0), ("fct_project_progress_history", 0)]
            con.execute("create table dup as select distinct * from core.fct_project_progress_history "
                        "where project_code = ? and period = '2023-05'", [code])
            con.execute("delete from core.fct_project_progress_history where project_code = ? and period = '2023-05'",
                        [code])
            con.execute("insert into core.fct_project_progress_history select * from dup")
            con.execute("drop table dup")
        finally:
            con.close()

        _assert_equals_a_full_rebuild(tmp_path, home)


def test_a_correction_of_an_earlier_year_reaches_what_later_reports_carry_forward(tmp_path: Path, data: Path):
    """A city's 2024 reports leave out 产业链, so its projects carry 2023's chain forward; a
    corrected December 2023 report changes one project's chain: the incremental night rebuilds
    2023 and 2024 (not 2023 alone) and equals a full rebuild."""
    with env_vars(PARKSTAT_NOW=SIZES["tiny"].now, PARKSTAT_REPORTING_CALENDAR=str(data / "reporting_calendar.csv")):
        home = make_home(tmp_path / "wh")
        copy_tree(data / "full", home.landing)
        city = sorted(p.name for p in (data / "full").iterdir())[0]
        for f in sorted((home.landing / city).glob("2024年*重点产业项目进度.csv")):
            rows = [line.split(",") for line in f.read_text(encoding="utf-8").splitlines()]
            assert rows[0][5] == "产业链"
            f.write_text("\n".join(",".join(r[:5] + r[6:]) for r in rows) + "\n", encoding="utf-8")
        assert refresh(home)
        december = next((data / "full" / city).glob("2023年1-12月*"))
        lines = december.read_text(encoding="utf-8").splitlines()
        row = lines[1].split(",")
        code, chain = row[1], row[5]
        con = duckdb.connect(str(home.work_db), read_only=True)
        try:
            assert con.execute("select distinct industry_chain from core.fct_project_investment "
                               "where project_code = ? and period_year = 2024", [code]).fetchall() == [(chain,)]
        finally:
            con.close()
        row[5] = "新材料" if chain != "新材料" else "新能源"
        lines[1] = ",".join(row)
        (home.landing / city / ("更正" + december.name)).write_text("\n".join(lines) + "\n", encoding="utf-8")
        assert refresh(home)
        con = duckdb.connect(str(home.work_db), read_only=True)
        try:
            assert con.execute("select distinct industry_chain from core.fct_project_investment "
                               "where project_code = ? and period >= '2023-12'", [code]).fetchall() == [(row[5],)]
        finally:
            con.close()
        _assert_equals_a_full_rebuild(tmp_path, home)


def test_a_project_no_report_of_which_stands_any_more_leaves_the_dimension(tmp_path: Path, data: Path):
    """A project that was only in one file (its November report) is gone once a correction of
    that file leaves it out: the incremental night drops it from dim_project and the facts,
    as a full rebuild does."""
    with env_vars(PARKSTAT_NOW=SIZES["tiny"].now, PARKSTAT_REPORTING_CALENDAR=str(data / "reporting_calendar.csv")):
        home = make_home(tmp_path / "wh")
        copy_tree(data / "full", home.landing)
        city = sorted(p.name for p in (data / "full").iterdir())[0]
        november = next((data / "full" / city).glob("2024年1-11月*"))
        original = november.read_text(encoding="utf-8")
        row = original.splitlines()[1].split(",")
        row[1], row[2] = "XM9999999999", "只报过一次的项目"
        (home.landing / city / november.name).write_text(original + ",".join(row) + "\n", encoding="utf-8")
        assert refresh(home)
        assert query(home, "select count(*) from core.dim_project where project_code = 'XM9999999999'") == [(1,)]
        (home.landing / city / ("更正" + november.name)).write_text(original, encoding="utf-8")
        assert refresh(home)
        assert query(home, "select count(*) from core.dim_project where project_code = 'XM9999999999'") == [(0,)]
        assert query(home, "select count(*) from core.fct_project_investment where project_code = 'XM9999999999'"
                     ) == [(0,)]
        _assert_equals_a_full_rebuild(tmp_path, home)


def test_a_changed_reference_or_project_means_a_full_rebuild(tmp_path: Path, data: Path):
    from orchestration.dbt_assets import build_fingerprint

    base = build_fingerprint()
    cal = tmp_path / "calendar.csv"
    cal.write_text((data / "reporting_calendar.csv").read_text(encoding="utf-8"), encoding="utf-8")
    with env_vars(PARKSTAT_REPORTING_CALENDAR=str(cal)):
        one = build_fingerprint()
        cal.write_text(cal.read_text(encoding="utf-8").replace(",15,", ",20,"), encoding="utf-8")
        assert build_fingerprint() != one
    assert build_fingerprint() == base


def test_staged_parts_survive_a_replaced_ledger_and_a_cut_short_compaction(tmp_path: Path):
    from ingest.export import _parts, export
    from ingest.ledger import Ledger

    home: WarehouseHome = make_home(tmp_path / "wh")
    folder = home.staged / "project_progress"
    ledger = Ledger(home.ledger)
    try:
        export(ledger, home.staged)
        assert [(lo, hi) for lo, hi, _ in _parts(folder)] == [(0, 0)]  # an empty first part: dbt's glob matches
        # a compaction cut short leaves a wide part beside the narrow ones it replaced
        (folder / "part-000000000001-000000000005.parquet").write_bytes((folder / "part-000000000000-000000000000.parquet").read_bytes())
        (folder / "part-000000000000-000000000009.parquet").write_bytes((folder / "part-000000000000-000000000000.parquet").read_bytes())
        assert [(lo, hi) for lo, hi, _ in _parts(folder)] == [(0, 9)]
        # a ledger behind its parts (replaced by an older copy) starts them afresh
        export(ledger, home.staged)
        assert [(lo, hi) for lo, hi, _ in _parts(folder)] == [(0, 0)]
    finally:
        ledger.close()
