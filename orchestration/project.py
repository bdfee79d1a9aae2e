"""The dbt project as Dagster sees it.

Kept in its own module: ``dagster-dbt project prepare-and-package`` fails when
``@dbt_assets`` sits in the same file. ``ensure_manifest()`` re-parses the
project only when a model, macro or YAML file is newer than the manifest.

In a checkout the project is ``dbt_project/`` beside this package; an installed
wheel carries it as ``orchestration/dbt_project`` (pyproject's force-include),
which ``DbtProject`` takes when it exists (its ``packaged_project_dir``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dagster_dbt import DbtProject

SOURCE_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
PACKAGED_DIR = Path(__file__).resolve().parent / "dbt_project"

dbt_project = DbtProject(project_dir=SOURCE_DIR if SOURCE_DIR.exists() else PACKAGED_DIR,
                         packaged_project_dir=PACKAGED_DIR)
DBT_DIR = Path(dbt_project.project_dir)


def _newest_source() -> float:
    files = [p for sub in ("models", "macros", "tests") for p in (DBT_DIR / sub).rglob("*") if p.is_file()]
    files += [DBT_DIR / "dbt_project.yml", DBT_DIR / "profiles.yml"]
    return max(p.stat().st_mtime for p in files)


def ensure_manifest() -> Path:
    """Parse when stale; processes that start together (test workers, the webserver
    and the daemon) take turns on a file lock, the later ones finding it fresh."""
    import fcntl

    manifest = dbt_project.manifest_path
    target = DBT_DIR / "target"
    target.mkdir(exist_ok=True)
    with open(target / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not manifest.exists() or manifest.stat().st_mtime < _newest_source():
            import os

            from ingest.settings import quiet_environment

            quiet_environment()
            # DbtProject's own preparation (dbt parse), with the dbt beside this Python first on
            # PATH: a systemd unit or cron line runs .venv/bin/parkstat without the venv on PATH
            beside = str(Path(sys.executable).parent)
            if beside not in os.environ.get("PATH", "").split(os.pathsep):
                os.environ["PATH"] = beside + os.pathsep + os.environ.get("PATH", "")
            dbt_project.preparer.prepare(dbt_project)
            # this parse's profile names no warehouse home: dagster-dbt would copy its partial-parse
            # state into a home's dbt target, and dbt would say "Unable to do partial parsing
            # because profile has changed" there; each home keeps its own state instead
            (target / "partial_parse.msgpack").unlink(missing_ok=True)
    return manifest


def mart_layout(manifest: Path | None = None) -> list[dict]:
    """The marts as the dbt project describes them for people (``meta`` in
    models/marts/_marts.yml): the workbook sheet, its place, whether a publish
    requires the mart, and each column's Chinese header — in sheet order. A mart
    without a sheet is still published, as Parquet and in the DuckDB file."""
    nodes = json.loads((manifest or ensure_manifest()).read_text(encoding="utf-8"))["nodes"].values()
    marts = []
    for node in nodes:
        if node.get("resource_type") != "model" or node.get("config", {}).get("schema") != "marts":
            continue
        meta = node.get("config", {}).get("meta") or node.get("meta") or {}
        columns = [(name, (spec.get("meta") or {}).get("header_zh") or name)
                   for name, spec in node.get("columns", {}).items()]
        marts.append({"table": node.get("alias") or node["name"], "sheet": meta.get("sheet"),
                      "sheet_order": meta.get("sheet_order"), "required": bool(meta.get("required")),
                      "columns": columns})
    return sorted(marts, key=lambda m: (m["sheet_order"] is None, m["sheet_order"] or 0, m["table"]))


def cluster_by(manifest: Path | None = None) -> dict[str, str]:
    """{schema.table: its order} of the models whose meta names ``cluster_by``: the
    big facts, which a publish that copies their rows writes in the order analysts
    filter them by (a period, then projects). A publish that copies the build's bytes
    keeps dbt's order: sorting in dbt cost more than it saves (docs/benchmarks.md)."""
    nodes = json.loads((manifest or ensure_manifest()).read_text(encoding="utf-8"))["nodes"].values()
    out = {}
    for node in nodes:
        meta = node.get("config", {}).get("meta") or node.get("meta") or {}
        if node.get("resource_type") == "model" and meta.get("cluster_by"):
            out[f"{node.get('schema')}.{node.get('alias') or node['name']}"] = meta["cluster_by"]
    return out


def required_marts(manifest: Path | None = None) -> list[str]:
    """What must exist before anything is published: the marts whose meta says ``required``."""
    return [f"marts.{m['table']}" for m in mart_layout(manifest) if m["required"]]
