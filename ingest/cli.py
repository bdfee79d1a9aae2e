"""``parkstat``: the command line of the warehouse (typer)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

from ingest.settings import WarehouseHome, quiet_environment

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="parkstat: industrial parks and key projects data warehouse.")

HomeOption = typer.Option(None, "--home", help="Warehouse home (default: $WAREHOUSE_HOME or ./warehouse).")


def _home(home: Optional[Path]) -> WarehouseHome:
    if home is not None:
        os.environ["WAREHOUSE_HOME"] = str(home)
    h = WarehouseHome.from_env().ensure()
    os.environ["WAREHOUSE_HOME"] = str(h.root)
    os.environ["DAGSTER_HOME"] = str(h.dagster_home)
    quiet_environment()
    return h


def run_refresh(home: WarehouseHome) -> bool:
    """Run the nightly job in this process, recorded in the warehouse home's Dagster instance."""
    from dagster import DagsterInstance

    from orchestration.definitions import build_defs

    job = build_defs(home).resolve_job_def("nightly_refresh")
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        if not result.success:
            failed = [e.step_key for e in result.all_events if e.is_step_failure]
            typer.echo(f"refresh FAILED (run {result.run_id}); failed steps: {', '.join(failed) or '?'}; "
                       f"the previous publish is unchanged.", err=True)
            for e in result.all_events:
                if e.is_step_failure and e.step_failure_data and e.step_failure_data.error:
                    typer.echo(e.step_failure_data.error.message.strip()[:2000], err=True)
        else:
            typer.echo(f"refresh succeeded (run {result.run_id}); published {home.published_db}")
        return result.success


@app.command()
def refresh(home: Optional[Path] = HomeOption) -> None:
    """Run the nightly refresh now: ingest the landing area, dbt build, publish."""
    h = _home(home)
    if not run_refresh(h):
        raise typer.Exit(1)


@app.command()
def demo(home: Optional[Path] = HomeOption) -> None:
    """Write the bundled sample submissions into the landing area and refresh."""
    from ingest.sample import write_sample

    h = _home(home)
    files = write_sample(h.landing)
    typer.echo(f"wrote {len(files)} sample submissions under {h.landing}")
    if not run_refresh(h):
        raise typer.Exit(1)
    typer.echo("\nTry:\n  duckdb -readonly " + str(h.published_db) + " \"select * from marts.park_share_comparison "
               "where city_code='431300' and period='2020-12'\"")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":
    sys.exit(app())
