"""Building the published file and swapping it in (plain functions; the Dagster
asset that calls them lives in ``assets.py``).

DuckDB lets no writer near a file that any reader holds, so the pipeline never
writes the file analysts read: it copies the published schemas of the working
database into a new candidate file, checks it, closes it, and ``os.replace``s
it over ``published/warehouse.duckdb``. Readers that had the old file open keep
their snapshot; new connections see the new one. Only tables are published
(no views over paths that exist only on the pipeline's machine).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.settings import WarehouseHome

PUBLISHED_SCHEMAS = ("marts", "core")
NO_EXTENSIONS = {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}
# Analysts' clients (the DuckDB CLI, DBeaver, BI tools) lag behind the pipeline's
# DuckDB 2.0: write the published file in a storage format DuckDB 1.0+ can read.
PUBLISH_STORAGE_VERSION = "v1.0.0"


class PublishError(RuntimeError):
    pass


@dataclass
class PublishResult:
    path: Path
    tables: dict[str, int]  # schema.table -> rows
    published_at: str


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def build_candidate(home: WarehouseHome, run_id: str) -> tuple[Path, dict[str, int]]:
    candidate = home.published / f".candidate-{run_id}.duckdb"
    candidate.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    con = duckdb.connect(str(candidate), config={**NO_EXTENSIONS,
                                                 "storage_compatibility_version": PUBLISH_STORAGE_VERSION})
    try:
        con.execute("attach ? as build (read_only)", [str(home.work_db)])
        tables = con.execute("""
            select table_schema, table_name from information_schema.tables
            where table_catalog = 'build' and table_schema in ({}) order by 1, 2
        """.format(", ".join("?" for _ in PUBLISHED_SCHEMAS)), list(PUBLISHED_SCHEMAS)).fetchall()
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f"create schema if not exists {_ident(schema)}")
        for schema, table in tables:
            target = f"{_ident(schema)}.{_ident(table)}"
            con.execute(f"create table {target} as select * from build.{target}")
            counts[f"{schema}.{table}"] = con.execute(f"select count(*) from {target}").fetchone()[0]
        _copy_comments(con)
        con.execute("detach build")
        con.execute("checkpoint")
    finally:
        con.close()
    return candidate, counts


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _copy_comments(con: duckdb.DuckDBPyConnection) -> None:
    """The bilingual descriptions dbt persisted (persist_docs) on the built
    tables and columns, carried over to the published copies as COMMENTs."""
    schemas = list(PUBLISHED_SCHEMAS)
    marks = ", ".join("?" for _ in schemas)
    for schema, table, comment in con.execute(f"""
            select schema_name, table_name, comment from duckdb_tables()
            where database_name = 'build' and schema_name in ({marks}) and coalesce(comment, '') <> ''""",
                                              schemas).fetchall():
        con.execute(f"comment on table {_ident(schema)}.{_ident(table)} is {_literal(comment.strip())}")
    for schema, table, column, comment in con.execute(f"""
            select schema_name, table_name, column_name, comment from duckdb_columns()
            where database_name = 'build' and schema_name in ({marks}) and coalesce(comment, '') <> ''""",
                                                      schemas).fetchall():
        con.execute(f"comment on column {_ident(schema)}.{_ident(table)}.{_ident(column)} "
                    f"is {_literal(comment.strip())}")


def verify_candidate(candidate: Path, counts: dict[str, int], required: list[str]) -> None:
    """The candidate opens read-only and holds every required relation with the rows built."""
    missing = [t for t in required if t not in counts]
    if missing:
        raise PublishError(f"not publishing: the build lacks {', '.join(missing)}")
    con = duckdb.connect(str(candidate), read_only=True, config=NO_EXTENSIONS)
    try:
        for name, n in counts.items():
            schema, table = name.split(".")
            got = con.execute(f"select count(*) from {_ident(schema)}.{_ident(table)}").fetchone()[0]
            if got != n:
                raise PublishError(f"not publishing: {name} has {got} rows in the candidate, {n} in the build")
    finally:
        con.close()


def publish(home: WarehouseHome, run_id: str, required: list[str]) -> PublishResult:
    candidate, counts = build_candidate(home, run_id)
    try:
        verify_candidate(candidate, counts, required)
    except Exception:
        candidate.unlink(missing_ok=True)
        raise
    os.replace(candidate, home.published_db)
    return PublishResult(home.published_db, counts, dt.datetime.now().isoformat(timespec="seconds"))


def publish_docs_site(home: WarehouseHome, static_index: Path) -> Path:
    """Put dbt's single-file docs site (``dbt docs generate --static``: catalog and
    manifest inlined, no server, no CDN) beside the published file, atomically."""
    target = home.published / "docs" / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name("index.html.tmp")
    tmp.write_bytes(static_index.read_bytes())
    os.replace(tmp, target)
    return target
