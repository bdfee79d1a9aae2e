"""What an operator reads: ``.venv/bin/parkstat refresh`` run outside ``uv run``
with a bare PATH prints a short summary — counts and names of the files, the
file still arriving named, dbt's models and checks, the publish with its time
and zone — and nothing else (no DEBUG line, no Python warning, no dbt log);
the staleness alert fires once per stale spell; ``status`` shows the served
publish's age; ``as-of`` before the first receipt says so."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from tests.conftest import csv_bytes, drop, env_vars, make_home

PARKSTAT = Path(sys.executable).parent / "parkstat"
REGION_H = ["统计期", "地区代码", "地区生产总值", "税收"]


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    home = make_home(tmp_path_factory.mktemp("plain") / "wh")
    settled = drop(home, "431300", "地区2020.csv", csv_bytes([REGION_H, ["2020", "431300", "10000", "900"]]))
    old = time.time() - 600
    os.utime(settled, (old, old))
    drop(home, "431300", "地区2021（还在上传）.csv", csv_bytes([REGION_H, ["2021", "431300", "11000", "1000"]]))
    # what a systemd unit or a cron line has: no virtualenv, no uv, PATH=/usr/bin:/bin
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
           "PARKSTAT_SETTLE_SECONDS": "60"}
    proc = subprocess.run([str(PARKSTAT), "refresh", "--home", str(home.root)], env=env, capture_output=True,
                          text=True, timeout=600, cwd="/")
    return {"home": home, "proc": proc}


def test_refresh_outside_uv_with_a_bare_path_prints_a_short_summary(done):
    proc, home = done["proc"], done["home"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""
    out = proc.stdout
    lines = out.strip().splitlines()
    assert len(lines) <= 10, out
    for noise in ("DEBUG", "Warning", "warning:", "partial parsing", "Running with dbt", "Traceback"):
        assert noise not in out, out
    assert lines[0].startswith("refresh succeeded — run ") and "+08:00 (times in Asia/Shanghai)" in lines[0]
    assert "  files      1 accepted: 431300/地区2020.csv; 0 rejected; 0 duplicate" in lines
    # the file copied in a moment ago is named, not silently skipped
    assert any(line.startswith("  waiting    1 still arriving") and line.endswith(": 431300/地区2021（还在上传）.csv")
               for line in lines), out
    assert any(re.match(r"  dbt        [1-9][0-9] models built; checks: [1-9][0-9]+ passed, .* 0 failed$", line)
               for line in lines), out
    # the publish it names (another test of the module may have published since: the one named)
    shown = [line for line in lines if line.startswith("  published  ")]
    assert shown and shown[0].endswith("+08:00")
    publish_id = shown[0].split()[1]
    publish = json.loads((home.published_history / publish_id / "publish.json").read_text())
    assert publish["published_at"].endswith("+08:00") and publish["run_id"].startswith(lines[0].split()[4][:8])
    # the whole event log is kept, and named
    (named,) = [line for line in lines if line.startswith("  log        ")]
    log = Path(named.split()[1])
    assert named == f"  log        {log} (--verbose prints it as it happens)" and log.parent == home.logs
    assert "STEP_SUCCESS" in log.read_text() and (home.landing / "431300" / "地区2021（还在上传）.csv").exists()


def test_status_shows_the_age_of_the_served_publish_and_lateness_by_submitter(done):
    home = done["home"]
    res = CliRunner().invoke(app, ["status", "--json", "--home", str(home.root)])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert info["timezone"] == "Asia/Shanghai"
    assert 0 <= info["served_age_seconds"] < 600 and info["served_published_at"].endswith("+08:00")
    assert info["runs"][0]["started"].endswith("+08:00")
    late = {r["submitter_code"]: r for r in info["late"]}
    assert late["431300"]["late_since"] <= "2021-12" and late["431300"]["reports"] >= 1
    text = CliRunner().invoke(app, ["status", "--home", str(home.root)])
    assert f"served: publish {info['served']}, published {info['served_published_at']}, " in \
        " ".join(text.output.split())


def test_the_staleness_alert_fires_once_per_stale_spell(done, tmp_path):
    from dagster import DagsterInstance, build_sensor_context

    from orchestration.definitions import build_defs

    home = done["home"]
    (sensor,) = [s for s in build_defs(home).sensors if s.name == "publish_staleness_alert"]

    def tick(cursor):
        with DagsterInstance.from_config(str(home.dagster_home)) as instance:
            data = sensor.evaluate_tick(build_sensor_context(instance=instance, cursor=cursor))
        return data.cursor if data.cursor is not None else cursor, data.skip_message

    def stale_alerts():
        return sorted(home.alerts.glob("*_stale_*.json")) if home.alerts.exists() else []

    # a fresh publish: nothing
    cursor, said = tick(None)
    assert stale_alerts() == [] and "old" in said
    # the last publish 27 h old: one alert, and only one however often the sensor looks
    meta = home.current.resolve() / "publish.json"
    original, mode = meta.read_text(), meta.stat().st_mode & 0o777
    try:
        _stale_spell(home, meta, tick, stale_alerts, cursor)
    finally:  # the publish as it was: the module's other tests read it
        os.chmod(meta, 0o644)
        meta.write_text(original)
        os.chmod(meta, mode)


def _stale_spell(home, meta, tick, stale_alerts, cursor):
    entry = json.loads(meta.read_text())
    entry["published_at"] = (dt.datetime.fromisoformat(entry["published_at"]) - dt.timedelta(hours=27)).isoformat()
    os.chmod(meta, 0o644)
    meta.write_text(json.dumps(entry))
    cursor, said = tick(cursor)
    (alert_file,) = stale_alerts()
    assert said.startswith("alert written: ")
    alert = json.loads(alert_file.read_text())
    assert alert["kind"] == "stale" and alert["last_publish"] == home.current.resolve().name
    assert 26.9 <= alert["age_hours"] <= 27.2 and alert["limit_hours"] == 26
    assert "已超过 26 小时没有成功发布" in alert["zh"]
    assert "STALE no publish for 27 h 0 min (limit 26 h)" in (home.alerts / "alerts.log").read_text()
    for _ in range(2):
        cursor, said = tick(cursor)
        assert said.startswith("already alerted") and len(stale_alerts()) == 1
    res = CliRunner().invoke(app, ["status", "--home", str(home.root)])
    assert "older than 26 h: is the daemon running?" in " ".join(res.output.split())
    # a shorter limit is a setting; the spell ends with a fresh publish (the cursor clears)
    entry["published_at"] = (dt.datetime.now().astimezone() - dt.timedelta(seconds=60)).isoformat()
    meta.write_text(json.dumps(entry))
    cursor, said = tick(cursor)
    assert cursor == "" and len(stale_alerts()) == 1
    with env_vars(PARKSTAT_STALE_AFTER_HOURS="0.01"):  # 36 s
        cursor, said = tick(cursor)
    assert said.startswith("alert written: ") and len(stale_alerts()) == 2


def test_as_of_before_the_first_receipt_says_so_with_a_hint(done):
    res = CliRunner().invoke(app, ["as-of", "2001-01-01", "--home", str(done["home"].root)])
    assert res.exit_code == 0, res.output
    assert "2001-01-01 is before the first file was received (" in res.output
    assert "nothing was known then. Try: parkstat as-of 20" in res.output
    assert "0 figures" not in res.output


def test_full_refresh_is_the_runs_config_and_leaves_nothing_behind(done):
    """``--full-refresh`` reaches the dbt step as run config (not an environment
    variable that outlives the command): that run rebuilds fully, the next does not."""
    home = done["home"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARKSTAT_", "WAREHOUSE_", "DAGSTER_"))}
    env["PARKSTAT_SETTLE_SECONDS"] = "86400"  # the file still arriving stays so for the module's other tests

    def output(*flags: str) -> str:
        proc = subprocess.run([str(PARKSTAT), "refresh", "--verbose", "--home", str(home.root), *flags], env=env,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return proc.stdout + proc.stderr

    full = output("--full-refresh")
    (line,) = [ln for ln in full.splitlines() if "Running dbt command" in ln]
    assert "--full-refresh" in line
    # a normal run warns of nothing, its whole event log included (dbt's tests are all asset checks)
    assert " - WARNING - " not in full and "Warning: " not in full, [ln for ln in full.splitlines() if "WARN" in ln]
    # the next run is no full rebuild: one never skips, and this one finds nothing new and builds nothing
    after = output()
    assert "nothing new  since publish" in after and "Running dbt command" not in after
