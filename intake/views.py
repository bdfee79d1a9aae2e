"""What the receipts pages show: the receipts ingest wrote under ``receipts/<code>/``
for the codes an account may see (its own; a city's also its counties', the
province's every code in it), and what became of each upload."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ingest import reference
from ingest.receipts import KIND_ZH, STATUS_ZH
from ingest.settings import WarehouseHome
from intake.clock import shown

CODE = re.compile(r"^\d{6}$")
STEM = re.compile(r"^[0-9T]{1,15}_[0-9a-f]{12}(_\d{1,12})?$")


def may_see(account_code: str, code: str) -> bool:
    """Whether an account of ``account_code`` may see what ``code`` submitted."""
    return bool(CODE.match(code or "")) and account_code in reference.ancestors(code)


def visible_folders(home: WarehouseHome, account_code: str) -> list[str]:
    if not home.receipts.is_dir():
        return []
    return sorted(d.name for d in home.receipts.iterdir() if d.is_dir() and may_see(account_code, d.name))


def _load(path: Path, code: str) -> dict | None:
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return decorate(rec, code=code, stem=path.stem)


def decorate(rec: dict, *, code: str | None = None, stem: str | None = None) -> dict:
    """A receipt (as ``Receipt.as_json`` writes it) with what the pages show beside it."""
    rec = dict(rec)
    rec["code"] = code or rec.get("submitter_code", "")
    rec["stem"] = stem
    status = rec.get("status") or ""
    rec["status_zh"] = STATUS_ZH.get(status, status)
    rec["kind_zh"] = KIND_ZH.get(rec.get("report_kind"), rec.get("report_kind") or "")
    rec["received_shown"] = shown(rec.get("received_at"))
    rec["accepted"] = status.startswith("accepted")
    div = reference.divisions().get(rec["code"])
    rec["code_name"] = div.name if div else ""
    return rec


def _order(entry: tuple[str, str, Path]) -> tuple[str, int]:
    """A receipt's time, then its file number (files of one second in the order ingest took them)."""
    stem = entry[0]
    time_part, _, rest = stem.partition("_")
    _, _, file_id = rest.partition("_")
    return time_part, int(file_id) if file_id.isdigit() else -1


def list_receipts(home: WarehouseHome, account_code: str, limit: int = 200) -> list[dict]:
    """The receipts of every code the account may see, newest first (by the
    receipt's time, which begins its name)."""
    found: list[tuple[str, str, Path]] = []
    for code in visible_folders(home, account_code):
        for p in (home.receipts / code).glob("*.json"):
            if STEM.match(p.stem):
                found.append((p.stem, code, p))
    found.sort(key=_order, reverse=True)
    out = []
    for _, code, p in found[:limit]:
        rec = _load(p, code)
        if rec is not None:
            out.append(rec)
    return out


def receipt(home: WarehouseHome, account_code: str, code: str, stem: str) -> dict | None:
    """One receipt, or None when it does not exist or is not this account's to see."""
    if not may_see(account_code, code) or not STEM.match(stem or ""):
        return None
    path = home.receipts / code / f"{stem}.json"
    return _load(path, code) if path.is_file() else None


def upload_state(home: WarehouseHome, upload: dict) -> dict:
    """Where an upload stands: waiting in the landing area, or answered by a receipt."""
    code, name, sha = upload["code"], upload["stored_name"], upload["sha256"]
    folder = home.receipts / code
    matches = []
    if CODE.match(code) and folder.is_dir():
        for p in folder.glob(f"*_{sha[:12]}*.json"):
            rec = _load(p, code)
            if rec and rec.get("file_sha256") == sha and rec.get("file_name") == name:
                matches.append(rec)
    if matches:
        return {"state": "answered", "receipt": max(matches, key=lambda r: r["stem"])}
    if (home.landing / code / name).exists():
        return {"state": "waiting", "receipt": None}
    return {"state": "taken", "receipt": None}  # being ingested right now


def decorate_upload(home: WarehouseHome, upload: dict) -> dict:
    upload = dict(upload)
    upload["uploaded_shown"] = shown(upload["uploaded_at"])
    upload["check"] = decorate(upload["check"]) if upload.get("check") else None
    upload.update(upload_state(home, upload))
    return upload
