"""The ingest ledger: every file received, every message, every accepted row.

One DuckDB file (``state/ingest.duckdb``) written only by the pipeline. Its
tables are the single definition of what ingest hands to dbt; after each ingest
they are exported as Parquet under ``staged/`` (dbt's sources, engine-neutral).
Nothing a file contains is ever put into SQL text: values travel as parameters
or through Arrow tables.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl

from ingest import reference
from ingest.ledger_access import LedgerBusy, LedgerLocked, check_copy, connect_writer, write_check_copy  # noqa: F401
from ingest.ledger_rows import MONEY_COLUMNS, carried_indicators, ledger_rows
from ingest.messages import Message, note
from ingest.standing import standing_sql

# the tables, and the statements that bring an older ledger up to them: ledger_schema.sql
SCHEMA, _, MIGRATIONS = (Path(__file__).with_name("ledger_schema.sql").read_text(encoding="utf-8")
                         .partition("\n-- @migrations"))  # the marker line's rest stays a comment:
MIGRATIONS = "-- @migrations" + MIGRATIONS                   # the marker is put back in front of it

# DuckDB may never fetch an extension at run time (no network here)
NO_EXTENSIONS = {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}


def duckdb_config() -> dict[str, str]:
    """Settings for the pipeline's own DuckDB connections: no extensions, and a
    memory ceiling (the setting duckdb_memory, PARKSTAT_DUCKDB_MEMORY, 2GB; DuckDB
    spills to disk past it)."""
    from ingest.config import current

    return {**NO_EXTENSIONS, "memory_limit": current().duckdb_memory}


INDICATOR_KEYS = ("entity_type", "entity_code", "period", "indicator")  # an indicator figure's key
PENDING_ROWS = 500_000  # a batch's project rows held for one insert, at most (Ledger._append)
HELD = ("project_progress", "received_periods")  # tables a batch inserts once (Ledger._append)


def standing_view(name: str, table: str, keys: tuple[str, ...], by_indicator: bool = False) -> str:
    """A temp view of the rows of ``table`` that stand (``ingest.standing``: the
    one rule, which dbt applies to the staged copies)."""
    return f"create or replace temp view {name} as\n{standing_sql(table, keys, by_indicator=by_indicator)}"


# reference tables export() writes beside the ledger's (dbt sources too)
REFERENCE_EXPORTS = ("ref_divisions", "ref_indicators", "ref_usd_cny_rates", "ref_reporting_calendar", "ref_months",
                     "ref_run", "ref_bounds", "ref_encodings")
EXPORTED = ("files", "messages", "file_periods", "received_periods", "indicator_values", "park_registry", "project_progress",
            "park_evaluations")
# ledger tables rows are only added to (by file): exported in parts, one per run
PARTED = ("messages", "received_periods", "indicator_values", "park_registry", "project_progress", "park_evaluations")


def sql_path(path: Path) -> str:
    """A file path as a SQL string literal. Paths are the operator's (the warehouse
    home, the reference folder), never a submission's; quoted all the same."""
    return "'" + str(path).replace("'", "''") + "'"


class Ledger:
    def __init__(self, path: Path, read_only: bool = False):
        """``read_only`` (for ``parkstat check``): nothing is written; a warehouse
        with no ledger yet reads as an empty one."""
        config = duckdb_config()
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
            self.con = connect_writer(path, config)
            self.con.execute(SCHEMA)
            self._migrate()
        migrated = self.con.execute("""select count(*) from duckdb_columns() where schema_name = 'main'
                                       and table_name = 'file_periods' and column_name = 'indicator'""").fetchone()[0]
        # (a check against a ledger the next refresh will migrate reads it as it was: whole periods)
        self.by_indicator = bool(migrated)  # indicator reports stand per indicator (the rule's by_indicator)
        self.con.execute(standing_view("standing_values", "indicator_values", INDICATOR_KEYS, by_indicator=migrated))
        self._in_batch = False  # begin_batch .. commit_batch: many files, one transaction
        self._earlier: dict[tuple[str, str], tuple[int | None, int | None]] | None = None  # see earlier()
        self._series = None  # ProjectSeries, made on the first project file
        self._parks: dict[str, str] | None = None
        self._owners: dict[str, str] | None = None  # project_code -> region (ingest.ownership)
        self._open: dict[tuple[str, str], dict[str, list[tuple[int, str, str | None]]]] = {}  # see _open_periods
        self._pending: dict[str, list[pl.DataFrame]] = {}  # a batch's rows not inserted yet: see _append

    def _migrate(self) -> None:
        """Bring a ledger of an earlier version up to SCHEMA, in one transaction:
        new columns; money as exact decimals (a double read back to the
        hundredth of a yuan it was written with); an indicator file's periods
        per indicator it carries (before v2 a later file superseded the whole
        period, so each of its indicators inherits the period's state)."""
        con = self.con
        types = dict(((t, c), d) for t, c, d in con.execute(
            "select table_name, column_name, data_type from duckdb_columns() where schema_name = 'main'").fetchall())
        todo = [(t, c) for t, cols in MONEY_COLUMNS.items() for c in cols if types.get((t, c)) == "DOUBLE"]
        if "indicator" in {c for t, c in types if t == "file_periods"} and not todo:
            return
        con.execute("begin transaction")
        try:
            con.execute(MIGRATIONS)
            for t, c in todo:
                con.execute(f"alter table {t} alter column {c} type decimal(38, 10) using round({c}, 6)")
            con.execute("""
                insert into file_periods
                select distinct fp.file_id, fp.submitter_code, fp.report_kind, fp.period, fp.superseded_by,
                       fp.superseded_at, iv.indicator
                from file_periods fp join indicator_values iv on iv.file_id = fp.file_id and iv.period = fp.period
                where fp.indicator is null and fp.report_kind in ('park_indicators', 'region_indicators')""")
            con.execute("""delete from file_periods where indicator is null
                           and report_kind in ('park_indicators', 'region_indicators')""")
            con.execute("""update indicator_values set unit = '万元' where unit is null""")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise

    def close(self) -> None:
        if self._in_batch:  # a batch that did not commit (the run failed): none of its files is recorded
            self._roll_back()
        if not self.read_only:
            self.con.execute("checkpoint")
        self.con.close()

    # -- lookups -------------------------------------------------------------
    def processed_sha(self, sha: str, submitter: str) -> int | None:
        """The file these bytes were processed as, for this submitter (the folder is
        the identity: the same bytes from another submitter are a different report):
        the first accepted one, else the latest rejected one."""
        accepted, rejected = self.earlier(sha, submitter)
        return accepted if accepted is not None else rejected

    def earlier(self, sha: str, submitter: str) -> tuple[int | None, int | None]:
        """(the first file these bytes were accepted as, the last they were rejected as).
        The ingest asks for every file: the answers are read once, then kept current
        by ``record`` (a check reads the one it needs)."""
        query = """select sha256, submitter_code, min(file_id) filter (where status like 'accepted%'),
                          max(file_id) filter (where status = 'rejected')
                   from files {where} group by all"""
        if self.read_only:
            row = self.con.execute(query.format(where="where sha256 = ? and submitter_code = ?"),
                                   [sha, submitter]).fetchone()
            return row[2:] if row else (None, None)
        if self._earlier is None:
            self._earlier = {(sha_, sub): (acc, rej)
                             for sha_, sub, acc, rej in self.con.execute(query.format(where="")).fetchall()}
        return self._earlier.get((sha, submitter), (None, None))

    def receipt(self, file_id: int):
        """The receipt of a recorded file, rebuilt from the ledger."""
        from ingest.receipts import Receipt
        from ingest.textfile import encoding_name

        row = self.con.execute("""select sha256, submitter_code, file_name, received_at, report_kind, status, row_count,
                                         encoding, sheet from files where file_id = ?""", [file_id]).fetchone()
        if row is None:
            return None
        msgs = [Message(*m) for m in self.con.execute(
            """select severity, code, reason_zh, reason_en, row_number, column_name, value from messages
               where file_id = ? order by seq""", [file_id]).fetchall()]
        sha, sub, name, received, kind, status, rows, encoding, sheet = row
        return Receipt(sha, sub, name, received.isoformat(sep=" "), kind, status, rows, msgs, file_id,
                       encoding=encoding_name(encoding), sheet=sheet)

    def parks(self) -> dict[str, str]:
        """park_code -> region_code, the latest registration of each park (read
        once, then kept current by ``record``)."""
        if self._parks is None:
            self._parks = dict(self.con.execute("""
                select park_code, arg_max(region_code, file_id) from park_registry group by park_code
            """).fetchall())
        return self._parks

    def project_owners(self) -> dict[str, str]:
        """project_code -> the region it was last accepted under (read once, then
        kept current by ``record``)."""
        if self._owners is None:
            from ingest.ownership import project_owners

            self.flush_rows()
            self._owners = project_owners(self.con)
        return self._owners

    # -- writing -------------------------------------------------------------
    def record(self, *, sha: str, submitter: str, file_name: str, size: int, received_at: dt.datetime,
               kind: str | None, status: str, duplicate_of: int | None, table: pl.DataFrame | None,
               messages: list[Message], period_rows: dict[str, int], encoding: str | None, sheet: str | None,
               archive_path: str) -> int:
        """Write one file's outcome in one transaction (the open batch's, if one is
        open: ``begin_batch``); returns its file_id. An
        accepted file's notes of what it supersedes are appended to ``messages``
        (they are the receipt's too)."""
        con = self.con
        own = not self._in_batch  # inside a batch, the batch's transaction holds the file
        if own:
            con.execute("begin transaction")
        try:
            file_id = con.execute("select nextval('file_id_seq')").fetchone()[0]
            accepted = status.startswith("accepted")
            by_indicator = accepted and table is not None and kind in reference.INDICATOR_KINDS
            inds = carried_indicators(table) if by_indicator else None  # (it supersedes only what it carries)
            superseded = self._superseded(submitter, kind, period_rows, inds) if accepted else []
            if accepted and table is not None:
                messages.extend(self._supersession_notes(kind, superseded))
            errors = sum(m.severity == "error" for m in messages)
            warns = sum(m.severity == "warning" for m in messages)
            con.execute("insert into files values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        [file_id, sha, submitter, file_name, size, received_at, kind, status, duplicate_of,
                         table.height if accepted and table is not None else 0, errors, warns, encoding, sheet, archive_path])
            if messages:
                con.executemany("insert into messages values (?,?,?,?,?,?,?,?,?,?)",
                                [[file_id, i, m.severity, m.code, m.row, m.column, m.value, m.zh, m.en, m.line()]
                                 for i, m in enumerate(messages, 1)])
            if accepted and table is not None:
                self._insert_rows(file_id, kind, table)
            self._record_periods(file_id, submitter, kind, received_at, period_rows, inds, accepted,
                                 superseded)
            if own:
                con.execute("commit")
        except BaseException:
            self._roll_back()
            raise
        if accepted and period_rows:
            self._now_open(submitter, kind, file_id, file_name, period_rows, superseded, inds)
        if self._earlier is not None and status != "duplicate":
            acc, rej = self._earlier.get((sha, submitter), (None, None))
            self._earlier[(sha, submitter)] = ((file_id if acc is None else min(acc, file_id)) if accepted else acc,
                                               file_id if status == "rejected" else rej)
        if accepted and kind == "project_progress" and self._series is not None and table is not None:
            self._series.accepted(file_id, submitter, table)
        if accepted and kind == "park_registry":
            self._parks = None
        if accepted and kind == "project_progress" and self._owners is not None and table is not None:
            self._owners.update(zip(table["project_code"], table["region_code"]))
        return file_id

    def _record_periods(self, file_id: int, submitter: str, kind: str | None, received_at: dt.datetime,
                        period_rows: dict[str, int], indicators: list[str] | None, accepted: bool,
                        superseded: list[tuple[int, str, str, str | None]]) -> None:
        """The periods a file reported (rows in each); for an accepted file, the
        periods it now stands for — per indicator it carries (an indicator report)
        or whole — and the earlier files' periods it supersedes (``superseded``:
        none, most nights, and no statement). Set-based statements, whatever the
        number of periods (a project report has 55 a year)."""
        if not period_rows:
            return
        periods = sorted(period_rows)
        con = self.con
        self._append("received_periods", pl.DataFrame(
            {"file_id": [file_id] * len(periods), "period": periods, "row_count": [period_rows[p] for p in periods]},
            schema={"file_id": pl.Int64, "period": pl.String, "row_count": pl.Int32}))
        if not accepted:
            return
        inds = indicators if indicators is not None else [None]  # an indicator report: only what it carries
        if superseded:
            con.execute("""update file_periods set superseded_by = ?, superseded_at = ?
                           where submitter_code = ? and report_kind = ? and superseded_by is null
                             and period in (select unnest(?::varchar[]))
                             and (? and indicator is null or indicator in (select unnest(?::varchar[])))""",
                        [file_id, received_at, submitter, kind, periods, indicators is None, indicators or []])
        con.execute("""insert into file_periods (file_id, submitter_code, report_kind, period, indicator)
                       select ?, ?, ?, p.period, i.indicator
                       from (select unnest(?::varchar[]) as period) p
                       cross join (select unnest(?::varchar[]) as indicator) i""",
                    [file_id, submitter, kind, periods, inds])

    # -- batches -------------------------------------------------------------
    def begin_batch(self) -> None:
        """Record the next files in one transaction (``commit_batch``): one durable
        commit for many files. Until it commits, none of them is recorded — a kill
        leaves them in the landing area, taken again whole by the next run."""
        self.con.execute("begin transaction")
        self._in_batch = True

    @property
    def in_batch(self) -> bool:
        return self._in_batch

    def commit_batch(self) -> None:
        if self._in_batch:
            try:
                self.flush_rows()
            except BaseException:
                self._roll_back()
                raise
            self._in_batch = False
            self.con.execute("commit")

    def _roll_back(self) -> None:
        """The open transaction (a file's, or the batch's) undone, and what was kept
        of it in memory with it."""
        self.con.execute("rollback")
        self._in_batch = False
        self._pending.clear()
        self._open.clear()  # read again from what the ledger holds

    def _open_periods(self, submitter: str, kind: str | None) -> dict[str, list[tuple[int, str, str | None]]]:
        """The periods a submitter's files of a kind stand for (not superseded): period ->
        [(file_id, file name, indicator or None)]. Read from the ledger once a run for
        each submitter and kind, then kept as files are recorded (``_now_open``): what
        an accepted file supersedes is known without asking the ledger each time."""
        key = (submitter, kind or "")
        if key not in self._open:
            index: dict[str, list[tuple[int, str, str | None]]] = {}
            for fid, name, period, ind in self.con.execute("""
                    select fp.file_id, f.file_name, fp.period, fp.indicator
                    from file_periods fp join files f on f.file_id = fp.file_id
                    where fp.submitter_code = ? and fp.report_kind = ? and fp.superseded_by is null""",
                    [submitter, kind]).fetchall():
                index.setdefault(period, []).append((fid, name, ind))
            self._open[key] = index
        return self._open[key]

    def _superseded(self, submitter: str, kind: str | None, period_rows: dict[str, int],
                    inds: list[str] | None) -> list[tuple[int, str, str, str | None]]:
        """The (file_id, file name, period, indicator) an accepted file supersedes: its
        submitter's files of its kind standing for its periods — for each indicator it
        carries (``inds``, an indicator report) or whole."""
        index = self._open_periods(submitter, kind)
        return [(fid, name, period, ind) for period in sorted(period_rows) for fid, name, ind in index.get(period, ())
                if (ind is None if inds is None else ind in inds)]

    def _now_open(self, submitter: str, kind: str | None, file_id: int, file_name: str,
                  period_rows: dict[str, int], superseded: list[tuple[int, str, str, str | None]],
                  indicators: list[str] | None) -> None:
        """An accepted file was recorded: what it superseded stands no more, it stands for its periods."""
        index = self._open_periods(submitter, kind)
        gone = {(fid, period, ind) for fid, _, period, ind in superseded}
        for period in period_rows:
            kept = [e for e in index.get(period, ()) if (e[0], period, e[2]) not in gone]
            index[period] = kept + [(file_id, file_name, ind) for ind in (indicators if indicators is not None
                                                                           else [None])]

    def _supersession_notes(self, kind: str, superseded: list[tuple[int, str, str, str | None]]) -> list[Message]:
        """What an accepted file is about to supersede (``_superseded``): per earlier file
        and period, which of its indicators (an indicator report) or the whole of it."""
        grouped: dict[tuple[str, int], tuple[str, list[str]]] = {}
        for fid, fname, period, ind in superseded:
            grouped.setdefault((period, fid), (fname, []))[1].extend([ind] if ind is not None else [])
        rows = [(fid, fname, period, ",".join(sorted(carried)) or None)
                for (period, fid), (fname, carried) in sorted(grouped.items())]
        by_indicator = kind in reference.INDICATOR_KINDS
        names = {f.name: f.zh for f in reference.kinds().get(kind, [])}  # the kind's own words (园区生产总值)
        out = []
        for fid, fname, period, carried in rows:
            if not by_indicator:
                out.append(note("supersedes", f"取代此前文件 {fid}（{fname}）{period} 的全部数据",
                                f"replaces all of file {fid} ({fname}) for {period}"))
                continue
            which = carried.split(",")
            zh = "、".join(names[i] for i in reference.INDICATORS if i in which)
            en = ", ".join(i for i in reference.INDICATORS if i in which)
            out.append(note("supersedes", f"取代此前文件 {fid}（{fname}）{period} 的指标：{zh}；其他指标仍以原文件为准",
                            f"replaces file {fid} ({fname}) for {period} in: {en}; its other indicators stand"))
        return out

    def _insert_rows(self, file_id: int, kind: str, table: pl.DataFrame) -> None:
        rows = ledger_rows(file_id, kind, table)
        if rows is not None:
            self._append(*rows)

    def _append(self, table: str, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        if table in HELD and self._in_batch:
            # a batch's project rows and received periods go in with one insert a table when it
            # commits (or before anything of this process reads them, ``flush_rows``): an insert
            # costs milliseconds whatever its rows, and a national night records 18,000 project
            # files; a kill before the commit loses them with the rest of the batch, as before
            held = self._pending.setdefault(table, [])
            held.append(frame)
            if table == "project_progress" and sum(f.height for f in held) > PENDING_ROWS:
                self.flush_rows()
            return
        self._insert(table, frame)

    def flush_rows(self) -> None:
        """The batch's held rows inserted now (inside its transaction): before the batch
        commits, and before this process reads ``project_progress`` (ingest.series,
        ingest.ownership) — nothing else reads the held tables during a run."""
        pending, self._pending = self._pending, {}
        for table, frames in pending.items():
            self._insert(table, pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0])

    def _insert(self, table: str, frame: pl.DataFrame) -> None:
        self.con.register("incoming_rows", frame.to_arrow())
        self.con.execute(f"insert into {table} by name select * from incoming_rows")
        self.con.unregister("incoming_rows")
