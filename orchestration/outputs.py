"""What each publish hands out besides the DuckDB file (plain functions; the
publish asset calls them): every mart as Parquet, and one XLSX workbook with a
sheet per mart under Chinese headers, numbers as numbers, and text that looks
like a formula stored as text so no spreadsheet ever evaluates it.

Everything is read from the verified candidate file, read-only, before it is
served, so the outputs and the served file always come from one build.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from ingest.ledger import sql_path

EXCEL_MAX_ROWS = 1_048_575  # below the header row
COMPLETENESS_HEADER = "完整性"


def completeness_sql(columns: list[str]) -> str | None:
    """A DuckDB expression saying how complete an aggregate row is, for a mart
    with ``is_complete``: '完整', or '不完整（已报 1/11；…）' naming what is
    missing (submitters, projects that dropped out, parks, regions, the city's
    own total); NULL where the row is no aggregate. None for other marts."""
    if "is_complete" not in columns:
        return None
    parts = ["'已报 ' || submitters_reported || '/' || submitters_expected"]
    if "projects_not_reported" in columns:
        parts.append("case when projects_not_reported > 0 then '未报项目 ' || projects_not_reported end")
    if "parks_registered" in columns:
        parts.append("case when parks_reported < parks_registered then '园区 ' || parks_reported || '/' "
                     "|| parks_registered end")
    if "regions_expected" in columns:
        parts.append("case when regions_summed < regions_expected then '县市区 ' || regions_summed || '/' "
                     "|| regions_expected end")
    if "city_value" in columns:
        parts.append("case when city_value is null then '缺全市总量' end")
    return (f"case when is_complete is null then null when is_complete then '完整' "
            f"else '不完整（' || concat_ws('；', {', '.join(parts)}) || '）' end")


def workbook_max_rows() -> int:
    """Rows per sheet of the leaders' workbook (the setting workbook_max_rows,
    PARKSTAT_WORKBOOK_MAX_ROWS, 50,000):
    a mart with more keeps its latest periods that fit. At national size the
    marts hold millions of rows; the whole of each is in marts/*.parquet and the
    published file, and a workbook of them would take minutes to write and
    longer to open."""
    from ingest.config import current

    return min(EXCEL_MAX_ROWS, current().workbook_max_rows)


def _latest_periods(con: duckdb.DuckDBPyConnection, table: str, budget: int) -> str | None:
    """The earliest of the latest periods whose rows fit in ``budget`` together
    (None: every row fits). When even the latest period alone is over, that
    period (the sheet then holds as many of its rows as fit)."""
    total, since = 0, None
    for period, n in con.execute(f'select period, count(*) from marts."{table}" group by 1 order by 1 desc'
                                 ).fetchall():
        if total + n > budget:
            return since if since is not None else period
        total, since = total + n, period
    return None

def mart_sheets(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """{mart: sheet name} in reading order, as the publish recorded the dbt project's meta
    (``meta.marts``); a mart without a sheet name has no sheet."""
    return dict(con.execute("""select m.table_name, m.sheet_name from meta.marts as m
                               inner join duckdb_tables() as t on t.schema_name = 'marts' and t.table_name = m.table_name
                               where m.sheet_name is not null order by m.sheet_order, m.table_name""").fetchall())


def mart_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str, str]]:
    """(column, Chinese header, DuckDB type) of a marts table, in table order; the header
    from the dbt project's meta (``header_zh``), else the column's name."""
    return con.execute("""select c.column_name, coalesce(h.header_zh, c.column_name), c.data_type
                          from duckdb_columns() as c
                          left join meta.mart_columns as h on h.table_name = c.table_name and h.column_name = c.column_name
                          where c.schema_name = 'marts' and c.table_name = ? order by c.column_index""",
                       [table]).fetchall()


def _link(src: Path, dst: Path) -> None:
    """An earlier publish's output in this one: a hard link (publishes are never
    written after they are made), or a copy where the file system has none."""
    import os
    import shutil

    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def unchanged_marts(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The marts this publish re-used whole from the one before (``meta.publish_tables``)."""
    if not con.execute("select count(*) from duckdb_tables() where schema_name = 'meta' "
                       "and table_name = 'publish_tables'").fetchone()[0]:
        return set()
    return {t.split(".", 1)[1] for (t,) in con.execute(
        "select table_name from meta.publish_tables where table_name like 'marts.%' "
        "group by 1 having bool_and(reused)").fetchall()}


def write_parquet(con: duckdb.DuckDBPyConnection, out_dir: Path, previous: Path | None = None) -> dict[str, bool]:
    """Every mart as ``out_dir/<mart>.parquet``; a mart this publish re-used is linked
    from the ``previous`` publish's folder when it is there. Returns {mart: re-used}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    same = unchanged_marts(con) if previous is not None else set()
    written = {}
    for (table,) in con.execute("""select table_name from duckdb_tables() where schema_name = 'marts'
                                   order by table_name""").fetchall():
        path = out_dir / f"{table}.parquet"
        old = previous / f"{table}.parquet" if previous is not None else None
        if table in same and old is not None and old.exists():
            _link(old, path)
            written[table] = True
            continue
        con.execute(f"copy (select * from marts.\"{table}\") to {sql_path(path)} (format parquet)")
        written[table] = False
    return written


# DuckDB types a sheet shows as they are; text, and any other type as its text, is held to the cell limit
_SHEET_TYPES = ("BOOLEAN", "DATE", "TIMESTAMP", "TINYINT", "SMALLINT", "INTEGER", "BIGINT",
                "UTINYINT", "USMALLINT", "UINTEGER", "FLOAT", "DOUBLE")


EXCEL_MAX_CHARS = 32_767  # in a cell
CUT_MARK = "…［已截断：超出 Excel 单元格上限，全文见 warehouse.duckdb / cut at Excel's cell limit］"
_CUT_SQL = "'" + CUT_MARK.replace("'", "''") + "'"


def _cell(column: str, data_type: str) -> str:
    """A column as a sheet shows it: a number Excel can hold (DECIMAL and the wide integers as
    DOUBLE, which is what a cell stores), text for anything a sheet has no type for, and text
    longer than a cell holds cut, saying so (a submitted cell can be that long; the whole of it
    is in the published file)."""
    quoted = '"' + column.replace('"', '""') + '"'
    if data_type in _SHEET_TYPES:
        return quoted
    if data_type.startswith("DECIMAL") or data_type in ("HUGEINT", "UHUGEINT", "UBIGINT"):
        return f"cast({quoted} as double)"
    text = quoted if data_type == "VARCHAR" else f"cast({quoted} as varchar)"
    keep = EXCEL_MAX_CHARS - len(CUT_MARK)
    return (f"case when length({text}) > {EXCEL_MAX_CHARS} "
            f"then substring({text}, 1, {keep}) || {_CUT_SQL} else {text} end")


def _sheet_frame(con: duckdb.DuckDBPyConnection, table: str, budget: int
                 ) -> tuple[pl.DataFrame, list[str], bool, str | None]:
    """One mart's rows as the sheet shows them, at most ``budget``: (frame with positional
    column names, the headers, whether the first column is the completeness mark, the note
    when the sheet holds the latest rows only)."""
    cols = mart_columns(con, table)
    names = [c for c, _, _ in cols]
    # an aggregate's completeness first: an incomplete total is never shown unmarked
    mark = completeness_sql(names)
    # a header two columns share names its column too: a sheet's headers are its keys
    shown = [zh for _, zh, _ in cols]
    headers = ([COMPLETENESS_HEADER] if mark else []) + [
        f"{zh}（{c}）" if shown.count(zh) > 1 else zh for c, zh, _ in cols]
    cells = ([mark] if mark else []) + [_cell(c, data_type) for c, _, data_type in cols]
    select = (", ".join(f"{cell} as c{i}" for i, cell in enumerate(cells))
              + f' from marts."{table}"')
    order = ", ".join(f'"{c}"' for c in names)
    note = None
    if "period" in names and (since := _latest_periods(con, table, budget)) is not None:
        note = f"{since} 及以后 / {since} onwards"
        sql, params = f"select {select} where period >= ? order by {order}", [since]
    elif "period" not in names and con.execute(f'select count(*) from marts."{table}"').fetchall()[0][0] > budget:
        note = "最近的行 / the latest rows"
        # receipts and messages: the latest first
        sql, params = f"select {select} order by {', '.join(f'{chr(34)}{c}{chr(34)} desc' for c in names)}", []
    else:
        sql, params = f"select {select} order by {order}", []
    frame = pl.from_arrow(con.sql(f"{sql} limit {int(budget)}", params=params).to_arrow_table())
    return frame, headers, bool(mark), note


def write_workbook(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, int]:
    """One sheet per mart; returns rows written per sheet. Written by rustpy-xlsxwriter
    (rust_xlsxwriter underneath: about ten times XlsxWriter's speed, the cells written in
    Rust): text is always written as text — never a formula or a link — numbers as numbers,
    times with their format; the row of an incomplete total is shown as a warning."""
    import rustpy_xlsxwriter as rx

    bold = rx.Format().set_bold()
    incomplete = rx.Format().set_bold().set_font_color("#9c0006").set_background_color("#ffc7ce")
    day = rx.Format().set_num_format("yyyy-mm-dd")
    sheets: list[tuple[str, pl.DataFrame]] = []
    options: dict[str, dict] = {key: {} for key in ("freeze_panes", "header_format", "row_formats",
                                                     "column_formats")}
    written: dict[str, int] = {}
    trimmed: dict[str, str] = {}
    budget = workbook_max_rows()
    for table, sheet_name in mart_sheets(con).items():
        frame, headers, mark, note = _sheet_frame(con, table, budget)
        if note:
            trimmed[sheet_name] = note
        options["freeze_panes"][sheet_name] = {"row": 1, "col": 1 if mark else 0}
        options["header_format"][sheet_name] = bold
        if mark:
            rows = frame.with_row_index("i").filter(pl.col("c0").is_not_null() & (pl.col("c0") != "完整"))
            options["row_formats"][sheet_name] = {i + 1: incomplete for i in rows["i"].to_list()}
        dates = {h: day for h, d in zip(headers, frame.dtypes) if d == pl.Date}
        if dates:
            options["column_formats"][sheet_name] = dates
        sheets.append((sheet_name, frame.rename(dict(zip(frame.columns, headers)))))
        written[sheet_name] = frame.height
    lines = ["parkstat 发布数据 / parkstat publish",
             "金额单位：万元；比重、增速为百分数；差距为百分点。/ Money in 万元; shares and growth in percent; "
             "gaps in percentage points.",
             "以“=、+、-、@”开头的单元格按文本保存，不作公式计算。/ Cells starting with =, +, -, @ are stored as "
             "text, never as formulas.",
             "“完整性”列：合计行的应报单位是否均已报送；“不完整（已报 1/11）”的合计缺少部分数据，整行以红底标出，不可作为全量引用。"
             " / Column 完整性: whether every expected submitter of a total has reported; a total marked 不完整 "
             "(its row in red) is missing parts and is not the whole."]
    lines += [f"“{sheet_name}”仅含最近的统计期（{since}）；完整数据见 marts/*.parquet 与 warehouse.duckdb。"
              f" / '{sheet_name}' holds the latest periods only; every row is in marts/*.parquet and "
              f"warehouse.duckdb." for sheet_name, since in trimmed.items()]
    sheets.append(("说明", pl.DataFrame({lines[0]: lines[1:]}, schema={lines[0]: pl.String})))
    tmp = path.with_name(path.name + ".tmp")
    # an infinite figure shows as INF / -INF, never as an empty cell
    rx.write_worksheets(sheets, str(tmp), datetime_format="yyyy-mm-dd hh:mm:ss", inf_value="INF", **options)
    tmp.replace(path)
    return written
