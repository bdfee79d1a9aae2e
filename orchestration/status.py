"""``parkstat status``: what an operator asks in the morning — the last runs and
their checks (from the warehouse's Dagster instance), what was published when
(``published/history``), and who is late (the served ``marts.submission_status``)."""

from __future__ import annotations

import duckdb

from ingest.settings import WarehouseHome
from orchestration.publish import NO_EXTENSIONS, current_publish, list_publishes


def _runs(home: WarehouseHome, limit: int = 5) -> list[dict]:
    from dagster import DagsterEventType, DagsterInstance

    out = []
    with DagsterInstance.get() as instance:
        for run in instance.get_runs(limit=limit):
            stats = instance.get_run_stats(run.run_id)
            checks = [e.dagster_event.event_specific_data for e in
                      instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)]
            failed = [f"{'/'.join(c.asset_key.path)}:{c.check_name} ({c.severity.value})"
                      for c in checks if not c.passed]
            out.append({"run_id": run.run_id, "job": run.job_name, "status": run.status.value,
                        "started": stats.start_time, "ended": stats.end_time,
                        "checks_passed": sum(c.passed for c in checks), "checks_failed": failed})
    return out


def _late(home: WarehouseHome) -> list[dict]:
    if not home.published_db.exists():
        return []
    con = duckdb.connect(str(home.published_db), read_only=True, config=NO_EXTENSIONS)
    try:
        rows = con.execute("""
            with recent as (
                select report_kind, period,
                       dense_rank() over (partition by report_kind order by period desc) as k
                from (select distinct report_kind, period from marts.submission_status where is_expected) as p)
            select s.report_kind, s.period, count(*),
                   string_agg(s.submitter_code || ' ' || coalesce(s.submitter_name, ''), ', '
                              order by s.submitter_code)
            from marts.submission_status s
            join recent r on r.report_kind = s.report_kind and r.period = s.period and r.k <= 2
            where s.is_late group by 1, 2 order by 1, 2 desc""").fetchall()
    finally:
        con.close()
    return [{"report_kind": k, "period": p, "late": n, "who": who} for k, p, n, who in rows]


def collect(home: WarehouseHome) -> dict:
    current = current_publish(home)
    publishes = [{"id": p["id"], "run_id": p["run_id"], "published_at": p["published_at"],
                  "served": p["id"] == current} for p in list_publishes(home)]
    alerts = sorted(p.name for p in home.alerts.glob("*.json"))[-5:] if home.alerts.exists() else []
    return {"warehouse_home": str(home.root), "runs": _runs(home), "publishes": publishes,
            "served": current, "late": _late(home), "recent_alerts": alerts}


def render(info: dict) -> None:
    from datetime import datetime

    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]parkstat[/bold] warehouse {info['warehouse_home']}")
    t = Table(title="最近运行 / last runs")
    for c in ("run", "status", "started", "ended", "checks passed", "checks failed"):
        t.add_column(c)
    for r in info["runs"]:
        fmt = (lambda ts: datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "")
        t.add_row(r["run_id"][:8], r["status"], fmt(r["started"]), fmt(r["ended"]), str(r["checks_passed"]),
                  "\n".join(r["checks_failed"]) or "0")
    console.print(t)
    t = Table(title="发布 / publishes (kept for rollback)")
    for c in ("publish", "run", "published at", "served"):
        t.add_column(c)
    for p in info["publishes"]:
        t.add_row(p["id"], p["run_id"][:8], p["published_at"], "◀ served" if p["served"] else "")
    console.print(t)
    t = Table(title="逾期未报 / late (last two periods of each kind)")
    for c in ("kind", "period", "late", "who"):
        t.add_column(c)
    for r in info["late"]:
        t.add_row(r["report_kind"], r["period"], str(r["late"]), r["who"])
    console.print(t)
    if info["recent_alerts"]:
        console.print("alerts: " + ", ".join(info["recent_alerts"]))
