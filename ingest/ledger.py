"""The ingest ledger: every file received, every message, every accepted row.

One DuckDB file (``state/ingest.duckdb``) written only by the pipeline. Its
tables are the single definition of what ingest hands to dbt; after each ingest
they are exported as Parquet under ``staged/`` (dbt's sources, engine-neutral).
Nothing a file contains is ever put into SQL text: values travel as parameters
or through Arrow tables.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest import reference
from ingest.messages import Message, warning

SCHEMA = """
create sequence if not exists file_id_seq start 1;
create table if not exists files (
    file_id bigint primary key,
    sha256 varchar not null,
    submitter_code varchar not null,
    file_name varchar not null,
    size_bytes bigint,
    received_at timestamp not null,
    report_kind varchar,
    status varchar not null,          -- accepted | accepted_with_warnings | rejected | duplicate
    duplicate_of bigint,
    row_count integer not null,
    error_count integer not null,
    warning_count integer not null,
    encoding varchar,
    sheet varchar,
    archive_path varchar not null
);
create table if not exists messages (
    file_id bigint not null, seq integer not null, severity varchar not null, code varchar not null,
    row_number integer, column_name varchar, value varchar, reason_zh varchar, reason_en varchar,
    line varchar  -- the message as the receipt prints it, Chinese first
);
create table if not exists file_periods (
    file_id bigint not null, submitter_code varchar not null, report_kind varchar not null,
    period varchar not null, superseded_by bigint, superseded_at timestamp
);
-- the periods each recognised file's rows name, accepted or rejected, and how
-- many rows each (what was received, for marts.submission_status)
create table if not exists received_periods (
    file_id bigint not null, period varchar not null, row_count integer not null
);
create table if not exists indicator_values (
    file_id bigint not null, entity_type varchar not null, entity_code varchar not null,
    entity_name varchar, period varchar not null, indicator varchar not null, value_wan double,
    original_value varchar, original_unit varchar, row_number integer
);
create table if not exists park_registry (
    file_id bigint not null, park_code varchar not null, park_name varchar not null,
    region_code varchar not null, park_level varchar, area_mu double, row_number integer
);
create table if not exists project_progress (
    file_id bigint not null, period varchar not null, project_code varchar not null,
    project_name varchar, region_code varchar, park_code varchar, industry_chain varchar,
    nature varchar, stage varchar, total_investment double, annual_plan double,
    ytd_completed double, start_date date, row_number integer
);
"""

# DuckDB may never fetch an extension at run time (no network here)
NO_EXTENSIONS = {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}


def standing_view(name: str, table: str, keys: tuple[str, ...]) -> str:
    """A temp view of the rows of ``table`` that stand: files not superseded for
    that period, the most recently accepted file winning per key (the rule the
    dbt macro ``standing_rows`` applies to the staged copies)."""
    return f"""
create or replace temp view {name} as
select t.*, f.submitter_code, f.received_at
from {table} t
join files f on f.file_id = t.file_id
join file_periods fp on fp.file_id = t.file_id and fp.period = t.period and fp.superseded_by is null
qualify row_number() over (partition by {", ".join("t." + k for k in keys)} order by t.file_id desc) = 1
"""


STANDING_VALUES = standing_view("standing_values", "indicator_values",
                                ("entity_type", "entity_code", "period", "indicator"))
STANDING_PROJECTS = standing_view("standing_projects", "project_progress", ("project_code", "period"))

# reference tables export() writes beside the ledger's (dbt sources too)
REFERENCE_EXPORTS = ("ref_divisions", "ref_indicators", "ref_usd_cny_rates", "ref_reporting_calendar", "ref_months",
                     "ref_run")
EXPORTED = ("files", "messages", "file_periods", "received_periods", "indicator_values", "park_registry", "project_progress")


def sql_path(path: Path) -> str:
    """A file path as a SQL string literal. Paths are the operator's (the warehouse
    home, the reference folder), never a submission's; quoted all the same."""
    return "'" + str(path).replace("'", "''") + "'"


class LedgerBusy(Exception):
    """The ledger is open for writing by a refresh right now."""

    def __init__(self, path: Path):
        super().__init__(f"台账正被夜间更新占用，请稍后再试 / the ledger {path} is in use by a running refresh; "
                         f"try again in a few minutes")


class Ledger:
    def __init__(self, path: Path, read_only: bool = False):
        """``read_only`` (for ``parkstat check``): nothing is written; a warehouse
        with no ledger yet reads as an empty one."""
        config = NO_EXTENSIONS
        self.read_only = read_only
        if read_only and not path.exists():
            self.con = duckdb.connect(":memory:", config=config)
            self.con.execute(SCHEMA)
        elif read_only:
            try:
                self.con = duckdb.connect(str(path), read_only=True, config=config)
            except duckdb.IOException as exc:
                raise LedgerBusy(path) from exc
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.con = duckdb.connect(str(path), config=config)
            self.con.execute(SCHEMA)
        self.con.execute(STANDING_VALUES)
        self.con.execute(STANDING_PROJECTS)

    def close(self) -> None:
        if not self.read_only:
            self.con.execute("checkpoint")
        self.con.close()

    # -- lookups -------------------------------------------------------------
    def processed_sha(self, sha: str, submitter: str) -> int | None:
        """The file these bytes were processed as, for this submitter (the folder is
        the identity: the same bytes from another submitter are a different report)."""
        row = self.con.execute("""select min(file_id) from files
                                  where sha256 = ? and submitter_code = ? and status <> 'duplicate'""",
                               [sha, submitter]).fetchone()
        return row[0] if row else None

    def receipt(self, file_id: int):
        """The receipt of a recorded file, rebuilt from the ledger."""
        from ingest.receipts import Receipt

        row = self.con.execute("""select sha256, submitter_code, file_name, received_at, report_kind, status, row_count
                                  from files where file_id = ?""", [file_id]).fetchone()
        if row is None:
            return None
        msgs = [Message(*m) for m in self.con.execute(
            """select severity, code, reason_zh, reason_en, row_number, column_name, value from messages
               where file_id = ? order by seq""", [file_id]).fetchall()]
        sha, sub, name, received, kind, status, rows = row
        return Receipt(sha, sub, name, received.isoformat(sep=" "), kind, status, rows, msgs, file_id)

    def parks(self) -> dict[str, str]:
        """park_code -> region_code, the latest registration of each park."""
        rows = self.con.execute("""
            select park_code, arg_max(region_code, file_id) from park_registry group by park_code
        """).fetchall()
        return dict(rows)

    # -- writing -------------------------------------------------------------
    def record(self, *, sha: str, submitter: str, file_name: str, size: int, received_at: dt.datetime,
               kind: str | None, status: str, duplicate_of: int | None, records: list[dict],
               messages: list[Message], period_rows: dict[str, int], encoding: str | None, sheet: str | None,
               archive_path: str) -> int:
        """Write one file's outcome in one transaction; returns its file_id."""
        con = self.con
        con.execute("begin transaction")
        try:
            file_id = con.execute("select nextval('file_id_seq')").fetchone()[0]
            errors = sum(m.severity == "error" for m in messages)
            warns = len(messages) - errors
            accepted = status.startswith("accepted")
            con.execute("insert into files values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        [file_id, sha, submitter, file_name, size, received_at, kind, status, duplicate_of,
                         len(records) if accepted else 0, errors, warns, encoding, sheet, archive_path])
            if messages:
                con.executemany("insert into messages values (?,?,?,?,?,?,?,?,?,?)",
                                [[file_id, i, m.severity, m.code, m.row, m.column, m.value, m.zh, m.en, m.line()]
                                 for i, m in enumerate(messages, 1)])
            if accepted:
                self._insert_rows(file_id, kind, records)
            for p, n in sorted(period_rows.items()):
                con.execute("insert into received_periods values (?,?,?)", [file_id, p, n])
                if accepted:
                    con.execute("""update file_periods set superseded_by = ?, superseded_at = ?
                                   where submitter_code = ? and report_kind = ? and period = ?
                                     and superseded_by is null""", [file_id, received_at, submitter, kind, p])
                    con.execute("insert into file_periods values (?,?,?,?,null,null)",
                                [file_id, submitter, kind, p])
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        return file_id

    def _insert_rows(self, file_id: int, kind: str, records: list[dict]) -> None:
        if kind in ("park_indicators", "region_indicators"):
            etype = "park" if kind == "park_indicators" else "region"
            key = "park_code" if etype == "park" else "region_code"
            name = "park_name" if etype == "park" else "region_name"
            rows = []
            for r in records:
                for ind in reference.INDICATORS:
                    if r.get(ind) is not None:
                        orig, unit = r[ind + "__original"]
                        rows.append((file_id, etype, r[key], r.get(name), r["period"], ind, r[ind], orig, unit,
                                     r["row_number"]))
            self._append("indicator_values", rows)
        elif kind == "park_registry":
            self._append("park_registry", [(file_id, r["park_code"], r["park_name"], r["region_code"],
                                            r.get("park_level"), r.get("area_mu"), r["row_number"])
                                           for r in records])
        elif kind == "project_progress":
            cols = ["period", "project_code", "project_name", "region_code", "park_code", "industry_chain",
                    "nature", "stage", "total_investment", "annual_plan", "ytd_completed", "start_date",
                    "row_number"]
            self._append("project_progress", [(file_id, *[r.get(c) for c in cols]) for r in records])

    def _append(self, table: str, rows: list[tuple]) -> None:
        if not rows:
            return
        cols = [d[0] for d in self.con.execute(f"select * from {table} limit 0").description]
        arrow = pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)})
        self.con.register("incoming_rows", arrow)
        self.con.execute(f"insert into {table} select * from incoming_rows")
        self.con.unregister("incoming_rows")

    # -- checks against what the warehouse holds ------------------------------
    def history_warnings(self, submitter: str, kind: str, records: list[dict], headers: dict[str, str]) -> list[Message]:
        """Warnings that compare a file with the figures that stand: cumulative
        falls, year-on-year above 300 %, parks above their region, conflicts."""
        if kind == "project_progress":
            return self._project_warnings(submitter, records, headers)
        if kind not in ("park_indicators", "region_indicators"):
            return []
        etype = "park" if kind == "park_indicators" else "region"
        key = "park_code" if etype == "park" else "region_code"
        rows = [(r[key], r["period"], ind, r[ind], r["row_number"])
                for r in records for ind in reference.INDICATORS if r.get(ind) is not None]
        if not rows:
            return []
        inc = pa.table({"entity_code": [r[0] for r in rows], "period": [r[1] for r in rows],
                        "indicator": [r[2] for r in rows], "value": [r[3] for r in rows],
                        "row_number": [r[4] for r in rows]})
        con = self.con
        con.register("incoming", inc)
        try:
            out: list[Message] = []
            # the series as it will stand once this file is accepted
            con.execute("""
                create or replace temp table series as
                select entity_code, period, indicator, value, true as incoming, row_number from incoming
                union all
                select s.entity_code, s.period, s.indicator, s.value_wan, false, null from standing_values s
                where s.entity_type = ? and not exists (select 1 from incoming i where i.entity_code = s.entity_code
                      and i.period = s.period and i.indicator = s.indicator)
            """, [etype])
            for code, period, ind, value, prev_period, prev, rownum in con.execute("""
                select entity_code, period, indicator, value, prev_period, prev_value, row_number from (
                  select *, lag(period) over w as prev_period, lag(value) over w as prev_value from series
                  window w as (partition by entity_code, indicator, left(period, 4) order by period))
                where incoming and prev_value is not null and value < prev_value order by row_number, indicator
            """).fetchall():
                out.append(warning("cumulative_fell", f"累计数低于上期（{prev_period}：{prev:,.2f}万元）",
                                   f"cumulative figure below the previous period's ({prev_period}: {prev:,.2f} 万元)",
                                   row=rownum, column=headers.get(ind, ind), value=f"{value:,.2f}"))
            for code, period, ind, value, prior, rownum in con.execute("""
                select a.entity_code, a.period, a.indicator, a.value, b.value, a.row_number
                from series a join series b on a.entity_code = b.entity_code and a.indicator = b.indicator
                  and b.period = cast(cast(left(a.period, 4) as integer) - 1 as varchar) || substr(a.period, 5)
                where a.incoming and b.value > 0 and (a.value / b.value - 1) > 3 order by a.row_number
            """).fetchall():
                out.append(warning("yoy_above_300", f"同比增长超过300%（上年同期 {prior:,.2f}万元）",
                                   f"year-on-year growth above 300 % (same period last year: {prior:,.2f} 万元)",
                                   row=rownum, column=headers.get(ind, ind), value=f"{value:,.2f}"))
            for code, period, ind, value, by, rownum in con.execute("""
                select i.entity_code, i.period, i.indicator, s.value_wan, s.submitter_code, i.row_number
                from incoming i join standing_values s on s.entity_type = ? and s.entity_code = i.entity_code
                  and s.period = i.period and s.indicator = i.indicator
                where s.submitter_code <> ? order by i.row_number
            """, [etype, submitter]).fetchall():
                out.append(warning("conflict", f"{by} 已报送该项（{value:,.2f}万元）；以本文件为准",
                                   f"{by} reported this figure too ({value:,.2f} 万元); this file's figure stands",
                                   row=rownum, column=headers.get(ind, ind)))
            out.extend(self._park_total_warnings(etype))
            return out
        finally:
            con.unregister("incoming")
            con.execute("drop table if exists series")

    def _project_warnings(self, submitter: str, records: list[dict], headers: dict[str, str]) -> list[Message]:
        """A project's 本年累计完成投资 below its previous month's, and a project-period
        another submitter reported too (this file's figure stands)."""
        inc = pa.table({"project_code": [r["project_code"] for r in records],
                        "period": [r["period"] for r in records],
                        "value": [r.get("ytd_completed") for r in records],
                        "row_number": [r["row_number"] for r in records]})
        con = self.con
        con.register("incoming", inc)
        col = headers.get("ytd_completed", "ytd_completed")
        try:
            out: list[Message] = []
            for period, value, prev_period, prev, rownum in con.execute("""
                with series as (
                    select project_code, period, value, true as incoming, row_number from incoming
                    union all
                    select s.project_code, s.period, s.ytd_completed, false, null from standing_projects s
                    where not exists (select 1 from incoming i where i.project_code = s.project_code
                                      and i.period = s.period))
                select period, value, prev_period, prev_value, row_number from (
                  select *, lag(period) over w as prev_period, lag(value) over w as prev_value from series
                  window w as (partition by project_code, left(period, 4) order by period))
                where incoming and prev_value is not null and value < prev_value order by row_number
            """).fetchall():
                out.append(warning("cumulative_fell", f"累计数低于上期（{prev_period}：{prev:,.2f}万元）",
                                   f"cumulative figure below the previous period's ({prev_period}: {prev:,.2f} 万元)",
                                   row=rownum, column=col, value=f"{value:,.2f}"))
            for by, value, rownum in con.execute("""
                select s.submitter_code, s.ytd_completed, i.row_number
                from incoming i join standing_projects s on s.project_code = i.project_code and s.period = i.period
                where s.submitter_code <> ? order by i.row_number
            """, [submitter]).fetchall():
                out.append(warning("conflict", f"{by} 已报送该项目本期进度（{value:,.2f}万元）；以本文件为准",
                                   f"{by} reported this project for this period too ({value:,.2f} 万元); "
                                   f"this file's figures stand", row=rownum, column=col))
            return out
        finally:
            con.unregister("incoming")

    def _park_total_warnings(self, etype: str) -> list[Message]:
        """Parks registered within a region summing above the region's own total
        (county, city and province), as the figures will stand with this file."""
        parks = self.parks()
        if not parks:
            return []
        pairs = [(p, a) for p, r in parks.items() for a in reference.ancestors(r)]
        self.con.register("park_ancestors", pa.table({"park_code": [p for p, _ in pairs],
                                                      "region_code": [a for _, a in pairs]}))

        def side(kind: str) -> str:
            if kind == etype:
                return "select entity_code, period, indicator, value, incoming from series"
            return (f"select entity_code, period, indicator, value_wan as value, false as incoming "
                    f"from standing_values where entity_type = '{kind}'")
        try:
            rows = self.con.execute(f"""
                with park_side as ({side('park')}), region_side as ({side('region')}),
                sums as (
                    select pa.region_code, s.period, s.indicator, sum(s.value) as park_sum,
                           bool_or(s.incoming) as incoming
                    from park_side s join park_ancestors pa on pa.park_code = s.entity_code
                    group by pa.region_code, s.period, s.indicator)
                select r.entity_code, r.period, r.indicator, p.park_sum, r.value
                from sums p join region_side r on r.entity_code = p.region_code and r.period = p.period
                  and r.indicator = p.indicator
                where p.park_sum > r.value * 1.000001 and (p.incoming or r.incoming)
                order by 1, 2, 3
            """).fetchall()
        finally:
            self.con.unregister("park_ancestors")
        return [warning("parks_above_region", f"{reg} {period} 园区合计 {ps:,.2f} 万元高于地区总量 {rv:,.2f} 万元（{ind}）",
                        f"{reg} {period}: parks sum to {ps:,.2f} 万元, above the region's total {rv:,.2f} 万元 ({ind})")
                for reg, period, ind, ps, rv in rows]

    # -- hand-off to dbt -------------------------------------------------------
    def export(self, staged: Path, now: dt.datetime | None = None) -> None:
        """Snapshot every ledger table and the reference data to Parquet (dbt's sources)."""
        staged.mkdir(parents=True, exist_ok=True)
        for table in EXPORTED:
            self._copy(f"select * from {table}", staged / f"{table}.parquet")
        ref = reference.REFERENCE_DIR
        self._copy(f"select * from read_csv({sql_path(ref / 'divisions.csv')}, all_varchar = true)",
                   staged / "ref_divisions.parquet")
        self._copy(f"select * from read_csv({sql_path(ref / 'usd_cny_rates.csv')})", staged / "ref_usd_cny_rates.parquet")
        self._copy(f"select * from read_csv({sql_path(ref / 'indicators.csv')}, all_varchar = true)",
                   staged / "ref_indicators.parquet")
        cal = reference.reporting_calendar()
        self.con.register("calendar_rows", pa.table({k: [r[k] for r in cal] for k in cal[0]} if cal else
                                                   {"report_kind": pa.array([], pa.string())}))
        self._copy("select * from calendar_rows", staged / "ref_reporting_calendar.parquet")
        self.con.unregister("calendar_rows")
        # a month spine for the calendar, and the moment of this run (PARKSTAT_NOW in tests)
        self._copy("""select strftime(m, '%Y-%m') as period, year(m) as period_year, month(m) as period_month,
                             cast(m + interval 1 month - interval 1 day as date) as period_end
                      from range(date '2000-01-01', date '2051-01-01', interval 1 month) as t(m)""",
                   staged / "ref_months.parquet")
        self.con.execute("create or replace temp table run_info as select cast(? as timestamp) as as_of",
                         [now or dt.datetime.now()])
        self._copy("select * from run_info", staged / "ref_run.parquet")

    def _copy(self, query: str, target: Path) -> None:
        tmp = target.with_suffix(".parquet.tmp")
        self.con.execute(f"copy ({query}) to {sql_path(tmp)} (format parquet)")
        os.replace(tmp, target)
