"""Showing a long ingest's progress: files done of the batch, rows taken in, rejects.

On a terminal a rich progress bar; anywhere else (the Dagster daemon, a log
file) one log line every ``every`` files and at the end, so an operator
reading the run's log sees the same counts.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from ingest.receipts import Receipt


class IngestProgress:
    """A ``Progress`` callback for :func:`ingest.pipeline.ingest_landing`."""

    def __init__(self, log: Callable[[str], None], every: int = 25, interactive: bool | None = None):
        self.log = log
        self.every = every
        self.interactive = sys.stderr.isatty() if interactive is None else interactive
        self.rows = self.rejected = self.done = self.total = 0
        self.started = time.monotonic()
        self._bar = None
        self._task = None

    def summary(self) -> str:
        return (f"ingest: {self.done}/{self.total} files, {self.rows:,} rows taken in, "
                f"{self.rejected} rejected, {time.monotonic() - self.started:.1f} s")

    def __call__(self, receipt: Receipt, done: int, total: int) -> None:
        self.done, self.total = done, total
        self.rows += receipt.row_count
        self.rejected += receipt.status == "rejected"
        if self.interactive:
            self._draw()
        elif done % self.every == 0 or done == total:
            self.log(self.summary())
        if done == total:
            self.close()

    def _draw(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        if self._bar is None:
            self._bar = Progress(TextColumn("ingest"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("files · {task.fields[rows]:,} rows · {task.fields[rejected]} rejected"),
                                 TimeElapsedColumn(), transient=False)
            self._bar.start()
            self._task = self._bar.add_task("ingest", total=self.total, rows=0, rejected=0)
        self._bar.update(self._task, completed=self.done, total=self.total, rows=self.rows, rejected=self.rejected)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            self.log(self.summary())
