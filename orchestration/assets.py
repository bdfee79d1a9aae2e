"""Assets written in Python: ingest (landing area -> ledger -> staged Parquet)
and publish (the build, on either engine -> ``published/warehouse.duckdb``).

The dbt models between them are in ``dbt_assets.py``.
"""

import hashlib
import os
import shutil
from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, MetadataValue, asset, multi_asset
from dagster_dbt import DbtCliResource

from ingest.config import active
from ingest.ledger import EXPORTED, REFERENCE_EXPORTS
from ingest.pipeline import ingest_landing
from ingest.progress import IngestProgress
from orchestration.nothing_new import built_from
from orchestration.project import dbt_project, required_marts
from orchestration.publish import publish
from orchestration.resources import WarehouseResource

LEDGER_TABLES = (*EXPORTED, *REFERENCE_EXPORTS)
# who answers for the warehouse's assets (the dbt models say so in dbt_project.yml)
OWNERS = ["team:parkstat"]



@multi_asset(
    specs=[AssetSpec(AssetKey(["ledger", t]), group_name="ingest", owners=OWNERS, kinds={"python", "polars", "duckdb"},
                     description=f"Ingest ledger table {t}, exported as Parquet for dbt")
           for t in LEDGER_TABLES],
    name="ingest_landing",
    description="Archive, validate and record every file waiting in the landing area; write receipts.",
)
def ingest_landing_asset(context: AssetExecutionContext, warehouse: WarehouseResource):
    home = warehouse.paths
    progress = IngestProgress(context.log.info)

    def report(r, done: int, total: int) -> None:
        context.log.debug(f"{r.submitter_code}/{r.file_name}: {r.status} ({r.row_count} rows, "
                          f"{r.error_count} errors, {r.warning_count} warnings)")
        progress(r, done, total)

    summary = ingest_landing(home, progress=report, settings=warehouse.settings)
    context.log.info(f"ingest: {summary}")
    if summary.waiting:
        context.log.info(f"ingest: {len(summary.waiting)} files still arriving, left for the next run "
                         f"(PARKSTAT_SETTLE_SECONDS): {', '.join(summary.waiting[:20])}")
    names: dict[str, list[str]] = {"accepted": [], "rejected": [], "duplicate": [], "waiting": summary.waiting[:50]}
    for r in summary.receipts:
        key = "accepted" if r.status.startswith("accepted") else r.status
        names.setdefault(key, []).append(f"{r.submitter_code}/{r.file_name}")
    meta = {"files": len(summary.receipts),
            "accepted": summary.count("accepted", "accepted_with_warnings"),
            "rejected": summary.count("rejected"), "duplicate": summary.count("duplicate"),
            "waiting": len(summary.waiting),
            "names": MetadataValue.json({k: v[:50] for k, v in names.items()})}
    for t in LEDGER_TABLES:
        yield MaterializeResult(asset_key=AssetKey(["ledger", t]), metadata=meta if t == "files" else None)


def docs_site(dbt: DbtCliResource) -> Path:
    """The dbt docs site as one offline HTML file (``dbt docs generate --static``).
    It depends on the dbt project only (descriptions, lineage, column types; no
    data, no row counts), so it is generated once per version of the project's
    manifest and kept under the project's target folder."""
    manifest = Path(dbt_project.manifest_path)
    key = hashlib.sha256(manifest.read_bytes()).hexdigest()[:16] if manifest.exists() else "unparsed"
    cached = Path(dbt_project.project_dir) / dbt_project.target_path / "docs_site" / f"{key}.html"
    if cached.exists():
        return cached
    docs = dbt.cli(["docs", "generate", "--static"], raise_on_error=True)
    docs.wait()
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes((Path(docs.target_path) / "static_index.html").read_bytes())
        os.replace(tmp, cached)
    finally:
        if docs.target_path != dbt_project.target_path:
            shutil.rmtree(docs.target_path, ignore_errors=True)
    return cached


def publish_asset_factory(mart_keys: list[AssetKey]):
    @asset(
        key=AssetKey(["published", "warehouse"]),
        deps=mart_keys,
        group_name="publish",
        owners=OWNERS,
        kinds={"python", "duckdb", "parquet"},
        description="The file analysts open read-only: replaced atomically, and only after every "
                    "blocking check of the build passed (the dbt step fails otherwise and this never runs).",
    )
    def published_warehouse(context: AssetExecutionContext, warehouse: WarehouseResource,
                            dbt: DbtCliResource) -> MaterializeResult:
        home = warehouse.paths
        with active(warehouse.settings):
            result = publish(home, context.run_id, required_marts(), docs_site=docs_site(dbt),
                             target=warehouse.target, inputs=built_from(warehouse.build.dir))
        context.log.info(f"published {result.path} (publish {result.publish_id}; outputs in {home.current})")
        return MaterializeResult(metadata={"path": str(result.path), "publish_id": result.publish_id,
                                           "published_at": result.published_at,
                                           "outputs": str(home.current),
                                           **{k: v for k, v in result.tables.items() if k.startswith("marts.")}})

    return published_warehouse
