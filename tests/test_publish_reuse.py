"""A night costs what arrived, in the publish too: a publish re-uses the served
file and rewrites only the tables — and years of the big facts — that changed
(``meta.publish_tables``), links unchanged marts' Parquet from the publish
before, and holds the same values as a publish that copies everything. A
night with nothing new publishes nothing and says so; a new day, a changed
calendar or ``--full-refresh`` is not nothing new."""

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


def test_a_night_that_changed_one_year_rewrites_that_year_only_and_equals_a_full_publish(night, capsys):
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
