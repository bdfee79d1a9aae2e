"""Alerts an operator's relay picks up: one JSON file per event under the warehouse
home's ``alerts/`` and a line in ``alerts/alerts.log`` — a failed run (from the
failure sensor, a plain ``parkstat refresh``, or a run found orphaned) and a
publish older than ``PARKSTAT_STALE_AFTER_HOURS`` (the staleness sensor).
Plain functions: the sensors, the CLI and the instance's start-up call them."""

from __future__ import annotations

import datetime as dt
import json

from ingest.config import current
from ingest.settings import WarehouseHome, local_time, show_age, show_time
from orchestration.publish import list_publishes


def stale_after_hours() -> float:
    """The setting stale_after_hours (PARKSTAT_STALE_AFTER_HOURS, 26): the staleness alert
    fires when the last successful publish is older than this (read at each sensor tick)."""
    return current().stale_after_hours


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
