""""What did we know on date X": the figures that stood at a moment, read from
the published history facts (``core.fct_indicator_values_history`` and
``core.fct_project_progress_history``).

At moment X a file's figures stand if the file was accepted by X and not
superseded by X; when several such files report the same key, the most
recently accepted wins — the one rule (``ingest.standing``) the standing facts
apply today, here over the history rows known at X. The
query is documented in docs/submissions.md for analysts to run themselves.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb

from ingest.standing import standing_sql

def _as_of(history: str, keys: tuple[str, ...], filters: str, columns: str, by_indicator: bool = False) -> str:
    """What stood at ``$moment``: the one rule (``ingest.standing``) applied to the
    history rows known by then, each file superseded if it was by then."""
    rule = standing_sql("known_rows", keys, by_indicator=by_indicator, files="known_files",
                        file_periods="known_periods")
    indicator = ", indicator" if by_indicator else ""
    return f"""
with known as (
    select * from {history}
    where known_from <= $moment {filters}
),
known_rows as (select * exclude (submitter_code) from known),
known_files as (select distinct file_id, submitter_code, known_from as received_at from known),
known_periods as (
    select distinct file_id, period{indicator},
           case when superseded_at <= $moment then file_id end as superseded_by
    from known
)
select {columns}
from ({rule}) as standing_then
order by {", ".join(keys)}
"""


def indicators_as_of() -> str:
    """The indicator figures that stood at ``$moment`` ($period, $entity, $indicator narrow it)."""
    return _as_of(
        "core.fct_indicator_values_history", ("entity_type", "entity_code", "period", "indicator"),
        "and ($period is null or period = $period) and ($entity is null or entity_code = $entity) "
        "and ($indicator is null or indicator = $indicator)",
        "entity_type, entity_code, period, indicator, value_wan, value, unit, original_value, original_unit, "
        "submitter_code, file_name, known_from", by_indicator=True)


def projects_as_of() -> str:
    """The key-project figures that stood at ``$moment`` ($period, $entity narrow it)."""
    return _as_of(
        "core.fct_project_progress_history", ("project_code", "period"),
        "and ($period is null or period = $period) and ($entity is null or project_code = $entity)",
        "project_code, period, project_name, region_code, park_code, total_investment, annual_plan, "
        "ytd_completed, submitter_code, file_name, known_from")


def plain(value):
    """An exact amount as written, without the storage's trailing zeros
    (4100.0000000000 -> 4100, 399.4897000000 -> 399.4897); anything else as is."""
    if isinstance(value, Decimal):
        return Decimal(format(value.normalize(), "f"))
    return value


class AsOfError(Exception):
    pass


def parse_moment(text: str) -> dt.datetime:
    """``2024-03-01`` means the end of that day; ``2024-03-01T08:00`` that time (Asia/Shanghai)."""
    try:
        if len(text.strip()) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text.strip()), dt.time(23, 59, 59, 999999))
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise AsOfError(f"无法识别的时间“{text}”，请用 2024-03-01 或 2024-03-01T08:00 / "
                        f"cannot read the moment {text!r}: use 2024-03-01 or 2024-03-01T08:00") from None


def as_of_rows(published: Path, moment: str, *, period: str | None = None, entity: str | None = None,
               indicator: str | None = None, projects: bool = False) -> tuple[list[str], list[tuple]]:
    when = parse_moment(moment)
    if not published.exists():
        raise AsOfError(f"尚未发布数据仓库 / nothing published yet at {published}")
    con = duckdb.connect(str(published), read_only=True)
    try:
        params = {"moment": when, "period": period, "entity": entity}
        if not projects:
            params["indicator"] = indicator
        cur = con.execute(projects_as_of() if projects else indicators_as_of(), params)
        return [d[0] for d in cur.description], [tuple(map(plain, r)) for r in cur.fetchall()]
    finally:
        con.close()


def before_first_receipt(published: Path, moment: str, *, projects: bool = False) -> str | None:
    """When nothing had been received yet at ``moment``: a sentence saying so, with
    the first moment that has figures (None when figures existed then)."""
    when = parse_moment(moment)
    table = "core.fct_project_progress_history" if projects else "core.fct_indicator_values_history"
    con = duckdb.connect(str(published), read_only=True)
    try:
        first = con.execute(f"select min(known_from) from {table}").fetchone()[0]
    finally:
        con.close()
    if first is None:
        return ("仓库中还没有任何数据 / the warehouse holds no figures yet: nothing has been accepted "
                "(see `parkstat status`)")
    if when >= first:
        return None
    from ingest.settings import display_zone

    return (f"{moment} 早于第一份文件的接收时间 {first:%Y-%m-%d %H:%M:%S}（{display_zone()}）/ {moment} is before "
            f"the first file was received ({first:%Y-%m-%d %H:%M:%S} {display_zone()}): nothing was known then. "
            f"Try: parkstat as-of {first:%Y-%m-%dT%H:%M:%S}")
