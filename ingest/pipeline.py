"""The nightly ingest: landing area -> archive -> ledger -> receipts -> Parquet.

For every file under ``landing/<submitter_code>/``: archive it unchanged by
SHA-256 first; recognise bytes already processed; read and check it alone (on
every core: ingest/parallel.py), then against what is recorded, and record it
whole (accepted or rejected; a batch of files per ledger transaction); once the
batch commits, write its receipt and only then remove it from the landing area,
if it still holds those bytes (ingest/landing.py). Registers (园区名录) of a batch are taken first, so a city
can send its register and its parks' figures together; then files in arrival
order (modification time, then name). Bytes accepted before are a duplicate;
bytes rejected before and resent are taken again. After the ingest the ledger
is copied for ``parkstat check`` (ingest/ledger_access.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from ingest.failpoints import failpoint
from ingest.landing import (PARTIAL_SUFFIXES, Arrival, ArchiveBatch, archive, archive_arrival,  # noqa: F401
                            clear_partial, display_name,
                            read_arrival, remove_landed, resent_after, scan_landing)
from ingest import reference
from ingest.export import export
from ingest.history_checks import history_warnings
from ingest.ledger import Ledger, check_copy, write_check_copy
from ingest.ledger_rows import carried_indicators
from ingest.messages import Message, note, warning
from ingest.ownership import ownership_problems
from ingest.parallel import check_alone, checked_in_order, examine, internal_error  # noqa: F401
from ingest.readers import read_as
from ingest.receipts import Receipt
from ingest.config import Settings, active, current
from ingest.settings import WarehouseHome
from ingest.validate import Parsed

TZ = ZoneInfo("Asia/Shanghai")
KIND_ORDER = {"park_registry": 0}


def now_local() -> dt.datetime:
    """Wall-clock time in the display zone (setting timezone, PARKSTAT_TIMEZONE; naive),
    or the setting now (PARKSTAT_NOW, ISO) when set, for tests."""
    settings = current()
    if settings.now is not None:
        return settings.now
    return dt.datetime.now(settings.timezone).replace(tzinfo=None, microsecond=0)


@dataclass
class IngestSummary:
    receipts: list[Receipt] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # "<submitter>/<name>" still arriving: the next run takes them
    read_in_workers: int = 0  # files read and checked by the pool's workers (ingest/parallel.py)

    def count(self, *statuses: str) -> int:
        return sum(r.status in statuses for r in self.receipts)

    def __str__(self) -> str:
        return (f"{len(self.receipts)} files: {self.count('accepted', 'accepted_with_warnings')} accepted, "
                f"{self.count('rejected')} rejected, {self.count('duplicate')} duplicate")


Progress = Callable[[Receipt, int, int], None]  # (receipt, files done, files in the batch)


def _status(parsed: Parsed) -> str:
    return "rejected" if parsed.errors else "accepted_with_warnings" if parsed.warnings else "accepted"


def ingest_landing(home: WarehouseHome, progress: Progress | None = None,
                   settings: Settings | None = None) -> IngestSummary:
    """Take every settled file in the landing area, under ``settings`` (the run's,
    from its edge; none: ``current()``)."""
    with active(settings or current()):
        return _ingest_landing(home, progress)


def _ingest_landing(home: WarehouseHome, progress: Progress | None) -> IngestSummary:
    home.ensure()
    ledger = Ledger(home.ledger)
    summary = IngestSummary()
    try:
        pending: list[Arrival] = []
        repeats: list[Arrival] = []  # the same bytes twice in one batch: the second waits for the first
        seen: set[tuple[str, str]] = set()
        limits = current().limits
        clear_partial(home)
        archived = ArchiveBatch()
        # pass 1: archive every file and learn its kind (registers go first); nothing
        # of its content is kept, so a night of any size is read one file at a time
        for path, submitter, name in scan_landing(home, limits, summary.waiting):
            try:
                arr = read_arrival(path, submitter, name, limits)
            except FileNotFoundError:  # taken away since the scan
                continue
            if arr.changing:  # written to while read: the next run takes it whole
                summary.waiting.append(f"{submitter}/{name}")
                continue
            resent = arr.problem is None and resent_after(home, arr)
            arr.archived = archive_arrival(home, arr, archived)
            if not arr.mtime_ns:
                arr.mtime_ns = path.lstat().st_mtime_ns
            if arr.problem is not None:  # refused before reading: answered, never parsed
                pending.append(arr)
                continue
            accepted, rejected = ledger.earlier(arr.sha, arr.submitter)
            if (arr.sha, arr.submitter) in seen or accepted is not None or (rejected is not None and not resent):
                arr.data = b""
                repeats.append(arr)
                continue
            if rejected is not None:  # resent after a rejection: its reason may be gone; taken again
                arr.rejected_before = rejected
                arr.notes.append(_rejected_before_message(rejected))
                if arr.archived.exists():  # (else its copy is new, written with this night's time)
                    os.utime(arr.archived)  # a copy a kill leaves behind now is not a resend
            seen.add((arr.sha, arr.submitter))
            examine(arr)
            arr.data, arr.grid = b"", None
            pending.append(arr)
        archived.commit()  # every new file's archive copy on disk, in one pass, before anything is recorded
        pending.sort(key=lambda a: (KIND_ORDER.get(a.kind or "", 1), a.mtime_ns, a.name))
        today = now_local().date()
        total = len(pending) + len(repeats)
        same_time: dict[tuple, list[tuple[str, set[str]]]] = {}
        # pass 2: read each file again from the archive (the same bytes) and check it alone, on
        # every core (ingest/parallel.py); then, in arrival order, check it against what is recorded
        # and record it — a batch of files per ledger transaction, answered after it commits
        batch = _Batch(home, ledger, summary, progress, total, current().ingest_batch_files)
        for arr, checked in checked_in_order(pending, ledger.parks, today, len(pending)):
            summary.read_in_workers += checked.in_worker
            parsed = checked.parsed if checked.final else _ledger_checks(arr, checked.parsed, ledger, today)
            parsed.messages[:0] = arr.notes
            if parsed.kind and not parsed.errors:
                _same_time_warning(same_time, arr, parsed)
            batch.add(arr, _record(home, ledger, arr, status=_status(parsed), duplicate_of=None, parsed=parsed))
            arr.data, arr.grid = b"", None
        batch.commit()  # a repeat's first may be in this batch: answered before the repeats are
        for arr in repeats:
            first = ledger.processed_sha(arr.sha, arr.submitter)
            _ensure_receipt(home, ledger, first)  # a kill may have come between record and receipt
            batch.add(arr, _record(home, ledger, arr, status="duplicate", duplicate_of=first, parsed=Parsed(None)))
        batch.commit()
        failpoint("ingest.before_export")
        export(ledger, home.staged, now_local(), calendar=home.reporting_calendar)
    finally:
        ledger.close()
    write_check_copy(home.ledger)
    return summary


def check_file(home: WarehouseHome, path: Path, submitter: str, settings: Settings | None = None) -> Receipt:
    """What the nightly ingest would answer for this file, from submitter
    ``submitter``, against what the warehouse holds now: the same reading and
    the same checks, but nothing archived, recorded or written."""
    with active(settings or current()):
        return _check_file(home, path, submitter)


def _check_file(home: WarehouseHome, path: Path, submitter: str) -> Receipt:
    data = path.read_bytes()
    arr = Arrival(path, submitter, path.name, data, hashlib.sha256(data).hexdigest(), size=len(data))
    ledger = open_for_check(home)
    try:
        accepted, rejected = ledger.earlier(arr.sha, submitter)
        if accepted is not None:
            parsed, status = Parsed(None, messages=[_duplicate_message(accepted)]), "duplicate"
        else:
            examine(arr)
            parsed = _validate(arr, ledger, now_local().date())
            if rejected is not None:
                parsed.messages.insert(0, _rejected_before_message(rejected))
            status = _status(parsed)
    finally:
        ledger.close()
    return Receipt(arr.sha, submitter, arr.name, now_local().isoformat(sep=" "), parsed.kind, status,
                   parsed.row_count if status.startswith("accepted") else 0, parsed.messages, preview=True,
                   **read_as(arr.grid))


def open_for_check(home: WarehouseHome) -> Ledger:
    """The ledger as ``parkstat check`` reads it: the copy the last ingest left
    (``ledger.check_copy``), read-only — never the ledger a refresh writes. A
    home whose ledger predates the copy is read as before (read-only; busy
    while a refresh runs)."""
    copy = check_copy(home.ledger)
    return Ledger(copy if copy.exists() or not home.ledger.exists() else home.ledger, read_only=True)


def _ensure_receipt(home: WarehouseHome, ledger: Ledger, file_id: int | None) -> None:
    """Write the receipt of an earlier file again if it is missing (the process
    was killed after the file was recorded and before its receipt was written)."""
    if file_id is None:
        return
    receipt = ledger.receipt(file_id)
    if receipt is not None and not receipt.path(home.receipts).exists():
        receipt.write(home.receipts)


def _same_time_warning(same_time: dict, arr: Arrival, parsed: Parsed) -> None:
    """Files of one submitter and kind arriving with the same modification time
    are taken in name order; when the later one replaces the earlier's figures
    (the same period — and, for an indicator report, the same indicator), its
    receipt says so (``same_arrival_time``)."""
    key = (arr.submitter, parsed.kind, arr.mtime_ns)
    inds = carried_indicators(parsed.table()) if parsed.kind in reference.INDICATOR_KINDS else [""]
    periods = {(p, i) for p in (parsed.period_rows or [""]) for i in inds}
    for other, theirs in same_time.get(key, []):
        common = sorted({p for p, _ in periods & theirs})
        if common:
            which = "、".join(p for p in common if p)
            parsed.messages.append(warning(
                "same_arrival_time",
                f"与文件“{other}”到达时间相同{('且同报 ' + which) if which else ''}：同时到达的文件按文件名顺序处理，"
                f"本文件在后，以本文件为准",
                f"arrived at the same time as '{other}'{(' which also reports ' + ', '.join(c for c in common if c)) if which else ''}"
                f": files arriving at the same time are taken in name order; this one comes later and stands"))
            break
    same_time.setdefault(key, []).append((arr.name, periods))


def _rejected_before_message(first: int) -> Message:
    return note("resent_after_rejection", f"相同内容的文件此前已收到并被退回（文件编号 {first}），本次重新处理",
                f"the same bytes were received before and rejected (file {first}); processed again")


def _duplicate_message(first: int | None) -> Message:
    return Message("warning", "duplicate", f"相同内容的文件已于此前处理（文件编号 {first}），本次不再处理",
                   f"the same bytes were processed before (file {first}); not processed again")


def _validate(arr: Arrival, ledger: Ledger, today: dt.date) -> Parsed:
    try:
        return _validate_unguarded(arr, ledger, today)
    except Exception as exc:  # a defect of ours must not cost the night, nor the file: it stays archived
        return internal_error(arr, exc)


def _validate_unguarded(arr: Arrival, ledger: Ledger, today: dt.date) -> Parsed:
    """Every check of a file read: alone (ingest/parallel.py), then against the ledger."""
    parsed, final = check_alone(arr, ledger.parks(), today)
    return parsed if final else _ledger_checks_unguarded(arr, parsed, ledger, today)


def _ledger_checks(arr: Arrival, parsed: Parsed, ledger: Ledger, today: dt.date) -> Parsed:
    try:
        return _ledger_checks_unguarded(arr, parsed, ledger, today)
    except Exception as exc:  # a defect of ours must not cost the night, nor the file: it stays archived
        return internal_error(arr, exc)


def _ledger_checks_unguarded(arr: Arrival, parsed: Parsed, ledger: Ledger, today: dt.date) -> Parsed:
    """The checks against what is recorded: who owns the parks and projects, and
    the warnings from each series' history."""
    headers = {n: c.header for n, c in arr.layout.columns.items()}
    if parsed.kind in ("park_registry", "project_progress"):
        parsed.messages.extend(ownership_problems(
            arr.submitter, parsed.kind, parsed.table(), headers, ledger.parks(),
            ledger.project_owners() if parsed.kind == "project_progress" else {}, today))
    if not parsed.errors:
        parsed.messages.extend(history_warnings(ledger, arr.submitter, parsed.kind, parsed.table(), headers))
    return parsed


class _Batch:
    """Files recorded in one ledger transaction, answered once it commits: each
    file's receipt written and its landing copy removed. A kill before the commit
    leaves every file of the batch unrecorded and in the landing area (taken
    again whole by the next run); after it, a file without its receipt gets it
    then (``_ensure_receipt``)."""

    def __init__(self, home: WarehouseHome, ledger: Ledger, summary: IngestSummary,
                 progress: Progress | None, total: int, size: int):
        self.home, self.ledger, self.summary, self.progress, self.total = home, ledger, summary, progress, total
        self.size = size
        self.files: list[tuple[Arrival, Receipt]] = []

    def add(self, arr: Arrival, receipt: Receipt) -> None:
        self.files.append((arr, receipt))
        if len(self.files) >= self.size:
            self.commit()

    def commit(self) -> None:
        if not self.files:
            return
        failpoint("ingest.before_commit")
        self.ledger.commit_batch()
        failpoint("ingest.after_record")
        for arr, receipt in self.files:
            receipt.write(self.home.receipts)
            if not remove_landed(arr):  # archived and recorded: the landing copy has done its job, unless replaced
                self.summary.waiting.append(f"{arr.submitter}/{arr.name}")
            self.summary.receipts.append(receipt)
            if self.progress:
                self.progress(receipt, len(self.summary.receipts), self.total)
        self.files.clear()


def _record(home: WarehouseHome, ledger: Ledger, arr: Arrival, *, status: str,
            duplicate_of: int | None, parsed: Parsed) -> Receipt:
    """Record the file in the ledger (in the open batch; one is begun when none
    is) and make its receipt, written when the batch commits."""
    received = now_local()
    messages = parsed.messages
    if status == "duplicate":
        messages = [_duplicate_message(duplicate_of)]
    if not ledger.in_batch:
        ledger.begin_batch()
    file_id = ledger.record(
        sha=arr.sha, submitter=arr.submitter, file_name=arr.name, size=arr.size, received_at=received,
        kind=parsed.kind, status=status, duplicate_of=duplicate_of,
        table=parsed.table() if status.startswith("accepted") else None, messages=messages,
        period_rows=parsed.period_rows, encoding=arr.grid.encoding if arr.grid else None,
        sheet=arr.grid.sheet if arr.grid else None,
        archive_path=str(arr.archived.relative_to(home.root)) if arr.archived else "")
    return Receipt(arr.sha, arr.submitter, arr.name, received.isoformat(sep=" "), parsed.kind, status,
                   parsed.row_count if status.startswith("accepted") else 0, messages, file_id,
                   **read_as(arr.grid))
