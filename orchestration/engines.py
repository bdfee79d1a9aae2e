"""The engines dbt builds the models on — DuckDB (the default) and Apache Spark
(``--target spark``, docs/scaling.md) — and everything that differs between
them outside the SQL: where each keeps its build, how a first build is told
apart, what the machine needs, and how publish reads the built tables.

The SQL differences are dbt macros (``dbt_project/macros/portable.sql``); the
engines' settings are dbt outputs (``dbt_project/profiles.yml``). Ingest and
publish are the same on both: ingest writes Parquet either engine reads, and
publish copies the built tables into one DuckDB file — from DuckDB's working
database, or from the Parquet files Spark's tables are made of.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.ledger import NO_EXTENSIONS, sql_path
from ingest.settings import WarehouseHome

ENGINES = ("duckdb", "spark")
SPARK_INSTALL = ("uv sync --group spark (dbt-spark and pyspark), and Java 17 or newer "
                 "(apt-get install openjdk-17-jre-headless)")


class EngineError(RuntimeError):
    pass


def check_target(target: str) -> str:
    if target not in ENGINES:
        raise EngineError(f"未知的构建引擎 {target!r} / unknown build target {target!r}: "
                          f"choose {' or '.join(ENGINES)}")
    return target


def java_version() -> int | None:
    """The major version of the Java Spark would start (JAVA_HOME's, else the PATH's), None if none."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        return None
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not m:
        return None
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8


def missing_requirements(target: str) -> list[str]:
    """What this machine lacks to build on ``target`` (nothing, for DuckDB)."""
    if check_target(target) == "duckdb":
        return []
    problems = []
    for module, package in (("pyspark", "pyspark"), ("dbt.adapters.spark", "dbt-spark")):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            problems.append(f"{package} is not installed")
    version = java_version()
    if version is None:
        problems.append("no Java found (JAVA_HOME or java on the PATH)")
    elif version < 17:
        problems.append(f"Java {version} found; Spark 4 needs Java 17 or newer")
    return problems


def require(target: str) -> None:
    problems = missing_requirements(target)
    if problems:
        raise EngineError(f"无法在 {target} 上构建 / cannot build on {target}: {'; '.join(problems)}. "
                          f"Install: {SPARK_INSTALL}.")


def _visible(path: Path, root: Path) -> bool:
    """Spark's rule: names starting with '_' or '.' (``_SUCCESS``, ``_temporary/``,
    checksums) are not data."""
    return not any(part.startswith(("_", ".")) for part in path.relative_to(root).parts)


@dataclass(frozen=True)
class Build:
    """One engine's build in a warehouse home."""

    home: WarehouseHome
    target: str

    @property
    def dir(self) -> Path:
        """``work/`` (DuckDB: build.duckdb) or ``work/spark/`` (warehouse/, metastore_db/)."""
        return self.home.work_db.parent if self.target == "duckdb" else self.home.spark_dir

    @property
    def fingerprint_stamp(self) -> Path:
        return self.dir / "build.fingerprint"

    @property
    def dbt_target_path(self) -> Path:
        """dbt's target folder, kept between runs (its partial parse names this home's files)."""
        return self.dir / "dbt_target"

    @property
    def spark_warehouse(self) -> Path:
        """Where Spark's tables are: ``<schema>.db/<table>/`` folders of Parquet (on a
        cluster, its warehouse storage mounted here: docs/scaling.md)."""
        return self.home.spark_dir / "warehouse"

    def exists(self) -> bool:
        """Whether an earlier build is there to be built on incrementally."""
        if self.target == "duckdb":
            return self.home.work_db.exists()
        return (self.spark_warehouse / "core.db").is_dir()

    def logs(self) -> list[Path]:
        """The DuckDB build's write-ahead logs (``build.duckdb.wal``, and the ``.checkpoint.wal``
        / ``.recovery.wal`` a checkpoint leaves when killed): changes not yet in the file."""
        return sorted(self.home.work_db.parent.glob(self.home.work_db.name + "*.wal")) \
            if self.target == "duckdb" else []

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Held while dbt writes the build and while a publish reads it (``build_candidate``):
        a second run's dbt waits until the first run's publish has its copy. (DuckDB's own lock
        cannot do it: a process drops it when it closes any other handle on the file, as a
        copy of the file's bytes does.)"""
        import fcntl

        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".build.lock", "w") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            yield

    def storage_version(self) -> str | None:
        """The storage format the DuckDB build file is in ('v1.0.0', ...; fixed when the file
        was made), None without one or on Spark."""
        if self.target != "duckdb" or not self.home.work_db.exists():
            return None
        con = duckdb.connect(str(self.home.work_db), read_only=True, config=NO_EXTENSIONS)
        try:
            tags = con.execute("select tags from duckdb_databases() where database_name = current_database()"
                               ).fetchone()[0]
        finally:
            con.close()
        return (tags or {}).get("storage_version", "").rstrip("+") or None

    # -- publish's view of the built tables ------------------------------------------------------

    def open(self, con: duckdb.DuckDBPyConnection) -> None:
        if self.target == "duckdb":
            con.execute("attach ? as build (read_only)", [str(self.home.work_db)])

    def close(self, con: duckdb.DuckDBPyConnection) -> None:
        if self.target == "duckdb":
            con.execute("detach build")

    def tables(self, con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[tuple[str, str]]:
        """The built tables of ``schemas``, as (schema, table), sorted."""
        if self.target == "duckdb":
            marks = ", ".join("?" for _ in schemas)
            return con.execute(f"""
                select table_schema, table_name from information_schema.tables
                where table_catalog = 'build' and table_type = 'BASE TABLE' and table_schema in ({marks})
                order by 1, 2""", list(schemas)).fetchall()
        return sorted((schema, d.name) for schema in schemas
                      for d in (self.spark_warehouse / f"{schema}.db").glob("*")
                      if d.is_dir() and _visible(d, self.spark_warehouse / f"{schema}.db"))

    def relation(self, con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
        """SQL naming the built table for a ``select`` on ``con`` (publish's connection)."""
        if self.target == "duckdb":
            return f'build."{schema}"."{table}"'
        folder = self.spark_warehouse / f"{schema}.db" / table
        files = sorted(p for p in folder.rglob("*.parquet") if _visible(p, folder))
        # partition columns: the key=value folders the files lie in
        keys = sorted({part.split("=", 1)[0] for p in files for part in p.relative_to(folder).parts[:-1]
                       if "=" in part})
        # a partitioned table's shape (its columns and types, no rows), written by the build
        # (macro spark_table_shapes): Spark writes no file at all for an empty partitioned table
        shapes = self.spark_warehouse / f"{schema}.db" / "_shapes" / table
        shape = sorted(p for p in shapes.glob("*.parquet") if _visible(p, shapes))
        if not files and not shape:
            raise EngineError(f"{schema}.{table}: Spark wrote no Parquet under {folder}, and no shape of it "
                              f"under {shapes}")
        if not files:
            return f"(select * from read_parquet({_list(shape)}))"
        if not keys:
            return f"read_parquet({_list(files)})"
        # partition columns come from folder names: give them the table's own types
        types = dict((r[0], r[1]) for r in con.execute(
            f"describe select * from read_parquet({_list(shape)})").fetchall()) if shape else {}
        hive_types = ", ".join(f"'{k}': '{types[k]}'" for k in keys if k in types)
        return (f"read_parquet({_list(files)}, hive_partitioning = true"
                + (f", hive_types = {{{hive_types}}})" if hive_types else ")"))


def _list(paths: list[Path]) -> str:
    return "[" + ", ".join(sql_path(p) for p in paths) + "]"


def compare_published(a: Path, b: Path, schemas: tuple[str, ...] = ("marts",)) -> dict[str, str]:
    """What differs between two published files' tables in ``schemas``: a table
    one lacks, different columns, or rows one has and the other not (as many times
    as they occur). Values are compared, not types (Spark's ranks are INT where
    DuckDB's are BIGINT). Returns {schema.table: what differs}; empty when equal."""
    con = duckdb.connect(config=NO_EXTENSIONS)
    try:
        con.execute("attach ? as a (read_only)", [str(a)])
        con.execute("attach ? as b (read_only)", [str(b)])

        def columns(db: str) -> dict[str, list[str]]:
            out: dict[str, list[str]] = {}
            for schema, table, column in con.execute(f"""
                    select table_schema, table_name, column_name from information_schema.columns
                    where table_catalog = '{db}' and table_schema in ({", ".join("?" for _ in schemas)})
                    order by table_schema, table_name, ordinal_position""", list(schemas)).fetchall():
                out.setdefault(f"{schema}.{table}", []).append(column)
            return out

        left, right = columns("a"), columns("b")
        if not left and not right:
            raise EngineError(f"nothing to compare: neither file has a table in {', '.join(schemas)}")
        differences = {t: f"only in {a if t in left else b}" for t in sorted(set(left) ^ set(right))}
        for table in sorted(set(left) & set(right)):
            if left[table] != right[table]:
                differences[table] = f"columns differ: {left[table]} vs {right[table]}"
                continue
            cols = ", ".join(f'"{c}"' for c in left[table])
            schema, name = table.split(".")
            rel = f'"{schema}"."{name}"'
            only = [con.execute(f"select count(*) from (select {cols} from {x}.{rel} "
                                f"except all select {cols} from {y}.{rel})").fetchone()[0]
                    for x, y in (("a", "b"), ("b", "a"))]
            if any(only):
                differences[table] = f"{only[0]} rows only in {a}, {only[1]} rows only in {b}"
        return differences
    finally:
        con.close()
