"""End to end through the real Dagster job (ingest -> dbt build -> publish),
on the bundled sample and on files the project has never seen."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import csv_bytes, drop, make_home, query, refresh, xlsx_bytes

PROVINCE_ROWS = [["period", "region_code", "gdp", "tax"], ["2021", "430000", "4000000", "300000"]]


@pytest.fixture(scope="module")
def unseen(tmp_path_factory):
    """A warehouse fed only with files written here, in each promised shape."""
    home = make_home(tmp_path_factory.mktemp("unseen") / "wh")
    os.environ["PARKSTAT_NOW"] = "2023-06-15T09:00:00"
    # 娄底 sends its register as XLSX with Traditional headers and a title row
    drop(home, "431300", "園區名錄.xlsx", xlsx_bytes([
        ["婁底市產業園區名錄"], ["園區代碼", "園區名稱", "所屬地區代碼", "園區級別", "規劃面積（畝）"],
        ["431300-ETDZ", "娄底经济技术开发区", "431302", "國家級", "30000"],
        ["431300-LSJ", "冷水江经济开发区", "431381", "省級", "12000"]], sheet="園區名錄", merges=["A1:E1"]))
    # ... and its parks' figures as GBK CSV with a title row and 单位：亿元
    drop(home, "431300", "园区指标.csv", csv_bytes([
        ["2021年娄底市园区主要经济指标"], ["单位：亿元"], ["统计期", "园区代码", "园区名称", "园区生产总值", "税收"],
        ["2021年1-12月", "431300-ETDZ", "娄底经开区", "30", "2.5"],
        ["2021年1-12月", "431300-LSJ", "冷水江经开区", "20", "1.5"]], "gbk"))
    # ... and its own total with units in the header cells, in GB18030
    drop(home, "431300", "地区指标.csv", csv_bytes([
        ["统计期", "地区代码", "地区生产总值（亿元）", "税收（元）"], ["2021", "431300", "200", "800,000,000"]], "gb18030"))
    # 衡阳 registers a park and reports it with English headers, but sends no city total
    drop(home, "430400", "registry.csv", csv_bytes([["park_code", "park_name", "region_code"],
                                                    ["430400-HTZ", "衡阳高新区", "430407"]]))
    drop(home, "430400", "parks.csv", csv_bytes([["period", "park_code", "gdp", "tax"],
                                                 ["2021-12", "430400-HTZ", "600000", "40000"]]))
    # the province's total, English headers
    drop(home, "430000", "province.csv", csv_bytes(PROVINCE_ROWS))
    assert refresh(home)
    yield home
    os.environ.pop("PARKSTAT_NOW", None)


def share_rows(home):
    return query(home, """select city_code, indicator, park_value, city_value, park_share_pct,
                                 province_park_share_pct, gap_pp
                          from marts.park_share_comparison order by city_code, indicator""")


def test_unseen_files_give_the_right_shares(unseen):
    rows = {(r[0], r[1]): r[2:] for r in share_rows(unseen)}
    # 娄底: parks 30 + 20 亿 = 500000 万 of a 200 亿 (2000000 万) city: 25 %
    park, city, share, prov, gap = rows[("431300", "gdp")]
    assert (park, city) == (500000, 2000000) and share == pytest.approx(25.0)
    # province: all parks (500000 + 600000) of 4000000 万: 27.5 %
    assert prov == pytest.approx(27.5) and gap == pytest.approx(-2.5)
    park, city, share, prov, gap = rows[("431300", "tax")]
    assert (park, city) == (40000, 80000) and share == pytest.approx(50.0)
    assert prov == pytest.approx(100 * 80000 / 300000)


def test_missing_city_total_gives_a_row_with_null_shares(unseen):
    rows = {(r[0], r[1]): r[2:] for r in share_rows(unseen)}
    park, city, share, prov, gap = rows[("430400", "gdp")]
    assert park == 600000 and city is None and share is None and gap is None
    assert prov == pytest.approx(27.5)


def test_a_row_outside_the_jurisdiction_rejects_the_file_and_changes_nothing(unseen):
    before = share_rows(unseen)
    before_facts = query(unseen, "select * from core.fct_indicator_values order by all")
    # 冷水江 (a county) reports its own park and, wrongly, 娄底's city park
    drop(unseen, "431381", "冷水江园区.csv", csv_bytes([
        ["统计期", "园区代码", "园区生产总值"], ["2021", "431300-LSJ", "999999"], ["2021", "431300-ETDZ", "1"]]))
    assert refresh(unseen)
    receipt = query(unseen, """select status, error_count, messages, row_count from marts.submission_receipts
                               where submitter_code = '431381'""")
    assert len(receipt) == 1
    status, errors, messages, rows = receipt[0]
    assert (status, errors, rows) == ("rejected", 1, 0)
    assert "431381 may not report for 431302" in messages and "431381 无权报送 431302 的数据" in messages
    assert share_rows(unseen) == before
    assert query(unseen, "select * from core.fct_indicator_values order by all") == before_facts
    receipt_file = list((unseen.receipts / "431381").glob("*.txt"))
    assert len(receipt_file) == 1 and "431381 may not report for 431302" in receipt_file[0].read_text("utf-8")


def test_a_failed_build_leaves_the_previous_publish(unseen):
    before = unseen.published_db.read_bytes()
    # a file that passes ingest but breaks a blocking dbt test cannot be made from
    # valid input, so break the build itself: the working database is unreadable
    shutil.move(unseen.work_db, unseen.work_db.with_suffix(".bak"))
    unseen.work_db.mkdir()
    try:
        drop(unseen, "430000", "province-v2.csv", csv_bytes([PROVINCE_ROWS[0], ["2021", "430000", "5000000", "300000"]]))
        assert not refresh(unseen)
        assert unseen.published_db.read_bytes() == before
        assert not list(unseen.published.glob(".candidate-*"))
        # the operator is told: an alert file, from the CLI and from the run-failure sensor alike
        [alert] = list(unseen.alerts.glob("*.json"))
        body = json.loads(alert.read_text(encoding="utf-8"))
        assert body["job"] == "nightly_refresh" and body["failed_steps"] == ["dbt_models"]
        assert "previous publish is still served" in body["published"] and body["error"]
        assert_sensor_writes_an_alert(unseen, body["run_id"])
    finally:
        unseen.work_db.rmdir()
        shutil.move(unseen.work_db.with_suffix(".bak"), unseen.work_db)
    # the next refresh recovers with no manual step and publishes what was received
    assert refresh(unseen)
    assert query(unseen, "select city_value from marts.park_share_comparison where city_code = '431300' "
                         "and indicator = 'gdp'") == [(2000000,)]
    assert query(unseen, "select round(province_park_share_pct, 6) from marts.park_share_comparison "
                         "where city_code = '431300' and indicator = 'gdp'") == [(22.0,)]
    # the province's figure put back as it was: the module's other tests read the fixture's shares
    drop(unseen, "430000", "province-v3.csv", csv_bytes([PROVINCE_ROWS[0], ["2021", "430000", "4000000.0", "300000"]]))
    assert refresh(unseen)
    assert query(unseen, "select round(province_park_share_pct, 6) from marts.park_share_comparison "
                         "where city_code = '431300' and indicator = 'gdp'") == [(27.5,)]


def assert_sensor_writes_an_alert(home, run_id: str) -> None:
    from dagster import DagsterEventType, DagsterInstance, build_run_status_sensor_context

    from orchestration.definitions import build_defs

    (sensor,) = [s for s in build_defs(home).sensors if s.name == "run_failure_alert"]  # (get_sensor_def warns)
    os.environ["DAGSTER_HOME"] = str(home.dagster_home)
    with DagsterInstance.get() as instance:
        run = instance.get_run_by_id(run_id)
        [failure] = instance.all_logs(run_id, of_type=DagsterEventType.RUN_FAILURE)
        ctx = build_run_status_sensor_context(sensor_name="run_failure_alert", dagster_instance=instance,
                                              dagster_run=run, dagster_event=failure.dagster_event)
        sensor(ctx.for_run_failure())
    alerts = sorted(home.alerts.glob("*.json"))
    assert len(alerts) == 2
    assert (home.alerts / "alerts.log").read_text(encoding="utf-8").count(f"FAILED nightly_refresh run {run_id}") == 2


def test_the_run_is_recorded_in_the_warehouse_dagster_instance(unseen):
    from dagster import DagsterInstance, DagsterRunStatus

    with DagsterInstance.from_config(str(unseen.dagster_home)) as instance:
        runs = instance.get_runs()
        assert runs and all(r.job_name == "nightly_refresh" for r in runs)
        assert DagsterRunStatus.SUCCESS in {r.status for r in runs}


def test_a_start_fails_the_runs_whose_process_is_gone_and_leaves_live_ones(tmp_path):
    """What ``parkstat refresh`` and ``parkstat daemon`` do first (start_instance): a run left
    STARTED by a process that is gone is failed with the reason and an alert; a run whose
    process lives is left alone; finished runs past keep_runs_days are pruned."""
    from dagster import DagsterInstance, DagsterRunStatus
    from dagster._core.storage.dagster_run import DagsterRun

    from orchestration.instance import process_tags, prune_runs, start_instance

    home = make_home(tmp_path / "wh")
    start_instance(home, "a test")  # the instance written and created
    proc = subprocess.Popen(["sleep", "60"])
    dead_tags = process_tags(proc.pid)
    proc.kill()
    proc.wait()
    with DagsterInstance.from_config(str(home.dagster_home)) as instance:
        for run_id, tags in (("0dead000-0000-0000-0000-000000000000", dead_tags),
                             ("0a11fe00-0000-0000-0000-000000000000", process_tags())):
            instance.add_run(DagsterRun(job_name="nightly_refresh", run_id=run_id, tags=tags,
                                        status=DagsterRunStatus.STARTED))
    notes = start_instance(home, "parkstat refresh")
    assert notes == ["run 0dead000 was left running by a process that is gone: marked failed"]
    with DagsterInstance.from_config(str(home.dagster_home)) as instance:
        assert instance.get_run_by_id("0dead000-0000-0000-0000-000000000000").status == DagsterRunStatus.FAILURE
        reason = instance.get_records_for_run("0dead000-0000-0000-0000-000000000000").records[-1].event_log_entry
        assert f"(pid {proc.pid} on " in reason.message and "marked failed by parkstat refresh" in reason.message
        assert instance.get_run_by_id("0a11fe00-0000-0000-0000-000000000000").status == DagsterRunStatus.STARTED
        (alert,) = [json.loads(p.read_text()) for p in home.alerts.glob("*_0dead000_recovery.json")]
        assert alert["run_id"].startswith("0dead000") and "is gone (killed or crashed)" in alert["error"]
        assert prune_runs(instance, days=0) == 1  # the failed run, not the live one
        assert [r.run_id[:8] for r in instance.get_runs()] == ["0a11fe00"]
    assert start_instance(home, "parkstat daemon") == []  # nothing left to do


def test_definitions_validate():
    env = {**os.environ, "WAREHOUSE_HOME": os.environ.get("WAREHOUSE_HOME", "/tmp/parkstat-validate")}
    out = subprocess.run([sys.executable, "-m", "dagster", "definitions", "validate", "-m",
                          "orchestration.definitions"], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "All code locations passed validation" in out.stderr + out.stdout


def test_the_dbt_resource_knows_the_version_dbt_itself_reports(tmp_path):
    # dagster-dbt would run `dbt --version` on every run; the resource reads the package's version
    # instead, and that must be what the executable the runs use says it is
    import re

    from orchestration.definitions import build_defs

    dbt = build_defs(make_home(tmp_path / "wh")).resources["dbt"]
    said = subprocess.run([dbt.dbt_executable, "--version"], capture_output=True, text=True, timeout=120).stdout
    assert type(dbt).__name__ == "DbtResource"
    assert str(dbt._cli_version) == re.search(r"installed:\s*(\d+\.\d+\.\d+)", said).group(1)


def test_a_dbt_command_makes_no_dbt_adapter_in_the_pipelines_process(tmp_path):
    # dagster-dbt loads dbt's profile and macros into its own process before every command, for
    # fetch_row_counts/fetch_column_metadata, which parkstat does not call (1.3-2.5 s a build)
    from dagster_dbt import DbtCliResource

    from orchestration.definitions import build_defs

    assert "_initialize_dbt_core_adapter" in vars(DbtCliResource)  # what DbtResource overrides is still there
    dbt = build_defs(make_home(tmp_path / "wh")).resources["dbt"]
    invocation = dbt.cli(["parse"], target_path=tmp_path / "target")
    assert invocation.wait().is_successful()
    assert invocation.adapter is None
    assert (tmp_path / "target" / "manifest.json").exists()


def test_every_asset_has_an_owner_kinds_and_a_description(tmp_path):
    from orchestration.definitions import build_defs

    specs = list(build_defs(make_home(tmp_path / "wh")).resolve_all_asset_specs())
    keys = {s.key.to_user_string() for s in specs}
    assert {"ledger/files", "marts/park_share_comparison", "core/dim_region", "published/warehouse"} <= keys
    lacking = {s.key.to_user_string(): (s.owners, s.kinds, bool((s.description or "").strip()))
               for s in specs if s.owners != ["team:parkstat"] or len(s.kinds) < 2 or not (s.description or "").strip()}
    assert lacking == {}
    by_key = {s.key.to_user_string(): s for s in specs}
    assert {"dbt", "duckdb"} <= by_key["marts/park_share_comparison"].kinds
    assert "python" in by_key["ledger/files"].kinds and "python" in by_key["published/warehouse"].kinds


def test_landing_sensor_requests_a_run_only_for_new_files(tmp_path):
    from dagster import RunRequest, SkipReason, build_sensor_context

    from orchestration.sensors import build_landing_sensor

    home = make_home(tmp_path / "wh")
    sensor = build_landing_sensor(home)
    assert isinstance(sensor(build_sensor_context()), SkipReason)
    drop(home, "431300", "a.csv", b"period,region_code,gdp\n2021,431300,1\n")
    first = sensor(build_sensor_context())
    assert isinstance(first, RunRequest)
    again = sensor(build_sensor_context(cursor=first.run_key))
    assert isinstance(again, SkipReason) and "already" in again.skip_message


def test_schedule_is_nightly_at_two_beijing_time():
    from orchestration.schedules import nightly_schedule

    assert nightly_schedule.cron_schedule == "0 2 * * *"
    assert nightly_schedule.execution_timezone == "Asia/Shanghai"
    assert nightly_schedule.job_name == "nightly_refresh"


def test_dagster_dev_loads_the_graph_and_shows_the_cli_runs(unseen):
    """`dagster dev` on the warehouse's instance: every asset and the runs that
    `parkstat refresh` recorded are there."""
    import json
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DAGSTER_HOME": str(unseen.dagster_home), "WAREHOUSE_HOME": str(unseen.root)}
    proc = subprocess.Popen([sys.executable, "-m", "dagster", "dev", "-m", "orchestration.definitions",
                             "-h", "127.0.0.1", "-p", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)

    def gql(q: str) -> dict:
        req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": q}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            return json.load(r)["data"]

    try:
        deadline, keys = time.monotonic() + 300, None
        while time.monotonic() < deadline:
            try:
                keys = {"/".join(n["assetKey"]["path"]) for n in gql("{ assetNodes { assetKey { path } } }")["assetNodes"]}
                if keys:
                    break
            except OSError:
                time.sleep(1)
        assert keys and {"ledger/files", "marts/park_share_comparison", "marts/submission_receipts",
                         "core/fct_indicator_values", "published/warehouse"} <= keys
        # the schedule and the three sensors are there and running (the daemon dagster dev starts runs them)
        repos = gql("""{ repositoriesOrError { ... on RepositoryConnection { nodes {
                        schedules { name scheduleState { status } } sensors { name sensorState { status } } } } } }""")
        [repo] = repos["repositoriesOrError"]["nodes"]
        assert {(x["name"], x["scheduleState"]["status"]) for x in repo["schedules"]} == \
            {("nightly_refresh_schedule", "RUNNING")}
        assert {(x["name"], x["sensorState"]["status"]) for x in repo["sensors"]} == \
            {("landing_sensor", "RUNNING"), ("run_failure_alert", "RUNNING"), ("publish_staleness_alert", "RUNNING")}
        runs = gql("{ runsOrError { ... on Runs { results { status } } } }")["runsOrError"]["results"]
        assert "SUCCESS" in {r["status"] for r in runs}
        # each mart with its checks, as the UI's asset page shows them: all passed on the last run
        nodes = gql("""{ assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks {
                        checks { name executionForLatestMaterialization { status
                                 evaluation { severity } } } } } } }""")["assetNodes"]

        def state(c: dict) -> str | None:
            ex = c["executionForLatestMaterialization"] or {}
            return ex.get("status") if ex.get("status") != "FAILED" else \
                f"FAILED {((ex.get('evaluation') or {}).get('severity'))}"
        checks = {"/".join(n["assetKey"]["path"]): {c["name"]: state(c)
                                                    for c in n["assetChecksOrError"].get("checks", [])}
                  for n in nodes if n["assetKey"]["path"][0] == "marts"}
        for mart in ("park_share_comparison", "investment_progress", "growth_comparison", "park_rankings",
                     "region_share", "submission_status", "submission_receipts"):
            statuses = checks[f"marts/{mart}"]
            # its key and its columns' rules at least (tests/generic/column_rules.sql), all passed
            assert f"column_rules_{mart}" in statuses and len(statuses) >= 2, (mart, statuses)
            assert set(statuses.values()) == {"SUCCEEDED"}, (mart, statuses)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
