"""How the ledger file is opened, so that nobody fails the night on its lock.

The refresh alone writes it (``connect_writer``: waits for a brief reader,
then fails naming the process that holds the lock). ``parkstat check`` and the
upload site never open it: they read ``check_copy``, a copy each ingest writes
after closing the ledger and renames into place, so a check held open for any
time blocks no refresh (it reads the ledger as the last ingest left it).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb


class LedgerBusy(Exception):
    """The ledger is open for writing by a refresh right now."""

    def __init__(self, path: Path):
        super().__init__(f"台账正被夜间更新占用，请稍后再试 / the ledger {path} is in use by a running refresh; "
                         f"try again in a few minutes")


class LedgerLocked(Exception):
    """A refresh could not open the ledger for writing: another process holds its lock."""

    def __init__(self, path: Path, waited: float, detail: str):
        import re

        m = re.search(r"held in (.*?) \(PID (\d+)\)", detail)
        who = f"PID {m.group(2)} ({m.group(1)})" if m else "unknown process"
        super().__init__(f"台账 {path} 被另一进程（{who}）锁定，等待 {waited:.0f} 秒后放弃 / the ledger {path} is locked "
                         f"by another process, {who}; gave up after waiting {waited:.0f} s (PARKSTAT_LEDGER_WAIT_SECONDS). "
                         f"parkstat check never opens the ledger; close that process's connection to it. DuckDB: {detail}")


def connect_writer(path: Path, config: dict[str, str]) -> duckdb.DuckDBPyConnection:
    """The pipeline's read-write connection. ``parkstat check`` reads a copy
    (``check_copy``), never the ledger; any other process holding it (a DuckDB
    session opened on it by hand) blocks a writer: wait for it, up to
    PARKSTAT_LEDGER_WAIT_SECONDS (60), then fail naming the process."""
    import time

    from ingest.config import current

    patience = current().ledger_wait_seconds
    deadline = time.monotonic() + patience
    while True:
        try:
            return duckdb.connect(str(path), config=config)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise LedgerLocked(path, patience, str(exc)) from exc
            time.sleep(0.25)


def check_copy(ledger: Path) -> Path:
    """Where ``parkstat check`` reads the ledger: a copy written after each
    ingest, replaced whole by rename, so a check never holds a lock a refresh
    needs (a check open during a refresh reads the ledger as the last ingest left it)."""
    return ledger.with_name(ledger.stem + ".check" + ledger.suffix)


def write_check_copy(ledger: Path) -> None:
    """Copy the closed, checkpointed ledger to ``check_copy`` (atomically)."""
    import shutil

    target = check_copy(ledger)
    tmp = target.with_name(target.name + ".tmp")
    shutil.copyfile(ledger, tmp)
    os.replace(tmp, target)
