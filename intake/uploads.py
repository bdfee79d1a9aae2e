"""Receiving uploads: the multipart body read as a stream with a cap (a file over
the limit is refused as soon as the cap is passed, never written whole), each
file written under the site's own temporary folder, then put into
``landing/<the account's code>/`` under a name made from the browser's file
name — its last component only, cleaned — never a path from the request."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import unicodedata
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header

from ingest.pipeline import PARTIAL_SUFFIXES
from ingest.config import Settings

FIELD_CAP = 4096  # bytes of a text field (only csrf_token is read)
MAX_NAME_CHARS = 120
MAX_NAME_BYTES = 200  # room for " (2)" under the usual 255-byte limit
UNSAFE_CHARS = set('<>:"|?*\\/')


class UploadRefused(Exception):
    """A refused upload: the HTTP status and the reason, Chinese and English."""

    def __init__(self, status: int, zh: str, en: str):
        super().__init__(en)
        self.status, self.zh, self.en = status, zh, en


@dataclass(frozen=True)
class UploadLimits:
    """What one upload may carry: files of at most the setting max_file_mb
    (PARKSTAT_MAX_FILE_MB) in all (the ingest's file limit; a single file can be that
    large), at most upload_max_files (PARKSTAT_UPLOAD_MAX_FILES, 10) files; the request
    body at most that plus 1 MB of form (what nginx's client_max_body_size should say)."""

    max_file_bytes: int
    max_files: int

    @property
    def max_request_bytes(self) -> int:
        return self.max_file_bytes + (1 << 20)

    @classmethod
    def of(cls, settings: Settings) -> "UploadLimits":
        return cls(settings.limits.max_file_bytes, settings.upload_max_files)


@dataclass
class Received:
    original_name: str  # as the browser sent it: data, never a path
    temp: Path
    size: int
    sha256: str


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    disposition: bytes = b""
    header_field: bytes = b""
    header_value: bytes = b""
    data: bytearray = field(default_factory=bytearray)
    fh: object | None = None
    temp: Path | None = None
    size: int = 0
    sha: object | None = None


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def too_large(limits: UploadLimits) -> UploadRefused:
    return UploadRefused(413, f"文件超过上限 {_mb(limits.max_file_bytes)}（一次上传的文件合计），未保存",
                         f"the upload is over the limit of {_mb(limits.max_file_bytes)} (all its files together); "
                         f"nothing was kept")


async def receive(content_type: str, content_length: str | None, stream: AsyncIterator[bytes], tmpdir: Path,
                  csrf_ok: Callable[[str], bool], limits: UploadLimits) -> list[Received]:
    """Read a multipart/form-data body: ``csrf_token`` must come (right) before any
    file; each ``file`` part is streamed to ``tmpdir`` with its SHA-256; other
    fields are ignored (the code an upload lands under is never read from the form).
    On any refusal everything written is removed."""
    kind, params = parse_options_header(content_type or "")
    if kind != b"multipart/form-data" or b"boundary" not in params:
        raise UploadRefused(400, "请用网页上的表单上传文件", "send the files with the page's form (multipart/form-data)")
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            raise UploadRefused(400, "请求头 Content-Length 无效", "bad Content-Length") from None
        if declared > limits.max_request_bytes:
            raise too_large(limits)  # refused before a byte is read
    tmpdir.mkdir(parents=True, exist_ok=True)
    received: list[Received] = []
    state = {"csrf": False, "files": 0, "total": 0, "body": 0}
    part = _Part()

    def on_part_begin() -> None:
        nonlocal part
        part = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        part.header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part.header_value += data[start:end]
        if len(part.header_value) > FIELD_CAP:
            raise UploadRefused(400, "表单数据无效", "malformed form data")

    def on_header_end() -> None:
        if part.header_field.strip().lower() == b"content-disposition":
            part.disposition = part.header_value
        part.header_field, part.header_value = b"", b""

    def on_headers_finished() -> None:
        _, opts = parse_options_header(part.disposition)
        part.name = opts.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in opts:
            return
        if not state["csrf"]:  # nothing is written for a form that has not proved where it comes from
            raise csrf_refused()
        part.filename = opts[b"filename"].decode("utf-8", "replace")
        if part.name != "file":
            return
        state["files"] += 1
        if state["files"] > limits.max_files:
            raise UploadRefused(413, f"一次最多上传 {limits.max_files} 个文件，未保存",
                                f"at most {limits.max_files} files per upload; nothing was kept")
        part.temp = tmpdir / f"{state['files']}.part"
        part.fh = open(part.temp, "wb")
        part.sha = hashlib.sha256()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if part.fh is not None:
            state["total"] += len(chunk)
            if state["total"] > limits.max_file_bytes:
                raise too_large(limits)
            part.fh.write(chunk)
            part.sha.update(chunk)
            part.size += len(chunk)
        elif part.filename is None:
            part.data.extend(chunk)
            if len(part.data) > FIELD_CAP:
                raise UploadRefused(400, "表单数据无效", "malformed form data")

    def on_part_end() -> None:
        if part.fh is not None:
            part.fh.flush()
            os.fsync(part.fh.fileno())
            part.fh.close()
            part.fh = None
            if part.size == 0 and not part.filename:
                return  # the browser's empty part: no file was chosen
            received.append(Received(part.filename or "", part.temp, part.size, part.sha.hexdigest()))
        elif part.filename is None and part.name == "csrf_token":
            if not csrf_ok(part.data.decode("utf-8", "replace")):
                raise csrf_refused()
            state["csrf"] = True

    parser = MultipartParser(params[b"boundary"], {
        "on_part_begin": on_part_begin, "on_part_data": on_part_data, "on_part_end": on_part_end,
        "on_header_field": on_header_field, "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished})
    try:
        async for chunk in stream:
            state["body"] += len(chunk)
            if state["body"] > limits.max_request_bytes:
                raise too_large(limits)
            parser.write(chunk)
        parser.finalize()
        if not state["csrf"]:
            raise csrf_refused()
    except UploadRefused:
        _discard(part, tmpdir)
        raise
    except Exception as exc:
        _discard(part, tmpdir)
        raise UploadRefused(400, "表单数据无效", "malformed form data") from exc
    if not received:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise UploadRefused(400, "没有选择文件", "no file was chosen")
    return received


def csrf_refused() -> UploadRefused:
    return UploadRefused(403, "表单已失效或来源不明（CSRF 校验失败），请刷新页面后重试",
                         "the form's CSRF token is missing or wrong; reload the page and try again")


def _discard(part: _Part, tmpdir: Path) -> None:
    if part.fh is not None:
        part.fh.close()
    shutil.rmtree(tmpdir, ignore_errors=True)


def safe_name(original: str) -> str:
    """A file name for the landing folder made from the browser's: the last path
    component only, control and reserved characters replaced, no leading dot, no
    suffix that marks an upload in progress, at most 120 characters and 200 bytes
    (extension kept)."""
    name = original.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join("_" if ch in UNSAFE_CHARS else ch for ch in name
                   if unicodedata.category(ch)[0] != "C")
    name = name.strip().lstrip(".").strip()
    if name.lower().endswith(PARTIAL_SUFFIXES):
        name += "_"  # ingest would take it for an upload still arriving
    if len(name) > MAX_NAME_CHARS or len(name.encode("utf-8")) > MAX_NAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        ext = dot + ext if dot and len(ext) <= 8 else ""
        stem = name[:len(name) - len(ext)] if ext else name
        stem = stem[:MAX_NAME_CHARS - len(ext)]
        while len((stem + ext).encode("utf-8")) > MAX_NAME_BYTES:  # a file system's limit is 255 bytes
            stem = stem[:-1]
        name = stem.rstrip() + ext
    return name or "upload"


def land(received: Received, folder: Path) -> str:
    """Put the file into ``folder`` (``landing/<code>/``) under its safe name, never
    over an existing file (``name (2).ext`` …): a hard link made whole at once, so
    ingest never sees half a file. The temporary link stays, for the check. Returns the name."""
    folder.mkdir(parents=True, exist_ok=True)
    base = safe_name(received.original_name)
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem:
        stem, ext = base, ""
    else:
        ext = "." + ext
    for n in range(1, 10_000):
        name = base if n == 1 else f"{stem} ({n}){ext}"
        try:
            os.link(received.temp, folder / name)
            return name
        except FileExistsError:
            continue
    raise UploadRefused(409, "同名文件过多，请改名后重试", "too many files of that name wait; rename it and try again")


def new_tmpdir(intake_dir: Path) -> Path:
    return intake_dir / "tmp" / uuid.uuid4().hex


def clean_tmp(intake_dir: Path, older_than: float = 24 * 3600) -> None:
    """Remove what interrupted uploads left behind."""
    root = intake_dir / "tmp"
    if not root.is_dir():
        return
    now = time.time()
    for d in root.iterdir():
        try:
            if now - d.stat().st_mtime > older_than:
                shutil.rmtree(d, ignore_errors=True) if d.is_dir() else d.unlink()
        except FileNotFoundError:
            pass
