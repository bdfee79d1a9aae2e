"""Building the published file and swapping it in (plain functions; the Dagster
asset that calls them lives in ``assets.py``).

DuckDB lets no writer near a file that any reader holds, so the pipeline never
writes the file analysts read: it copies the published schemas of the build
(DuckDB's working database, or Spark's tables: ``engines.py``) into a new
candidate file (starting from the bytes of the served file or of DuckDB's
build where it can: ``reuse.py``), checks it, closes it, and ``os.replace``s it over
``published/warehouse.duckdb``. Readers that had the old file open keep
their snapshot; new connections see the new one. Only tables are published
(no views over paths that exist only on the pipeline's machine).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.failpoints import failpoint
from ingest.ledger import NO_EXTENSIONS, duckdb_config
from ingest.settings import WarehouseHome, local_time
from orchestration.engines import Build

PUBLISHED_SCHEMAS = ("marts", "core")
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
    publish_id: str = ""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def build_candidate(home: WarehouseHome, run_id: str, publish_id: str = "",
                    published_at: str = "", target: str = "duckdb",
                    reuse: bool = True, copy_build: bool = True) -> tuple[Path, dict[str, int]]:
    """The published schemas of the ``target`` engine's build in a new file: a copy of
    the DuckDB build file's bytes with only the published tables kept, where it can be
    (``copy_build``); else a copy of the served file with only what the build changed
    written again, or, without a served file to build on (or ``reuse`` off), every table's
    rows copied (orchestration/reuse.py). Returns the file and {table: rows}; its
    ``meta.publish_tables`` says what is the same as in the served file (re-used)."""
    from orchestration import reuse as r
    from orchestration.project import cluster_by, ensure_manifest

    build = Build(home, target)
    publish_id = publish_id or run_id
    candidate = home.published / f".candidate-{run_id}.duckdb"
    candidate.unlink(missing_ok=True)
    try:
        # the build as one dbt run left it: another run's dbt waits (Build.lock)
        with build.lock():
            parts = r.build_parts(build, PUBLISHED_SCHEMAS)
            served = r.served_parts(home.published_db, target) if reuse else None
            copied = copy_build and r.build_copyable(build, PUBLISH_STORAGE_VERSION)
            if served is not None and not copied and r.share_to_write(parts, served[1]) > r.WHOLE_COPY_ABOVE:
                served = None  # most rows changed: a whole copy is faster, and compact
            had = served[1] if served else {}
            if copied:
                r.start_from_build(build, candidate, set(parts))
            elif served is not None:
                r.start_from(home.published_db, candidate)
            manifest = build.dbt_target_path / "manifest.json"
            manifest = manifest if manifest.exists() else ensure_manifest()
            order_by = cluster_by(manifest)
            counts: dict[str, int] = {}
            actions: dict[str, dict] = {}
            con = duckdb.connect(str(candidate), config={**duckdb_config(), **(
                {} if served or copied else {"storage_compatibility_version": PUBLISH_STORAGE_VERSION})})
            try:
                if not copied:
                    build.open(con)
                for schema in PUBLISHED_SCHEMAS:
                    con.execute(f"create schema if not exists {_ident(schema)}")
                built = [tuple(name.split(".")) for name in sorted(parts)]
                for schema, table in built:
                    name = f"{schema}.{table}"
                    if copied:  # the build's own table, as dbt wrote it (in dbt's order)
                        actions[name] = r.as_built(parts[name], had.get(name), publish_id)
                    else:
                        order = f" order by {order_by[name]}" if name in order_by else ""
                        source = build.relation(con, schema, table)
                        actions[name] = r.update_table(con, name, source, order, parts[name], had.get(name),
                                                       publish_id)
                    counts[name] = sum(p.rows for p in parts[name].values())
                if not copied:
                    build.close(con)
                names = {f"{s}.{t}" for s, t in built}
                for schema, table in con.execute("select schema_name, table_name from duckdb_tables() where schema_name in "
                                                 f"({', '.join(_literal(s) for s in PUBLISHED_SCHEMAS)})").fetchall():
                    if f"{schema}.{table}" not in names:  # the build no longer has it
                        con.execute(f"drop table {_ident(schema)}.{_ident(table)}")
                con.execute("create schema if not exists meta")
                for t in ("publish", "marts", "mart_columns"):
                    con.execute(f"drop table if exists meta.{t}")
                _copy_comments(con, manifest, set(counts))
                _write_layout(con, manifest, set(counts))
                r.record(con, parts, actions)
                # which publish a session reads: one row, in the file itself
                con.execute("create table meta.publish as select ? as publish_id, ? as run_id, "
                            "cast(? as timestamp) as published_at, ? as built_on", [
                                publish_id, run_id, published_at or dt.datetime.now().isoformat(), target])
                con.execute("comment on table meta.publish is '本文件对应的发布 / the publish this file is'")
                con.execute("checkpoint")
            finally:
                con.close()
    except BaseException:
        candidate.unlink(missing_ok=True)  # a failed candidate is not left behind (a build's size, now)
        raise
    return candidate, counts


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _copy_comments(con: duckdb.DuckDBPyConnection, manifest: Path, tables: set[str]) -> None:
    """The bilingual descriptions of the dbt project (its YAML and the models'
    docs, as the build's manifest holds them) on the published tables and columns,
    as COMMENTs — the same whichever engine built the tables."""
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"].values()
    for node in nodes:
        name = f"{node.get('schema')}.{node.get('alias') or node.get('name')}"
        if node.get("resource_type") != "model" or name not in tables:
            continue
        schema, table = name.split(".")
        relation = f"{_ident(schema)}.{_ident(table)}"
        if (node.get("description") or "").strip():
            con.execute(f"comment on table {relation} is {_literal(node['description'].strip())}")
        present = {r[0] for r in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
            [schema, table]).fetchall()}
        for column, spec in node.get("columns", {}).items():
            if column in present and (spec.get("description") or "").strip():
                con.execute(f"comment on column {relation}.{_ident(column)} "
                            f"is {_literal(spec['description'].strip())}")


def _write_layout(con: duckdb.DuckDBPyConnection, manifest: Path, tables: set[str]) -> None:
    """The marts' layout for people, from the dbt project's meta (orchestration.project.mart_layout),
    into the file: ``meta.marts`` (sheet, order, required) and ``meta.mart_columns``
    (Chinese headers). The workbook and the checks read it from the file they serve."""
    from orchestration.project import mart_layout

    layout = [m for m in mart_layout(manifest) if f"marts.{m['table']}" in tables]
    con.execute("create schema if not exists meta")
    con.execute("create table meta.marts (table_name varchar, sheet_name varchar, sheet_order integer, "
                "required boolean)")
    con.execute("create table meta.mart_columns (table_name varchar, column_name varchar, header_zh varchar)")
    if layout:
        con.executemany("insert into meta.marts values (?, ?, ?, ?)",
                        [[m["table"], m["sheet"], m["sheet_order"], m["required"]] for m in layout])
        cols = [[m["table"], c, zh] for m in layout for c, zh in m["columns"]]
        if cols:
            con.executemany("insert into meta.mart_columns values (?, ?, ?)", cols)
    con.execute("comment on table meta.marts is '各专题表的工作表名、顺序与是否必需 / each mart''s workbook sheet, "
                "its place and whether a publish requires it'")
    con.execute("comment on table meta.mart_columns is '各列的中文表头 / each mart column''s Chinese header'")


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


def keep_publishes() -> int:
    """How many publishes ``published/history/`` keeps (the setting keep_publishes,
    PARKSTAT_KEEP_PUBLISHES, 7)."""
    from ingest.config import current

    return current().keep_publishes


def _link_or_copy(src: Path, dst: Path) -> None:
    """A hard link (the published files are never written after they are made),
    or a copy where the file system has none."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def clean_leftovers(home: WarehouseHome, run_id: str) -> list[Path]:
    """What a killed publish left: candidate files and unfinished history entries."""
    gone = []
    for p in list(home.published.glob(".candidate-*")) + list(home.published.glob(".rollback-*")):
        if run_id not in p.name:
            p.unlink(missing_ok=True)
            gone.append(p)
    for p in home.published_history.glob("*.partial"):
        shutil.rmtree(p, ignore_errors=True)
        gone.append(p)
    return gone


def list_publishes(home: WarehouseHome) -> list[dict]:
    """Every complete publish kept, oldest first, with its publish.json."""
    out = []
    for d in sorted(home.published_history.iterdir()) if home.published_history.exists() else []:
        meta = d / "publish.json"
        if d.is_dir() and not d.name.endswith(".partial") and meta.exists():
            out.append({**json.loads(meta.read_text(encoding="utf-8")), "id": d.name, "path": str(d)})
    return out


def current_publish(home: WarehouseHome) -> str | None:
    link = home.published / "current"
    return os.readlink(link).split("/")[-1] if link.is_symlink() else None


def _point_current(home: WarehouseHome, publish_id: str) -> None:
    """``published/current`` -> ``history/<id>``, swapped atomically."""
    tmp = home.published / f".current-{publish_id}"
    tmp.unlink(missing_ok=True)
    os.symlink(f"history/{publish_id}", tmp)
    os.replace(tmp, home.published / "current")


def _prune(home: WarehouseHome, keep: int) -> None:
    current = current_publish(home)
    kept = list_publishes(home)
    for entry in kept[:-keep] if len(kept) > keep else []:
        if entry["id"] != current:
            shutil.rmtree(entry["path"], ignore_errors=True)


def served_folder(home: WarehouseHome) -> Path | None:
    """``history/<id>`` of the publish the served file is (its ``meta.publish``), if kept."""
    if not home.published_db.exists():
        return None
    con = duckdb.connect(str(home.published_db), read_only=True, config=NO_EXTENSIONS)
    try:
        row = con.execute("select publish_id from meta.publish").fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    folder = home.published_history / row[0]
    return folder if (folder / "publish.json").exists() else None


def _workbook(con: duckdb.DuckDBPyConnection, staging: Path, previous: Path | None,
              changed: set[str]) -> tuple[dict[str, int], bool]:
    """The leaders' workbook: the previous publish's when no mart of a sheet changed
    (nor the rows a sheet may hold), else written anew. Returns (rows per sheet, re-used)."""
    from orchestration.outputs import workbook_max_rows, write_workbook

    if previous is not None and not changed and (previous / "parkstat.xlsx").exists():
        before = json.loads((previous / "publish.json").read_text(encoding="utf-8"))
        if before.get("workbook_max_rows") == workbook_max_rows() and "sheets" in before:
            _link_or_copy(previous / "parkstat.xlsx", staging / "parkstat.xlsx")
            return before["sheets"], True
    return write_workbook(con, staging / "parkstat.xlsx"), False


def publish(home: WarehouseHome, run_id: str, required: list[str], docs_site: Path | None = None,
            keep: int | None = None, target: str = "duckdb", inputs: str | None = None) -> PublishResult:
    """Build, verify and serve a new publish. Until the final ``os.replace`` the
    served file is untouched; a kill anywhere leaves at most leftovers that the
    next publish removes. ``inputs``: what the build was made of (orchestration/nothing_new.py),
    recorded so that a night with nothing new can leave this publish served."""
    from orchestration.outputs import mart_sheets, write_parquet, workbook_max_rows

    clean_leftovers(home, run_id)
    now = local_time()  # aware, in the display zone (PARKSTAT_TIMEZONE): the id reads as the time shown
    publish_id = f"{now:%Y%m%dT%H%M%S}-{run_id[:8]}"
    previous = served_folder(home)  # the served publish's outputs, before the candidate is made from its file
    candidate, counts = build_candidate(home, run_id, publish_id, now.isoformat(timespec="seconds"), target)
    try:
        verify_candidate(candidate, counts, required)
    except Exception:
        candidate.unlink(missing_ok=True)
        raise
    staging = home.published_history / f"{publish_id}.partial"
    staging.mkdir(parents=True)
    con = duckdb.connect(str(candidate), read_only=True, config=NO_EXTENSIONS)
    try:
        # an output whose tables this publish re-used is the previous publish's, linked
        parquet = write_parquet(con, staging / "marts", previous / "marts" if previous else None)
        sheets, workbook_reused = _workbook(con, staging, previous, {t for t in mart_sheets(con) if not parquet[t]})
        from orchestration.report import write_report

        write_report(con, staging / "report.html", publish_id)
    finally:
        con.close()
    if docs_site is not None:
        (staging / "docs").mkdir()
        _link_or_copy(docs_site, staging / "docs" / "index.html")
    _link_or_copy(candidate, staging / "warehouse.duckdb")
    (staging / "publish.json").write_text(json.dumps(
        {"run_id": run_id, "published_at": now.isoformat(timespec="seconds"), "built_on": target, "tables": counts,
         "sheets": sheets, "workbook_max_rows": workbook_max_rows(), "inputs": inputs,
         "reused": {"parquet": sorted(t for t, same in parquet.items() if same), "workbook": workbook_reused}},
        ensure_ascii=False, indent=1), encoding="utf-8")
    # analysts' and leaders' copies are read-only files: nothing is ever written into a publish
    for p in [candidate, *staging.rglob("*")]:
        if p.is_file():
            os.chmod(p, 0o444)
    failpoint("publish.before_history")
    os.rename(staging, home.published_history / publish_id)
    failpoint("publish.before_replace")
    os.replace(candidate, home.published_db)
    _point_current(home, publish_id)
    failpoint("publish.after_replace")
    _prune(home, keep or keep_publishes())
    return PublishResult(home.published_db, counts, now.isoformat(timespec="seconds"), publish_id)


def rollback(home: WarehouseHome, to: str | None = None) -> dict:
    """Serve an earlier publish again: ``to`` (a publish id), or the one before
    the publish served now. Returns the publish now served."""
    kept = list_publishes(home)
    ids = [e["id"] for e in kept]
    if to is None:
        cur = current_publish(home)
        if cur not in ids or ids.index(cur) == 0:
            raise PublishError("没有更早的发布可回滚 / there is no earlier publish to roll back to"
                               + (f" (kept: {', '.join(ids)})" if ids else ""))
        to = ids[ids.index(cur) - 1]
    if to not in ids:
        raise PublishError(f"找不到发布 {to} / no publish {to!r} is kept (kept: {', '.join(ids) or 'none'})")
    entry = kept[ids.index(to)]
    tmp = home.published / f".rollback-{to}.duckdb"
    tmp.unlink(missing_ok=True)
    _link_or_copy(Path(entry["path"]) / "warehouse.duckdb", tmp)
    os.replace(tmp, home.published_db)
    _point_current(home, to)
    with open(home.published / "rollbacks.log", "a", encoding="utf-8") as fh:
        fh.write(f"{local_time().isoformat(timespec='seconds')} rolled back to {to}\n")
    return entry
