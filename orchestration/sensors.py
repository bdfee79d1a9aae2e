"""Sensors: start a refresh when new files wait in the landing area."""


import hashlib

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SkipReason, sensor

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
