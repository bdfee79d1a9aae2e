"""An accepted table in the ledger's row form: the rows each kind of report
becomes (``indicator_values`` one row per stated figure; ``project_progress``,
``park_registry``, ``park_evaluations`` a row per row, typed as the ledger's
tables are). Written by the ledger (``Ledger.record``), read by the history
checks, which compare a file in this form before it is recorded."""

from __future__ import annotations

import polars as pl

from ingest import reference
from ingest.values import AMOUNT

MONEY_COLUMNS = {"indicator_values": ("value_wan",),
                 "project_progress": ("total_investment", "annual_plan", "ytd_completed")}
# optional project attributes a later report keeps unless it carries the column
PROJECT_ATTRIBUTES = ("park_code", "industry_chain", "nature", "stage", "start_date", "project_level",
                      "programmes", "is_industrial")


def column(table: pl.DataFrame, name: str, dtype=pl.String) -> pl.Expr:
    """A column of an accepted table, or nulls when the file had no such column."""
    return (pl.col(name) if name in table.columns else pl.lit(None)).cast(dtype).alias(name)


def carried_indicators(table: pl.DataFrame) -> list[str]:
    """The indicators an indicator report carries: the columns it has, stated or
    not (a later file with a GDP column replaces every earlier GDP figure of its
    submitter and period, and only those)."""
    return [ind for ind in reference.INDICATORS if ind in table.columns]


def indicator_rows(file_id: int, kind: str, table: pl.DataFrame) -> pl.DataFrame:
    """An indicator file's accepted table in the ledger's long form (one row per
    stated figure, in file order), with the columns of ``indicator_values``."""
    etype = "park" if kind == "park_indicators" else "region"
    key = "park_code" if etype == "park" else "region_code"
    name = "park_name" if etype == "park" else "region_name"
    units = reference.indicator_units()
    parts = [table.select(pl.lit(file_id, dtype=pl.Int64).alias("file_id"), pl.lit(etype).alias("entity_type"),
                          column(table, key).alias("entity_code"), column(table, name).alias("entity_name"),
                          column(table, "period"), pl.lit(ind).alias("indicator"),
                          column(table, ind, AMOUNT).alias("value_wan"),
                          column(table, ind + "__text").alias("original_value"),
                          column(table, ind + "__unit").alias("original_unit"),
                          column(table, "row_number", pl.Int32), pl.lit(units[ind]).alias("unit"),
                          pl.lit(i).alias("_order"))
             .filter(pl.col("value_wan").is_not_null())
             for i, ind in enumerate(carried_indicators(table))]
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts).sort("row_number", "_order").drop("_order")


def ledger_rows(file_id: int, kind: str, table: pl.DataFrame) -> tuple[str, pl.DataFrame] | None:
    """(the ledger table, its rows) an accepted table of ``kind`` becomes as file ``file_id``."""
    def c(name: str, dtype=pl.String) -> pl.Expr:
        return column(table, name, dtype)

    fid = pl.lit(file_id, dtype=pl.Int64).alias("file_id")
    if kind in ("park_indicators", "region_indicators"):
        return "indicator_values", indicator_rows(file_id, kind, table)
    if kind == "park_registry":
        return "park_registry", table.select(fid, c("park_code"), c("park_name"), c("region_code"),
                                             c("park_level"), c("area_mu", pl.Float64), c("row_number", pl.Int32))
    if kind == "project_progress":
        money = set(MONEY_COLUMNS["project_progress"])
        cols = ["period", "project_code", "project_name", "region_code", "park_code", "industry_chain",
                "nature", "stage", "total_investment", "annual_plan", "ytd_completed", "project_level",
                "programmes"]
        carried = ",".join(a for a in PROJECT_ATTRIBUTES if a in table.columns)
        return "project_progress", table.select(
            fid, *[c(n, AMOUNT if n in money else pl.String) for n in cols], c("start_date", pl.Date),
            c("is_industrial", pl.Boolean), c("row_number", pl.Int32), pl.lit(carried).alias("attributes_carried"))
    if kind == "park_evaluations":
        return "park_evaluations", table.select(fid, c("period"), c("park_code"), c("category"),
                                                c("rank", pl.Int32), c("stars", pl.Int32), c("row_number", pl.Int32))
    return None
