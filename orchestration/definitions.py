"""``build_defs()``: every Dagster definition of parkstat for one warehouse home.

``defs`` (what ``dagster dev`` and ``dagster definitions validate`` load) uses
the settings of that process (``WAREHOUSE_HOME``, the home's parkstat.toml,
``PARKSTAT_TARGET`` the default engine of a run — a run's config may choose the
other); tests call ``build_defs(WarehouseHome(tmp))`` or ``build_defs(home, target="spark")``.
"""

from __future__ import annotations

import os
from pathlib import Path

from dagster import Definitions

from ingest.config import Settings, current
from ingest.settings import WarehouseHome
from orchestration.assets import ingest_landing_asset, publish_asset_factory
from orchestration.checks import no_internal_ingest_errors, published_file_serves_marts
from orchestration.dbt_assets import dbt_models
from orchestration.jobs import nightly_refresh
from orchestration.resources import build_resources
from orchestration.schedules import nightly_schedule
from orchestration.sensors import build_landing_sensor, build_run_failure_sensor, build_staleness_sensor


def build_defs(home: WarehouseHome | None = None, target: str | None = None,
               settings: Settings | None = None) -> Definitions:
    """``settings``: the edge's (none: ``current()``): the home, the sensors' intervals,
    the default engine (``target`` wins)."""
    settings = settings or current()
    home = (home or WarehouseHome.of(settings)).ensure()
    mart_keys = [k for k in dbt_models.keys if k.path[0] in ("marts", "core")]
    return Definitions(
        assets=[ingest_landing_asset, dbt_models, publish_asset_factory(mart_keys)],
        asset_checks=[published_file_serves_marts, no_internal_ingest_errors],
        jobs=[nightly_refresh],
        schedules=[nightly_schedule],
        sensors=[build_landing_sensor(home, settings), build_run_failure_sensor(home),
                 build_staleness_sensor(home, settings)],
        resources=build_resources(home, target or settings.target),
    )


def _load() -> Definitions:
    """What the daemon's and the webserver's code location load: the instance
    reconciled first (so the next start of either uses it), and runs whose
    process is gone marked failed. The edge of that process: its settings are read here."""
    settings = Settings.load()
    home = WarehouseHome.of(settings).ensure()
    if os.environ.get("DAGSTER_HOME") and Path(os.environ["DAGSTER_HOME"]).resolve() == home.dagster_home:
        from orchestration.instance import start_instance

        start_instance(home, "the code location's start", settings)
    return build_defs(home, settings=settings)


defs = _load()
