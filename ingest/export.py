"""The ledger handed to dbt: its tables as Parquet under ``staged/`` (dbt's
sources, engine-neutral), with the reference data and the run's clock. Tables
rows are only ever added to (``PARTED``) go as one new part per run — a night
costs what arrived, not the history."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from ingest import reference
from ingest.ledger import EXPORTED, PARTED, sql_path

if TYPE_CHECKING:
    from ingest.ledger import Ledger

COMPACT_PARTS = 64


def _parts(folder: Path) -> list[tuple[int, int, Path]]:
    """The parts of a staged table as (first file, last file, path), without any
    part another one contains."""
    found = []
    for p in folder.glob("part-*.parquet"):
        _, lo, hi = p.stem.split("-")
        found.append((int(lo), int(hi), p))
    keep = []
    for lo, hi, p in found:
        if any(lo2 <= lo and hi <= hi2 and (lo2, hi2) != (lo, hi) for lo2, hi2, _ in found):
            p.unlink()
        else:
            keep.append((lo, hi, p))
    return sorted(keep)



def export(ledger: "Ledger", staged: Path, now: dt.datetime | None = None, calendar: Path | None = None) -> None:
    """Hand the ledger to dbt as Parquet: the tables rows are only ever added
    to (PARTED) as one new part per run holding the files recorded since the
    last export — a night costs what arrived, not the history; the two small
    tables a later file can change (files, file_periods) whole; and the
    reference data."""
    staged.mkdir(parents=True, exist_ok=True)
    last = ledger.con.execute("select coalesce(max(file_id), 0) from files").fetchone()[0]
    for table in EXPORTED:
        if table in PARTED:
            _export_part(ledger, table, staged / table, last)
        else:
            _copy(ledger, f"select * from {table}", staged / f"{table}.parquet")
    ref = reference.REFERENCE_DIR
    _copy(ledger, f"select * from read_csv({sql_path(ref / 'divisions.csv')}, all_varchar = true)",
               staged / "ref_divisions.parquet")
    _copy(ledger, f"select * from read_csv({sql_path(ref / 'usd_cny_rates.csv')})", staged / "ref_usd_cny_rates.parquet")
    _copy(ledger, f"""select field, cast(max_abs as decimal(38, 10)) as max_abs, unit
                       from read_csv({sql_path(ref / 'bounds.csv')}, all_varchar = true)""",
          staged / "ref_bounds.parquet")
    _copy(ledger, f"select * from read_csv({sql_path(ref / 'encodings.csv')}, all_varchar = true)",
          staged / "ref_encodings.parquet")
    _copy(ledger, f"select * from read_csv({sql_path(ref / 'indicators.csv')}, all_varchar = true)",
               staged / "ref_indicators.parquet")
    cal = reference.reporting_calendar(calendar)
    ledger.con.register("calendar_rows", pa.table({k: [r[k] for r in cal] for k in cal[0]} if cal else
                                               {"report_kind": pa.array([], pa.string())}))
    _copy(ledger, "select * from calendar_rows", staged / "ref_reporting_calendar.parquet")
    ledger.con.unregister("calendar_rows")
    # a month spine for the calendar, and the moment of this run (PARKSTAT_NOW in tests)
    _copy(ledger, """select strftime(m, '%Y-%m') as period, year(m) as period_year, month(m) as period_month,
                         cast(m + interval 1 month - interval 1 day as date) as period_end
                  from range(date '2000-01-01', date '2051-01-01', interval 1 month) as t(m)""",
               staged / "ref_months.parquet")
    ledger.con.execute("create or replace temp table run_info as select cast(? as timestamp) as as_of",
                     [now or dt.datetime.now()])
    _copy(ledger, "select * from run_info", staged / "ref_run.parquet")

def _export_part(ledger: "Ledger", table: str, folder: Path, last: int) -> None:
    """``folder/part-<first>-<last>.parquet``: rows of files first..last. A part is
    renamed into place whole; parts contained in a wider one (left by a
    compaction cut short) are removed; a ledger behind its parts (replaced
    or restored) starts them afresh."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder.parent / f"{table}.parquet").unlink(missing_ok=True)  # the whole-table file of earlier versions
    parts = _parts(folder)
    if parts and max(hi for _, hi, _ in parts) > last:
        for _, _, p in parts:
            p.unlink()
        parts = []
    through = max((hi for _, hi, _ in parts), default=-1)
    if through < last or not parts:
        _copy(ledger, f"select * from {table} where file_id > {through} and file_id <= {last} order by file_id",
                   folder / f"part-{through + 1:012d}-{last:012d}.parquet")
        parts = _parts(folder)
    if len(parts) > COMPACT_PARTS:  # many small nights: one part again
        target = folder / f"part-{0:012d}-{last:012d}.parquet"
        _copy(ledger, f"select * from read_parquet({sql_path(folder / 'part-*.parquet')}) order by file_id",
                   target.with_name(target.name + ".compact"))
        for _, _, p in parts:
            p.unlink()
        os.replace(target.with_name(target.name + ".compact"), target)

def _copy(ledger: "Ledger", query: str, target: Path) -> None:
    tmp = target.with_suffix(".parquet.tmp")
    ledger.con.execute(f"copy ({query}) to {sql_path(tmp)} (format parquet)")
    os.replace(tmp, target)
