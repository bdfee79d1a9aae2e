"""Who a park or a key project belongs to, and who may move it.

A park belongs to the region it is registered in now; a key project to the
region it was last accepted under (at first, the region that first reported
it). A row may move either to another region only when the submitter's
jurisdiction covers both where it belongs now and where it would go — the
province always, a city within itself, a county never. Otherwise a county
could take over another city's park (its shares would count for the wrong city
and the owner be refused for its own park), or a project code already used
elsewhere.

These checks compare a file with the ledger, so both parsing paths share them:
they run on the parsed table.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from ingest import reference
from ingest.messages import Message, error
from ingest.row_checks import division_at, in_jurisdiction


def current_code(code: str, year: int) -> str:
    """A region code as it stands in ``year`` (a retired code's successor)."""
    return division_at(code, year)[3] or code


def _name(code: str) -> str:
    div = reference.divisions().get(code)
    return div.name if div else "?"


def project_owners(con) -> dict[str, str]:
    """project_code -> the region it was last accepted under."""
    return dict(con.execute("""select project_code, arg_max(region_code, file_id) from project_progress
                               where region_code is not null group by project_code""").fetchall())


def ownership_problems(submitter: str, kind: str, table: pl.DataFrame, headers: dict[str, str],
                       parks: dict[str, str], owners: dict[str, str], today: dt.date) -> list[Message]:
    """Errors for the rows of an accepted-so-far table that would move a park
    (``park_registry``) or a project (``project_progress``) out of a region the
    submitter does not cover (``registered_elsewhere``, ``project_elsewhere``)."""
    if kind == "park_registry":
        known, key = parks, "park_code"
    elif kind == "project_progress":
        known, key = owners, "project_code"
    else:
        return []
    if table.height == 0 or key not in table.columns or "region_code" not in table.columns:
        return []
    periods = table["period"] if "period" in table.columns else pl.Series([None] * table.height)
    out = []
    for code, region, period, row in zip(table[key], table["region_code"], periods, table["row_number"]):
        now = known.get(code)
        if now is None or region is None:
            continue
        year = int(period[:4]) if period else today.year
        now = current_code(now, year)
        if now == region or in_jurisdiction(submitter, now):
            continue
        if kind == "park_registry":
            out.append(error(
                "registered_elsewhere",
                f"园区 {code} 现登记在 {now}（{_name(now)}），{submitter} 无权将其改登记到 {region}"
                f"（须由同时管辖两地的单位报送）",
                f"park {code} is registered in {now} ({_name(now)}); {submitter} may not move it to {region} "
                f"(only a submitter whose area covers both may)",
                row=row, column=headers.get("region_code", "region_code"), value=region))
        else:
            out.append(error(
                "project_elsewhere",
                f"项目代码 {code} 已属于 {now}（{_name(now)}），不能作为 {region} 的项目报送",
                f"project code {code} belongs to {now} ({_name(now)}); it cannot be reported as a project "
                f"of {region}",
                row=row, column=headers.get("project_code", "project_code"), value=code))
    return out
