"""Which figure stands is one rule (ingest/reference/standing.sql): dbt reads it
as its macro, the ledger renders it into its views, an ingest run applies it
in memory through Polars' SQL, and ``parkstat as-of`` applies it to the
history. The same submissions, with resends and two submitters reporting one
project, must give the same standing figures all four ways."""

from __future__ import annotations

import os
import re
from pathlib import Path

import polars as pl

from ingest.ledger import Ledger, standing_view
from ingest.pipeline import ingest_landing
from ingest.series import ProjectSeries
from ingest.standing import RULE
from tests.conftest import csv_bytes, drop, env_vars, make_home, query, refresh

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = [["园区代码", "园区名称", "所属地区代码"], ["431300-LSJ", "冷水江经济开发区", "431381"]]
HEAD = ["统计期", "项目代码", "项目名称", "所属地区代码", "所属园区代码", "总投资", "年度计划投资", "本年累计完成投资"]


def project(code: str, ytd: str, period: str = "2022-04") -> list[str]:
    return [period, code, f"项目{code}", "431381", "431300-LSJ", "50000", "12000", ytd]


def test_the_rule_is_one_file_that_dbt_and_python_read():
    linked = ROOT / "dbt_project" / "macros" / "standing.sql"
    assert linked.resolve() == RULE.resolve(), "dbt's macro must be the rule file itself"
    # nothing else ranks figures' files to decide what stands (a submitter's latest file, for the
    # status of its submission, is another question: partitioned by the submitter)
    ranking = re.compile(r"partition\s+by\s+([^()]*?)\s+order\s+by\s+\w*\.?file_id\s+desc", re.I)
    rankers = [p.relative_to(ROOT).as_posix() for folder in ("ingest", "orchestration", "dbt_project")
               for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".sql") and p.is_file()
               and not p.is_symlink() and p.resolve() != RULE.resolve()
               and any("submitter_code" not in m.group(1) for m in ranking.finditer(p.read_text(encoding="utf-8")))]
    assert rankers == []


def test_ledger_run_dbt_and_as_of_agree_on_what_stands(tmp_path):
    home = make_home(tmp_path / "wh")
    with env_vars(PARKSTAT_NOW="2022-05-10T09:00:00", PARKSTAT_SETTLE_SECONDS="0"):
        drop(home, "431300", "名录.csv", csv_bytes(REGISTRY))
        drop(home, "431381", "项目4月.csv", csv_bytes([HEAD, project("XM-1", "4100"), project("XM-2", "100")]))
        ingest_landing(home)
        # the city reports XM-1 too, later: its figure stands (most recent file)
        drop(home, "431300", "项目4月.csv", csv_bytes([HEAD, project("XM-1", "4000")]))
        ingest_landing(home)
    with env_vars(PARKSTAT_NOW="2022-05-12T09:00:00", PARKSTAT_SETTLE_SECONDS="0"):
        # the county resends April without XM-2: its first file no longer stands, and with it XM-2's row
        drop(home, "431381", "项目4月（更正）.csv", csv_bytes([HEAD, project("XM-1", "4300")]))
        ingest_landing(home)
    with env_vars(PARKSTAT_NOW="2022-05-14T09:00:00", PARKSTAT_SETTLE_SECONDS="0"):
        # the city resends April with XM-2 only: its XM-1 figure goes, the county's correction stands
        drop(home, "431300", "项目4月（更正）.csv", csv_bytes([HEAD, project("XM-2", "150"),
                                                             project("XM-3", "10", "2022-03")]))
        ingest_landing(home)
        assert refresh(home)
    expected = [("XM-1", "2022-04", 4300.0, "431381"), ("XM-2", "2022-04", 150.0, "431300"),
                ("XM-3", "2022-03", 10.0, "431300")]

    ledger = Ledger(home.ledger)
    try:
        ledger.con.execute(standing_view("standing_projects", "project_progress", ("project_code", "period")))
        in_ledger = ledger.con.execute("""select project_code, period, cast(ytd_completed as double), submitter_code
                                          from standing_projects order by 1, 2""").fetchall()
        # an ingest run's in-memory series, asked for every project and month
        asked = pl.DataFrame({"project_code": ["XM-1", "XM-2", "XM-3"], "period": ["2022-04", "2022-04", "2022-03"]})
        in_run = sorted(ProjectSeries(ledger.con).standing(asked).select(
            "project_code", "period", "ytd_completed", "submitter_code").rows())
    finally:
        ledger.close()
    by_dbt = query(home, """select project_code, period, cast(ytd_completed as double), submitter_code
                            from core.fct_project_investment order by 1, 2""")
    from ingest.asof import as_of_rows

    _, rows = as_of_rows(home.published_db, "2022-05-14")
    cols, rows = as_of_rows(home.published_db, "2022-05-14", projects=True)
    at = [dict(zip(cols, r)) for r in rows]
    as_of = sorted((r["project_code"], r["period"], float(r["ytd_completed"]), r["submitter_code"]) for r in at)
    assert in_ledger == in_run == by_dbt == as_of == sorted(expected)
    # and before the resends, as-of applies the same rule to what was known then
    cols, rows = as_of_rows(home.published_db, "2022-05-10", projects=True)
    then = sorted((r[cols.index("project_code")], float(r[cols.index("ytd_completed")]),
                   r[cols.index("submitter_code")]) for r in rows)
    assert then == [("XM-1", 4000.0, "431300"), ("XM-2", 100.0, "431381")]


def test_changing_the_rule_file_changes_every_python_reader(tmp_path, monkeypatch):
    """The renderers read the file each time: an edited rule (oldest file wins, in both of
    its forms) reaches the ledger view, the in-memory series (the form for one key a
    file) and the as-of query alike."""
    import ingest.standing as standing

    edited = tmp_path / "standing.sql"
    text = RULE.read_text(encoding="utf-8")
    assert "order by r.file_id desc" in text and "max(r.file_id) as file_id" in text
    edited.write_text(text.replace("order by r.file_id desc", "order by r.file_id asc")
                      .replace("max(r.file_id) as file_id", "min(r.file_id) as file_id"), encoding="utf-8")
    monkeypatch.setattr(standing, "RULE", edited)
    from ingest import asof, series

    for sql in (standing_view("v", "project_progress", ("project_code", "period")), asof.projects_as_of()):
        assert "order by r.file_id asc" in sql and "file_id desc" not in sql
    assert "min(r.file_id) as file_id" in series.rule() and "max(r.file_id)" not in series.rule()
    assert os.path.exists(RULE)
