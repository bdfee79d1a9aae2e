"""The checks of a row once its cells are read: one table, ``reference/row_checks.csv``,
that the row-by-row path (``validate.parse_rows``) and the column path
(``vectorized.parse_table``) both evaluate, over a frame of the parsed rows.

A line of the table is one check: its ``code``; the report ``kinds`` it applies
to (``|``-separated; empty: every kind); the ``field`` it speaks of (a field
name; ``type=region``, ``required=yes``: every field of the kind with that
attribute in report_kinds.csv; empty: the row as a whole); its ``scope``
(``cell``: reported among the cell's reading problems, and never for a cell that
could not be read; ``row``: after them, in the table's order); ``severity``;
``when`` it fires, a Polars SQL expression over the frame; what the field
``sets`` to where it fires (``NULL``: the value is refused, so the checks below
it do not see it; or an expression: a retired code's successor); and the
Chinese and English messages and the ``value`` shown, with ``{…}``
placeholders, each itself an SQL expression (empty ``value``: the cell as
written). ``$field`` is the field's name; ``$keys`` the kind's key fields,
``$key_text`` them joined with `` / `` (null when one is); ``:name`` a parameter:
``now_period``, ``submitter`` and every threshold of thresholds.csv.

Besides the parsed fields, the frame holds what the registers say of each code
(``prepare``): for a region field ``<f>__known``, ``__from`` (first valid year),
``__retired`` (the year it was retired with no successor, in the row's year),
``__now`` (the code standing for it in that year), ``__name``, ``__now_name``,
``__ours`` (within the submitter's area); for a park field ``<f>__region`` (where
the register puts it) and ``__ours``; ``row_number``; ``row_year`` (the period's
year, today's for none or one not yet come); ``<f>__cell`` (the text as written).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

import polars as pl

from ingest import reference
from ingest.messages import Message

_DTYPES = {"number": pl.Float64, "money": pl.Float64, "quantity": pl.Float64, "date": pl.Date, "bool": pl.Boolean,
           "integer": pl.Int64}
_LOOKUPS = {"region": {"known": pl.Boolean, "from": pl.Int64, "retired": pl.Int64, "now": pl.String,
                       "name": pl.String, "now_name": pl.String, "ours": pl.Boolean},
            "park": {"region": pl.String, "ours": pl.Boolean}}
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_PARAM = re.compile(r"(?<![:\w]):([a-z_]+)\b")


@dataclass(frozen=True)
class Check:
    code: str
    kinds: frozenset[str]
    field: str
    scope: str  # cell | row
    severity: str  # error | warning
    when: str
    sets: str
    zh: str
    en: str
    value: str


@cache
def checks() -> tuple[Check, ...]:
    return tuple(Check(r["code"], frozenset(k for k in r["kinds"].split("|") if k), r["field"], r["scope"],
                       r["severity"], r["when"], r["sets"], r["zh"], r["en"], r["value"])
                 for r in reference.read_csv("row_checks.csv"))


@cache
def applied(kind: str) -> tuple[tuple[Check, str | None], ...]:
    """(check, the field it speaks of) for every check of ``kind``, in the table's order."""
    fields = reference.kinds()[kind]
    out = []
    for c in checks():
        if c.kinds and kind not in c.kinds:
            continue
        if not c.field:
            out.append((c, None))
        elif "=" in c.field:
            attr, _, want = c.field.partition("=")
            out.extend((c, f.name) for f in fields if str(getattr(f, attr)) == want)
        elif any(f.name == c.field for f in fields):
            out.append((c, c.field))
    return tuple(out)


def set_fields(kind: str) -> list[str]:
    """The fields some check of ``kind`` may set (refuse, or replace)."""
    return list(dict.fromkeys(f for c, f in applied(kind) if c.sets and f))


def _literal(v) -> str:
    return "'" + v.replace("'", "''") + "'" if isinstance(v, str) else repr(v)


def _sql(text: str, kind: str, field: str | None, params: dict) -> str:
    keys = [f.name for f in reference.kinds()[kind] if f.key]
    text = (text.replace("$key_text", " || ' / ' || ".join(f"CAST({k} AS VARCHAR)" for k in keys))
            .replace("$keys", ", ".join(keys)).replace("$field", field or ""))
    return _PARAM.sub(lambda m: _literal(params[m.group(1)]), text)


@lru_cache(maxsize=512)
def _expr(sql: str) -> pl.Expr:
    return pl.sql_expr(sql)


@cache
def _thresholds() -> dict[str, float]:
    return {r["name"]: float(r["value"]) for r in reference.read_csv("thresholds.csv")}


def params(submitter: str, now_period: str) -> dict:
    """What ``:name`` stands for in the table: every threshold of thresholds.csv, ``submitter``, ``now_period``."""
    return {**_thresholds(), "submitter": submitter, "now_period": now_period}


def in_jurisdiction(submitter: str, code: str) -> bool:
    return submitter in reference.ancestors(code)


def division_at(code: str, year: int) -> tuple[bool, int | None, int | None, str | None]:
    """What the division list says of ``code`` in ``year``: (known, first valid
    year, the year it was retired with no successor to follow, the code standing
    for it — its successor's, when it was retired)."""
    divs = reference.divisions()
    div = divs.get(code)
    if div is None:
        return False, None, None, None
    if div.valid_from is not None and year < div.valid_from:
        return True, div.valid_from, None, None
    seen = set()
    while div.valid_to is not None and year > div.valid_to:
        if not div.successor_code or div.successor_code in seen or div.successor_code not in divs:
            return True, divs[code].valid_from, div.valid_to + 1, None
        seen.add(div.code)
        div = divs[div.successor_code]
    return True, divs[code].valid_from, None, div.code


def _name(code: str | None) -> str | None:
    div = reference.divisions().get(code) if code else None
    return div.name if div else None


def prepare(table: pl.DataFrame, kind: str, cells: dict[str, pl.Series], years: pl.Series,
            submitter: str, parks: dict[str, str], unread: dict[str, pl.Series] | None = None) -> pl.DataFrame:
    """The frame the checks read: every field of ``kind`` as parsed (amounts as
    doubles, null where the file lacks the column), its text as written, what the
    registers say of its codes, ``row_number`` and ``row_year``. One plan, run once."""
    fields = reference.kinds()[kind]
    have = [f.name for f in fields if f.name in table.columns]
    given = [table["row_number"], years.cast(pl.Int64).alias("row_year"),
             *(c.alias(name + "__cell") for name, c in cells.items()),
             *(u.alias(name + "__unread") for name, u in (unread or {}).items())]
    for f in fields:
        if f.name in have:
            dtype = _DTYPES.get(f.type, pl.String)
            given.append(table[f.name] if table[f.name].dtype == dtype else table[f.name].cast(dtype))
    lf = pl.DataFrame(given).lazy().with_columns(
        *(pl.lit(None, dtype=_DTYPES.get(f.type, pl.String)).alias(f.name) for f in fields if f.name not in have),
        *(pl.lit("").alias(f.name + "__cell") for f in fields if f.name not in cells))
    for f in fields:
        if f.type == "region":  # by (code, year): a code's history depends on the year
            rows = []
            pairs = pl.DataFrame([table[f.name].cast(pl.String), years.cast(pl.Int64)]).unique().iter_rows() \
                if f.name in have else ()
            for code, year in pairs:
                if code is not None:
                    known, first, retired, now = division_at(code, year)
                    rows.append((code, year, known, first, retired, now, _name(code), _name(now),
                                 in_jurisdiction(submitter, now) if now else None))
            on = [f.name, "row_year"]
        elif f.type == "park":
            codes = table[f.name].unique().to_list() if f.name in have else []
            rows = [(c, parks.get(c), in_jurisdiction(submitter, parks[c]) if parks.get(c) else None)
                    for c in codes if c is not None]
            on = [f.name]
        else:
            continue
        names = {f"{f.name}__{what}": dtype for what, dtype in _LOOKUPS[f.type].items()}
        if len(rows) <= _FEW:  # a few codes (most files): a literal per code, cheaper than a join
            lf = lf.with_columns(_pick(on, rows, name, dtype, i) for i, (name, dtype) in enumerate(names.items()))
            continue
        schema = {n: pl.String for n in on[:1]} | {n: pl.Int64 for n in on[1:]} | names
        lf = lf.join(pl.DataFrame(rows, orient="row", schema=schema).lazy(), on=on, how="left",
                     maintain_order="left")
    return lf.collect()


_FEW = 8


def _pick(on: list[str], rows: list[tuple], name: str, dtype, i: int) -> pl.Expr:
    """Column ``name``: for each row, the ``i``-th looked-up value of its key (``on``)."""
    out = None
    for r in rows:
        cond = pl.all_horizontal([pl.col(c) == pl.lit(r[j]) for j, c in enumerate(on)])
        value = pl.lit(r[len(on) + i], dtype=dtype)
        out = pl.when(cond).then(value) if out is None else out.when(cond).then(value)
    return (pl.lit(None, dtype=dtype) if out is None else out.otherwise(pl.lit(None, dtype=dtype))).alias(name)


@lru_cache(maxsize=64)
def _any(kind: str, prm: tuple) -> pl.Expr:
    return pl.any_horizontal([_expr(_sql(c.when, kind, f, dict(prm))).fill_null(False)
                              for c, f in applied(kind)] or [pl.lit(False)]).any()


def fires(frame: pl.DataFrame, kind: str, prm: dict) -> bool:
    """Whether any check fires on any row: one pass over the frame as it stands
    (the first check to fire sees what it would see in ``run``)."""
    return bool(frame.select(_any(kind, tuple(sorted(prm.items())))).item())


@dataclass
class Outcome:
    frame: pl.DataFrame  # the checked frame after every check's ``sets``
    messages: list[tuple[tuple, Message]]  # (order within its row, message), in row order
    rejected: pl.Series  # rows an error was found in


def run(frame: pl.DataFrame, kind: str, prm: dict, headers: dict[str, str], positions: dict[str, int]) -> Outcome:
    """Every check of ``kind`` over ``frame``, in the table's order, each seeing
    what the checks above it set; the messages they give, worded."""
    lf = frame.lazy()
    worded = []
    for i, (c, f) in enumerate(applied(kind)):
        hit = _expr(_sql(c.when, kind, f, prm)).fill_null(False)
        if c.scope == "cell" and f and f + "__unread" in frame.columns:
            hit = hit & ~pl.col(f + "__unread")
        texts = {"zh": c.zh, "en": c.en, "value": c.value or ("{" + f + "__cell}" if f else "")}
        holes = sorted({h for t in texts.values() for h in _PLACEHOLDER.findall(t)})
        lf = lf.with_columns(hit.alias(f"__hit{i}"),
                             *[_expr(_sql(h, kind, f, prm)).alias(f"__hole{i}_{j}") for j, h in enumerate(holes)])
        if c.sets and f:
            lf = lf.with_columns(pl.when(pl.col(f"__hit{i}")).then(_expr(_sql(c.sets, kind, f, prm)))
                                 .otherwise(pl.col(f)).alias(f))
        worded.append((i, c, f, texts, holes))
    out = lf.collect()
    messages = []
    rejected = pl.Series([False] * out.height)
    for i, c, f, texts, holes in worded:
        hits = out.filter(pl.col(f"__hit{i}"))
        if hits.height == 0:
            continue
        if c.severity == "error":
            rejected = rejected | out[f"__hit{i}"]
        order = (0, -1 if f == "period" else positions.get(f, 1 << 20), i) if c.scope == "cell" \
            else (1, i, positions.get(f, 0) if f else 0)
        names = ["row_number"] + [f"__hole{i}_{j}" for j in range(len(holes))]
        for row, *vals in hits.select(names).iter_rows():
            filled = {h: "" if v is None else str(v) for h, v in zip(holes, vals)}
            zh, en, value = (_PLACEHOLDER.sub(lambda m: filled[m.group(1)], texts[k]) for k in ("zh", "en", "value"))
            messages.append(((row, *order), Message(c.severity, c.code, zh, en, row=row,
                                                    column=headers.get(f, "") if f else "", value=value)))
    messages.sort(key=lambda m: m[0])
    return Outcome(out.drop([c for c in out.columns if c.startswith(("__hit", "__hole"))]), messages, rejected)

