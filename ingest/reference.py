"""Reference data kept as CSV under ``ingest/reference/``, loaded once per process.

Everything that describes messy layouts (header synonyms, unit words, missing
markers, period patterns) and every schema of a report kind lives there as
data; this module only reads it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

REFERENCE_DIR = Path(__file__).parent / "reference"


def read_csv(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass(frozen=True)
class Field:
    kind: str
    name: str
    zh: str
    type: str  # period, code, region, park, text, money, number, quantity, date, level, tags, bool, category, integer
    required: str  # yes / no / indicator
    key: bool


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str  # province / city / county
    parent_code: str
    valid_from: int | None
    valid_to: int | None
    successor_code: str
    is_statistical: bool


@cache
def kinds() -> dict[str, list[Field]]:
    out: dict[str, list[Field]] = {}
    for r in read_csv("report_kinds.csv"):
        out.setdefault(r["kind"], []).append(
            Field(r["kind"], r["field"], r["zh"], r["type"], r["required"], r["key"] == "yes"))
    return out


@cache
def kind_names() -> dict[str | None, str]:
    """report kind -> its Chinese name (kind_names.csv); None: an unrecognised file."""
    return {**{r["kind"]: r["zh"] for r in read_csv("kind_names.csv")}, None: "未识别"}


@cache
def encoding_names() -> dict[str, str]:
    """Python's codec name -> how receipts and the marts name it (encodings.csv)."""
    return {r["codec"]: r["name"] for r in read_csv("encodings.csv")}


@cache
def footer_words() -> tuple[str, ...]:
    """Words that open a note, a sign-off or a notes sheet's name (footer_words.csv): 注, 说明, 填报人..."""
    return tuple(r["word"] for r in read_csv("footer_words.csv"))


@cache
def sheet_hints() -> dict[str, tuple[str, ...]]:
    """report kind -> words a workbook's sheet name may use to name it (compared after
    Traditional->Simplified)."""
    return {r["kind"]: tuple(r["sheet_hints"].split("|")) for r in read_csv("kind_names.csv")}


@cache
def usd_fields() -> frozenset[str]:
    """The money fields that may be reported in dollars (indicators.csv ``currencies``)."""
    return frozenset(r["indicator"] for r in read_csv("indicators.csv") if "USD" in (r.get("currencies") or ""))


@cache
def threshold(name: str) -> float:
    """A warning threshold of the contract (thresholds.csv)."""
    return {r["name"]: float(r["value"]) for r in read_csv("thresholds.csv")}[name]


INDICATOR_KINDS = ("park_indicators", "region_indicators")
# every indicator of either indicator kind, in the order the kinds list them (an
# indicator defined for regions only is one too)
INDICATORS: tuple[str, ...] = tuple(dict.fromkeys(
    f.name for k in INDICATOR_KINDS for f in kinds()[k] if f.required == "indicator"))


@cache
def indicator_names() -> dict[str, str]:
    return {f.name: f.zh for k in INDICATOR_KINDS for f in kinds()[k] if f.required == "indicator"}


@cache
def indicator_units() -> dict[str, str]:
    """indicator -> the unit its figures are stored in (万元 for money; 万人,
    平方公里, 个 for the quantities), from indicators.csv."""
    return {r["indicator"]: r["unit"] for r in read_csv("indicators.csv")}


MONEY_UNIT = "万元"


@cache
def value_words() -> dict[str, dict[str, str]]:
    """field -> {normalised word -> stored value}: the words an enumerated column
    (project_level, is_industrial, category) accepts (value_words.csv)."""
    from ingest.text import normalise_word

    out: dict[str, dict[str, str]] = {}
    for r in read_csv("value_words.csv"):
        out.setdefault(r["field"], {})[normalise_word(r["word"])] = r["value"]
    return out


@cache
def synonyms() -> dict[str, list[tuple[str, frozenset[str]]]]:
    """normalised header text -> [(field, kinds it applies to; empty = all)]."""
    from ingest.text import normalise_header

    out: dict[str, list[tuple[str, frozenset[str]]]] = {}
    for r in read_csv("header_synonyms.csv"):
        kinds_ = frozenset(k for k in r["kinds"].split("|") if k)
        out.setdefault(normalise_header(r["synonym"]), []).append((r["field"], kinds_))
    for kind_fields in kinds().values():  # the contract's own names always count
        for f in kind_fields:
            for s in (f.zh, f.name):
                key = normalise_header(s)
                if (f.name, frozenset()) not in out.setdefault(key, []):
                    out[key].append((f.name, frozenset()))
    return out


@cache
def units() -> dict[str, tuple[str, float]]:
    return {r["unit"]: (r["currency"], float(r["factor_to_wan"])) for r in read_csv("units.csv")}


@cache
def unit_factors() -> dict[str, tuple[str, Decimal]]:
    """unit word -> (class, exact factor to the stored unit): the same table as
    ``units`` with the factor as written (10000, 0.0001), for exact money."""
    return {r["unit"]: (r["currency"], Decimal(r["factor_to_wan"])) for r in read_csv("units.csv")}


@cache
def exact_usd_rates() -> dict[int, Decimal]:
    return {int(r["year"]): Decimal(r["cny_per_usd"]) for r in read_csv("usd_cny_rates.csv")}


@cache
def usd_rates() -> dict[int, float]:
    return {int(r["year"]): float(r["cny_per_usd"]) for r in read_csv("usd_cny_rates.csv")}


@cache
def missing_tokens() -> frozenset[str]:
    return frozenset(r["token"] for r in read_csv("missing_tokens.csv")) | {""}


@cache
def period_patterns() -> list[re.Pattern[str]]:
    return [re.compile(r["pattern"]) for r in read_csv("period_patterns.csv")]


@cache
def divisions() -> dict[str, Division]:
    out = {}
    for r in read_csv("divisions.csv"):
        out[r["code"]] = Division(
            r["code"], r["name"], r["level"], r["parent_code"],
            int(r["valid_from"]) if r["valid_from"] else None,
            int(r["valid_to"]) if r["valid_to"] else None,
            r["successor_code"], r["is_statistical"] == "true")
    return out


@cache
def ancestors(code: str) -> tuple[str, ...]:
    """The code itself, then its parents up to the province. A parent the list
    does not hold (the old 市辖区 of a municipality, 500100; a 省直辖 group,
    429000) is passed over to the next level the code itself names: its city
    (first four digits), then its province (first two). Kept per code (the
    division list is read once a process): the row checks and the history
    warnings ask for the same codes file after file."""
    chain, seen = [], set()
    divs = divisions()
    while code and code in divs and code not in seen:
        chain.append(code)
        seen.add(code)
        parent = divs[code].parent_code
        if parent and parent not in divs:
            parent = next((p for p in (parent[:4] + "00", parent[:2] + "0000") if p in divs and p != code), "")
        code = parent
    return tuple(chain)


def _months(spec: str) -> list[int]:
    """``'12'`` -> [12]; ``'2-12'`` -> [2..12]; ``'3,6,9,12'`` -> [3, 6, 9, 12]."""
    out: list[int] = []
    for part in spec.replace(" ", "").split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    if not out or any(not 1 <= m <= 12 for m in out):
        raise ValueError(f"reporting_calendar.csv: bad months {spec!r}")
    return out


def calendar_path(home_calendar: Path | None = None, settings=None) -> Path:
    """The reporting calendar in force: the setting ``reporting_calendar``
    (PARKSTAT_REPORTING_CALENDAR), else the warehouse home's own
    ``reporting_calendar.csv`` when it has one (the demo's), else the bundled one."""
    from ingest.config import current

    own = (settings or current()).reporting_calendar
    if own:
        return own
    if home_calendar is not None and home_calendar.exists():
        return home_calendar
    return REFERENCE_DIR / "reporting_calendar.csv"


def reporting_calendar(home_calendar: Path | None = None) -> list[dict]:
    """Who is expected to report which kind for which months: one row per
    calendar line and month (the ``months`` column expanded). A deployment with
    its own calendar points ``PARKSTAT_REPORTING_CALENDAR`` at its CSV (same
    columns as ``reference/reporting_calendar.csv``); read again whenever the
    variable names another file or the file changed (one process may serve
    several homes, a long-lived one sees an edited calendar)."""
    path = calendar_path(home_calendar)
    return _calendar(path, path.stat().st_mtime_ns)


@cache
def _calendar(path: Path, _mtime: int) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8", newline="") as fh:
        lines = list(csv.DictReader(fh))
    for r in lines:
        for m in _months(r["months"]):
            rows.append({"report_kind": r["report_kind"], "submitters": r["submitters"],
                         "within": r["within"] or None, "period_month": m, "from_period": r["from_period"],
                         "to_period": r["to_period"] or None, "due_days": int(r["due_days"])})
    return rows
