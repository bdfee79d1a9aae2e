"""Jobs. The nightly refresh materialises everything: ingest, dbt build, publish.

It runs in-process: dbt and Python steps must not hold the working DuckDB file
at the same time (DuckDB allows one writer process), and it is faster.
"""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job, in_process_executor

nightly_refresh = define_asset_job(
    "nightly_refresh",
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="Ingest the landing area, build and test the warehouse with dbt, publish if every blocking check passed.",
)
