"""The dbt models as Dagster assets; their tests become asset checks.

A custom translator names each model by its schema (``marts/park_share_comparison``),
groups models by layer folder, and points dbt sources at the ingest assets.
"""


import re
import subprocess
from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetObservation, Config, Failure, Output
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from orchestration.engines import require
from orchestration.nothing_new import build_fingerprint, built_from, inputs_key, served_key  # noqa: F401
from orchestration.nothing_new import stamp as inputs_stamp
from orchestration.project import ensure_manifest
from orchestration.publish import PUBLISH_STORAGE_VERSION, clean_leftovers, served_folder
from orchestration.resources import WarehouseResource


class ParkstatTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        schema = dbt_resource_props["config"].get("schema") or "main"
        return AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


translator = ParkstatTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


# the line macros/row_count.sql writes in dbt's log for each table a model built
ROW_COUNT_LINE = re.compile(r"parkstat row count: (\S+) (\d+)\s*$")


def told_row_count(raw_event: Mapping[str, Any]) -> tuple[str, int] | None:
    """(unique_id, rows) when a dbt event is the row count a model's table told, else None."""
    msg = (raw_event.get("info") or {}).get("msg") or ""
    found = ROW_COUNT_LINE.search(msg) if "parkstat row count" in msg else None
    return (found.group(1), int(found.group(2))) if found else None


class DbtBuildConfig(Config):
    """Run config of the dbt step (``ops: {dbt_models: {config: {full_refresh: true}}}``;
    ``parkstat refresh --full-refresh`` sets it, the Dagster UI's launchpad too)."""

    full_refresh: bool = False


@dbt_assets(manifest=ensure_manifest(), dagster_dbt_translator=translator, name="dbt_models")
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource,
               config: DbtBuildConfig):
    """``dbt build`` on the run's engine (DuckDB or Spark): incremental facts
    take only the years new files touched (macro touched_years); a full rebuild
    when the engine has no build yet, the project or reference data changed
    (build_fingerprint), or the run's config asks for one (``full_refresh``)."""
    build = warehouse.build
    require(build.target)  # a clear message, not dbt's "could not find adapter type spark"
    build.dir.mkdir(parents=True, exist_ok=True)
    stamp = build.fingerprint_stamp
    fingerprint = build_fingerprint(build.home.reporting_calendar, warehouse.settings)
    full = (config.full_refresh or not build.exists()
            or not stamp.exists() or stamp.read_text() != fingerprint)
    if full:
        context.log.info(f"full rebuild on {build.target} (new build, changed project or reference data, "
                         "or asked for)")
        made_in = build.storage_version()
        if made_in not in (None, PUBLISH_STORAGE_VERSION):
            # a build made before profiles.yml set its storage format: rebuilt whole anyway, so
            # made anew in the published file's format, which a publish can copy as bytes (reuse.py)
            with build.lock():
                for p in (build.home.work_db, *build.logs()):
                    p.unlink(missing_ok=True)
            context.log.info(f"build file in storage format {made_in}: made anew in {PUBLISH_STORAGE_VERSION}")
    inputs = inputs_key(build.home.staged, fingerprint, build.target)
    served = served_folder(build.home)
    if not full and built_from(build.dir) == inputs and served_key(served) == inputs:
        # nothing dbt would build from has changed since the build the served publish was made of:
        # no dbt, no publish (their steps are skipped); the run says so (orchestration/runlog.py)
        context.log.info(f"nothing new since publish {served.name}: dbt and the publish are skipped")
        clean_leftovers(build.home, context.run_id)  # what a killed publish left, as the publish would
        yield AssetObservation(asset_key=AssetKey(["published", "warehouse"]),
                               metadata={"nothing_new": True, "publish_id": served.name})
        return
    stamp.unlink(missing_ok=True)  # written again only once this build succeeded
    inputs_stamp(build.dir).unlink(missing_ok=True)
    # a target folder per warehouse home and engine, kept between runs: dbt's partial
    # parse (its profile names this home's files) is reused by the next night
    # dbt's unit tests (a handful of rows each) check the rules on DuckDB; on Spark each would
    # cost seconds of query planning for no other answer
    unit = ["--exclude-resource-type", "unit_test"] if build.target != "duckdb" else []
    # the build is not written while another run's publish reads it (Build.lock)
    with build.lock():
        # dbt's file log (dbt.log) at info, node by node: at debug it logs every statement of every
        # node, about a tenth of dbt's own time on an empty warehouse (the SQL each node ran is under
        # target/run, the compiled code under target/compiled)
        invocation = dbt.cli(["build", "--target", build.target, "--log-level-file", "info",
                              *(["--full-refresh"] if full else []), *unit],
                             context=context, target_path=build.dbt_target_path)
        # the results go to Dagster as dbt reports them, recorded while dbt runs on: each table
        # model's Output carries the rows it built (dagster/row_count), told in dbt's log by the
        # model's post-hook (macros/row_count.sql) before dbt reports the model done
        rows: dict[str, int] = {}
        received: set[AssetKey] = set()
        try:
            for raw in invocation.stream_raw_events():
                told = told_row_count(raw.raw_event)
                if told is not None:
                    rows[told[0]] = told[1]
                    continue
                for event in raw.to_default_asset_events(
                        manifest=invocation.manifest, dagster_dbt_translator=invocation.dagster_dbt_translator,
                        context=context, target_path=invocation.target_path, project=invocation.project):
                    if isinstance(event, Output):
                        received.add(context.asset_key_for_output(event.output_name))
                        unique_id = (raw.raw_event.get("data", {}).get("node_info") or {}).get("unique_id")
                        if unique_id in rows:
                            event = event.with_metadata({**event.metadata, "dagster/row_count": rows[unique_id]})
                    yield event
        except DagsterDbtCliRuntimeError as failed:
            # a build that failed on data names the file and the figure, when it can
            from ingest.bounds import staged_suspects

            suspects = staged_suspects(build.home.staged)
            if not suspects:
                raise
            raise Failure("dbt build failed; figures beyond their plausibility bound (ingest/reference/bounds.csv) "
                          "stand in the ledger — the file and the figure:\n  " + "\n  ".join(suspects)
                          + f"\nnothing is published. dbt: {str(failed).splitlines()[0][:300]}") from failed
        finally:
            # the step ended while dbt still builds (Dagster refused an event, the run was stopped):
            # stop dbt too, or it would go on holding the build's DuckDB file
            if invocation.process.poll() is None:
                invocation.process.terminate()
                try:
                    invocation.process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    invocation.process.kill()
                    invocation.process.wait()
    # dbt succeeded, but a model whose result never reached Dagster would make the
    # run skip the publish quietly (seen when Spark wrote into dbt's event stream)
    lost = sorted(key.to_user_string() for key in set(context.selected_asset_keys) - received)
    if lost:
        raise Failure(f"dbt reported success, but Dagster received no result for {len(lost)} model(s): "
                      f"{', '.join(lost[:10])}{' ...' if len(lost) > 10 else ''}; nothing is published. "
                      f"dbt's own log: {build.dbt_target_path / 'dbt.log'}")
    stamp.write_text(fingerprint)
    inputs_stamp(build.dir).write_text(inputs)
