"""Times the upload site shows and records: Asia/Shanghai, always with the zone
said (receipts carry Beijing time without an offset; the pages label them)."""

from __future__ import annotations

import datetime as dt

from ingest.pipeline import TZ, now_local

ZONE_LABEL = "北京时间 Asia/Shanghai, UTC+8"


def now_text() -> str:
    """Now, ISO 8601 with the +08:00 offset (PARKSTAT_NOW, when set, as ingest reads it)."""
    return now_local().replace(tzinfo=TZ).isoformat(timespec="seconds")


def shown(value: str | None) -> str:
    """A time for a page: ``2022-05-20 09:00:00 (北京时间 Asia/Shanghai, UTC+8)``. An ISO time with an
    offset is converted to Beijing time; one without (a receipt's) is Beijing time already."""
    if not value:
        return ""
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        return f"{value} ({ZONE_LABEL})"
    if t.tzinfo is not None:
        t = t.astimezone(TZ).replace(tzinfo=None)
    return f"{t:%Y-%m-%d %H:%M:%S} ({ZONE_LABEL})"
