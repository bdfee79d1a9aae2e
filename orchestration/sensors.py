"""Sensors: start a refresh when new files wait in the landing area; write an
alert file when a run fails (``alerts/`` under the warehouse home)."""


import datetime as dt
import hashlib
import json

from dagster import (DefaultSensorStatus, RunFailureSensorContext, RunRequest, SensorEvaluationContext, SkipReason,
                     run_failure_sensor, sensor)

from ingest.pipeline import scan_landing
from ingest.settings import WarehouseHome
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


def build_landing_sensor(home: WarehouseHome):
    @sensor(name="landing_sensor", job=nightly_refresh, minimum_interval_seconds=60,
            default_status=DefaultSensorStatus.RUNNING,
            description="Starts the refresh when files wait in the landing area.")
    def landing_sensor(context: SensorEvaluationContext):
        fp = landing_fingerprint(home)
        if fp is None:
            return SkipReason("the landing area is empty")
        if fp == context.cursor:
            return SkipReason("these files already started a run")
        context.update_cursor(fp)
        return RunRequest(run_key=fp)

    return landing_sensor


def write_alert(home: WarehouseHome, *, job: str, run_id: str, error: str, failed_steps: list[str],
                source: str = "sensor") -> str:
    """One JSON file per failed run under ``alerts/`` and a line in ``alerts/alerts.log``:
    what an operator's mail/IM relay (cron, a systemd path unit) picks up."""
    home.alerts.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now()
    alert = {"at": now.isoformat(timespec="seconds"), "job": job, "run_id": run_id, "failed_steps": failed_steps,
             "error": error[:4000], "warehouse_home": str(home.root), "source": source,
             "published": "unchanged: the previous publish is still served",
             "zh": f"夜间更新失败（{job}，运行 {run_id[:8]}），已发布的数据未改变。"}
    path = home.alerts / f"{now:%Y%m%dT%H%M%S}_{run_id[:8]}_{source}.json"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(alert, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    with open(home.alerts / "alerts.log", "a", encoding="utf-8") as fh:
        fh.write(f"{alert['at']} FAILED {job} run {run_id} steps {','.join(failed_steps) or '?'}: "
                 f"{error.strip().splitlines()[0][:300] if error.strip() else ''}\n")
    return str(path)


def build_run_failure_sensor(home: WarehouseHome):
    @run_failure_sensor(name="run_failure_alert", monitored_jobs=[nightly_refresh],
                        default_status=DefaultSensorStatus.RUNNING,
                        description="Writes an alert file under alerts/ for every failed refresh.")
    def run_failure_alert(context: RunFailureSensorContext):
        steps = [e.step_key for e in context.get_step_failure_events() if e.step_key]
        errors = [e.event_specific_data.error.message for e in context.get_step_failure_events()
                  if e.event_specific_data and e.event_specific_data.error]
        message = "\n".join(errors) or (context.failure_event.message or "")
        write_alert(home, job=context.dagster_run.job_name, run_id=context.dagster_run.run_id, error=message,
                    failed_steps=steps)

    return run_failure_alert
