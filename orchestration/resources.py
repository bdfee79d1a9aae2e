"""Resources: the warehouse home (paths and the environment dbt reads), dbt, DuckDB."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import ConfigurableResource, InitResourceContext
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from ingest.settings import WarehouseHome, quiet_environment
from orchestration.project import dbt_project


class WarehouseResource(ConfigurableResource):
    """Where the warehouse lives. Sets the variables dbt's profile and sources read."""

    home: str

    @property
    def paths(self) -> WarehouseHome:
        return WarehouseHome(Path(self.home)).ensure()

    def setup_for_execution(self, context: InitResourceContext) -> None:
        quiet_environment()
        paths = self.paths
        os.environ["PARKSTAT_WORK_DB"] = str(paths.work_db)
        os.environ["PARKSTAT_STAGED"] = str(paths.staged)


def build_resources(home: WarehouseHome) -> dict:
    return {
        "warehouse": WarehouseResource(home=str(home.root)),
        "dbt": DbtCliResource(project_dir=dbt_project),
        "work_db": DuckDBResource(database=str(home.work_db), connection_config={
            "autoinstall_known_extensions": False, "autoload_known_extensions": False}),
    }
