"""``parkstat status``: what an operator asks in the morning — the last runs and
their checks (from the warehouse's Dagster instance), what was published when
(``published/history``), and who is late (the served ``marts.submission_status``)."""

from __future__ import annotations

import duckdb

from ingest.settings import WarehouseHome, display_zone, local_time, show_age, show_time
from orchestration.publish import NO_EXTENSIONS, current_publish, list_publishes
from orchestration.alerts import stale_after_hours
from orchestration.report import late_by_submitter


def _runs(home: WarehouseHome, limit: int = 5) -> list[dict]:
    from dagster import DagsterEventType

    from orchestration.instance import open_instance

    out = []
    with open_instance(home) as instance:
        for run in instance.get_runs(limit=limit):
            stats = instance.get_run_stats(run.run_id)
            checks = [e.dagster_event.event_specific_data for e in
                      instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)]
            failed = [f"{'/'.join(c.asset_key.path)}:{c.check_name} ({c.severity.value})"
                      for c in checks if not c.passed]
            out.append({"run_id": run.run_id, "job": run.job_name, "status": run.status.value,
                        "started": show_time(stats.start_time), "ended": show_time(stats.end_time),
                        "checks_passed": sum(c.passed for c in checks), "checks_failed": failed})
    return out


def _late(home: WarehouseHome) -> list[dict]:
    if not home.published_db.exists():
        return []
    con = duckdb.connect(str(home.published_db), read_only=True, config=NO_EXTENSIONS)
    try:
        return late_by_submitter(con)
    finally:
        con.close()


def collect(home: WarehouseHome) -> dict:
    current = current_publish(home)
    publishes = [{"id": p["id"], "run_id": p["run_id"], "published_at": show_time(p["published_at"]),
                  "served": p["id"] == current} for p in list_publishes(home)]
    alerts = sorted(p.name for p in home.alerts.glob("*.json"))[-5:] if home.alerts.exists() else []
    served = next((p for p in publishes if p["served"]), None)
    age = (local_time() - local_time(served["published_at"])).total_seconds() if served else None
    return {"warehouse_home": str(home.root), "timezone": str(display_zone()), "runs": _runs(home),
            "publishes": publishes, "served": current,
            "served_published_at": served["published_at"] if served else None,
            "served_age_seconds": round(age) if age is not None else None,
            "served_age": show_age(age) if age is not None else None,
            "stale_after_hours": stale_after_hours(), "late": _late(home), "recent_alerts": alerts}


def render(info: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]parkstat[/bold] warehouse {info['warehouse_home']} (times in {info['timezone']})")
    if info["served"]:
        stale = info["served_age_seconds"] > info["stale_after_hours"] * 3600
        console.print(f"served: publish {info['served']}, published {info['served_published_at']}, "
                      f"{info['served_age']} ago" + (f" [bold red]— older than {info['stale_after_hours']:g} h: "
                                                     "is the daemon running?[/bold red]" if stale else ""))
    else:
        console.print("served: nothing published yet")
    t = Table(title="最近运行 / last runs")
    for c in ("run", "status", "started", "ended", "checks passed", "checks failed"):
        t.add_column(c)
    for r in info["runs"]:
        t.add_row(r["run_id"][:8], r["status"], r["started"], r["ended"], str(r["checks_passed"]),
                  "\n".join(r["checks_failed"]) or "0")
    console.print(t)
    t = Table(title="发布 / publishes (kept for rollback)")
    for c in ("publish", "run", "published at", "served"):
        t.add_column(c)
    for p in info["publishes"]:
        t.add_row(p["id"], p["run_id"][:8], p["published_at"], "◀ served" if p["served"] else "")
    console.print(t)
    t = Table(title="逾期未报 / late, by submitter")
    for c in ("submitter", "late since", "reports", "kinds"):
        t.add_column(c)
    for r in info["late"]:
        t.add_row(f"{r['submitter_code']} {r['submitter_name']}", r["late_since"],
                  f"{r['reports']}" + (f" ({r['rejected']} rejected)" if r["rejected"] else ""), r["kinds"])
    console.print(t if info["late"] else "逾期未报 / late: nobody")
    if info["recent_alerts"]:
        console.print("alerts: " + ", ".join(info["recent_alerts"]))
