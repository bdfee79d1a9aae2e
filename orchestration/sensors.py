"""Sensors: start a refresh when new files wait in the landing area (and free
the queue of runs whose process is gone); write an alert file when a run fails,
and when nothing has been published for too long (``alerts/`` under the
warehouse home)."""


import datetime as dt
import hashlib
import json
import os

from dagster import (DagsterInvariantViolationError, DefaultSensorStatus, RunFailureSensorContext, RunRequest, SensorEvaluationContext, SkipReason,
                     run_failure_sensor, sensor)

from ingest.pipeline import scan_landing
from ingest.settings import WarehouseHome, local_time, show_age, show_time
from orchestration.jobs import nightly_refresh


def _seconds(name: str, default: float) -> float:
    try:
        return max(1.0, float(os.environ.get(name, default)))
    except ValueError:
        return default


def landing_interval() -> int:
    """PARKSTAT_LANDING_SENSOR_SECONDS [60]: how often the daemon looks at the landing area."""
    return int(_seconds("PARKSTAT_LANDING_SENSOR_SECONDS", 60))


def stale_after_hours() -> float:
    """PARKSTAT_STALE_AFTER_HOURS [26]: the staleness alert fires when the last successful
    publish is older than this."""
    try:
        return max(0.01, float(os.environ.get("PARKSTAT_STALE_AFTER_HOURS", 26)))
    except ValueError:
        return 26.0


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
    @sensor(name="landing_sensor", job=nightly_refresh, minimum_interval_seconds=landing_interval(),
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


def _write_alert_file(home: WarehouseHome, alert: dict, name: str, log_line: str) -> str:
    home.alerts.mkdir(parents=True, exist_ok=True)
    path = home.alerts / name
    n = 1
    while path.exists():  # two alerts in one second: both kept
        n += 1
        path = home.alerts / name.replace(".json", f"-{n}.json")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(alert, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    with open(home.alerts / "alerts.log", "a", encoding="utf-8") as fh:
        fh.write(log_line + "\n")
    return str(path)


def write_alert(home: WarehouseHome, *, job: str, run_id: str, error: str, failed_steps: list[str],
                source: str = "sensor") -> str:
    """One JSON file per failed run under ``alerts/`` and a line in ``alerts/alerts.log``:
    what an operator's mail/IM relay (cron, a systemd path unit) picks up."""
    now = local_time()
    alert = {"at": now.isoformat(timespec="seconds"), "kind": "failed", "job": job, "run_id": run_id,
             "failed_steps": failed_steps, "error": error[:4000], "warehouse_home": str(home.root),
             "source": source, "published": "unchanged: the previous publish is still served",
             "zh": f"夜间更新失败（{job}，运行 {run_id[:8]}），已发布的数据未改变。"}
    first = error.strip().splitlines()[0][:300] if error.strip() else ""
    return _write_alert_file(home, alert, f"{now:%Y%m%dT%H%M%S}_{run_id[:8]}_{source}.json",
                             f"{alert['at']} FAILED {job} run {run_id} steps {','.join(failed_steps) or '?'}: {first}")


def last_publish(home: WarehouseHome) -> dict | None:
    """The newest complete publish (``published/history``): its id, run and time (aware), or None."""
    from orchestration.publish import list_publishes

    kept = list_publishes(home)
    if not kept:
        return None
    entry = kept[-1]
    when = entry.get("published_at")
    try:
        at = local_time(when) if when else None
    except ValueError:
        at = None
    if at is None:
        at = local_time((home.published_history / entry["id"] / "publish.json").stat().st_mtime)
    return {"id": entry["id"], "run_id": entry.get("run_id", ""), "published_at": at}


def check_staleness(home: WarehouseHome, cursor: str | None, now: dt.datetime | None = None) -> tuple[str | None, str]:
    """One evaluation of the staleness alert. Returns (the new cursor, what happened).
    The cursor names the publish already alerted on, so a stale spell alerts once;
    a new publish ends the spell."""
    now = now or local_time()
    last = last_publish(home)
    limit = stale_after_hours()
    if last is None:
        return cursor, "nothing has been published yet"
    age = (now - last["published_at"]).total_seconds()
    if age <= limit * 3600:
        return "", f"the last publish ({last['id']}) is {show_age(age)} old"
    if cursor == last["id"]:
        return cursor, f"already alerted: no publish since {last['id']} ({show_age(age)})"
    alert = {"at": now.isoformat(timespec="seconds"), "kind": "stale", "last_publish": last["id"],
             "last_run_id": last["run_id"], "last_published_at": last["published_at"].isoformat(timespec="seconds"),
             "age_hours": round(age / 3600, 1), "limit_hours": limit, "warehouse_home": str(home.root),
             "source": "sensor", "published": f"stale: the publish served is from {show_time(last['published_at'])}",
             "zh": f"已超过 {limit:g} 小时没有成功发布（上次发布 {show_time(last['published_at'])}，"
                   f"{show_age(age)} 前），请检查守护进程与夜间更新。"}
    path = _write_alert_file(home, alert, f"{now:%Y%m%dT%H%M%S}_stale_{last['id'][-8:]}_sensor.json",
                             f"{alert['at']} STALE no publish for {show_age(age)} (limit {limit:g} h); last "
                             f"{last['id']} at {show_time(last['published_at'])}")
    return last["id"], f"alert written: {path}"


def build_staleness_sensor(home: WarehouseHome):
    @sensor(name="publish_staleness_alert", minimum_interval_seconds=int(_seconds("PARKSTAT_STALE_CHECK_SECONDS", 600)),
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
