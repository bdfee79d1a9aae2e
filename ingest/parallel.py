"""Reading and checking submitted files on every core.

Files are independent until they are recorded: reading one (its encoding, its
cells, its layout) and checking its rows against the contract need nothing but
the file, the park register and the day (``check_file_alone``). The nightly
ingest does that part in worker processes, forked from a clean forkserver
(never from the pipeline with its open ledger), a few files ahead of the
ledger, and takes the outcomes back in arrival order: what depends on what was
recorded before — ownership, the history warnings, supersession — stays in the
pipeline's own process, which records the files one by one as before. A
workbook is read in the pipeline's process, through the sandbox that already
gives its reading a process of its own.

The setting ingest_workers (PARKSTAT_INGEST_WORKERS; 0: one per core) sizes
the pool. With one worker, or a night of fewer files than ``POOL_FROM_FILES``
(starting the workers costs about a second), files are read in the pipeline's
own process. A worker that dies takes no file with it: the file is read again
in the pipeline's process, and the rest of the night too.
"""

from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from ingest.bounds import bound_problems
from ingest.config import Settings, active, current
from ingest.failpoints import failpoint
from ingest.grid import is_workbook
from ingest.landing import Arrival
from ingest.layout import SCAN_ROWS, Layout, find_layout
from ingest.messages import Message, error
from ingest.readers import Grid, UnreadableFile, read_grid, reading_notes
from ingest.sandbox import follow
from ingest.validate import Parsed, check_submitter, parse_rows
from ingest.vectorized import parse_table

POOL_FROM_FILES = 40  # fewer files to read than this: the pool would cost more than it saves
AHEAD_PER_WORKER = 4  # files a worker may be ahead of the ledger (their tables wait in memory)


@dataclass
class Checked:
    """What reading and checking a file alone found: the file's layout or the
    problem that stopped its reading, and its rows checked (``parsed``).
    ``final``: nothing recorded before can add to it (it was refused before its
    rows were read); otherwise the ledger's checks follow."""

    layout: Layout | None
    problem: Message | None
    grid: Grid | None  # the reading's encoding and sheet (for the receipt), without the cells
    parsed: Parsed
    final: bool
    in_worker: bool = False  # read by a worker of the pool (not the pipeline's own process)


def examine(arr: Arrival) -> None:
    """Read the grid and find the layout (kind) of a new file; problems are kept on it."""
    try:
        arr.grid = read_grid(arr.data, arr.name)
    except UnreadableFile as exc:
        arr.problem = error(exc.code, f"无法读取文件：{exc.zh}", f"unreadable file: {exc.en}")
        return
    lay = find_layout(arr.grid.head(SCAN_ROWS + 1))
    if isinstance(lay, Layout):
        arr.layout = lay
    else:
        arr.problem = error(lay.code, lay.zh, lay.en, row=lay.row, column=lay.column, value=lay.value)


def internal_error(arr: Arrival, exc: Exception) -> Parsed:
    """A defect of ours must not cost the night, nor the file: it stays archived."""
    return Parsed(arr.kind, messages=[error(
        "internal_error", f"处理该文件时 parkstat 内部出错（文件已存档，请联系管理员）：{type(exc).__name__}",
        f"parkstat failed while reading this file (it is archived; tell the operator): {exc!r}")])


def check_alone(arr: Arrival, parks: dict[str, str], today: dt.date) -> tuple[Parsed, bool]:
    """The checks a file needs nothing recorded for: its submitter, its reading,
    its rows (the vectorised path, else row by row), the bounds of its figures.
    Returns (parsed, final). A defect of ours raises (the fuzzer calls this)."""
    sub_problem = check_submitter(arr.submitter)
    if arr.problem or arr.layout is None:
        return Parsed(arr.kind, messages=[m for m in (sub_problem, arr.problem) if m]
                      + reading_notes(arr.grid)), True
    if sub_problem:
        return Parsed(arr.kind, messages=[sub_problem]), True
    parsed = (parse_table(arr.grid, arr.layout, arr.submitter, parks, today)
              or parse_rows(arr.grid.rows, arr.layout, arr.submitter, parks, today))
    parsed.messages[:0] = reading_notes(arr.grid, arr.layout)
    headers = {n: c.header for n, c in arr.layout.columns.items()}
    parsed.messages.extend(bound_problems(parsed.table(), headers))
    return parsed, False


def check_file_alone(arr: Arrival, parks: dict[str, str], today: dt.date) -> tuple[Parsed, bool]:
    """``check_alone``, a defect of ours answered as the file's ``internal_error``."""
    try:
        return check_alone(arr, parks, today)
    except Exception as exc:
        return internal_error(arr, exc), True


def _read_and_check(arr: Arrival, parks: dict[str, str], today: dt.date) -> Checked:
    """Read the archived bytes of ``arr`` and check them alone (in a worker or here)."""
    if arr.problem is None and arr.archived is not None:
        arr.data = arr.archived.read_bytes()
        examine(arr)
    parsed, final = check_file_alone(arr, parks, today)
    if parsed.frame is None and parsed.records:
        parsed.table()  # one table travels back, not a dict per row
    if parsed.frame is not None:
        parsed.records = []
    grid = Grid(encoding=arr.grid.encoding, sheet=arr.grid.sheet) if arr.grid is not None else None
    arr.data = b""
    return Checked(arr.layout, arr.problem, grid, parsed, final)


def _work(job: tuple, parks: dict[str, str], today: dt.date, settings: Settings) -> Checked:
    path, submitter, name, sha, archived = job
    arr = Arrival(Path(path), submitter, name, b"", sha, archived=Path(archived))
    with active(settings):
        failpoint("ingest.worker")  # (a test kills the workers here: their files are read in the pipeline)
        checked = _read_and_check(arr, parks, today)
    checked.in_worker = True
    return checked


def _apply(arr: Arrival, checked: Checked) -> Checked:
    arr.layout, arr.problem, arr.grid = checked.layout, checked.problem, checked.grid
    return checked


def _workbook(path: Path) -> bool:
    """A workbook is read here: its reading already has a process of its own (the
    sandbox), which a worker would have to start again."""
    with open(path, "rb") as fh:
        return is_workbook(fh.read(8))


def workers() -> int:
    n = current().ingest_workers
    return n if n > 0 else (os.cpu_count() or 1)


def checked_in_order(files: Iterable[Arrival], parks: Callable[[], dict[str, str]], today: dt.date,
                     count: int) -> Iterator[tuple[Arrival, Checked]]:
    """(arrival, what reading and checking it alone found) for each of ``files`` (``count`` of them), in their
    order, each read and checked alone — on every core when there are enough.
    ``parks()`` is asked when a file's turn to be checked comes: a register
    recorded changes it, so registers (which come first) are read here, one by
    one, and the pool starts after them."""
    files = iter(files)
    n = workers()
    if n <= 1 or count < POOL_FROM_FILES:
        for arr in files:
            yield arr, _apply(arr, _read_and_check(arr, parks(), today))
        return
    pending: deque[Arrival] = deque()
    for arr in files:  # registers first, here: what they record is what the others are checked against
        if arr.kind != "park_registry":
            pending.append(arr)
            break
        yield arr, _apply(arr, _read_and_check(arr, parks(), today))
    yield from _pooled(itertools.chain(pending, files), parks(), today, n)


def _pooled(files: Iterator[Arrival], parks: dict[str, str], today: dt.date,
            n: int) -> Iterator[tuple[Arrival, Checked]]:
    settings = current()
    pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("forkserver"),
                               initializer=follow, initargs=(os.getpid(),))  # (ends with the pipeline)
    ahead: deque[tuple[Arrival, Future | None]] = deque()
    broken = False
    try:
        while True:
            while len(ahead) < n * AHEAD_PER_WORKER:
                arr = next(files, None)
                if arr is None:
                    break
                local = broken or arr.problem is not None or arr.archived is None or _workbook(arr.archived)
                job = None if local else pool.submit(
                    _work, (str(arr.path), arr.submitter, arr.name, arr.sha, str(arr.archived)), parks, today, settings)
                ahead.append((arr, job))
            if not ahead:
                return
            arr, job = ahead.popleft()
            checked = None
            if job is not None and not broken:
                try:
                    checked = job.result()
                except BrokenProcessPool:  # a worker died: this file and the rest are read here
                    broken = True
                except Exception:  # (what the worker could not send back) read here, as without a pool
                    checked = None
            if checked is None:
                checked = _read_and_check(arr, parks, today)
            yield arr, _apply(arr, checked)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
