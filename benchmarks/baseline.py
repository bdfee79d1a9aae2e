"""The baseline: the same transforms as one DuckDB SQL script, run directly.

The script is the dbt models' own SQL, compiled once (``dbt compile``) and laid
out in dependency order as ``create view``/``create table`` statements — the
exact work the pipeline's models ask of DuckDB, with nothing around it: no dbt,
no data tests, no Dagster, no publish. Compiling rather than retyping the
models keeps one source of truth for every transform; the ratio then measures
what the pipeline adds to the engine's own cost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from ingest.ledger import NO_EXTENSIONS
from orchestration.project import DBT_DIR


def compile_script(staged: Path) -> str:
    """One SQL script building every model (views stay views, tables tables)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PARKSTAT_STAGED": str(staged), "PARKSTAT_WORK_DB": str(Path(tmp) / "build.duckdb")}
        subprocess.run([sys.executable, "-m", "dbt.cli.main", "compile", "--quiet", "--project-dir", str(DBT_DIR),
                        "--profiles-dir", str(DBT_DIR), "--target-path", str(Path(tmp) / "target"),
                        "--select", "resource_type:model"], check=True, cwd=DBT_DIR, env=env)
        manifest = json.loads((Path(tmp) / "target" / "manifest.json").read_text(encoding="utf-8"))
    models = {k: n for k, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    done: list[str] = []

    def visit(key: str) -> None:
        if key in done:
            return
        for dep in models[key]["depends_on"]["nodes"]:
            if dep in models:
                visit(dep)
        done.append(key)

    for key in sorted(models):
        visit(key)
    statements = []
    for key in done:
        n = models[key]
        schemas = n["schema"]
        kind = "view" if n["config"]["materialized"] == "view" else "table"
        statements.append(f'create schema if not exists "{schemas}";\n'
                          f'create or replace {kind} {n["relation_name"]} as (\n{n["compiled_code"]}\n);')
    return "\n\n".join(statements)


def run_script(script: str) -> tuple[float, dict[str, int]]:
    """Run the script in a fresh database named like the pipeline's (``build``);
    returns seconds and the row count of every table."""
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "build.duckdb"), config=NO_EXTENSIONS)
        try:
            t0 = time.perf_counter()
            con.execute(script)
            con.execute("checkpoint")
            seconds = time.perf_counter() - t0
            counts = {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0]
                      for s, t in con.execute("""select table_schema, table_name from information_schema.tables
                                                 where table_type = 'BASE TABLE' order by 1, 2""").fetchall()}
        finally:
            con.close()
    return seconds, counts
