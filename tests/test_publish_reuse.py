"""A night costs what arrived, in the publish too: a publish writes no row a
night did not change — on DuckDB it is a copy of the build's bytes (dbt left
the unchanged years as they were); from a build that cannot be copied so, it
re-uses the served file and rewrites only the tables, and years of the big
facts, that changed. ``meta.publish_tables`` says what is the same as the
publish before; unchanged marts' Parquet is linked from it; the values are
those of a publish that copies every row. A night with nothing new publishes
nothing and says so; a new day, a changed calendar or ``--full-refresh`` is
not nothing new."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from ingest.synthetic import SIZES, generate
from tests.conftest import copy_tree, env_vars, make_home, query

FACT = "core.fct_project_investment"


def _refresh(home, capsys, full_refresh: bool = False) -> str:
    from orchestration.cli import _home, run_refresh

    capsys.readouterr()
    assert run_refresh(_home(home.root), full_refresh=full_refresh)
    return capsys.readouterr().out


def _parts(home) -> dict[tuple, tuple]:
    """(table, year) -> (fingerprint, written_by, reused) of the served file."""
    return {(t, y): (fp, by, reused) for t, y, fp, by, reused in query(
        home, "select table_name, period_year, fingerprint, written_by, reused from meta.publish_tables")}


def _served_id(home) -> str:
    return query(home, "select publish_id from meta.publish")[0][0]


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    """A warehouse of the generated tiny data without its last month, then the night that month came."""
    data = tmp_path_factory.mktemp("gen")
    generate("tiny", data)
    root = tmp_path_factory.mktemp("reuse")
    calendar = root / "calendar.csv"
    shutil.copyfile(data / "reporting_calendar.csv", calendar)
    with env_vars(PARKSTAT_NOW=SIZES["tiny"].now, PARKSTAT_REPORTING_CALENDAR=str(calendar)):
        home = make_home(root / "wh")
        copy_tree(data / "full", home.landing)
        yield {"home": home, "data": data, "calendar": calendar}


def test_a_night_that_changed_one_year_rewrites_that_year_only_and_equals_a_full_publish(night, capsys, tmp_path):
    from orchestration.engines import compare_published
    from orchestration.publish import build_candidate

    home = night["home"]
    _refresh(home, capsys)
    first, before = _served_id(home), _parts(home)
    first_dir = home.published_history / first
    years = sorted(y for t, y in before if t == FACT)
    assert years[-1] == 2024 and len(years) >= 2

    copy_tree(night["data"] / "increment", home.landing)  # December 2024, for every submitter
    _refresh(home, capsys)
    second, after = _served_id(home), _parts(home)
    assert second != first
    for year in years:
        fp, written_by, reused = after[(FACT, year)]
        if year == 2024:
            assert (reused, written_by) == (False, second) and fp != before[(FACT, year)][0]
        else:  # not rewritten: the same content, written by the first publish, kept from its file
            assert (reused, written_by, fp) == (True, first, before[(FACT, year)][0]), year
    # the tables the month did not touch are the first publish's, and so is their Parquet (the same file)
    reused_marts = sorted(t.split(".")[1] for (t, y), (_, by, r) in after.items() if t.startswith("marts.") and r)
    rewritten_marts = sorted(t.split(".")[1] for (t, y), (_, by, r) in after.items()
                             if t.startswith("marts.") and not r)
    assert reused_marts and "submission_status" in rewritten_marts
    meta = json.loads((home.current / "publish.json").read_text(encoding="utf-8"))
    assert meta["reused"]["parquet"] == reused_marts and meta["reused"]["workbook"] is False
    for mart in reused_marts:
        new, old = (home.current / "marts" / f"{mart}.parquet").stat(), (first_dir / "marts" / f"{mart}.parquet").stat()
        assert (new.st_ino, new.st_mtime_ns) == (old.st_ino, old.st_mtime_ns), mart
    for mart in rewritten_marts:
        assert (home.current / "marts" / f"{mart}.parquet").stat().st_ino != \
            (first_dir / "marts" / f"{mart}.parquet").stat().st_ino, mart

    # the same values as a publish that copies every table from the build
    full, counts = build_candidate(home, "full-copy", reuse=False)
    try:
        assert compare_published(home.published_db, full, ("marts", "core")) == {}
        con = duckdb.connect(str(full), read_only=True)
        assert not con.execute("select bool_or(reused) from meta.publish_tables").fetchone()[0]
        con.close()
    finally:
        full.unlink(missing_ok=True)
    assert counts[FACT] == query(home, f"select count(*) from {FACT}")[0][0]

    # from a build that is not copied as bytes, the first publish's file is the start, and only
    # the changed year of the facts and the changed tables are written into it
    other = make_home(tmp_path / "other")
    shutil.copytree(home.work_db.parent, other.work_db.parent, dirs_exist_ok=True)
    shutil.copyfile(first_dir / "warehouse.duckdb", other.published_db)
    rows_before = _parts(other)
    from_served, _ = build_candidate(other, "from-served", "from-served", copy_build=False)
    try:
        con = duckdb.connect(str(from_served), read_only=True)
        got = {(t, y): (by, reused) for t, y, by, reused in con.execute(
            "select table_name, period_year, written_by, reused from meta.publish_tables").fetchall()}
        con.close()
        assert {k: v for k, v in got.items() if k[0] == FACT} == {
            (FACT, y): ("from-served", False) if y == 2024 else (rows_before[(FACT, y)][1], True) for y in years}
        assert sorted(t.split(".")[1] for (t, _), (_, r) in got.items() if t.startswith("marts.") and r) == reused_marts
        assert compare_published(from_served, home.published_db, ("marts", "core")) == {}
    finally:
        from_served.unlink(missing_ok=True)


def test_a_night_with_nothing_new_says_so_and_leaves_the_publish_served(night, capsys):
    from orchestration.nothing_new import unchanged_publish

    home = night["home"]
    served = _served_id(home)
    mtime = home.published_db.stat().st_mtime_ns
    out = _refresh(home, capsys)
    assert f"nothing new  since publish {served}" in out and "published " not in out, out
    assert _served_id(home) == served and home.published_db.stat().st_mtime_ns == mtime
    assert unchanged_publish(home, "duckdb") == served

    # a new day is not nothing new: who is late depends on the date
    day = dt.datetime.fromisoformat(SIZES["tiny"].now) + dt.timedelta(days=30)
    with env_vars(PARKSTAT_NOW=day.isoformat()):
        assert unchanged_publish(home, "duckdb") is None
    # nor a changed reporting calendar (reference data): the build and the publish run again
    calendar = night["calendar"]
    text = calendar.read_text(encoding="utf-8")
    calendar.write_text(text.replace(",15,", ",16,", 1), encoding="utf-8")
    try:
        assert text != calendar.read_text(encoding="utf-8")
        assert unchanged_publish(home, "duckdb") is None
    finally:
        calendar.write_text(text, encoding="utf-8")
    assert unchanged_publish(home, "duckdb") == served
    # and a full refresh asked for builds and publishes: the same values, every table re-used
    out = _refresh(home, capsys, full_refresh=True)
    assert "nothing new" not in out and _served_id(home) != served
    assert query(home, "select bool_and(reused) from meta.publish_tables") == [(True,)]


def _catalog(path: Path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        here = "database_name = current_database()"
        return {
            "storage": con.execute(f"select tags['storage_version'] from duckdb_databases() where {here}").fetchone()[0],
            "schemas": {s for (s,) in con.execute(f"select schema_name from duckdb_schemas() where {here} "
                                                  "and not internal").fetchall()},
            "tables": {f"{s}.{t}" for s, t in con.execute(f"select schema_name, table_name from duckdb_tables() "
                                                          f"where {here} and schema_name <> 'meta'").fetchall()},
            "other": con.execute(f"select (select count(*) from duckdb_views() where {here} and not internal) + "
                                 f"(select count(*) from duckdb_functions() where {here} and not internal) + "
                                 f"(select count(*) from duckdb_sequences() where {here})").fetchone()[0],
            # rows out of the model's order (period, then project), read in the order they are stored
            "unordered": con.execute(f"""select count(*) from (
                select period, project_code, lag(period) over (order by rowid) as p, lag(project_code) over
                (order by rowid) as c from {FACT}) where p > period or (p = period and c > project_code)""").fetchone()[0],
            "reused": con.execute("select bool_or(reused) from meta.publish_tables").fetchone()[0],
        }
    finally:
        con.close()


def _remake(path: Path, storage_version: str) -> None:
    """The DuckDB file at ``path`` made again, the same tables, in another storage format."""
    again = path.with_name("remade.duckdb")
    con = duckdb.connect()
    con.execute(f"attach '{path}' as old (read_only)")
    con.execute(f"attach '{again}' as new (storage_version '{storage_version}')")
    con.execute("copy from database old to new")
    con.close()
    again.replace(path)


def _stored(path: Path) -> list[tuple]:
    """The big fact's keys in the order its rows are stored."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"select project_code, period, file_id from {FACT} order by rowid").fetchall()
    finally:
        con.close()


def test_a_whole_publish_is_the_builds_file_with_only_the_published_tables_and_equals_a_copy_of_its_rows(
        night, tmp_path, capsys):
    """On DuckDB the candidate is a copy of the build's bytes (dbt made the build in the
    published file's storage format) with everything not published dropped from it. A
    build that cannot be copied so — made in another storage format, or left with a
    write-ahead log — is published by copying its rows, the big facts sorted by period and
    project, with the same values."""
    import subprocess
    import sys

    from orchestration import reuse
    from orchestration.engines import Build, compare_published
    from orchestration.publish import PUBLISH_STORAGE_VERSION, build_candidate

    home = make_home(tmp_path / "wh")  # its own: the build is remade below
    copy_tree(night["data"] / "full", home.landing)
    _refresh(home, capsys)
    build = Build(home, "duckdb")
    assert reuse.build_copyable(build, PUBLISH_STORAGE_VERSION)  # profiles.yml makes builds so
    as_bytes, counts = build_candidate(home, "bytes", reuse=False)
    as_rows, _ = build_candidate(home, "rows", reuse=False, copy_build=False)
    try:
        got, want = _catalog(as_bytes), _catalog(as_rows)
        assert got["tables"] == set(counts) == want["tables"] and FACT in counts
        assert got["storage"] == want["storage"] == PUBLISH_STORAGE_VERSION + "+"
        assert got["schemas"] == want["schemas"] == {"core", "marts", "meta"}
        assert (got["other"], got["reused"]) == (0, False)
        assert want["unordered"] == 0
        # the bytes keep the build's rows as dbt stored them, in its order
        assert _stored(as_bytes) == _stored(home.work_db)
        # the same tables, comments, layout; only the publish's id (in its own rows) differs
        assert set(compare_published(as_bytes, as_rows, ("marts", "core", "meta"))) == {
            "meta.publish", "meta.publish_tables"}
        assert compare_published(as_bytes, as_rows, ("marts", "core")) == {}
    finally:
        as_bytes.unlink(missing_ok=True)
        as_rows.unlink(missing_ok=True)

    # a publish does not read the build while a dbt run holds it (Build.lock), and goes on after
    import threading

    made = []
    with build.lock():
        waiting = threading.Thread(target=lambda: made.append(build_candidate(home, "waits", reuse=False)[0]))
        waiting.start()
        waiting.join(3)
        assert waiting.is_alive() and not made
    waiting.join(120)
    assert made and made[0].exists()
    made[0].unlink()

    # another home with this build made in DuckDB's newer storage format: its rows are copied
    other = make_home(tmp_path / "other")
    shutil.copytree(home.work_db.parent, other.work_db.parent, dirs_exist_ok=True)
    _remake(other.work_db, "v1.2.0")
    assert not reuse.build_copyable(Build(other, "duckdb"), PUBLISH_STORAGE_VERSION)
    as_rows_again, _ = build_candidate(other, "newer", reuse=False)
    try:
        assert _catalog(as_rows_again)["storage"] == PUBLISH_STORAGE_VERSION + "+"
        assert compare_published(as_rows_again, home.published_db, ("marts", "core")) == {}
    finally:
        as_rows_again.unlink(missing_ok=True)
    # and a build a killed process left with a write-ahead log is not copied as bytes
    shutil.copyfile(home.work_db, other.work_db)
    subprocess.run([sys.executable, "-c", "import duckdb, os; c = duckdb.connect(os.sys.argv[1]); "
                    "c.execute('create table main.unfinished as select 1 as x'); os._exit(0)",
                    str(other.work_db)], check=True)
    assert other.work_db.with_name(other.work_db.name + ".wal").exists()
    assert not reuse.build_copyable(Build(other, "duckdb"), PUBLISH_STORAGE_VERSION)

    # a home whose build was made in another format (before profiles.yml set it): a full
    # refresh makes the build anew in the published file's format, and publishes its bytes
    _remake(home.work_db, "v1.2.0")
    assert build.storage_version() == "v1.2.0"
    _refresh(home, capsys, full_refresh=True)
    assert build.storage_version() == PUBLISH_STORAGE_VERSION
    assert _stored(home.published_db) == _stored(home.work_db)
