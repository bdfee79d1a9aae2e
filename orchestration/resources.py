"""Resources: the warehouse home (paths and the environment dbt reads) and dbt."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from dagster import ConfigurableResource, InitResourceContext
from dagster_dbt import DbtCliResource

from ingest.settings import WarehouseHome, quiet_environment
from orchestration.engines import Build, check_target, default_target
from orchestration.project import dbt_project


class WarehouseResource(ConfigurableResource):
    """Where the warehouse lives and which engine dbt builds on (``target``:
    duckdb or spark). Sets the variables dbt's profile and sources read."""

    home: str
    target: str = "duckdb"

    @property
    def paths(self) -> WarehouseHome:
        return WarehouseHome(Path(self.home)).ensure()

    @property
    def build(self) -> Build:
        return Build(self.paths, check_target(self.target))

    def setup_for_execution(self, context: InitResourceContext) -> None:
        quiet_environment()
        from orchestration.instance import tag_run_with_process

        # the process that executes the run, so a later start can tell when it is gone
        tag_run_with_process(context.instance, context.dagster_run)
        paths = self.paths
        os.environ["PARKSTAT_WORK_DB"] = str(paths.work_db)
        os.environ["PARKSTAT_STAGED"] = str(paths.staged)
        os.environ["PARKSTAT_SPARK_DIR"] = str(paths.spark_dir)


def dbt_executable() -> str:
    """dbt from this environment (beside the running Python), whatever PATH holds:
    ``.venv/bin/parkstat`` or a systemd unit run without the virtualenv on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    if beside.exists():
        return str(beside)
    return shutil.which("dbt") or "dbt"


def build_resources(home: WarehouseHome, target: str | None = None) -> dict:
    return {
        "warehouse": WarehouseResource(home=str(home.root), target=check_target(target or default_target())),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }
