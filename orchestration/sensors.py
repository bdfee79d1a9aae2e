"""Sensors: start a refresh when new files wait in the landing area (and free
the queue of runs whose process is gone); write an alert file when a run fails,
and when nothing has been published for too long (``alerts/`` under the
warehouse home)."""


import hashlib

from dagster import (DagsterInvariantViolationError, DefaultSensorStatus, RunFailureSensorContext, RunRequest, SensorEvaluationContext, SkipReason,
                     run_failure_sensor, sensor)

from ingest.config import Settings, current
from ingest.pipeline import scan_landing
from ingest.settings import WarehouseHome
from orchestration.alerts import check_staleness, write_alert
from orchestration.jobs import nightly_refresh


def landing_fingerprint(home: WarehouseHome) -> str | None:
    """A digest of what waits (names, sizes, mtimes), or None when nothing does."""
    waiting = []
    for path, submitter, name in scan_landing(home):
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        waiting.append(f"{submitter}/{name}\0{st.st_size}\0{st.st_mtime_ns}")
    if not waiting:
        return None
    return hashlib.sha256("\n".join(waiting).encode("utf-8", "surrogateescape")).hexdigest()


def build_landing_sensor(home: WarehouseHome, settings: Settings | None = None):
    """Looks every landing_sensor_seconds (a setting; ``settings``: the definitions', else current())."""
    every = int((settings or current()).landing_sensor_seconds)

    @sensor(name="landing_sensor", job=nightly_refresh, minimum_interval_seconds=every,
            default_status=DefaultSensorStatus.RUNNING,
            description="Starts the refresh when files wait in the landing area; marks failed the runs "
                        "whose process is gone, so the queue moves.")
    def landing_sensor(context: SensorEvaluationContext):
        from orchestration.instance import recover_orphaned_runs

        try:
            instance = context.instance
        except DagsterInvariantViolationError:  # evaluated without an instance (a test's bare context)
            instance = None
        for run_id in recover_orphaned_runs(instance, "the landing sensor", home) if instance else []:
            context.log.warning(f"run {run_id} was left running by a process that is gone: marked failed")
        fp = landing_fingerprint(home)
        if fp is None:
            return SkipReason("the landing area is empty")
        if fp == context.cursor:
            return SkipReason("these files already started a run")
        context.update_cursor(fp)
        return RunRequest(run_key=fp)

    return landing_sensor


def build_staleness_sensor(home: WarehouseHome, settings: Settings | None = None):
    """Looks every stale_check_seconds; the limit (stale_after_hours) is read at each tick."""
    every = int((settings or current()).stale_check_seconds)

    @sensor(name="publish_staleness_alert", minimum_interval_seconds=every,
            default_status=DefaultSensorStatus.RUNNING,
            description="Writes an alert under alerts/ when the last successful publish is older than "
                        "PARKSTAT_STALE_AFTER_HOURS (26 h), once per stale spell.")
    def publish_staleness_alert(context: SensorEvaluationContext):
        cursor, what = check_staleness(home, context.cursor)
        if cursor != context.cursor:
            context.update_cursor(cursor)
        return SkipReason(what)

    return publish_staleness_alert


def build_run_failure_sensor(home: WarehouseHome):
    @run_failure_sensor(name="run_failure_alert", monitored_jobs=[nightly_refresh],
                        default_status=DefaultSensorStatus.RUNNING,
                        description="Writes an alert file under alerts/ for every failed refresh.")
    def run_failure_alert(context: RunFailureSensorContext):
        steps = [e.step_key for e in context.get_step_failure_events() if e.step_key]
        from orchestration.runlog import error_text

        errors = [error_text(e.event_specific_data.error) for e in context.get_step_failure_events()
                  if e.event_specific_data and e.event_specific_data.error]
        message = "\n".join(errors) or (context.failure_event.message or "")
        write_alert(home, job=context.dagster_run.job_name, run_id=context.dagster_run.run_id, error=message,
                    failed_steps=steps)

    return run_failure_alert
