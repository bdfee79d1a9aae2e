"""How long a publish takes: a whole copy against a copy of the served file with
only the changed tables or years written (orchestration/reuse.py), on a synthetic
build of two project facts over five years and a mart.

``uv run python -m benchmarks.reuse [ROWS]`` (default 5,000,000 rows a fact); figures
in docs/benchmarks.md. Works under benchmarks/work/reuse."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import duckdb

from ingest.settings import WarehouseHome
from orchestration import reuse
from orchestration.engines import Build
from orchestration.publish import build_candidate


def _timed(home: WarehouseHome, label: str, **kw) -> float:
    t0 = time.perf_counter()
    cand, counts = build_candidate(home, "m", "m", target="duckdb", **kw)
    s = time.perf_counter() - t0
    os.replace(cand, home.published_db)
    print(f"{label}: {s:.1f} s, file {home.published_db.stat().st_size / 2**20:.0f} MB", flush=True)
    return s


def main(n: int) -> None:
    root = Path("benchmarks/work/reuse").resolve()
    shutil.rmtree(root, ignore_errors=True)
    home = WarehouseHome(root / "wh").ensure()
    con = duckdb.connect(str(home.work_db))
    con.execute("create schema core; create schema marts")
    for t in ("fct_project_investment", "fct_project_progress_history"):
        con.execute(f"""create table core.{t} as select
            'P' || lpad((i % 200000)::varchar, 6, '0') as project_code, 'name ' || (i % 200000) as project_name,
            (2020 + (i // ({n} // 5)))::integer as period_year_src, i as file_id,
            cast(random() * 100000 as decimal(18, 2)) as annual_plan, cast(random() * 100000 as decimal(18, 2)) as ytd_completed,
            '43' || lpad((i % 3000)::varchar, 4, '0') as region_code
            from range({n}) r(i)""")
        con.execute(f"alter table core.{t} add column period varchar")
        con.execute(f"update core.{t} set period = period_year_src || '-' || lpad((1 + file_id % 12)::varchar, 2, '0')")
        con.execute(f"alter table core.{t} rename period_year_src to period_year")
    con.execute("create table marts.investment_progress as select * from core.fct_project_investment where file_id % 10 = 0")
    con.execute("create table marts.small as select range i from range(1000)")
    con.close()

    _timed(home, "whole copy (first publish, nothing served)", reuse=False)
    _timed(home, "nothing changed (file copy, every table re-used)")
    con = duckdb.connect(str(home.work_db))
    con.execute("update core.fct_project_investment set ytd_completed = ytd_completed + 1 where period_year = 2024")
    con.execute("update core.fct_project_progress_history set ytd_completed = ytd_completed + 1 where period_year = 2024")
    con.execute("update marts.investment_progress set ytd_completed = ytd_completed + 1")
    con.close()
    served = root / "served.duckdb"
    shutil.copyfile(home.published_db, served)
    _timed(home, "one year changed: changed years rewritten")
    shutil.copyfile(served, home.published_db)
    saved = dict(reuse.PARTITION_BY), reuse.WHOLE_COPY_ABOVE
    reuse.PARTITION_BY.clear()  # the facts count as changed tables, replaced whole in the copy
    reuse.WHOLE_COPY_ABOVE = 2.0
    _timed(home, "one year changed: changed tables rewritten whole (in the copy)")
    reuse.PARTITION_BY.update(saved[0])
    reuse.WHOLE_COPY_ABOVE = saved[1]
    shutil.copyfile(served, home.published_db)
    _timed(home, "one year changed: whole copy", reuse=False)
    for i in range(3):
        con = duckdb.connect(str(home.work_db))
        con.execute("update core.fct_project_investment set ytd_completed = ytd_completed + 1 where period_year = 2024")
        con.close()
        _timed(home, f"night {i + 1} more: changed years rewritten")
    t0 = time.perf_counter()
    reuse.build_parts(Build(home, "duckdb"), ("core", "marts"))
    print(f"fingerprints alone: {time.perf_counter() - t0:.1f} s")
    reuse.WHOLE_COPY_ABOVE = 2.0
    con = duckdb.connect(str(home.work_db))
    con.execute("update marts.investment_progress set ytd_completed = ytd_completed + 1")
    con.execute("update core.fct_project_investment set ytd_completed = ytd_completed + 1")
    con.close()
    _timed(home, "every fact year changed, forced re-use (above WHOLE_COPY_ABOVE)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5_000_000)
