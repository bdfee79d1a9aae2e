"""The benchmark run: generate (cached), then on the same data in one process
time the pipeline's full refresh, the baseline script, Polars' raw parse, the
nightly increment of one month and analysts' queries; print one JSON line.

Every stage's figure comes from the real pipeline: ``nightly_refresh`` executed
in process by Dagster against a warehouse home under the work folder, exactly
as ``parkstat refresh`` runs it.
"""

from __future__ import annotations

import io
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl

from benchmarks.baseline import compile_script, run_script
from ingest.ledger import NO_EXTENSIONS
from ingest.settings import WarehouseHome
from ingest.synthetic import SIZES, generate

# what analysts ask most (docs/analysts.md), written for any generated size:
# each is run QUERY_REPEATS times on the published file, read-only. The
# subqueries pick a city, a period or a project the way an analyst would type it.
QUERIES = {
    "park_share_city_latest": """
        select * from marts.park_share_comparison where city_code = '{city}' and period = '{share_period}'""",
    "top_ten_parks_gdp": """
        select * from marts.park_rankings
        where is_top10_scale and indicator = 'gdp' and period = '{share_period}' order by scale_rank""",
    "investment_progress_city_month": """
        select * from marts.investment_progress
        where region_level = 'city' and period = '{month}' order by completion_pct desc""",
    "growth_against_parent": """
        select * from marts.growth_comparison
        where period = '{share_period}' and indicator = 'tax' and entity_type = 'park' order by growth_gap_pp desc""",
    "county_domain_share": """
        select * from marts.region_share where scope = 'county_domain' and period = '{share_period}'""",
    "late_submitters": """
        select * from marts.submission_status where status = 'missing' and is_late order by due_date desc limit 100""",
    "one_project_history": """
        select * from core.fct_project_investment where project_code = '{project}' order by period""",
    "province_investment_by_chain": """
        select d.industry_chain, sum(f.ytd_completed) as ytd
        from core.fct_project_investment f join core.dim_project d
          on d.project_code = f.project_code and d.is_current
        where f.period = '{month}'
        group by 1 order by 2 desc""",
}
# the values analysts would type: the latest periods, a city, a project
QUERY_VALUES = """
    select (select min(city_code) from marts.park_share_comparison) as city,
           (select max(period) from marts.park_share_comparison) as share_period,
           (select max(period) from marts.investment_progress) as month,
           (select min(project_code) from core.dim_project) as project"""
QUERY_REPEATS = 20


def _peak_rss_mb() -> float:
    """The largest resident set of this process or any finished child (dbt, readers), in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def _link_tree(src: Path, dst: Path) -> int:
    """Hard-link (or copy) every file of ``src`` into ``dst``; returns the count."""
    n = 0
    for p in sorted(src.rglob("*")):
        if p.is_file():
            target = dst / p.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(p, target)
            except OSError:
                shutil.copyfile(p, target)
            n += 1
    return n


def refresh(home: WarehouseHome, full_refresh: bool = False) -> dict[str, float]:
    """Run nightly_refresh in process; seconds per step and in all. ``full_refresh``: the
    dbt step's run config (it also builds when nothing is new: orchestration/nothing_new.py)."""
    from dagster import DagsterEventType

    from orchestration.definitions import build_defs
    from orchestration.instance import open_instance

    os.environ["WAREHOUSE_HOME"] = str(home.root)
    os.environ["DAGSTER_HOME"] = str(home.dagster_home)
    job = build_defs(home).resolve_job_def("nightly_refresh")
    t0 = time.perf_counter()
    # the home's instance as parkstat opens it (dagster.yaml reconciled: telemetry off, ...)
    with open_instance(home) as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False, run_config={
            "ops": {"dbt_models": {"config": {"full_refresh": full_refresh}}}})
        wall = time.perf_counter() - t0
        logs = [e for e in instance.all_logs(result.run_id) if e.dagster_event is not None]
    if not result.success:
        errors = [e.step_failure_data.error.message for e in result.all_events
                  if e.is_step_failure and e.step_failure_data and e.step_failure_data.error]
        raise RuntimeError("benchmark refresh failed:\n" + "\n".join(errors))
    starts, steps = {}, {}
    for e in logs:
        if e.dagster_event.event_type == DagsterEventType.STEP_START:
            starts[e.step_key] = e.timestamp
        elif e.dagster_event.event_type == DagsterEventType.STEP_SUCCESS:
            steps[e.step_key] = e.timestamp - starts[e.step_key]
    out = {"wall_s": wall}
    for key, secs in steps.items():
        name = "ingest" if "ingest" in key else "dbt" if "dbt" in key else "publish" if "publish" in key else key
        out[f"{name}_s"] = out.get(f"{name}_s", 0.0) + secs
    out["transform_s"] = out.get("dbt_s", 0.0) + out.get("publish_s", 0.0)
    return out


def raw_parse(folder: Path) -> tuple[float, int]:
    """Polars reading every file of ``folder`` into a frame of strings, told the
    encoding and where the table starts: the limit for ingest's reading."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    rows = 0
    t0 = time.perf_counter()
    for p in files:
        data = p.read_bytes()
        if p.suffix == ".xlsx":
            rows += pl.read_excel(io.BytesIO(data), engine="calamine", has_header=False,
                                  infer_schema_length=0).height
            continue
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("gb18030")
            data = text.encode("utf-8")
        skip = 0
        for line in text.splitlines()[:5]:
            if line.count(",") >= 2:
                break
            skip += 1
        rows += pl.read_csv(io.BytesIO(data), skip_rows=skip, infer_schema=False).height
    return time.perf_counter() - t0, rows


def query_times(db: Path) -> dict[str, list[float]]:
    con = duckdb.connect(str(db), read_only=True, config=NO_EXTENSIONS)
    out: dict[str, list[float]] = {}
    try:
        cur = con.execute(QUERY_VALUES)
        values = dict(zip([d[0] for d in cur.description], cur.fetchone()))
        for name, template in QUERIES.items():
            sql = template.format(**values)
            con.execute(sql).fetchall()  # first run: warm the file's pages
            times = []
            for _ in range(QUERY_REPEATS):
                t0 = time.perf_counter()
                con.execute(sql).fetchall()
                times.append((time.perf_counter() - t0) * 1000)
            out[name] = times
    finally:
        con.close()
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                   if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem, 1), "python": platform.python_version(),
            "duckdb": duckdb.__version__, "polars": pl.__version__, "os": platform.platform()}


def run(size: str, workdir: Path, seed: int, log=print) -> dict:
    """The benchmark at ``size``; the process environment is as it was afterwards
    (the run sets the clock, the calendar and the warehouse home)."""
    saved = dict(os.environ)
    try:
        return _run(size, workdir, seed, log)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _run(size: str, workdir: Path, seed: int, log) -> dict:
    spec = SIZES[size]
    data = workdir / f"data-{size}-{seed}"
    if not (data / "manifest.json").exists():
        shutil.rmtree(data, ignore_errors=True)
        t0 = time.perf_counter()
        counts = generate(size, data, seed)
        log(f"generated {counts['files']} files ({counts['bytes'] / 2**20:,.0f} MB) in {time.perf_counter() - t0:,.1f} s")
    counts = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    os.environ.update({"PARKSTAT_NOW": spec.now, "PARKSTAT_SETTLE_SECONDS": "0",
                       "PARKSTAT_REPORTING_CALENDAR": str(data / "reporting_calendar.csv")})
    result: dict = {"size": size, "seed": seed, "files": counts["files"], "project_rows": counts["project_rows"],
                    "data_mb": round(counts["bytes"] / 2**20, 1)}

    # fixed overhead: the pipeline with nothing to do but its own machinery
    empty = WarehouseHome(workdir / "home-empty")
    shutil.rmtree(empty.root, ignore_errors=True)
    empty.ensure()
    refresh(empty)  # first run pays for imports and the dbt parse
    fixed = refresh(empty, full_refresh=True)  # built although nothing is new: the machinery itself
    result["fixed_overhead_s"] = fixed["transform_s"]
    log(f"fixed overhead (empty warehouse): {fixed}")

    # (1) full refresh through the real pipeline
    home = WarehouseHome(workdir / "home")
    shutil.rmtree(home.root, ignore_errors=True)
    home.ensure()
    _link_tree(data / "full", home.landing)
    full = refresh(home)
    log(f"full refresh: {full}")
    result.update({f"full_{k}": round(v, 2) for k, v in full.items()})

    staged = workdir / "staged-after-full"  # the parsed data as the full refresh left it, for the baseline
    shutil.rmtree(staged, ignore_errors=True)
    _link_tree(home.staged, staged)

    # (2) the nightly increment: one new month
    n = _link_tree(data / "increment", home.landing)
    inc = refresh(home)
    log(f"increment ({n} files): {inc}")
    result.update({f"increment_{k}": round(v, 2) for k, v in inc.items()})
    result["incremental_ratio"] = round(inc["wall_s"] / full["wall_s"], 4)

    # a night with nothing new, end to end as the operator runs it: `parkstat refresh` in a new process
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "orchestration.cli", "refresh", "--home", str(home.root)],
                         capture_output=True, text=True)
    result["nothing_new_s"] = round(time.perf_counter() - t0, 2)
    if out.returncode != 0 or "nothing new" not in out.stdout:
        raise RuntimeError(f"the night with nothing new did not say so:\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
    log(f"nothing new: {result['nothing_new_s']} s")

    # (3) analysts' queries on the published file
    times = query_times(home.published_db)
    every = [t for ts in times.values() for t in ts]
    result["query_p50_ms"] = round(_pct(every, 0.5), 2)
    result["query_p95_ms"] = round(_pct(every, 0.95), 2)
    result["query_p95_by_query_ms"] = {k: round(_pct(v, 0.95), 2) for k, v in times.items()}
    # the pipeline's peak, before the baseline below runs DuckDB in this process
    result["peak_rss_mb"] = round(_peak_rss_mb(), 1)

    # (4) the baseline: the same transforms as one DuckDB script over the same parsed data
    script = compile_script(staged)
    baseline_s, baseline_rows = run_script(script)
    result["baseline_s"] = round(baseline_s, 2)
    result["baseline_rows"] = baseline_rows  # per table: the full refresh published as many
    result["full_ratio"] = round((full["transform_s"] - result["fixed_overhead_s"]) / baseline_s, 3)
    result["full_ratio_raw"] = round(full["transform_s"] / baseline_s, 3)
    log(f"baseline script: {baseline_s:.2f} s")

    # (5) ingest against Polars' raw parse of the same files
    raw_s, raw_rows = raw_parse(data / "full")
    result["raw_parse_s"] = round(raw_s, 2)
    result["raw_rows"] = raw_rows
    result["ingest_ratio"] = round(raw_s / full["ingest_s"], 3)
    log(f"raw parse: {raw_s:.2f} s for {raw_rows:,} rows")
    result["peak_rss_with_baseline_mb"] = round(_peak_rss_mb(), 1)
    result["fixed_overhead_s"] = round(result["fixed_overhead_s"], 2)
    result["machine"] = machine()
    return result
