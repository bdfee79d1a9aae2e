"""The warehouse home: where every file parkstat reads or writes lives.

``WAREHOUSE_HOME`` (default ``./warehouse``) holds::

    landing/<submitter_code>/   files dropped by submitters
    archive/<sha256[:2]>/       every file ever received, unchanged, by SHA-256
    receipts/<submitter_code>/  a receipt per file received (.txt and .json)
    state/ingest.duckdb         the ingest ledger (files, messages, accepted rows)
    state/ingest.check.duckdb   its copy after each ingest, what ``parkstat check`` reads
    staged/                     Parquet snapshots of the ledger: dbt's sources
    work/build.duckdb           dbt's working database (pipeline only)
    work/spark/                 the Spark build instead (--target spark): tables, metastore
    published/warehouse.duckdb  the one file analysts open, read-only
    published/current/          the served publish's outputs: marts/*.parquet,
                                parkstat.xlsx, report.html, docs/index.html
    published/history/<id>/     the last N publishes (PARKSTAT_KEEP_PUBLISHES), for rollback
    parkstat.toml               settings, optional (ingest/config.py; the environment wins)
    alerts/                     a JSON file per failed run (the run-failure sensor)
    dagster/                    the Dagster instance (runs, schedules, sensors)
    intake/                     the upload site (parkstat serve): accounts.sqlite (accounts,
                                sessions, uploads; never the ledger), audit.log, tmp/
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from ingest.config import Limits, Settings, current  # noqa: F401  (Limits: where it was always imported from)


def display_zone() -> ZoneInfo:
    """The zone every time parkstat shows is given in: the setting ``timezone``
    (PARKSTAT_TIMEZONE, an IANA name; default Asia/Shanghai). A name that is not a
    zone stops the command that loaded it, saying so (ingest/config.py)."""
    return current().timezone


def local_time(moment: dt.datetime | float | int | str | None = None) -> dt.datetime:
    """``moment`` (an aware datetime, a POSIX timestamp, an ISO text; naive means
    this machine's local time; None means now) in the display zone, aware."""
    if moment is None:
        return dt.datetime.now(display_zone()).replace(microsecond=0)
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    if isinstance(moment, (int, float)):
        moment = dt.datetime.fromtimestamp(moment, dt.timezone.utc)
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive: this machine's local time
    return moment.astimezone(display_zone())


def show_time(moment: dt.datetime | float | int | str | None = None) -> str:
    """A time as people read it, with its zone: ``2026-12-01 02:00:13 +08:00``."""
    if moment is None or moment == "":
        return ""
    t = local_time(moment)
    off = t.strftime("%z")
    return f"{t:%Y-%m-%d %H:%M:%S} {off[:3]}:{off[3:]}"


def show_age(seconds: float) -> str:
    """``3 h 12 min``, ``2 d 4 h``, ``45 s``."""
    s = int(max(0, seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 2 * 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


@dataclass(frozen=True)
class WarehouseHome:
    root: Path

    @classmethod
    def of(cls, settings: Settings) -> "WarehouseHome":
        return cls(settings.home)

    @property
    def config_file(self) -> Path:
        """Its settings, optional (``parkstat.toml``; the environment wins: ingest/config.py)."""
        return self.root / "parkstat.toml"

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def receipts(self) -> Path:
        return self.root / "receipts"

    @property
    def ledger(self) -> Path:
        return self.root / "state" / "ingest.duckdb"

    @property
    def staged(self) -> Path:
        return self.root / "staged"

    @property
    def work_db(self) -> Path:
        return self.root / "work" / "build.duckdb"

    @property
    def spark_dir(self) -> Path:
        """The Spark build (``--target spark``): its tables, metastore and logs."""
        return self.root / "work" / "spark"

    @property
    def published(self) -> Path:
        return self.root / "published"

    @property
    def published_db(self) -> Path:
        return self.published / "warehouse.duckdb"

    @property
    def published_history(self) -> Path:
        return self.published / "history"

    @property
    def current(self) -> Path:
        """The served publish's outputs (Parquet, XLSX, HTML report, docs site)."""
        return self.published / "current"

    @property
    def alerts(self) -> Path:
        return self.root / "alerts"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    @property
    def logs(self) -> Path:
        """The full log of each ``parkstat refresh`` (what ``--verbose`` prints)."""
        return self.root / "logs"

    @property
    def reporting_calendar(self) -> Path:
        """This home's own reporting calendar, when it has one (the demo writes it:
        the sample's calendar ends where its data ends); PARKSTAT_REPORTING_CALENDAR wins."""
        return self.root / "reporting_calendar.csv"

    @property
    def intake(self) -> Path:
        """The upload site's own state (``parkstat serve``): accounts, sessions, its audit log."""
        return self.root / "intake"

    def ensure(self) -> "WarehouseHome":
        for p in (self.landing, self.archive, self.receipts, self.ledger.parent, self.staged,
                  self.work_db.parent, self.published, self.published_history, self.dagster_home):
            p.mkdir(parents=True, exist_ok=True)
        return self


def quiet_environment() -> None:
    """No telemetry and no version checks over the network, for every tool we run."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("DBT_VERSION_CHECK", "false")
