"""``parkstat``: the command line of the warehouse (typer).

It sits beside the Dagster definitions it drives (refresh, the daemon, the
webserver, status, rollback); the ingest library below it imports nothing of
orchestration."""

from __future__ import annotations

import contextlib
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Optional

import typer

from ingest.config import activate, current, scope
from ingest.settings import WarehouseHome, quiet_environment
from intake.cli import load_settings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="parkstat: industrial parks and key projects data warehouse.")

HomeOption = typer.Option(None, "--home", help="Warehouse home (default: $WAREHOUSE_HOME or ./warehouse).")


def _home(home: Optional[Path], **overrides) -> WarehouseHome:
    """The command's warehouse home; its settings (with ``overrides``) are the ones in
    force (``ingest.config.current``) until the command ends."""
    settings = load_settings(home)
    if overrides:
        settings = settings.with_values(**overrides)
    h = WarehouseHome.of(settings).ensure()
    os.environ["WAREHOUSE_HOME"] = str(h.root)  # the processes it starts (dbt, Dagster's) read it
    os.environ["DAGSTER_HOME"] = str(h.dagster_home)
    quiet_environment()
    activate(settings)  # until the command ends (the scope _commands opened)
    return h


@app.callback()
def _commands(ctx: typer.Context) -> None:
    # every command's settings are its own: forgotten when it ends (tests run many in one process)
    ctx.with_resource(scope())


KEEP_LOGS = 30


@contextlib.contextmanager
def _output_to(path: Path):
    """Everything written to standard output and error — Dagster's event log, dbt's
    log, warnings, by Python or by a child process — goes to ``path`` for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    with open(path, "ab") as fh:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
    for old in sorted(path.parent.glob("refresh-*.log"))[:-KEEP_LOGS]:
        old.unlink(missing_ok=True)


def run_refresh(home: WarehouseHome, target: str | None = None, verbose: bool = False,
                full_refresh: bool = False) -> bool:
    """Run the nightly job in this process, recorded in the warehouse home's Dagster
    instance, under the settings in force; dbt builds on ``target`` (duckdb or spark;
    default the setting target, PARKSTAT_TARGET) and ``full_refresh`` rebuilds every
    fact from all history — both the run's config, as the Dagster UI would give them.
    Prints a short summary; ``verbose`` prints the whole event log as it happens
    (otherwise it is kept in ``logs/refresh-<time>.log``)."""
    from dagster import DagsterInstance

    from ingest.settings import local_time
    from orchestration.instance import process_tags, start_instance
    from orchestration.runlog import failure_lines, summary_lines

    settings = current()
    target = target or settings.target
    for note in start_instance(home, "parkstat refresh", settings):
        if not note.endswith(" written"):
            typer.echo(f"instance: {note}")
    log = home.logs / f"refresh-{local_time():%Y%m%dT%H%M%S}.log"
    with contextlib.ExitStack() as stack:
        if not verbose:
            stack.enter_context(_output_to(log))
        from orchestration.definitions import build_defs

        job = build_defs(home, target, settings).resolve_job_def("nightly_refresh")
        instance = stack.enter_context(DagsterInstance.get())
        run_config = {"ops": {"dbt_models": {"config": {"full_refresh": full_refresh}}},
                      "resources": {"warehouse": {"config": {"home": str(home.root), "target": target}}}}
        unchanged = None if full_refresh else _nothing_new(home, target, job, instance, run_config)
        result = unchanged[1] if unchanged else job.execute_in_process(
            instance=instance, raise_on_error=False, tags=process_tags(), run_config=run_config)
    if not result.success:
        from orchestration.alerts import write_alert

        failed = [e.step_key for e in result.all_events if e.is_step_failure]
        errors = failure_lines(result)
        alert = write_alert(home, job="nightly_refresh", run_id=result.run_id, error="\n".join(errors),
                            failed_steps=failed, source="cli")
        typer.echo(f"alert written: {alert}", err=True)
        typer.echo(f"refresh FAILED (run {result.run_id}); failed steps: {', '.join(failed) or '?'}; "
                   f"the previous publish is unchanged.", err=True)
        for line in failure_lines(result):
            typer.echo(line, err=True)
    for line in summary_lines(result, home, None if verbose else log, unchanged[0] if unchanged else None):
        typer.echo(line, err=not result.success)
    return result.success


def _nothing_new(home: WarehouseHome, target: str, job, instance, run_config: dict) -> tuple | None:
    """When nothing can be new (orchestration/nothing_new.py): the run is the ingest alone
    (it records that nothing arrived), and (the publish still served, its result). None
    when the whole job must run — also when a file arrived during the ingest after all."""
    from orchestration.assets import LEDGER_TABLES
    from orchestration.instance import process_tags
    from orchestration.nothing_new import unchanged_publish

    served = unchanged_publish(home, target)
    if served is None:
        return None
    from dagster import AssetKey

    result = job.execute_in_process(instance=instance, raise_on_error=False, tags=process_tags(),
                                    run_config={"resources": run_config["resources"]},
                                    asset_selection=[AssetKey(["ledger", t]) for t in LEDGER_TABLES])
    if result.success and unchanged_publish(home, target) != served:
        return None  # something arrived while it ran: build and publish it now
    from orchestration.publish import clean_leftovers

    clean_leftovers(home, result.run_id)  # what a killed publish left, as a publish would
    return served, result


@app.command()
def refresh(home: Optional[Path] = HomeOption,
            full_refresh: bool = typer.Option(False, "--full-refresh",
                                              help="Rebuild every fact from all history instead of the years "
                                                   "new files touched."),
            target: Optional[str] = typer.Option(None, "--target", metavar="ENGINE",
                                                 help="Build the dbt models on duckdb (default, or "
                                                      "$PARKSTAT_TARGET) or spark (docs/scaling.md)."),
            verbose: bool = typer.Option(False, "--verbose", "-v",
                                         help="Print the run's whole event log (Dagster and dbt) as it happens "
                                              "instead of a summary.")) -> None:
    """Run the nightly refresh now: ingest the landing area, dbt build, publish."""
    from orchestration.engines import EngineError, require

    h = _home(home)
    target = target or current().target
    try:
        require(target)  # before anything is ingested: a run that cannot build leaves the landing area alone
    except EngineError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2)
    if not run_refresh(h, target, verbose=verbose, full_refresh=full_refresh):
        raise typer.Exit(1)


@app.command()
def demo(home: Optional[Path] = HomeOption,
         verbose: bool = typer.Option(False, "--verbose", "-v", help="Print the refresh's whole event log.")) -> None:
    """Write the bundled sample submissions into the landing area and refresh. The
    home gets the sample's reporting calendar (it ends where the sample's data ends)
    and a file to try ``parkstat check`` on (examples/)."""
    from ingest.synthetic.sample import write_demo

    h = _home(home, settle_seconds=0)  # the sample is written a moment before it is taken, whole
    files, example = write_demo(h)
    typer.echo(f"wrote {len(files)} sample submissions under {h.landing}")
    if not run_refresh(h, verbose=verbose):
        raise typer.Exit(1)
    db = _shell_path(h.published_db)
    typer.echo("\nTry (from the project folder):\n"
               f"  uv run duckdb -readonly {db} \"select * from marts.park_share_comparison "
               "where city_code='431300' and period='2020-12'\"\n"
               f"  uv run parkstat check {_shell_path(example)} --as 431181\n"
               f"  uv run parkstat status{_home_arg(h)}")


def _shell_path(p: Path) -> str:
    """A path as short as it can be written from the current folder, quoted for a shell."""
    import shlex

    try:
        rel = p.relative_to(Path.cwd())
    except ValueError:
        rel = p
    return shlex.quote(str(rel))


def _home_arg(h: WarehouseHome) -> str:
    return "" if h.root == Path("warehouse").resolve() else f" --home {_shell_path(h.root)}"


@app.command()
def check(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                      help="The file to check, as it would be sent."),
          as_: str = typer.Option(..., "--as", metavar="CODE",
                                  help="The submitter's 6-digit division code (its landing folder)."),
          json_out: bool = typer.Option(False, "--json", help="Print the receipt as JSON instead of text."),
          home: Optional[Path] = HomeOption) -> None:
    """Check a file before sending it: the same reading and checks as the nightly
    ingest, against what the warehouse holds now; prints the receipt. Nothing is
    stored. Exit code 0 only if the file would be accepted."""
    import json

    from ingest.ledger import LedgerBusy
    from ingest.pipeline import check_file

    h = _home(home)
    try:
        receipt = check_file(h, file, as_, current())
    except LedgerBusy as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2)
    typer.echo(json.dumps(receipt.as_json(), ensure_ascii=False, indent=2) if json_out else receipt.text())
    if not receipt.status.startswith("accepted"):
        raise typer.Exit(1)


@app.command("as-of")
def as_of(moment: str = typer.Argument(..., help="A date (2024-03-01, meaning its end) or a time (2024-03-01T08:00)."),
          period: Optional[str] = typer.Option(None, help="Only this period (YYYY-MM)."),
          entity: Optional[str] = typer.Option(None, help="Only this park or region code (or project code)."),
          indicator: Optional[str] = typer.Option(None, help="Only this indicator (gdp, tax, ...)."),
          projects: bool = typer.Option(False, "--projects", help="Key-project progress instead of indicators."),
          csv_out: bool = typer.Option(False, "--csv", help="Write CSV to standard output."),
          home: Optional[Path] = HomeOption) -> None:
    """What the warehouse knew at a moment: the figures that stood then, from the
    published history (later resubmissions ignored)."""
    import csv as csvmod

    from ingest.asof import AsOfError, as_of_rows, before_first_receipt

    h = _home(home)
    try:
        columns, rows = as_of_rows(h.published_db, moment, period=period, entity=entity, indicator=indicator,
                                   projects=projects)
        hint = before_first_receipt(h.published_db, moment, projects=projects) if not rows else None
    except AsOfError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2)
    if hint and not csv_out:  # (--csv: the header alone, for scripts)
        typer.echo(hint)
        return
    if csv_out:
        w = csvmod.writer(sys.stdout, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)
        return
    from rich.console import Console
    from rich.table import Table

    shown = [c for c in columns if c not in ("original_value", "original_unit", "file_name", "region_code",
                                             "park_code", "total_investment")]
    table = Table(title=f"as of {moment} ({current().timezone}): {len(rows)} figures (--csv for every column)")
    for c in shown:
        table.add_column(c, justify="right" if c in ("value_wan", "value", "annual_plan", "ytd_completed") else "left")
    for r in rows:
        rec = dict(zip(columns, r))
        table.add_row(*["" if rec[c] is None else f"{rec[c]:,.2f}" if isinstance(rec[c], (float, Decimal)) else str(rec[c])
                        for c in shown])
    Console().print(table)


@app.command()
def rollback(to: Optional[str] = typer.Option(None, "--to", help="A publish id (see `parkstat status`); "
                                              "default: the publish before the one served now."),
             home: Optional[Path] = HomeOption) -> None:
    """Serve an earlier publish again (the file, its Parquet, XLSX, report and docs).
    Holds until the next refresh publishes."""
    from orchestration.publish import PublishError, rollback as do_rollback

    h = _home(home)
    try:
        entry = do_rollback(h, to)
    except PublishError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1)
    typer.echo(f"now serving publish {entry['id']} (run {entry['run_id']}, published {entry['published_at']}); "
               f"the next refresh publishes anew.")


@app.command()
def status(home: Optional[Path] = HomeOption,
           json_out: bool = typer.Option(False, "--json", help="Print JSON instead of tables.")) -> None:
    """The served publish and its age, last runs and their checks, what was published
    when, and who is late (one line per submitter). Times carry their zone."""
    import json

    from orchestration.status import collect, render

    h = _home(home)
    info = collect(h)
    if json_out:
        typer.echo(json.dumps(info, ensure_ascii=False, indent=1, default=str))
    else:
        render(info)


@app.command()
def compare(a: Path = typer.Argument(..., exists=True, dir_okay=False, help="A published warehouse file."),
            b: Path = typer.Argument(..., exists=True, dir_okay=False, help="Another one."),
            schemas: str = typer.Option("marts", help="Comma-separated schemas to compare (e.g. marts,core).")) -> None:
    """Whether two published files hold the same values (e.g. built on DuckDB and on
    Spark from the same landing area): each table that differs, and how. Exit 1 if any."""
    from orchestration.engines import EngineError, compare_published

    try:
        differences = compare_published(a, b, tuple(s.strip() for s in schemas.split(",") if s.strip()))
    except EngineError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2)
    for table, what in differences.items():
        typer.echo(f"{table}: {what}")
    if differences:
        raise typer.Exit(1)
    typer.echo(f"the same values in every table of {schemas}")


def _exec_dagster(h: WarehouseHome, name: str, args: list[str], found_by: str) -> None:
    """Reconcile the instance, fail the runs whose process is gone, then become
    Dagster's ``name`` (from this environment, whatever PATH holds) on the
    instance's workspace: one code location, ``parkstat``, for daemon and webserver."""
    from orchestration.instance import start_instance

    for note in start_instance(h, found_by, current()):
        typer.echo(f"instance: {note}", err=True)
    binary = Path(sys.executable).parent / name
    argv = [str(binary), *args, "-w", str(h.dagster_home / "workspace.yaml")]
    typer.echo(f"{' '.join(argv)}  (DAGSTER_HOME={h.dagster_home})", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(binary, argv)


@app.command()
def daemon(home: Optional[Path] = HomeOption) -> None:
    """Run Dagster's daemon for this warehouse (the nightly schedule, the landing,
    failure and staleness sensors, the run queue). What the systemd unit runs."""
    _exec_dagster(_home(home), "dagster-daemon", ["run"], "parkstat daemon")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def webserver(ctx: typer.Context, home: Optional[Path] = HomeOption,
              host: str = typer.Option("127.0.0.1", "--host", "-h", help="Address to listen on (0.0.0.0: all)."),
              port: int = typer.Option(3000, "--port", "-p", help="Port to listen on.")) -> None:
    """Run Dagster's webserver (the UI) for this warehouse, on the same code location
    as the daemon. Other options are passed to dagster-webserver."""
    _exec_dagster(_home(home), "dagster-webserver", ["-h", host, "-p", str(port), *ctx.args], "parkstat webserver")


# the upload site's commands (parkstat users ..., parkstat serve) live with the site
from intake.cli import serve, users_app  # noqa: E402

app.add_typer(users_app, name="users")
app.command()(serve)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":
    sys.exit(app())
