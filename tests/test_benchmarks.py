"""The benchmark itself, at its smallest size: the generator is deterministic,
every generated file is accepted, the baseline script builds the same tables
as the pipeline, and the run reports every figure docs/benchmarks.md quotes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ingest.synthetic import generate
from benchmarks.run import run
from ingest.settings import WarehouseHome
from orchestration.publish import list_publishes

pytestmark = pytest.mark.slow

KEYS = ["full_ratio", "fixed_overhead_s", "incremental_ratio", "ingest_ratio", "query_p95_ms", "peak_rss_mb"]


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path: Path):
    a, b, c = (generate("tiny", tmp_path / n, seed) for n, seed in (("a", 1), ("b", 1), ("c", 2)))
    assert a == b and a["files"] > 50 and a["increment_files"] == 3
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_the_benchmark_at_tiny_size(tmp_path: Path):
    before = dict(os.environ)
    result = run("tiny", tmp_path, 20261122, log=lambda m: None)
    assert dict(os.environ) == before  # the clock, calendar and home it set are gone again
    for k in KEYS:
        # full_ratio subtracts the fixed overhead: at this size both are noise and it may be below 0
        assert isinstance(result[k], (int, float)) and (k == "full_ratio" or result[k] > 0), (k, result)
    assert result["full_ratio_raw"] > 0 and result["baseline_s"] > 0
    # full_ratio is the raw ratio less the fixed overhead's share of the baseline (to rounding)
    # (each figure is rounded: the interval their rounding allows)
    raw, fixed, base = result["full_ratio_raw"], result["fixed_overhead_s"], result["baseline_s"]
    low = raw - 0.0005 - (fixed + 0.005) / max(base - 0.005, 1e-9)
    high = raw + 0.0005 - max(fixed - 0.005, 0) / (base + 0.005)
    assert low - 0.0005 <= result["full_ratio"] <= high + 0.0005, (low, high, result)
    assert result["raw_rows"] > 2000 and result["full_ingest_s"] > 0 and result["increment_wall_s"] > 0
    assert result["peak_rss_with_baseline_mb"] >= result["peak_rss_mb"]
    assert set(result["query_p95_by_query_ms"]) >= {"park_share_city_latest", "top_ten_parks_gdp"}
    assert result["machine"]["cores"] == os.cpu_count() and result["machine"]["memory_gb"] > 0
    home = WarehouseHome(tmp_path / "home")
    con = duckdb.connect(str(home.published_db), read_only=True)
    try:  # every generated file, the increment too, was accepted
        statuses = dict(con.execute("select status, count(*) from marts.submission_receipts group by 1").fetchall())
        published = {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0]
                     for s, t in con.execute("select schema_name, table_name from duckdb_tables() "
                                             "where schema_name in ('core', 'marts')").fetchall()}
    finally:
        con.close()
    assert statuses == {"accepted": result["files"] + 3}, statuses
    # the baseline (over the staged data the full refresh left) builds the same tables
    # with the same row counts as the full refresh published (the first publish kept)
    first = list_publishes(home)[0]
    assert first["run_id"] != list_publishes(home)[-1]["run_id"]
    full = json.loads((Path(first["path"]) / "publish.json").read_text(encoding="utf-8"))["tables"]
    for table in ("core.fct_project_investment", "core.dim_project", "marts.investment_progress",
                  "marts.park_share_comparison", "marts.park_rankings"):
        assert result["baseline_rows"][table] == full[table] > 0, table
    assert published["core.fct_project_investment"] > full["core.fct_project_investment"]  # the increment's month


def test_the_command_prints_its_json_last(tmp_path: Path):
    out = subprocess.run([sys.executable, "-m", "benchmarks", "--size", "tiny", "--generate-only", "--workdir",
                          str(tmp_path)], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1])["size"] == "tiny"
    bad = subprocess.run([sys.executable, "-m", "benchmarks", "--size", "galactic", "--workdir", str(tmp_path)],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "unknown size 'galactic'" in bad.stderr
