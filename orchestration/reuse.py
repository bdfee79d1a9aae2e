"""A publish that re-uses what is already written: no row a night did not
change is copied again.

Each published table has a content fingerprint — its rows, a sum of the hash
of every row, and its columns with their types — computed on the build; the
big facts (``PARTITION_BY``) have one per ``period_year``. The served file
records them in ``meta.publish_tables``, with which publish wrote each table
or year and whether this one re-used it (found it the same as in the file
served before).

On DuckDB a new candidate is a copy of the build file's bytes — dbt made it in
the published file's storage format — with everything but the published
tables dropped (``start_from_build``): no row is written at all, and dbt's
incremental models left the years a night did not change as they were. The
big facts keep the order dbt wrote them in (a project's rows together, as its
window functions leave them), not the period order a row copy sorts them into
(``cluster_by``): at national size the sort cost dbt 20–45 s a full build and
5–19 s a night, more than the copy saved; a month's question over a fact scans
it whole instead (docs/benchmarks.md).

A build that cannot be copied so — Spark's Parquet, a DuckDB build made
before it was in that format — is published from the served file: the
candidate starts as a copy of the served file's bytes, then only what differs
is written: a changed table is replaced, a changed year of a partitioned
table deleted and inserted again, a table the build no longer has dropped.
Without a served file to build on (missing, written before fingerprints, or
built on the other engine), or when most rows changed, every table's rows are
copied into a new file. Every way holds the same values (``parkstat compare``;
tests/test_publish_reuse.py).
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.ledger import NO_EXTENSIONS

# the big facts re-publish only the years a night changed: a new month rewrites its year
PARTITION_BY = {"core.fct_project_investment": "period_year",
                "core.fct_project_progress_history": "period_year"}
WHOLE = None  # the partition key of a table fingerprinted as a whole
# above this share of the build's rows changed, the candidate is a whole copy again: measured
# (docs/benchmarks.md), rewriting most of a copied file is slower than writing a new one, and
# the new one is compact (a copied file keeps the blocks of what it replaced, as free space)
WHOLE_COPY_ABOVE = 0.5


@dataclass
class Part:
    """One fingerprinted piece of a published table: the whole table, or one year."""

    rows: int
    fingerprint: str
    written_by: str = ""  # the publish whose build wrote these rows


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def fingerprints(con: duckdb.DuckDBPyConnection, table: str, relation: str) -> dict[object, Part]:
    """{partition: Part} of ``relation`` (SQL naming a table or a read of files):
    one per year for the tables of PARTITION_BY, else one (WHOLE)."""
    columns = con.execute(f"describe select * from {relation}").fetchall()
    shape = hashlib.sha256(repr([(c[0], c[1]) for c in columns]).encode()).hexdigest()[:16]
    key = PARTITION_BY.get(table)
    if key and key in {c[0] for c in columns}:
        rows = con.execute(f"select {_ident(key)}, count(*), cast(sum(cast(hash(t) as hugeint)) as varchar) "
                           f"from {relation} as t group by 1").fetchall() or [(WHOLE, 0, "0")]  # empty: its shape
    else:
        rows = [(WHOLE, *con.execute(f"select count(*), cast(coalesce(sum(cast(hash(t) as hugeint)), 0) "
                                     f"as varchar) from {relation} as t").fetchone())]
    return {part: Part(n, f"{shape}:{n}:{total}") for part, n, total in rows}


def served_parts(served: Path, target: str) -> tuple[str, dict[str, dict[object, Part]]] | None:
    """(publish id, {table: {partition: Part}}) the served file recorded, or None when
    it cannot be built on (missing, written before fingerprints, or built on the
    other engine, whose types differ)."""
    if not served.exists():
        return None
    con = duckdb.connect(str(served), read_only=True, config=NO_EXTENSIONS)
    try:
        have = {t for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'meta'"
                                          ).fetchall()}
        if not {"publish", "publish_tables"} <= have:
            return None
        publish_id, built_on = con.execute("select publish_id, built_on from meta.publish").fetchone()
        if built_on != target:
            return None
        out: dict[str, dict[object, Part]] = {}
        for table, part, rows, fp, written_by in con.execute(
                "select table_name, period_year, row_count, fingerprint, written_by from meta.publish_tables"
                ).fetchall():
            out.setdefault(table, {})[part] = Part(rows, fp, written_by)
        return publish_id, out
    finally:
        con.close()


def start_from(served: Path, candidate: Path) -> None:
    """The candidate as a copy of the served file's bytes (never a link: it is written)."""
    shutil.copyfile(served, candidate)
    candidate.chmod(0o644)


def build_copyable(build, storage_version: str) -> bool:
    """Whether a candidate can start as a copy of the build's bytes: a DuckDB build,
    checkpointed (no write-ahead log beside it: a build dbt closed), in the published
    file's storage format (``storage_version``; profiles.yml makes new builds so)."""
    if build.target != "duckdb" or not build.home.work_db.exists() or build.logs():
        return False
    return build.storage_version() == storage_version


def start_from_build(build, candidate: Path, keep: set[str]) -> None:
    """The candidate as a copy of the build file's bytes with every object but the
    tables of ``keep`` (schema.table) dropped: the views, staging and intermediate
    schemas, dbt's test audit. Their blocks stay in the file as free space, not
    readable through SQL (DuckDB re-uses them when the file is written again)."""
    shutil.copyfile(build.home.work_db, candidate)
    candidate.chmod(0o644)
    schemas = {name.split(".")[0] for name in keep}
    con = duckdb.connect(str(candidate), config=NO_EXTENSIONS)
    try:
        here = "database_name = current_database() and not internal"
        for schema, view in con.execute(f"select schema_name, view_name from duckdb_views() where {here}").fetchall():
            con.execute(f"drop view {_ident(schema)}.{_ident(view)}")
        for (schema,) in con.execute(f"select schema_name from duckdb_schemas() where {here}").fetchall():
            if schema not in schemas and schema != "main":
                con.execute(f"drop schema {_ident(schema)} cascade")
        for schema, table in con.execute(f"select schema_name, table_name from duckdb_tables() where {here}"
                                         ).fetchall():
            if f"{schema}.{table}" not in keep:
                con.execute(f"drop table {_ident(schema)}.{_ident(table)}")
        mine = "database_name = current_database() and not"
        for kind, query in (("sequence", f"select schema_name, sequence_name from duckdb_sequences() where {mine} temporary"),
                            ("macro", "select distinct schema_name, function_name from duckdb_functions() "
                                      f"where function_type = 'macro' and {here}"),
                            ("macro table", "select distinct schema_name, function_name from duckdb_functions() "
                                            f"where function_type = 'table_macro' and {here}"),
                            ("type", f"select schema_name, type_name from duckdb_types() where {here}")):
            for schema, name in con.execute(query).fetchall():
                con.execute(f"drop {kind} {_ident(schema)}.{_ident(name)}")
    finally:
        con.close()


def _plan(built: dict[object, Part], had: dict[object, Part] | None) -> tuple[bool, list]:
    """(whether the table is written whole, the partitions to write): whole when the
    served file lacks it, it is not partitioned, or its columns changed."""
    whole = (had is None or set(had) == {WHOLE} or set(built) == {WHOLE}
             or {p.fingerprint.split(":")[0] for p in had.values()}
             != {p.fingerprint.split(":")[0] for p in built.values()})
    if whole:
        same = had is not None and set(had) == set(built) and all(
            had[k].fingerprint == built[k].fingerprint for k in built)
        return True, [] if same else list(built)
    return False, [k for k in built if k not in had or had[k].fingerprint != built[k].fingerprint]


def share_to_write(parts: dict[str, dict[object, Part]], had: dict[str, dict[object, Part]]) -> float:
    """The share of the build's rows a re-using publish would write."""
    total = sum(p.rows for table in parts.values() for p in table.values())
    changed = sum(parts[t][k].rows for t in parts for k in _plan(parts[t], had.get(t))[1])
    return changed / total if total else 0.0


def build_parts(build, schemas: tuple[str, ...]) -> dict[str, dict[object, Part]]:
    """{schema.table: its fingerprints} of every table of the build in ``schemas``."""
    from ingest.ledger import duckdb_config

    con = duckdb.connect(config=duckdb_config())
    try:
        build.open(con)
        out = {f"{s}.{t}": fingerprints(con, f"{s}.{t}", build.relation(con, s, t))
               for s, t in build.tables(con, schemas)}
        build.close(con)
        return out
    finally:
        con.close()


def as_built(built: dict[object, Part], had: dict[object, Part] | None, publish_id: str) -> dict[object, str]:
    """A table the candidate holds as the build wrote it (a copy of the build's bytes):
    each part re-used where the served file ``had`` the same content (its writer kept),
    else written by this publish. Returns {partition: 'reused' | 'rewritten'}."""
    out = {}
    for k, part in built.items():
        same = had is not None and k in had and had[k].fingerprint == part.fingerprint
        part.written_by = had[k].written_by if same else publish_id
        out[k] = "reused" if same else "rewritten"
    return out


def update_table(con: duckdb.DuckDBPyConnection, table: str, source: str, order: str,
                 built: dict[object, Part], had: dict[object, Part] | None, publish_id: str) -> dict[object, str]:
    """Bring ``table`` of the candidate (a copy of the served file, or a new file) to the
    build's ``built`` parts, writing only what differs; ``had``: what the served file
    recorded (None: it lacks the table). Sets each Part's ``written_by``; returns
    {partition: 'reused' | 'rewritten'}."""
    schema, name = table.split(".")
    target = f"{_ident(schema)}.{_ident(name)}"
    whole, changed = _plan(built, had)
    if whole and changed:
        con.execute(f"create or replace table {target} as select * from {source}{order}")
    elif changed or (not whole and any(k not in built for k in had)):
        key = _ident(PARTITION_BY[table])
        for k in changed + [k for k in had if k not in built]:
            con.execute(f"delete from {target} where {key} is not distinct from ?", [k])
        years = [k for k in changed if k is not None]
        where = ([f"{key} in ({', '.join('?' for _ in years)})"] if years else []) + (
            [f"{key} is null"] if None in changed else [])
        if where:
            con.execute(f"insert into {target} select * from {source} where {' or '.join(where)}{order}", years)
    for k, part in built.items():
        part.written_by = publish_id if k in changed else had[k].written_by
    return {k: "rewritten" if k in changed else "reused" for k in built}


def record(con: duckdb.DuckDBPyConnection, parts: dict[str, dict[object, Part]],
           actions: dict[str, dict[object, str]]) -> None:
    """``meta.publish_tables``: per published table (and year, for the big facts) its
    rows, fingerprint, the publish that wrote them, and whether this publish re-used them."""
    con.execute("create or replace table meta.publish_tables (table_name varchar, period_year integer, "
                "row_count bigint, fingerprint varchar, written_by varchar, reused boolean)")
    con.executemany("insert into meta.publish_tables values (?, ?, ?, ?, ?, ?)", [
        [table, part, p.rows, p.fingerprint, p.written_by, actions[table][part] == "reused"]
        for table in sorted(parts) for part, p in sorted(parts[table].items(), key=lambda kv: (kv[0] is None, kv[0]))])
    con.execute("comment on table meta.publish_tables is '各表（大事实表按年）的行数、内容指纹、写入它的发布及本次是否沿用 / "
                "per table (and year, for the big facts): rows, content fingerprint, the publish that wrote them, "
                "and whether this publish re-used them'")
