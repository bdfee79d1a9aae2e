"""The landing area: what is waiting, read once, archived by its SHA-256 (the
night's new copies flushed to disk together, before any is recorded), and
removed only when what was archived is still what lies there.

A file is read whole and its identity (inode, size, modification time) taken
before and after: one that changed while it was read is left for the next run.
After its receipt, the landing copy is hashed again and removed only if it
still holds the archived bytes — a correction written over it while the
refresh ran is left whole for the next run, never deleted unread.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ingest.failpoints import failpoint
from ingest.layout import Layout
from ingest.messages import Message, error
from ingest.readers import Grid
from ingest.config import Limits, current
from ingest.settings import WarehouseHome


@dataclass
class Arrival:
    path: Path
    submitter: str
    name: str
    data: bytes
    sha: str
    size: int = 0
    archived: Path | None = None  # where archive() stored the bytes
    grid: Grid | None = None
    layout: Layout | None = None
    problem: Message | None = None
    mtime_ns: int = 0
    stat: tuple[int, int, int] | None = None  # (inode, size, mtime_ns) of the landing file as read
    changing: bool = False  # it changed while it was read: left whole for the next run
    rejected_before: int | None = None  # the same bytes, resent after they were rejected (that file)
    notes: list[Message] = field(default_factory=list)  # said on the receipt before the file's own lines

    @property
    def kind(self) -> str | None:
        return self.layout.kind if self.layout else None


def display_name(path: Path, base: Path) -> str:
    """The file's name inside its submitter folder, as text (undecodable bytes escaped)."""
    rel = str(path.relative_to(base))
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def archive(home: WarehouseHome, data: bytes, sha: str, source: Path | None = None,
            batch: "ArchiveBatch | None" = None) -> Path:
    """Store the bytes (or, for a file too large to hold, ``source`` copied by
    streaming) under their SHA-256: written whole, flushed to disk, renamed in —
    now, or with the rest of ``batch`` when it commits."""
    target = home.archive / sha[:2] / sha
    if target.exists() or (batch is not None and target in batch.targets):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(sha + ".tmp")
    with open(tmp, "wb") as fh:
        if source is None:
            fh.write(data)
        else:
            with open(source, "rb") as src:
                shutil.copyfileobj(src, fh, 1 << 20)
        if batch is None:
            fh.flush()
            os.fsync(fh.fileno())
    if batch is None:
        os.replace(tmp, target)
    else:
        batch.targets[target] = tmp
    return target


class ArchiveBatch:
    """The archive copies of a night's files, made durable together: each new
    file's bytes are written to ``<sha>.tmp`` as it is read, and ``commit``
    flushes them to disk in one pass (``os.sync``: one flush, not an fsync a
    file) before renaming each into place — a file under its SHA-256 is always
    whole and on disk, and the ledger records none before the commit. A kill
    before it leaves ``.tmp`` files, written again or removed by the next run
    (``clear_partial``)."""

    def __init__(self) -> None:
        self.targets: dict[Path, Path] = {}  # target -> its .tmp

    def commit(self) -> None:
        if not self.targets:
            return
        failpoint("ingest.before_archive_commit")
        os.sync()
        for target, tmp in self.targets.items():
            os.replace(tmp, target)
        for folder in {t.parent for t in self.targets}:
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        self.targets.clear()


def clear_partial(home: WarehouseHome) -> None:
    """Remove ``.tmp`` archive copies a killed run left (only the run holding the
    ledger writes the archive)."""
    for tmp in home.archive.glob("*/*.tmp"):
        tmp.unlink(missing_ok=True)


PARTIAL_SUFFIXES = (".tmp", ".part", ".crdownload", ".partial")


def scan_landing(home: WarehouseHome, limits: Limits | None = None,
                 waiting: list[str] | None = None) -> list[tuple[Path, str, str]]:
    """(path, submitter folder, name within it) for everything waiting: regular
    files that have settled, and symlinks (files or folders), which are never
    followed but answered with a refusal. Files still changing, and names that
    look like uploads in progress, wait for a later run (named in ``waiting``,
    ``submitter/name``, when a list is given)."""
    limits = limits or current().limits
    now = time.time()
    out = []
    if not home.landing.exists():
        return out

    def entry(p: Path) -> tuple[Path, str, str]:
        parts = display_name(p, home.landing).split(os.sep)
        submitter, name = (parts[0], os.sep.join(parts[1:])) if len(parts) > 1 else ("", parts[0])
        return p, submitter, name

    for dirpath, dirnames, filenames in os.walk(home.landing, followlinks=False):
        dirnames.sort()
        for d in list(dirnames):
            link = Path(dirpath) / d
            if link.is_symlink():  # refused, never walked into
                p, submitter, name = entry(link)
                out.append((p, name, "") if not submitter else (p, submitter, name))
        for fn in sorted(filenames):
            p = Path(dirpath) / fn
            try:
                st = p.lstat()
            except FileNotFoundError:
                continue
            if not p.is_symlink():
                age = now - st.st_mtime
                partial = fn.startswith(".") or fn.endswith(PARTIAL_SUFFIXES)
                if age < limits.settle_seconds or (partial and age < limits.partial_grace_seconds):
                    if waiting is not None:
                        waiting.append("/".join(entry(p)[1:]))
                    continue  # still arriving
            out.append(entry(p))
    return out


def read_arrival(path: Path, submitter: str, name: str, limits: Limits | None = None) -> Arrival:
    """The file's bytes — or, for what is not read, a refusal: a symlink (never
    followed, nothing read) or a file over the size limit (archived by streaming,
    not parsed)."""
    limits = limits or current().limits
    if path.is_symlink():
        marker = b"symlink\0" + os.fsencode(str(path))
        arr = Arrival(path, submitter, name, b"", hashlib.sha256(marker).hexdigest())
        arr.problem = error("symlink", "不接受符号链接（未读取其指向的内容）",
                            "a symbolic link is refused (what it points to was not read)")
        return arr
    size = path.stat().st_size
    if not path.is_file():
        arr = Arrival(path, submitter, name, b"", hashlib.sha256(b"special\0" + os.fsencode(str(path))).hexdigest())
        arr.problem = error("not_a_file", "不是普通文件", "not a regular file")
        return arr
    if size > limits.max_file_bytes:
        before = _identity(path)
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        arr = Arrival(path, submitter, name, b"", h.hexdigest(), size=size, stat=before, mtime_ns=before[2])
        arr.problem = error("too_large", f"文件 {size / 2**20:,.1f} MB，超过上限 {limits.max_file_bytes / 2**20:,.0f} MB，"
                            "未读取（已存档）", f"the file is {size / 2**20:,.1f} MB, over the limit of "
                            f"{limits.max_file_bytes / 2**20:,.0f} MB; archived, not read")
        return arr
    before = _identity(path)
    data = path.read_bytes()
    arr = Arrival(path, submitter, name, data, hashlib.sha256(data).hexdigest(), size=len(data))
    arr.stat, arr.mtime_ns = before, before[2]
    arr.changing = _identity(path) != before or len(data) != before[1]
    return arr


def _identity(path: Path) -> tuple[int, int, int]:
    st = path.lstat()
    return st.st_ino, st.st_size, st.st_mtime_ns


def remove_landed(arr: Arrival) -> bool:
    """Remove the landing copy of a file now archived, recorded and answered —
    only if it still holds the bytes that were archived (hashed again). A file
    replaced or rewritten since (a correction sent while the refresh ran) is
    left whole for the next run, which answers it with its own receipt; never
    deleted unread."""
    if arr.stat is not None and not arr.path.is_symlink():
        try:
            h = hashlib.sha256()
            with open(arr.path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
        except FileNotFoundError:
            return True
        except OSError:
            return False
        if h.hexdigest() != arr.sha:
            return False
    arr.path.unlink(missing_ok=True)
    return True


def resent_after(home: WarehouseHome, arr: Arrival) -> bool:
    """Whether this landing file arrived after its bytes were archived: a
    resend (its mtime later than the archived copy's), not the copy a killed
    run left behind."""
    target = home.archive / arr.sha[:2] / arr.sha
    try:
        return arr.mtime_ns > target.stat().st_mtime_ns
    except FileNotFoundError:
        return True


def archive_arrival(home: WarehouseHome, arr: Arrival, batch: ArchiveBatch | None = None) -> Path | None:
    """Archive what was received, unchanged (durable now, or when ``batch``
    commits); a symlink has nothing to archive."""
    if arr.path.is_symlink() or (arr.problem is not None and arr.problem.code == "not_a_file"):
        return None
    if not arr.data and arr.size:  # over the limit: copied by streaming
        return archive(home, b"", arr.sha, source=arr.path, batch=batch)
    return archive(home, arr.data, arr.sha, batch=batch)


