"""The Dagster instance of a warehouse home, kept fit for unattended nights.

- ``reconcile_instance``: ``dagster/dagster.yaml`` brought to what parkstat
  needs on every start (``parkstat`` commands, the daemon's and the webserver's
  code location): telemetry off, the queued coordinator with one run at a time,
  run monitoring with a maximum run time, retention of schedule and sensor
  ticks. Keys the operator added are kept; the file is rewritten only when
  something changed (the previous one kept as ``dagster.yaml.bak``).
- ``workspace.yaml`` beside it: the one code location (``parkstat``) the daemon
  and the webserver both load, run by this environment's Python.
- ``instance_lock`` / ``open_instance``: every parkstat process that writes the
  instance's files or opens its storage does so under one lock file. The daemon
  and the webserver start together (systemd), an operator runs ``parkstat
  status`` at the same moment: two processes creating a new instance's SQLite
  storage at once leave it broken (``alembic_version already exists``).
- ``recover_orphaned_runs``: a run whose process is gone (a ``kill -9``, a
  crash, a reboot) stays STARTED for ever and, with one run at a time, blocks
  the queue. Every run records the process that executes it (run tags); a
  refresh, the daemon's start and every landing-sensor tick mark the runs whose
  process is gone as failed, with the reason, so the queue moves on.
- ``prune_runs``: runs (and their event logs) older than
  ``PARKSTAT_KEEP_RUNS_DAYS`` (the setting keep_runs_days) are deleted; Dagster keeps them for ever otherwise.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import yaml

from ingest.config import Settings
from ingest.config import current as _current
from ingest.settings import WarehouseHome

LOCATION_NAME = "parkstat"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
PID_TAG, HOST_TAG, STARTED_TAG = "parkstat/pid", "parkstat/host", "parkstat/pid_started"
HEADER = ("# The Dagster instance of this warehouse home. parkstat reconciles this file on every\n"
          "# start (telemetry, run queue, run monitoring, retention); keys you add are kept.\n")


def required_settings(settings: Settings) -> dict:
    """What parkstat needs of the instance (the values it sets; everything else is the operator's):
    run monitoring stops a refresh running longer than the setting max_run_seconds; ticks are
    kept keep_ticks_days."""
    ticks = settings.keep_ticks_days
    return {
        "telemetry": {"enabled": False},
        # one run at a time: the schedule and the landing sensor never run two refreshes together
        "run_coordinator": {"module": "dagster.core.run_coordinator", "class": "QueuedRunCoordinator",
                            "config": {"max_concurrent_runs": 1}},
        "run_monitoring": {"enabled": True, "start_timeout_seconds": 300, "cancel_timeout_seconds": 300,
                           "max_runtime_seconds": int(settings.max_run_seconds), "poll_interval_seconds": 60},
        "retention": {"schedule": {"purge_after_days": ticks},
                      "sensor": {"purge_after_days": {"skipped": min(7, ticks), "success": ticks,
                                                      "failure": ticks}}},
    }


def _merge(current: dict, required: dict) -> dict:
    out = dict(current)
    for key, value in required.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def workspace_text() -> str:
    module = {"module_name": "orchestration.definitions", "location_name": LOCATION_NAME,
              "working_directory": str(PROJECT_ROOT), "executable_path": sys.executable}
    return ("# Written by parkstat on every start: the one code location the daemon and the\n"
            "# webserver load (`parkstat daemon`, `parkstat webserver`; or -w this file).\n"
            + yaml.safe_dump({"load_from": [{"python_module": module}]}, sort_keys=False, allow_unicode=True))


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


@contextmanager
def instance_lock(home: WarehouseHome) -> Iterator[None]:
    """Held while the instance's files are written or its storage is opened (and,
    when new, created): one process at a time, whoever comes second waits."""
    import fcntl

    home.dagster_home.mkdir(parents=True, exist_ok=True)
    with open(home.dagster_home / ".parkstat-start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@contextmanager
def open_instance(home: WarehouseHome):
    """The home's Dagster instance, its files reconciled and its storage opened
    (created if new) under the lock."""
    from dagster import DagsterInstance

    with instance_lock(home):
        _reconcile(home)
        instance = DagsterInstance.from_config(str(home.dagster_home))
    with instance:
        yield instance


def reconcile_instance(home: WarehouseHome) -> list[str]:
    """Bring ``dagster.yaml`` and ``workspace.yaml`` of the home's instance to what
    parkstat needs; returns what changed (empty when nothing did)."""
    with instance_lock(home):
        return _reconcile(home)


def _reconcile(home: WarehouseHome, settings: Settings | None = None) -> list[str]:
    cfg = home.dagster_home / "dagster.yaml"
    changes: list[str] = []
    current: dict = {}
    if cfg.exists():
        text = cfg.read_text(encoding="utf-8")
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            loaded = None
            broken = cfg.with_name(f"dagster.yaml.broken-{dt.datetime.now():%Y%m%dT%H%M%S}")
            broken.write_text(text, encoding="utf-8")
            changes.append(f"dagster.yaml was not valid YAML ({str(exc).splitlines()[0]}); kept as {broken.name}")
        if isinstance(loaded, dict):
            current = loaded
    merged = _merge(current, required_settings(settings or _current()))
    if merged != current or not cfg.exists():
        changed = sorted(k for k in merged if merged.get(k) != current.get(k))
        if cfg.exists():
            _write(cfg.with_name("dagster.yaml.bak"), cfg.read_text(encoding="utf-8"))
        _write(cfg, HEADER + yaml.safe_dump(merged, sort_keys=False, allow_unicode=True))
        changes.append(f"dagster.yaml: {', '.join(changed)} set" if current else "dagster.yaml written")
    ws = home.dagster_home / "workspace.yaml"
    text = workspace_text()
    if not ws.exists() or ws.read_text(encoding="utf-8") != text:
        _write(ws, text)
        changes.append("workspace.yaml written")
    return changes


# -- the process behind a run ------------------------------------------------------------

def _proc_started(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (tells a reused pid apart),
    or None when there is no such live process (a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return ""
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def process_tags(pid: int | None = None) -> dict[str, str]:
    """Run tags naming the process that executes a run."""
    pid = pid or os.getpid()
    return {PID_TAG: str(pid), HOST_TAG: socket.gethostname(), STARTED_TAG: _proc_started(pid) or ""}


def process_gone(tags: dict) -> bool:
    """True only when the run names a process on this host and that process is gone."""
    pid, host = tags.get(PID_TAG), tags.get(HOST_TAG)
    if not pid or not pid.isdigit() or host != socket.gethostname():
        return False
    if not Path("/proc").is_dir():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    started = _proc_started(int(pid))
    return started is None or bool(tags.get(STARTED_TAG)) and bool(started) and started != tags[STARTED_TAG]


def tag_run_with_process(instance, run) -> None:
    """Record the process executing ``run`` (the daemon's run worker) unless it already is."""
    if run is None or instance is None or run.tags.get(PID_TAG) == str(os.getpid()):
        return
    instance.add_run_tags(run.run_id, process_tags())


def recover_orphaned_runs(instance, found_by: str, home: WarehouseHome | None = None) -> list[str]:
    """Mark failed every run still STARTING/STARTED (or CANCELING) whose process is
    gone; returns their run ids. Runs of other hosts and runs that name no process
    are left to run monitoring (start timeout, maximum run time). With ``home``, a
    run the daemon did not launch (``parkstat refresh``, which the failure sensor
    does not watch) gets its alert under ``alerts/`` (``_recovery.json``)."""
    from dagster import DagsterRunStatus, RunsFilter

    recovered = []
    active = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
    for run in instance.get_runs(filters=RunsFilter(statuses=active)):
        if not process_gone(run.tags):
            continue
        reason = (f"parkstat: the process running this refresh (pid {run.tags[PID_TAG]} on {run.tags[HOST_TAG]}) "
                  f"is gone (killed or crashed); marked failed by {found_by} so that the next refresh can run. "
                  "The previous publish is still served; the next refresh takes up what this one left.")
        if run.status == DagsterRunStatus.CANCELING:
            instance.report_run_canceled(run, reason)
        else:
            instance.report_run_failed(run, reason)
            if home is not None and run.remote_job_origin is None:
                from orchestration.alerts import write_alert

                write_alert(home, job=run.job_name, run_id=run.run_id, error=reason, failed_steps=[],
                            source="recovery")
        recovered.append(run.run_id)
    return recovered


def prune_runs(instance, days: int | None = None) -> int:
    """Delete finished runs (with their event logs) last updated more than
    ``days`` (the setting keep_runs_days, PARKSTAT_KEEP_RUNS_DAYS, 400) ago; returns how many."""
    from dagster import DagsterRunStatus, RunsFilter

    days = days if days is not None else _current().keep_runs_days
    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)
    done = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]
    records = instance.get_run_records(filters=RunsFilter(statuses=done, updated_before=cutoff), limit=500)
    for record in records:
        instance.delete_run(record.dagster_run.run_id)
    return len(records)


def start_instance(home: WarehouseHome, found_by: str, settings: Settings | None = None) -> list[str]:
    """What every start does: reconcile the instance's files, then fail the runs
    whose process is gone and prune old runs. Returns lines worth telling."""
    from dagster import DagsterInstance

    settings = settings or _current()
    with instance_lock(home):  # one start at a time (see instance_lock)
        notes = _reconcile(home, settings)
        os.environ["DAGSTER_HOME"] = str(home.dagster_home)
        with DagsterInstance.from_config(str(home.dagster_home)) as instance:
            for run_id in recover_orphaned_runs(instance, found_by, home):
                notes.append(f"run {run_id[:8]} was left running by a process that is gone: marked failed")
            pruned = prune_runs(instance, settings.keep_runs_days)
            if pruned:
                notes.append(f"{pruned} old runs and their event logs deleted (PARKSTAT_KEEP_RUNS_DAYS)")
    return notes
