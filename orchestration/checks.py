"""Python asset checks on what is published (the dbt tests are checks of the dbt
assets themselves, declared in the dbt project)."""


import duckdb
from dagster import AssetCheckResult, AssetCheckSeverity, AssetKey, asset_check

from orchestration.publish import NO_EXTENSIONS
from orchestration.resources import WarehouseResource


@asset_check(asset=AssetKey(["published", "warehouse"]), description="The published file opens read-only and "
             "holds every contract mart.")
def published_file_serves_marts(warehouse: WarehouseResource) -> AssetCheckResult:
    path = warehouse.paths.published_db
    con = duckdb.connect(str(path), read_only=True, config=NO_EXTENSIONS)
    try:
        present = {f"{s}.{t}" for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()}
        # the marts the dbt project marks required (meta), as the publish recorded them
        required = [f"marts.{t}" for (t,) in con.execute("select table_name from meta.marts where required")
                    .fetchall()] if "meta.marts" in present else []
    finally:
        con.close()
    missing = [m for m in required if m not in present] if required else ["meta.marts (the marts' layout)"]
    return AssetCheckResult(passed=not missing, severity=AssetCheckSeverity.ERROR,
                            metadata={"missing": ", ".join(missing) or "none", "relations": len(present)})


@asset_check(asset=AssetKey(["ledger", "files"]), description="No file hit an internal error of parkstat.")
def no_internal_ingest_errors(warehouse: WarehouseResource) -> AssetCheckResult:
    con = duckdb.connect(":memory:", config=NO_EXTENSIONS)
    try:
        n = con.execute("select count(*) from read_parquet(?) where code = 'internal_error'",
                        [str(warehouse.paths.staged / "messages" / "*.parquet")]).fetchone()[0]
    finally:
        con.close()
    return AssetCheckResult(passed=n == 0, severity=AssetCheckSeverity.WARN, metadata={"files": n})
