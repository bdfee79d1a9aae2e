"""The settings: one typed object, read once at the edge, validated, passed down.

Every knob of parkstat is one line of ``ingest/reference/settings.csv`` — its
field, its environment variable, its kind, its default, its bound and what it
means — and that table is the only place they are described: ``Settings.load``
reads by it and the table of settings in README.md is generated from it
(``python -m ingest.config``; a test holds the two equal).

``Settings.load()`` reads ``parkstat.toml`` in the warehouse home when there is
one (keys: the variables' names in lower case without ``PARKSTAT_``), then the
environment, which wins. A value that does not fit raises ``SettingsError``
naming the variable (or the file's key), the value and what is expected; an
unknown key in the file is an error, an unknown ``PARKSTAT_`` variable a warning.

The edges load them: the ``parkstat`` commands, the Dagster resource when a run
starts, the upload site when it is built. They pass them down, and make them the
settings ``current()`` answers for the work they start (``active``); code called
with none active (a library call, a test) gets the environment's at that moment.
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import datetime as dt
import math
import os
import re
import tomllib
import warnings
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Iterator, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TABLE = Path(__file__).parent / "reference" / "settings.csv"
CONFIG_FILE = "parkstat.toml"
PREFIX = "PARKSTAT_"
# set by the Dagster resource for dbt's profile and sources (dbt_project/), never by hand
FOR_DBT = ("PARKSTAT_WORK_DB", "PARKSTAT_STAGED", "PARKSTAT_SPARK_DIR")


class SettingsError(ValueError):
    """A setting whose value does not fit; the message names it, the value and what is expected."""


@dataclass(frozen=True)
class Spec:
    field: str
    variable: str
    kind: str
    default: str
    bound: str
    meaning: str

    @property
    def key(self) -> str | None:
        """Its key in parkstat.toml (the home itself is not set in a file inside it)."""
        return self.variable.removeprefix(PREFIX).lower() if self.variable.startswith(PREFIX) else None


def _specs() -> tuple[Spec, ...]:
    with TABLE.open(encoding="utf-8", newline="") as fh:
        return tuple(Spec(**row) for row in csv.DictReader(fh))


SPECS = _specs()
NOUNS = {"seconds": "a number of seconds", "hours": "a number of hours", "megabytes": "a number of megabytes",
         "count": "a whole number", "days": "a whole number of days"}
SIZE = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def expected(spec: Spec) -> str:
    """What a value of ``spec`` must be, as the error says it."""
    if spec.kind in NOUNS:
        op, limit = spec.bound.lstrip("<>="), spec.bound
        return f"{NOUNS[spec.kind]} {'≥' if limit.startswith('>=') else '>'} {op}" if limit else NOUNS[spec.kind]
    return {"zone": "an IANA time zone name such as Asia/Shanghai",
            "moment": "an ISO date-time such as 2024-06-15T09:00:00",
            "target": "duckdb or spark", "size": "a size such as 2GB or 512MB",
            "flag": "1, true, yes, on or 0, false, no, off", "list": "names separated by commas",
            "file": "an existing file", "directory": "a folder path", "text": "text"}[spec.kind]


def _parse(spec: Spec, text: str) -> Any:
    """``text`` as the field's type; ValueError when it does not fit."""
    text = text.strip()
    kind = spec.kind
    if kind in NOUNS:
        number = float(text) if kind in ("seconds", "hours", "megabytes") else int(text)
        if not math.isfinite(number):
            raise ValueError(text)
        limit = float(spec.bound.lstrip("<>=")) if spec.bound else None
        if limit is not None and (number < limit if spec.bound.startswith(">=") else number <= limit):
            raise ValueError(text)
        return number
    if kind == "zone":
        try:
            return ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError, IsADirectoryError, OSError) as exc:
            raise ValueError(text) from exc
    if kind == "moment":
        return dt.datetime.fromisoformat(text) if text else None
    if kind == "target":
        if text not in ("duckdb", "spark"):
            raise ValueError(text)
        return text
    if kind == "size":
        if not SIZE.match(text):
            raise ValueError(text)
        return text.replace(" ", "")
    if kind == "flag":
        if text.lower() not in TRUE + FALSE:
            raise ValueError(text)
        return text.lower() in TRUE
    if kind == "list":
        return tuple(p.strip() for p in text.split(",") if p.strip())
    if kind == "file":
        if not text:
            return None
        path = Path(text).expanduser().resolve()
        if not path.is_file():
            raise ValueError(text)
        return path
    if kind == "directory":
        return Path(text).expanduser().resolve()
    return text


def _from_toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class Limits:
    """What a submitted file may cost (settings max_file_mb, max_inflated_mb,
    max_columns, settle_seconds, partial_grace_seconds: ingest/reference/settings.csv)."""

    max_file_bytes: int
    max_inflated_bytes: int
    max_columns: int
    settle_seconds: float
    partial_grace_seconds: float


@dataclass(frozen=True)
class Settings:
    """Every setting, typed; the fields, their variables, defaults and meaning are
    ``ingest/reference/settings.csv`` (a test holds this class to it)."""

    home: Path
    timezone: ZoneInfo
    now: dt.datetime | None
    target: str
    reporting_calendar: Path | None
    max_file_mb: float
    max_inflated_mb: float
    max_columns: int
    settle_seconds: float
    partial_grace_seconds: float
    ingest_workers: int
    ingest_batch_files: int
    ledger_wait_seconds: float
    reader_memory_mb: float
    reader_seconds: float
    duckdb_memory: str
    workbook_max_rows: int
    upload_max_files: int
    keep_publishes: int
    keep_runs_days: int
    keep_ticks_days: int
    max_run_seconds: float
    stale_after_hours: float
    stale_check_seconds: float
    landing_sensor_seconds: float
    secure_cookies: bool
    trusted_proxies: tuple[str, ...]
    spark_master: str
    spark_memory: str
    spark_shuffle_partitions: int
    spark_java_options: str
    failpoint: str

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, config_file: Path | None = None,
             home: Path | None = None) -> "Settings":
        """The settings of ``environ`` (default: this process's environment) over those
        of ``config_file`` (default: ``parkstat.toml`` in the home, when it exists) over
        the defaults. ``home`` (``--home``) wins over WAREHOUSE_HOME."""
        env = os.environ if environ is None else environ
        by_field = {s.field: s for s in SPECS}
        values: dict[str, Any] = {}
        home_spec = by_field["home"]
        values["home"] = (Path(home).expanduser().resolve() if home is not None
                          else _parse(home_spec, env.get(home_spec.variable) or home_spec.default))
        path = Path(config_file) if config_file is not None else values["home"] / CONFIG_FILE
        if path.is_file() or config_file is not None:
            for key, (spec, text) in _read_file(path).items():
                values[spec.field] = _value(spec, text, f"{key}={text!r} (in {path})")
        for spec in SPECS:
            if spec.field == "home":
                continue
            text = env.get(spec.variable)
            if text is not None and text.strip():
                values[spec.field] = _value(spec, text, f"{spec.variable}={text!r}")
            elif spec.field not in values:
                values[spec.field] = _value(spec, spec.default, f"the default of {spec.variable}")
        known = {s.variable for s in SPECS} | set(FOR_DBT)
        unknown = sorted(k for k in env if k.startswith(PREFIX) and k not in known)
        if unknown:
            warnings.warn(f"unknown setting(s) {', '.join(unknown)} ignored (ingest/reference/settings.csv "
                          f"lists them all)", stacklevel=2)
        return cls(**values)

    @property
    def limits(self) -> Limits:
        return Limits(int(self.max_file_mb * 2**20), int(self.max_inflated_mb * 2**20), self.max_columns,
                      self.settle_seconds, self.partial_grace_seconds)

    def with_values(self, **values: Any) -> "Settings":
        return replace(self, **values)

    def for_dbt(self) -> dict[str, str]:
        """The settings dbt's profile reads (dbt_project/profiles.yml), as its environment."""
        return {"PARKSTAT_DUCKDB_MEMORY": self.duckdb_memory, "PARKSTAT_SPARK_MASTER": self.spark_master,
                "PARKSTAT_SPARK_MEMORY": self.spark_memory,
                "PARKSTAT_SPARK_SHUFFLE_PARTITIONS": str(self.spark_shuffle_partitions),
                "PARKSTAT_SPARK_JAVA_OPTIONS": self.spark_java_options}


def _value(spec: Spec, text: str, said: str) -> Any:
    try:
        return _parse(spec, text)
    except ValueError:
        raise SettingsError(f"{said}: expected {expected(spec)}") from None


def _read_file(path: Path) -> dict[str, tuple[Spec, str]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None
    keys = {s.key: s for s in SPECS if s.key}
    out = {}
    for key, value in data.items():
        if key not in keys:
            raise SettingsError(f"{path}: unknown key {key!r}; known keys: {', '.join(sorted(keys))}")
        if isinstance(value, (dict, dt.date, dt.time)) and not isinstance(value, dt.datetime):
            raise SettingsError(f"{key}={value!r} (in {path}): expected {expected(keys[key])}")
        out[key] = (keys[key], value.isoformat() if isinstance(value, dt.datetime) else _from_toml(value))
    return out


# -- the settings in force for the work an edge started -------------------------------------------

_ACTIVE: contextvars.ContextVar[Settings | None] = contextvars.ContextVar("parkstat_settings", default=None)
_SCOPED: contextvars.ContextVar[bool] = contextvars.ContextVar("parkstat_settings_scope", default=False)
_LOADED: dict[tuple, Settings] = {}


def edge_settings() -> Settings | None:
    """The settings an edge made active, if one did (no fallback to the environment)."""
    return _ACTIVE.get()


def current() -> Settings:
    """The settings the edge made active (``active``); with none, the environment's
    (and the home's parkstat.toml) as they are now."""
    settings = _ACTIVE.get()
    if settings is not None:
        return settings
    snapshot = tuple(sorted((k, v) for k, v in os.environ.items()
                            if k.startswith(PREFIX) or k == "WAREHOUSE_HOME"))
    home = Path(os.environ.get("WAREHOUSE_HOME") or "warehouse")
    try:
        stamp = (home / CONFIG_FILE).stat().st_mtime_ns
    except OSError:
        stamp = None
    key = (snapshot, str(home.resolve()), stamp)
    loaded = _LOADED.get(key)
    if loaded is None:
        loaded = Settings.load()
        _LOADED.clear()  # one entry: the environment as it is now
        _LOADED[key] = loaded
    return loaded


@contextlib.contextmanager
def scope() -> Iterator[None]:
    """Settings ``activate``d inside the block are forgotten when it ends (a command's run)."""
    tokens = _ACTIVE.set(_ACTIVE.get()), _SCOPED.set(True)
    try:
        yield
    finally:
        try:
            _ACTIVE.reset(tokens[0])
            _SCOPED.reset(tokens[1])
        except ValueError:
            _ACTIVE.set(None)
            _SCOPED.set(False)


def activate(settings: Settings) -> None:
    """``settings`` are those ``current()`` answers for, until the enclosing ``scope`` ends;
    outside one (a helper calling a command's code directly) nothing is kept."""
    if _SCOPED.get():
        _ACTIVE.set(settings)


@contextlib.contextmanager
def active(settings: Settings) -> Iterator[Settings]:
    """``settings`` are those ``current()`` answers for inside the block."""
    token = _ACTIVE.set(settings)
    try:
        yield settings
    finally:
        try:
            _ACTIVE.reset(token)
        except ValueError:  # left in another context than entered (a framework's thread): forget it there
            _ACTIVE.set(None)


def markdown_table() -> str:
    """The table of settings for README.md, generated from settings.csv."""
    lines = ["| variable | `parkstat.toml` key | default | meaning |", "|---|---|---|---|"]
    for s in SPECS:
        key = f"`{s.key}`" if s.key else "—"
        default = f"`{s.default}`" if s.default else "(none)"
        lines.append(f"| `{s.variable}` | {key} | {default} | {s.meaning}; {expected(s)} |")
    return "\n".join(lines)


def check_table() -> None:
    """The table and the class agree field for field (a test calls this)."""
    names = [f.name for f in fields(Settings)]
    if names != [s.field for s in SPECS]:
        raise AssertionError(f"Settings fields {names} differ from {TABLE.name}: {[s.field for s in SPECS]}")


if __name__ == "__main__":  # pragma: no cover - prints the README's table
    print(markdown_table())
