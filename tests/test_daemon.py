"""A year of unattended nights, shortened: the real ``dagster-daemon`` and
``dagster-webserver``, started as the README and the systemd units start them
(``parkstat daemon`` / ``parkstat webserver``), against a warehouse home whose
``dagster.yaml`` is an old one with a key the operator added.

One daemon and one webserver serve the whole module, in order: the instance is
reconciled (the operator's key kept) and the daemon runs with run monitoring;
daemon and webserver name the same code location, and what the webserver's
GraphQL switches (the schedule, the landing sensor) is what the daemon sees;
a refresh killed with SIGKILL in the middle of its dbt build leaves its run
STARTED, and once a file is dropped the landing sensor marks that run failed
(its process is gone) and its own run completes and publishes — no manual step.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.conftest import csv_bytes, drop, make_home

pytestmark = pytest.mark.slow

PARKSTAT = Path(sys.executable).parent / "parkstat"
OLD_DAGSTER_YAML = """\
telemetry:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 1
code_servers:
  local_startup_timeout: 240
"""
REGION_H = ["统计期", "地区代码", "地区生产总值", "税收"]
SENSOR_SECONDS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _default_signals() -> None:  # background processes here may start with SIGINT/SIGTERM ignored
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as fh:
        return subprocess.Popen(args, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=_default_signals)


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=30)


def wait_for(what: str, check, timeout: float, every: float = 1.0, logs: list[Path] = ()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    tails = "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-4000:] for p in logs if p.exists())
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tails}")


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql",
                                 data=json.dumps({"query": query, "variables": variables or {}}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        out = json.loads(resp.read())
    assert "errors" not in out, out
    return out["data"]


def _instance(home):
    from orchestration.instance import open_instance

    return open_instance(home)  # under parkstat's lock: the daemon may be creating the storage


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("daemon")
    home = make_home(root / "wh")  # writes a current dagster.yaml: put the old one back
    (home.dagster_home / "dagster.yaml").write_text(OLD_DAGSTER_YAML, encoding="utf-8")
    (home.dagster_home / "workspace.yaml").unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARKSTAT_", "DAGSTER_", "WAREHOUSE_"))}
    env.update(PARKSTAT_LANDING_SENSOR_SECONDS=str(SENSOR_SECONDS), PARKSTAT_SETTLE_SECONDS="0",
               PARKSTAT_STALE_CHECK_SECONDS=str(SENSOR_SECONDS), PYTHONUNBUFFERED="1")
    port = free_port()
    logs = {"daemon": root / "daemon.log", "webserver": root / "webserver.log"}
    procs = []
    try:
        procs.append(start([str(PARKSTAT), "daemon", "--home", str(home.root)], env, logs["daemon"]))
        procs.append(start([str(PARKSTAT), "webserver", "--home", str(home.root), "-p", str(port)], env,
                           logs["webserver"]))
        yield {"home": home, "env": env, "port": port, "logs": list(logs.values()), "root": root}
    finally:
        for p in procs:
            kill(p)


def test_the_daemon_starts_on_a_reconciled_instance_keeping_the_operators_key(served):
    home = served["home"]
    cfg = wait_for("dagster.yaml reconciled",
                   lambda: (lambda c: c if c.get("run_monitoring") else None)(
                       yaml.safe_load((home.dagster_home / "dagster.yaml").read_text())), 60, 0.5, served["logs"])
    assert cfg["code_servers"] == {"local_startup_timeout": 240}  # the operator's key, kept
    assert cfg["run_monitoring"]["enabled"] is True and cfg["run_monitoring"]["max_runtime_seconds"] > 0
    assert cfg["run_coordinator"]["config"]["max_concurrent_runs"] == 1
    assert cfg["telemetry"] == {"enabled": False}
    assert cfg["retention"]["sensor"]["purge_after_days"]["skipped"] >= 1
    assert (home.dagster_home / "dagster.yaml.bak").read_text() == OLD_DAGSTER_YAML
    # and the daemon runs with it: run monitoring is one of its daemons
    with _instance(home) as instance:
        # each of the daemon's threads writes its first heartbeat in its own time: wait for all four
        wanted = {"SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR", "MONITORING"}
        beats = wait_for("the daemon's heartbeats", lambda: (lambda b: b if wanted <= set(b) else None)(
                         instance.get_daemon_heartbeats()), 120, 1, served["logs"])
    assert wanted <= set(beats)


SCHEDULE_Q = """query($s: ScheduleSelector!) { scheduleOrError(scheduleSelector: $s) {
    __typename ... on Schedule { scheduleState { id selectorId status repositoryLocationName } }
    ... on PythonError { message } } }"""
SENSOR_Q = """query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) {
    __typename ... on Sensor { sensorState { id selectorId status ticks(limit: 200) { status timestamp } } }
    ... on PythonError { message } } }"""


SCHEDULE = {"repositoryLocationName": "parkstat", "repositoryName": "__repository__",
            "scheduleName": "nightly_refresh_schedule"}
SENSOR = {"repositoryLocationName": "parkstat", "repositoryName": "__repository__", "sensorName": "landing_sensor"}


def switch(port: int, *, schedule: bool | None = None, sensor: bool | None = None) -> dict[str, str]:
    """Turn the nightly schedule / the landing sensor on or off from the UI's API; returns
    the statuses they had before, so a test can put back what it found."""
    was = {"schedule": graphql(port, SCHEDULE_Q, {"s": SCHEDULE})["scheduleOrError"]["scheduleState"],
           "sensor": graphql(port, SENSOR_Q, {"s": SENSOR})["sensorOrError"]["sensorState"]}
    if schedule is True:
        graphql(port, """mutation($s: ScheduleSelector!) { startSchedule(scheduleSelector: $s) { __typename } }""",
                {"s": SCHEDULE})
    elif schedule is False and was["schedule"]["status"] == "RUNNING":
        graphql(port, """mutation($id: String!) { stopRunningSchedule(id: $id) { __typename } }""",
                {"id": was["schedule"]["id"]})
    if sensor is True:
        graphql(port, """mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) { __typename } }""",
                {"s": SENSOR})
    elif sensor is False and was["sensor"]["status"] == "RUNNING":
        graphql(port, """mutation($id: String!) { stopSensor(id: $id) { __typename } }""", {"id": was["sensor"]["id"]})
    return {k: v["status"] for k, v in was.items()}


def test_webserver_and_daemon_name_one_code_location_and_the_daemon_obeys_the_ui(served):
    port, home = served["port"], served["home"]
    locations = wait_for("the webserver to load the code location", lambda: _locations(port), 180, 2,
                         served["logs"])
    assert locations == ["parkstat"]
    schedule = SCHEDULE
    state = graphql(port, SCHEDULE_Q, {"s": schedule})["scheduleOrError"]["scheduleState"]
    assert state["status"] == "RUNNING" and state["repositoryLocationName"] == "parkstat"
    # the daemon records the schedule it runs (declared running in code) under its own
    # code location: the very selector the webserver shows
    from dagster._core.scheduler.instigation import InstigatorType

    with _instance(home) as instance:
        daemons = wait_for("the daemon's schedule state", lambda: [
            s for s in instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
            if s.instigator_name == "nightly_refresh_schedule"], 90, 1, served["logs"])
        assert [s.selector_id for s in daemons] == [state["selectorId"]]
        assert daemons[0].origin.repository_origin.code_location_origin.location_name == "parkstat"
        # switched off in the UI: the row the daemon reads says so; and on again
        stop = graphql(port, """mutation($id: String!) { stopRunningSchedule(id: $id) { __typename
            ... on ScheduleStateResult { scheduleState { status } } } }""", {"id": state["id"]})
        assert stop["stopRunningSchedule"]["scheduleState"]["status"] == "STOPPED", stop
        row = instance.get_instigator_state(daemons[0].instigator_origin_id, daemons[0].selector_id)
        assert row.status.value == "STOPPED"
        graphql(port, """mutation($s: ScheduleSelector!) { startSchedule(scheduleSelector: $s) { __typename } }""",
                {"s": schedule})
        row = instance.get_instigator_state(daemons[0].instigator_origin_id, daemons[0].selector_id)
        assert row.status.value == "RUNNING"
    # the landing sensor: the daemon's ticks show in the webserver (same location), and
    # stopping it in the UI stops the daemon ticking it
    sensor = SENSOR
    ticks = wait_for("the daemon's landing-sensor ticks in the webserver", lambda: (
        lambda s: s if len(s["ticks"]) >= 2 else None)(
        graphql(port, SENSOR_Q, {"s": sensor})["sensorOrError"]["sensorState"]), 120, 2, served["logs"])
    stopped = graphql(port, """mutation($id: String!) { stopSensor(id: $id) { __typename
        ... on StopSensorMutationResult { instigationState { status } } } }""", {"id": ticks["id"]})
    assert stopped["stopSensor"]["instigationState"]["status"] == "STOPPED", stopped
    stopped_at = time.time()
    # a tick is stamped when the daemon starts it: one started just before the stop (the
    # state read a moment earlier, the machine busy) may land after it; a daemon still
    # ticking would start two in the last 2 × SENSOR_SECONDS of the wait
    time.sleep(4 * SENSOR_SECONDS)
    late = [t for t in graphql(port, SENSOR_Q, {"s": sensor})["sensorOrError"]["sensorState"]["ticks"]
            if t["timestamp"] > stopped_at + 2 * SENSOR_SECONDS]
    assert not late, (stopped_at, late)
    switch(port, sensor=True)  # as it was


def _locations(port: int) -> list[str] | None:
    try:
        data = graphql(port, """{ workspaceOrError { __typename ... on Workspace {
            locationEntries { name locationOrLoadError { __typename } } } } }""")
    except OSError:
        return None
    entries = data["workspaceOrError"].get("locationEntries") or []
    if not entries or any(e["locationOrLoadError"] is None for e in entries):
        return None
    assert all(e["locationOrLoadError"]["__typename"] == "RepositoryLocation" for e in entries), entries
    return sorted(e["name"] for e in entries)


def test_a_refresh_killed_mid_run_does_not_block_the_next_one(served):
    home, port = served["home"], served["port"]
    wait_for("the webserver to load the code location", lambda: _locations(port), 180, 2, served["logs"])
    # no schedule firing (02:00 Beijing time may fall inside the test) and no sensor taking the file meanwhile
    was = switch(port, schedule=False, sensor=False)
    try:
        _killed_refresh_then_recovery(served)
    finally:
        if was["schedule"] == "RUNNING":
            switch(port, schedule=True)


def _killed_refresh_then_recovery(served) -> None:
    from dagster import DagsterRunStatus, RunsFilter

    home, port = served["home"], served["port"]
    drop(home, "431300", "地区.csv", csv_bytes([REGION_H, ["2020", "431300", "10000", "900"]]))
    env = {**served["env"], "WAREHOUSE_HOME": str(home.root)}
    log = served["root"] / "killed-refresh.log"
    proc = subprocess.Popen([str(PARKSTAT), "refresh", "--verbose"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True, text=True, errors="replace",
                            preexec_fn=_default_signals)
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line)
            if "Running dbt command" in line:
                os.killpg(proc.pid, signal.SIGKILL)  # kill -9, in the middle of the dbt build
                break
    finally:
        kill(proc)
        log.write_text("".join(seen))
    assert proc.returncode == -signal.SIGKILL, "".join(seen)[-3000:]
    with _instance(home) as instance:
        (killed,) = instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED],
                                                         tags={"parkstat/pid": str(proc.pid)}))
    # the landing sensor back on (from the UI) and a file dropped: nothing else is done by hand
    switch(port, sensor=True)
    drop(home, "431300", "地区2021.csv", csv_bytes([REGION_H, ["2021", "431300", "11000", "1000"]]))
    logs = [*served["logs"], log]

    def sensor_run_done():
        with _instance(home) as instance:
            runs = instance.get_runs(filters=RunsFilter(tags={"dagster/sensor_name": "landing_sensor"}))
            done = [r for r in runs if r.status in (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE)]
            return done[0] if done else None

    run = wait_for("the landing sensor's run to finish", sensor_run_done, 300, 3, logs)
    assert run.status == DagsterRunStatus.SUCCESS
    assert run.tags["parkstat/pid"].isdigit()  # the daemon's run worker recorded itself too
    with _instance(home) as instance:
        after = instance.get_run_by_id(killed.run_id)
        assert after.status == DagsterRunStatus.FAILURE
        failure = instance.get_records_for_run(killed.run_id).records[-1].event_log_entry
        assert f"the process running this refresh (pid {killed.tags['parkstat/pid']}" in failure.message
        assert "marked failed by the landing sensor" in failure.message
    publish = json.loads((home.current / "publish.json").read_text())
    assert publish["run_id"] == run.run_id
    assert not [p for p in home.landing.rglob("*") if p.is_file()]
    # an alert says so, with the reason (the failure sensor does not watch in-process runs)
    (alert,) = [json.loads(p.read_text()) for p in home.alerts.glob(f"*_{killed.run_id[:8]}_recovery.json")]
    assert "is gone (killed or crashed)" in alert["error"] and alert["run_id"] == killed.run_id
    assert f"FAILED nightly_refresh run {killed.run_id}" in (home.alerts / "alerts.log").read_text()


def test_processes_opening_a_new_instance_together_all_start(tmp_path):
    """The daemon, the webserver and an operator's ``parkstat status`` started at one
    moment on a new home: without parkstat's lock two of four crashed creating the
    instance's SQLite storage (``alembic_version already exists``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARKSTAT_", "DAGSTER_", "WAREHOUSE_"))}
    home = tmp_path / "new-home"
    procs = [subprocess.Popen([str(PARKSTAT), "status", "--home", str(home)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for _ in range(4)]
    outputs = [p.communicate(timeout=180)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], "\n".join(o[-2000:] for o in outputs)
    assert all("served: nothing published yet" in o for o in outputs), outputs
