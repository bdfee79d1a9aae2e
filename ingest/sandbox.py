"""Reading spreadsheets in a separate, memory-capped process.

calamine (under fastexcel) is fast, but a corrupt or hostile workbook can make
it panic, loop, or allocate without bound — the fuzzer found a mutated .xls that
had the kernel kill the whole process. So workbooks are parsed in a worker
process (forked from a clean forkserver, never from the pipeline with its open
DuckDB files) whose address space is capped; if the worker dies or takes too
long, the file gets a receipt saying so and the night goes on.

PARKSTAT_READER_MEMORY_MB [2048] caps the worker; PARKSTAT_READER_SECONDS [120]
bounds one workbook.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool

_POOL: ProcessPoolExecutor | None = None


def _limit(memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def _read(data: bytes, limits: dict[str, str]):
    from ingest.workbook import read_excel_bytes

    os.environ.update(limits)  # the limits in force in the pipeline now, not when the worker started
    return read_excel_bytes(data)


def _pool() -> ProcessPoolExecutor:
    global _POOL
    if _POOL is None:
        memory = int(float(os.environ.get("PARKSTAT_READER_MEMORY_MB", 2048)) * 2**20)
        _POOL = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("forkserver"),
                                    initializer=_limit, initargs=(memory,))
    return _POOL


def _discard() -> None:
    global _POOL
    if _POOL is not None:
        for p in list(getattr(_POOL, "_processes", {}).values()):
            p.kill()
        _POOL.shutdown(wait=False, cancel_futures=True)
        _POOL = None


def read_excel_isolated(data: bytes):
    from ingest.readers import UnreadableFile

    seconds = float(os.environ.get("PARKSTAT_READER_SECONDS", 120))
    try:
        limits = {k: v for k, v in os.environ.items() if k.startswith("PARKSTAT_")}
        return _pool().submit(_read, data, limits).result(timeout=seconds)
    except BrokenProcessPool:
        _discard()
        raise UnreadableFile("无法安全读取电子表格（读取进程异常退出，文件可能已损坏）",
                             "the spreadsheet could not be read safely (the reader process died; "
                             "the file may be corrupt)") from None
    except FutureTimeout:
        _discard()
        raise UnreadableFile(f"电子表格读取超过 {seconds:.0f} 秒，已放弃",
                             f"reading the spreadsheet took over {seconds:.0f} s; gave up") from None
