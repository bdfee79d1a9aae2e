"""Checks of a file against what the warehouse holds, once the file itself is
valid: a cumulative figure below the previous period's, year-on-year growth
above 300 %, another submitter's figure for the same thing, parks summing above
their region's own total. Warnings only: the file stands. Read from the ledger
(its standing view, ``ingest.series`` for projects), never written.

An indicator file is compared with the figures that stand for its own parks or
regions (their series: the previous period, the same period last year, another
submitter's figure) and, for the parks-above-region sums, in its periods with the
figures of the regions whose sums it can change and of the parks under them — never
with the whole standing history, nor with every entity of its periods, whose
ranking grows with the ledger (national size: 0.25–0.4 s a file for the history,
~0.12 s for every entity of the periods; the restriction is on the key columns,
which DuckDB applies before ranking)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa

from ingest import reference
from ingest.ledger import INDICATOR_KEYS
from ingest.ledger_rows import carried_indicators, column, indicator_rows
from ingest.messages import Message, warning
from ingest.standing import standing_sql

if TYPE_CHECKING:
    from ingest.ledger import Ledger


def history_warnings(ledger: "Ledger", submitter: str, kind: str, table: pl.DataFrame,
                     headers: dict[str, str]) -> list[Message]:
    """Warnings that compare a file with the figures that stand: cumulative
    falls, year-on-year above 300 %, parks above their region, conflicts."""
    if kind == "project_progress":
        return _project_warnings(ledger, submitter, table, headers)
    if kind not in ("park_indicators", "region_indicators"):
        return []
    etype = "park" if kind == "park_indicators" else "region"
    long = indicator_rows(0, kind, table)
    if long.height == 0:
        return []
    inc = long.select("entity_code", "period", "indicator", pl.col("value_wan").alias("value"),
                      "row_number").to_arrow()
    near = _Near(long, etype, ledger.parks())
    con = ledger.con
    con.register("incoming", inc)
    try:
        out: list[Message] = []
        # the figures as they will stand once this file is accepted, for the file's own entities (all
        # their periods) and, in its periods, the parks its parks are summed with (_Near): the rule
        # applied without its submitter's earlier figures of the indicators it carries for its periods
        # (superseded by it: a park it leaves out no longer stands, and another submitter's figure a
        # superseded one hid stands again)
        con.execute(f"""
            create or replace temp table will_stand as
            with candidates as (
                select * from indicator_values v where v.entity_type = ? and {near.either("v")}),
            periods_then as (  -- file_periods once this file is recorded (what it supersedes, marked -1)
                select file_id, period, {"indicator, " if ledger.by_indicator else ""}case when submitter_code = ?
                       and report_kind = ? and list_contains(?::varchar[], period)
                       {"and list_contains(?::varchar[], indicator)" if ledger.by_indicator else ""} then -1
                       else superseded_by end as superseded_by
                from file_periods)
            select entity_code, period, indicator, value_wan, submitter_code from (
            {standing_sql("candidates", INDICATOR_KEYS, by_indicator=ledger.by_indicator, file_periods="periods_then")})
        """, [etype, *near.either_params, submitter, kind, _periods(table),
              *([carried_indicators(table)] if ledger.by_indicator else [])])
        # the series: this file's figures and what stands beside them
        con.execute("""
            create or replace temp table series as
            select entity_code, period, indicator, value, true as incoming, row_number from incoming
            union all
            select s.entity_code, s.period, s.indicator, s.value_wan, false, null from will_stand s
            where not exists (select 1 from incoming i
                  where i.entity_code = s.entity_code and i.period = s.period and i.indicator = s.indicator)
        """)
        for code, period, ind, value, prev_period, prev, rownum in con.execute(f"""
            select entity_code, period, indicator, value, prev_period, prev_value, row_number from (
              select *, lag(period) over w as prev_period, lag(value) over w as prev_value from series s
              where {near.entities("s")}
              window w as (partition by entity_code, indicator, left(period, 4) order by period))
            where incoming and prev_value is not null and value < prev_value
              and list_contains(?::varchar[], indicator) order by row_number, indicator
        """, [near.entity_codes,
              [i for i, u in reference.indicator_units().items() if u == reference.MONEY_UNIT]]).fetchall():
            out.append(warning("cumulative_fell", f"累计数低于上期（{prev_period}：{prev:,.2f}万元）",
                               f"cumulative figure below the previous period's ({prev_period}: {prev:,.2f} 万元)",
                               row=rownum, column=headers.get(ind, ind), value=f"{value:,.2f}"))
        yoy = reference.threshold("yoy_growth_above")  # (thresholds.csv; the code keeps its contract name)
        for code, period, ind, value, prior, rownum in con.execute("""
            select a.entity_code, a.period, a.indicator, a.value, b.value, a.row_number
            from series a join series b on a.entity_code = b.entity_code and a.indicator = b.indicator
              and b.period = cast(cast(left(a.period, 4) as integer) - 1 as varchar) || substr(a.period, 5)
            where a.incoming and b.value > 0 and (a.value / b.value - 1) > ? order by a.row_number, a.indicator
        """, [yoy]).fetchall():
            out.append(warning("yoy_above_300", f"同比增长超过{yoy * 100:g}%（上年同期 {prior:,.2f}万元）",
                               f"year-on-year growth above {yoy * 100:g} % (same period last year: {prior:,.2f} 万元)",
                               row=rownum, column=headers.get(ind, ind), value=f"{value:,.2f}"))
        for code, period, ind, value, by, rownum in con.execute("""
            select i.entity_code, i.period, i.indicator, s.value_wan, s.submitter_code, i.row_number
            from incoming i join will_stand s on s.entity_code = i.entity_code
              and s.period = i.period and s.indicator = i.indicator
            where s.submitter_code <> ? order by i.row_number, i.indicator
        """, [submitter]).fetchall():
            out.append(warning("conflict", f"{by} 已报送该项（{value:,.2f}万元）；以本文件为准",
                               f"{by} reported this figure too ({value:,.2f} 万元); this file's figure stands",
                               row=rownum, column=headers.get(ind, ind)))
        out.extend(_park_total_warnings(ledger, etype, near))
        return out
    finally:
        con.unregister("incoming")
        con.execute("drop table if exists series")
        con.execute("drop table if exists will_stand")

def _project_warnings(ledger: "Ledger", submitter: str, table: pl.DataFrame,
                      headers: dict[str, str]) -> list[Message]:
    """A project's 本年累计完成投资 below its previous month's, or above a later month's
    that stands already (a correction of an earlier month), and a project-period
    another submitter reported too (this file's figure stands). Computed on
    the file's projects only (ingest.series), in Polars."""
    from ingest.series import ProjectSeries

    if ledger._series is None:
        ledger._series = ProjectSeries(ledger.con, before_read=ledger.flush_rows)
    inc = table.select("project_code", "period", column(table, "ytd_completed", pl.Float64).alias("value"),
                       "row_number")
    standing = ledger._series.standing(inc, submitter).lazy()  # (collected once: two plans below read it)
    col = headers.get("ytd_completed", "ytd_completed")
    out: list[Message] = []
    # the series as it stands once this file is accepted: lag within project and year (sorted, the
    # row before of the same project and year; one plan with the standing rows and the conflicts)
    same = (pl.col("project_code") == pl.col("project_code").shift(1)) & (pl.col("year") == pl.col("year").shift(1))
    series = (pl.concat([inc.lazy().with_columns(incoming=pl.lit(True)),
                         standing.join(inc.lazy(), on=["project_code", "period"], how="anti")
                         .select("project_code", "period", pl.col("ytd_completed").alias("value"),
                                 pl.lit(None, dtype=pl.Int64).alias("row_number"),
                                 incoming=pl.lit(False))], how="vertical_relaxed")
              .with_columns(year=pl.col("period").str.slice(0, 4))
              .sort("project_code", "year", "period")
              .with_columns(prev_period=pl.when(same).then(pl.col("period").shift(1)),
                            prev_value=pl.when(same).then(pl.col("value").shift(1)),
                            # a later period that stands already (an earlier month corrected upwards)
                            next_period=pl.when(same.shift(-1) & ~pl.col("incoming").shift(-1))
                            .then(pl.col("period").shift(-1)),
                            next_value=pl.when(same.shift(-1) & ~pl.col("incoming").shift(-1))
                            .then(pl.col("value").shift(-1))))
    fell, above, others = pl.collect_all([
        series.filter(pl.col("incoming") & pl.col("prev_value").is_not_null()
                      & (pl.col("value") < pl.col("prev_value"))).sort("row_number")
        .select("value", "prev_period", "prev_value", "row_number"),
        series.filter(pl.col("incoming") & pl.col("next_value").is_not_null()
                      & (pl.col("value") > pl.col("next_value"))).sort("row_number")
        .select("value", "next_period", "next_value", "row_number"),
        inc.lazy().join(standing, on=["project_code", "period"], how="inner")
        .filter(pl.col("submitter_code") != submitter).sort("row_number")
        .select("submitter_code", "ytd_completed", "row_number")])
    for value, prev_period, prev, rownum in fell.iter_rows():
        out.append(warning("cumulative_fell", f"累计数低于上期（{prev_period}：{prev:,.2f}万元）",
                           f"cumulative figure below the previous period's ({prev_period}: {prev:,.2f} 万元)",
                           row=rownum, column=col, value=f"{value:,.2f}"))
    for value, next_period, later, rownum in above.iter_rows():
        out.append(warning("cumulative_fell", f"累计数高于已报送的后一期（{next_period}：{later:,.2f}万元）："
                           f"{next_period} 的当期完成额将为负，请核对",
                           f"cumulative figure above the later period already reported ({next_period}: "
                           f"{later:,.2f} 万元): {next_period}'s amount for the period turns negative; check both",
                           row=rownum, column=col, value=f"{value:,.2f}"))
    for by, value, rownum in others.iter_rows():
        out.append(warning("conflict", f"{by} 已报送该项目本期进度（{value:,.2f}万元）；以本文件为准",
                           f"{by} reported this project for this period too ({value:,.2f} 万元); "
                           f"this file's figures stand", row=rownum, column=col))
    return out

def _periods(table: pl.DataFrame) -> list[str]:
    """The periods a file reports (what it supersedes its submitter's earlier figures for)."""
    return table["period"].drop_nulls().unique().to_list() if "period" in table.columns else []


class _Near:
    """What of the standing figures an indicator file is compared with: its own
    entities' (every period), and in its periods those of the parks-above-region
    sums it can change (conditions on the key columns, with their parameters).
    A park file changes the sums of the regions its parks lie in (county, city,
    province), each the sum of every park under that region; a region file, its
    own regions' totals, compared with the sums of the parks under them."""

    def __init__(self, long: pl.DataFrame, etype: str, parks: dict[str, str]):
        self.entity_codes = long["entity_code"].drop_nulls().unique().sort().to_list()
        self.periods = long["period"].drop_nulls().unique().sort().to_list()
        if etype == "park":
            regions = {a for p in self.entity_codes if p in parks for a in reference.ancestors(parks[p])}
        else:
            regions = set(self.entity_codes)
        # (park, region it is summed into) for the sums this file can change
        self.pairs = [(p, a) for p, r in parks.items() for a in reference.ancestors(r) if a in regions] if regions else []
        self.parks = sorted({p for p, _ in self.pairs})
        self.regions = sorted(regions)
        # in the file's periods, the other entities of its own kind the sums need: the parks beside its parks
        self.beside = self.parks if etype == "park" else []
        self.either_params = [self.entity_codes, self.periods, self.beside]

    @staticmethod
    def entities(alias: str) -> str:
        return f"list_contains(?::varchar[], {alias}.entity_code)"

    @staticmethod
    def in_periods(alias: str) -> str:
        return f"list_contains(?::varchar[], {alias}.period)"

    def either(self, alias: str) -> str:
        return f"({self.entities(alias)} or ({self.in_periods(alias)} and {self.entities(alias)}))"


def _park_total_warnings(ledger: "Ledger", etype: str, near: _Near) -> list[Message]:
    """Parks registered within a region summing above the region's own total
    (county, city and province), as the figures will stand with this file —
    for the file's periods and the regions whose comparison it can change."""
    if not near.pairs:
        return []
    ledger.con.register("park_ancestors", pa.table({"park_code": [p for p, _ in near.pairs],
                                                  "region_code": [a for _, a in near.pairs]}))

    def side(kind: str) -> tuple[str, list]:
        if kind == etype:
            return "select entity_code, period, indicator, value, incoming from series", []
        return (f"select entity_code, period, indicator, value_wan as value, false as incoming "
                f"from standing_values s where s.entity_type = '{kind}' and {near.in_periods('s')} "
                f"and {near.entities('s')}", [near.periods, near.parks if kind == "park" else near.regions])
    (park_side, park_params), (region_side, region_params) = side("park"), side("region")
    try:
        rows = ledger.con.execute(f"""
            with park_side as ({park_side}), region_side as ({region_side}),
            sums as (
                select pa.region_code, s.period, s.indicator, sum(s.value) as park_sum,
                       bool_or(s.incoming) as incoming
                from park_side s join park_ancestors pa on pa.park_code = s.entity_code
                group by pa.region_code, s.period, s.indicator)
            select r.entity_code, r.period, r.indicator, p.park_sum, r.value
            from sums p join region_side r on r.entity_code = p.region_code and r.period = p.period
              and r.indicator = p.indicator
            where p.park_sum > r.value * ? and (p.incoming or r.incoming)
            order by 1, 2, 3
        """, [*park_params, *region_params, reference.threshold("parks_above_region_tolerance")]).fetchall()
    finally:
        ledger.con.unregister("park_ancestors")
    return [warning("parks_above_region", f"{reg} {period} 园区合计 {ps:,.2f} 万元高于地区总量 {rv:,.2f} 万元（{ind}）",
                    f"{reg} {period}: parks sum to {ps:,.2f} 万元, above the region's total {rv:,.2f} 万元 ({ind})")
            for reg, period, ind, ps, rv in rows]
