"""The cost of the Spark path: the same dbt build on DuckDB and on Spark.

``uv run --group spark python -m benchmarks.spark --home benchmarks/work/home``
takes a warehouse home ingest has already filled (the main benchmark leaves one
per size) and, in a scratch home reading the same staged Parquet, runs
``dbt build --full-refresh`` (every model and test) on DuckDB, then on Spark
(dbt-spark's local session), then publish's copy of each build into a DuckDB
file, and compares every published table's values. The baseline is the DuckDB
build, in the same process: the ratios say what Spark costs on this machine.
The last line printed is one JSON object.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import typer

from ingest.settings import WarehouseHome, quiet_environment
from orchestration.engines import compare_published, require
from orchestration.project import DBT_DIR
from orchestration.publish import build_candidate

app = typer.Typer(add_completion=False)


def dbt_build(home: WarehouseHome, target: str) -> tuple[float, int]:
    """``dbt build --full-refresh`` on ``target`` in a child process; (seconds, peak RSS of the children in MB)."""
    env = {**os.environ, "PARKSTAT_STAGED": str(home.staged), "PARKSTAT_WORK_DB": str(home.work_db),
           "PARKSTAT_SPARK_DIR": str(home.spark_dir)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dbt.cli.main", "build", "--quiet", "--full-refresh", "--target", target,
                    "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
                    "--target-path", str(home.root / f"dbt_target_{target}"), "--log-path", str(home.root / "logs")],
                   check=True, cwd=DBT_DIR, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024


def run(source: WarehouseHome, scratch: Path, log=print) -> dict:
    require("spark")
    home = WarehouseHome(scratch).ensure()
    if not (home.staged.is_symlink() or any(home.staged.iterdir())):
        home.staged.rmdir()
        home.staged.symlink_to(source.staged.resolve(), target_is_directory=True)
    result: dict = {"staged": str(source.staged)}
    for target in ("duckdb", "spark"):
        log(f"dbt build on {target}...")
        seconds, rss = dbt_build(home, target)
        result[f"{target}_build_s"] = round(seconds, 1)
        result[f"{target}_children_peak_rss_mb"] = rss  # the largest child so far (Spark's JVM is the driver's)
        start = time.perf_counter()
        path, counts = build_candidate(home, f"bench-{target}", target=target, reuse=False)  # a whole copy each
        result[f"{target}_publish_copy_s"] = round(time.perf_counter() - start, 1)
        result[f"{target}_published"] = str(path)
        result["rows"] = sum(counts.values())
    result["spark_build_ratio"] = round(result["spark_build_s"] / result["duckdb_build_s"], 2)
    result["spark_publish_copy_ratio"] = round(result["spark_publish_copy_s"] / max(result["duckdb_publish_copy_s"], 0.1), 2)
    differences = compare_published(Path(result["duckdb_published"]), Path(result["spark_published"]), ("marts", "core"))
    result["differences"] = differences
    result["machine"] = {"cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    return result


@app.command()
def main(home: Path = typer.Option(Path("benchmarks/work/home"), help="A warehouse home ingest has filled."),
         scratch: Path = typer.Option(Path("benchmarks/work/spark-bench"), help="Where both builds go.")) -> None:
    quiet_environment()
    result = run(WarehouseHome(home.resolve()), scratch.resolve(), log=lambda m: typer.echo(m, err=True))
    typer.echo(json.dumps(result, ensure_ascii=False))
    if result["differences"]:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
