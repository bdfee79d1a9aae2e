"""What a refresh says when it is done: a short summary an operator reads in a
few seconds (``parkstat refresh`` without ``--verbose``), made from the run's
own events — the ingest's counts and names, dbt's models and checks, the publish.
"""

from __future__ import annotations

from pathlib import Path

from ingest.settings import WarehouseHome, display_zone, local_time, show_time

FEW = 5  # names are listed when there are at most this many


def _names(names: list[str], total: int) -> str:
    if not names:
        return ""
    shown = ", ".join(names[:FEW])
    return f": {shown}" + (f" (and {total - FEW} more)" if total > FEW else "")


def _value(meta: dict, key: str, default=None):
    v = meta.get(key)
    if v is None:
        return default
    return getattr(v, "value", getattr(v, "data", v))


def summary_lines(result, home: WarehouseHome, log: Path | None, unchanged_publish: str | None = None) -> list[str]:
    """The summary of an in-process run (``ExecuteInProcessResult``); ``unchanged_publish``:
    the publish still served when the run was the ingest alone (nothing new, orchestration/nothing_new.py)."""
    from dagster import AssetCheckSeverity, DagsterEventType

    ingest: dict = {}
    publish: dict = {}
    # nothing new: the publish still served (orchestration/nothing_new.py)
    unchanged: dict = {"publish_id": unchanged_publish} if unchanged_publish else {}
    models = 0
    passed, warned, failed = 0, [], []
    for e in result.all_events:
        if e.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            mat = e.event_specific_data.materialization
            path = mat.asset_key.path
            if path == ["ledger", "files"]:
                ingest = dict(mat.metadata)
            elif path == ["published", "warehouse"]:
                publish = dict(mat.metadata)
            elif path[0] not in ("ledger", "published"):
                models += 1
        elif e.event_type == DagsterEventType.ASSET_OBSERVATION:
            obs = e.event_specific_data.asset_observation
            if obs.asset_key.path == ["published", "warehouse"] and _value(dict(obs.metadata), "nothing_new"):
                unchanged = dict(obs.metadata)
        elif e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            c = e.event_specific_data
            name = f"{'/'.join(c.asset_key.path)}:{c.check_name}"
            if c.passed:
                passed += 1
            elif c.severity == AssetCheckSeverity.WARN:
                warned.append(name)
            else:
                failed.append(name)
    word = "succeeded" if result.success else "FAILED"
    lines = [f"refresh {word} — run {result.run_id[:8]}, {show_time(local_time())} (times in {display_zone()})"]
    if ingest:
        names = _value(ingest, "names", {}) or {}
        parts = []
        for key, label in (("accepted", "accepted"), ("rejected", "rejected"), ("duplicate", "duplicate")):
            n = int(_value(ingest, key, 0))
            parts.append(f"{n} {label}{_names(names.get(key, []), n)}")
        if int(_value(ingest, "files", 0)) == 0:
            lines.append("  files      none new in the landing area")
        else:
            lines.append("  files      " + "; ".join(parts))
        if int(_value(ingest, "rejected", 0)):
            lines.append(f"             the receipts say why: {home.receipts}/<code>/")
        waiting = int(_value(ingest, "waiting", 0))
        if waiting:
            lines.append(f"  waiting    {waiting} still arriving (changed in the last PARKSTAT_SETTLE_SECONDS), "
                         f"left for the next refresh{_names(names.get('waiting', []), waiting)}")
    else:
        lines.append("  files      the ingest did not finish")
    if (models or passed or warned or failed) and not (unchanged and result.success):
        lines.append(f"  dbt        {models} models built; checks: {passed} passed, {len(warned)} warned, "
                     f"{len(failed)} failed")
        for label, names in (("warned", warned), ("failed", failed)):
            if names:
                lines.append(f"             {label}{_names(names, len(names))}")
    if unchanged and result.success:
        lines.append(f"  nothing new  since publish {_value(unchanged, 'publish_id')}: dbt and the publish skipped; "
                     f"it is still served")
    if publish:
        lines.append(f"  published  {_value(publish, 'publish_id')} at {show_time(_value(publish, 'published_at'))}")
        lines.append(f"             {_value(publish, 'path')} (reports, Parquet, workbook: {home.current})")
    elif not result.success:
        lines.append("  published  nothing: the previous publish is still served")
    if log is not None:
        lines.append(f"  log        {log} (--verbose prints it as it happens)")
    return lines


def error_text(err) -> str:
    """A step's error with the exceptions that caused it, what went wrong first
    (Dagster's own wrapper, "Error occurred while executing op", left out)."""
    chain = []
    while err is not None:
        chain.append(err.message.strip())
        err = err.cause
    ours = [m for m in chain if not m.startswith("dagster._core.errors.DagsterExecutionStepExecutionError")]
    return "\n".join(ours or chain)


def failure_lines(result) -> list[str]:
    return [error_text(e.step_failure_data.error)[:2000] for e in result.all_events
            if e.is_step_failure and e.step_failure_data and e.step_failure_data.error]
