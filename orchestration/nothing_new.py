"""A night with nothing new costs almost nothing: when what dbt would build from
is what the served publish was built from, the dbt build and the publish are
skipped and the run says "nothing new".

What a build is made of, as one key (``inputs_key``):
- the staged snapshot the ingest handed dbt (``staged/``): the parts of the
  tables only ever added to, by name and size (a part is written once), and
  every other file by its bytes — a new file, a rejected one, a duplicate's
  receipt, a changed reference table all change it;
- the day of the run (the clock in ``ref_run.parquet``): who is late and which
  months have ended depend on the date (``int_expected_submissions``), so a new
  day is not "nothing new";
- the dbt project and reference data (``build_fingerprint``), the engine, and the
  code that turns a build into a publish (``orchestration/*.py``).

The dbt step writes the key beside its build once it succeeded; the publish
records the key it was built from in ``publish.json``. The skip needs both to
equal the key of tonight's snapshot — so a night after a failed publish, a
rollback, or ``--full-refresh`` builds and publishes as before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

import duckdb

from ingest.ledger import NO_EXTENSIONS, sql_path
from ingest.reference import REFERENCE_DIR
from ingest.settings import WarehouseHome
from orchestration.project import DBT_DIR

CODE_DIR = Path(__file__).parent


def build_fingerprint(home_calendar: Path | None = None, settings=None) -> str:
    """What an incremental build assumes unchanged since the last one: the dbt
    project (models, macros, config) and the reference data (divisions, the
    calendar...). When it changes, the next build is a full one."""
    h = hashlib.sha256()
    files = [p for sub in ("models", "macros") for p in (DBT_DIR / sub).rglob("*") if p.is_file()]
    files += [DBT_DIR / "dbt_project.yml", *REFERENCE_DIR.glob("*.csv")]
    from ingest.reference import calendar_path

    own = calendar_path(home_calendar, settings)
    files += [own] if own.parent != REFERENCE_DIR else []
    for p in sorted(files):
        h.update(str(p.relative_to(p.anchor)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def inputs_key(staged: Path, fingerprint: str, target: str, day: dt.date | None = None) -> str:
    """The key of the snapshot in ``staged``, on the day its export recorded (or ``day``)."""
    h = hashlib.sha256(f"{target}\0{fingerprint}\0".encode())
    for p in sorted(staged.rglob("*")):
        if not p.is_file() or p.name.endswith(".tmp") or p.name == "ref_run.parquet":
            continue
        rel = str(p.relative_to(staged)).encode()
        if p.name.startswith("part-"):
            h.update(rel + b"\0" + str(p.stat().st_size).encode() + b"\0")
        else:
            h.update(rel + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    run = staged / "ref_run.parquet"
    if day is None and run.exists():
        con = duckdb.connect(config=NO_EXTENSIONS)
        try:
            day = con.execute(f"select cast(max(as_of) as date) from read_parquet({sql_path(run)})").fetchone()[0]
        finally:
            con.close()
    h.update(f"day\0{day}\0".encode())
    for p in sorted(CODE_DIR.glob("*.py")):
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def stamp(build_dir: Path) -> Path:
    """The key of the last successful dbt build on an engine."""
    return build_dir / "build.inputs"


def built_from(build_dir: Path) -> str | None:
    p = stamp(build_dir)
    return p.read_text().strip() if p.exists() else None


def served_key(served_folder: Path | None) -> str | None:
    """The key the served publish was built from (its ``publish.json``)."""
    if served_folder is None:
        return None
    current = served_folder.parent.parent / "current"  # published/current -> history/<id>
    if not current.is_symlink() or os.readlink(current).split("/")[-1] != served_folder.name:
        return None  # a publish cut short between its swap and its pointer: publish again
    try:
        return json.loads((served_folder / "publish.json").read_text(encoding="utf-8")).get("inputs")
    except (OSError, ValueError):
        return None


def unchanged_publish(home: WarehouseHome, target: str) -> str | None:
    """Before a run: the publish id served, when the run can have nothing new to build —
    the landing area is empty and the snapshot the last build was made of, today,
    is the one the served publish was made of. None otherwise (the run goes on as a
    whole, and its dbt step still skips when the ingest took nothing new)."""
    from ingest.pipeline import now_local
    from orchestration.engines import Build
    from orchestration.publish import served_folder

    if home.landing.exists() and any(not p.is_dir() or p.is_symlink() for p in home.landing.rglob("*")):
        return None
    build = Build(home, target)
    fingerprint = build_fingerprint(home.reporting_calendar)
    stamp_ = build.fingerprint_stamp
    if not build.exists() or not stamp_.exists() or stamp_.read_text() != fingerprint:
        return None
    served = served_folder(home)
    key = inputs_key(home.staged, fingerprint, target, now_local().date())
    return served.name if built_from(build.dir) == key and served_key(served) == key else None
