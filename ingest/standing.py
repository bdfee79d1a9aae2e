"""Which figure stands — the rule, written once.

Of the rows a table holds for a key (a project and month; a park or region,
period and indicator; a park's evaluation), the ones that stand come from files
not superseded for that period (and indicator, for indicator reports), and of
those the most recently accepted file wins. The rule is one Jinja SQL macro,
``reference/standing.sql`` (``standing_rows``). dbt uses it as a macro
(``dbt_project/macros/standing.sql`` is a link to the same file); the ledger
renders it here into its views (``standing_values``, the history checks read
them); and an ingest run applies the very same text, through Polars' SQL, to
the figures it holds in memory (``series.ProjectSeries``). Change the rule in
that file and all three change together.
"""

from __future__ import annotations

import functools

import jinja2

from ingest.reference import REFERENCE_DIR

RULE = REFERENCE_DIR / "standing.sql"


@functools.lru_cache(maxsize=None)
def _template(text: str) -> jinja2.Template:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.from_string(text + "{{ standing_rows(rows, key_columns, where, by_indicator, one_per_file) }}")


def standing_sql(rows: str, keys: tuple[str, ...] | list[str], *, by_indicator: bool = False,
                 where: str | None = None, files: str = "files", file_periods: str = "file_periods",
                 one_per_file: bool = False) -> str:
    """The rule as a ``select`` over the relation ``rows`` (with file_id and
    period), ``files`` (file_id, submitter_code, received_at) and
    ``file_periods`` (file_id, period[, indicator], superseded_by): the rows
    that stand, with their file's submitter_code and received_at.
    ``one_per_file``: the macro's form for rows holding each key at most once a
    file (a project report), which ranks the keys alone."""
    tables = {"stg_ledger__files": files, "stg_ledger__file_periods": file_periods}

    def ref(name: str) -> str:
        return tables[name]

    return _template(RULE.read_text(encoding="utf-8")).render(
        rows=rows, key_columns=list(keys), where=where, by_indicator=by_indicator, one_per_file=one_per_file,
        ref=ref).strip()
