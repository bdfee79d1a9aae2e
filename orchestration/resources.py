"""Resources: the warehouse home (paths, settings and the environment dbt reads) and dbt."""

from __future__ import annotations

import os
import shutil
import sys
from functools import cached_property
from pathlib import Path

from dagster import ConfigurableResource, InitResourceContext
from dagster_dbt import DbtCliResource
from pydantic import PrivateAttr

from ingest.config import Settings, edge_settings
from ingest.settings import WarehouseHome, quiet_environment
from orchestration.engines import Build, check_target
from orchestration.project import dbt_project


class WarehouseResource(ConfigurableResource):
    """Where the warehouse lives and which engine dbt builds on (``target``:
    duckdb or spark; run config ``resources: {warehouse: {config: {home: ..., target:
    spark}}}``, its default the setting ``target``). A run's settings are loaded
    when it starts (``settings``: the environment over the home's parkstat.toml);
    sets the variables dbt's profile and sources read."""

    home: str
    target: str = "duckdb"
    _settings: Settings | None = PrivateAttr(default=None)

    @property
    def settings(self) -> Settings:
        """The run's settings, read once when it started (read now outside a run)."""
        if self._settings is None:
            self._settings = self._load()
        return self._settings

    def _load(self) -> Settings:
        """Those of the edge that started the run in its own process (``parkstat refresh``),
        else the environment's and the home's parkstat.toml (a run the daemon launched)."""
        edge = edge_settings()
        if edge is not None and edge.home == Path(self.home).resolve():
            return edge
        return Settings.load(home=Path(self.home))

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
        self._settings = self._load()
        paths = self.paths
        os.environ.update(self._settings.for_dbt())  # dbt's profile reads them (dbt_project/profiles.yml)
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


class DbtResource(DbtCliResource):
    """dagster-dbt's resource, told the version of dbt without asking it: dagster-dbt
    runs ``dbt --version`` once per run to learn it, a new Python process that imports
    dbt (2 s on this machine, on every night and before every test's build). The
    executable beside this environment's Python is this environment's dbt-core: its
    version is the one ``dbt --version`` prints (dbt.version); another executable (a
    PATH's) is still asked."""

    @cached_property
    def _cli_version(self):
        from packaging import version

        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            try:
                from dbt.version import __version__
            except ImportError:
                pass
            else:
                return version.parse(__version__)
        return DbtCliResource._cli_version.func(self)

    def _initialize_dbt_core_adapter(self, args):
        """No adapter in the pipeline's process: dagster-dbt makes one before every dbt
        command (dbt imported, the profile and dbt's macros loaded: 1.3 s in a process that
        imported dbt before, 2.5 s in one that did not) for ``fetch_row_counts`` and
        ``fetch_column_metadata``, which parkstat does not call — a model's rows come from
        its post-hook (macros/row_count.sql), read off dbt's log."""
        return None


def build_resources(home: WarehouseHome, target: str) -> dict:
    return {
        "warehouse": WarehouseResource(home=str(home.root), target=check_target(target)),
        "dbt": DbtResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }
