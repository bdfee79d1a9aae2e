"""Reading spreadsheets in a separate, memory-capped process.

calamine (under fastexcel) is fast, but a corrupt or hostile workbook can make
it panic, loop, or allocate without bound — the fuzzer found a mutated .xls that
had the kernel kill the whole process. So workbooks are parsed in a worker
process (forked from a clean forkserver, never from the pipeline with its open
DuckDB files) whose address space is capped; if the worker dies or takes too
long, the file gets a receipt saying so and the night goes on.

The settings reader_memory_mb (PARKSTAT_READER_MEMORY_MB, 2048) cap the worker
and reader_seconds (PARKSTAT_READER_SECONDS, 120) bound one workbook; the worker
reads under the settings in force in the pipeline (passed with each call).

A worker forked by the forkserver is not the pipeline's child, and it waits for
work on a queue whose writing end it holds itself: a pipeline killed without
its cleanup (a scheduler's timeout, a stopped run, ``kill -9``) would leave it
— and the forkserver, which lives while any of its children does — running for
good. So every worker follows the pipeline that started it (``follow``) and
ends within a second of it; this module's reader and ingest/parallel.py's
pool alike.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool

from ingest.config import Settings, active, current

_POOL: ProcessPoolExecutor | None = None


FOLLOW_SECONDS = 1.0  # how often a worker looks for the pipeline that started it


def follow(pipeline: int) -> None:
    """In a worker: end this process (at once, like the pipeline did) once the process
    ``pipeline`` is gone."""
    def watch() -> None:
        while True:
            time.sleep(FOLLOW_SECONDS)
            try:
                os.kill(pipeline, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:  # alive, another user's: not ours to judge
                pass

    threading.Thread(target=watch, name="parkstat-follow-pipeline", daemon=True).start()


def _start(memory_bytes: int, pipeline: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    follow(pipeline)


class IsolatedFailure(Exception):
    """The worker died or overran: the reason in Chinese and English."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en


def _call(func, args: tuple, settings: Settings):
    with active(settings):  # the settings in force in the pipeline now, not when the worker started
        return func(*args)


def _pool() -> ProcessPoolExecutor:
    global _POOL
    if _POOL is None:
        memory = int(current().reader_memory_mb * 2**20)
        _POOL = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("forkserver"),
                                    initializer=_start, initargs=(memory, os.getpid()))
    return _POOL


def _discard() -> None:
    global _POOL
    if _POOL is not None:
        for p in list(getattr(_POOL, "_processes", {}).values()):
            p.kill()
        _POOL.shutdown(wait=False, cancel_futures=True)
        _POOL = None


def run_isolated(func, *args):
    """``func(*args)`` in the capped worker process. ``func`` is a module-level function
    (it travels by name); its own exceptions come back as raised. A worker that dies or
    overruns raises ``IsolatedFailure``."""
    settings = current()
    seconds = settings.reader_seconds
    try:
        return _pool().submit(_call, func, args, settings).result(timeout=seconds)
    except BrokenProcessPool:
        _discard()
        raise IsolatedFailure("无法安全读取电子表格（读取进程异常退出，文件可能已损坏）",
                             "the spreadsheet could not be read safely (the reader process died; "
                             "the file may be corrupt)") from None
    except FutureTimeout:
        _discard()
        raise IsolatedFailure(f"电子表格读取超过 {seconds:.0f} 秒，已放弃",
                             f"reading the spreadsheet took over {seconds:.0f} s; gave up") from None
