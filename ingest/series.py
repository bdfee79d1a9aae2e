"""The standing key-project figures an ingest run compares new reports with.

The project warnings (a cumulative figure below the previous month's, another
submitter's report for the same project and month) need, for each project in
a file, the figures that stand for it in that year. Asking DuckDB for them
file by file scans the whole ``project_progress`` table each time — a cost
that grows with history (national size: 11 M rows, 18,000 files). Instead, a
year's standing rows are read once per run, kept sorted by project code, and
looked up by binary search; files accepted during the run are added as they
are recorded. What stands is decided by the one rule (``ingest.standing``,
the same SQL dbt and the ledger run), applied here by Polars' SQL to the rows
held in memory: of the files not superseded for a period (each submitter's
latest), the most recently accepted one wins per project and period.
"""

from __future__ import annotations

import duckdb
import polars as pl

from ingest.standing import standing_sql

COLUMNS = {"project_code": pl.String, "period": pl.String, "file_id": pl.Int64, "submitter_code": pl.String,
           "ytd_completed": pl.Float64}
MERGE_ROWS = 50_000  # rows added during the run are merged into the sorted part past this
INCOMING = -1  # the file being checked, not recorded yet: it supersedes its submitter's earlier ones


def rule() -> str:
    """The one rule (``ingest.standing``) over the in-memory tables, for Polars' SQL: the
    form for rows holding a key once a file, as dbt's (a project report holds a project
    and month once; ingest's duplicate_key check holds it) — in Polars 4 ms a file
    whatever its rows, where ranking every row took 9 ms for 5,500."""
    return standing_sql("rows", ("project_code", "period"), one_per_file=True)


class _Year:
    def __init__(self, rows: pl.DataFrame):
        self.sorted = rows.sort("project_code")
        self.added: list[pl.DataFrame] = []
        self.added_rows = 0

    def add(self, rows: pl.DataFrame) -> None:
        self.added.append(rows)
        self.added_rows += rows.height
        if self.added_rows > MERGE_ROWS:
            self.sorted = self.sorted.merge_sorted(pl.concat(self.added).sort("project_code"), key="project_code")
            self.added, self.added_rows = [], 0
        elif len(self.added) > 1:  # one frame to search, not one per file
            self.added = [pl.concat(self.added, rechunk=True)]

    def rows_for(self, codes: pl.Series) -> pl.DataFrame:
        codes = codes.unique().sort()
        keys = self.sorted["project_code"]
        lo = keys.search_sorted(codes, side="left")
        hi = keys.search_sorted(codes, side="right")
        idx = pl.select(pl.int_ranges(lo, hi, dtype=pl.Int64).explode().drop_nulls()).to_series()
        parts = [self.sorted[idx]]
        parts += [a.filter(pl.col("project_code").is_in(codes.implode())) for a in self.added]
        return pl.concat(parts) if len(parts) > 1 else parts[0]


class ProjectSeries:
    def __init__(self, con: duckdb.DuckDBPyConnection, before_read=None):
        """``before_read``: called before a year's rows are read from ``con`` (the ledger's
        ``flush_rows``: rows of the open batch it holds back for one insert)."""
        self.con = con
        self.before_read = before_read
        self.years: dict[str, _Year] = {}
        # each submitter's latest accepted project file per period: the files not superseded
        self.latest: dict[tuple[str, str], int] = {
            (s, p): f for s, p, f in con.execute("""
                select submitter_code, period, max(file_id) from file_periods
                where report_kind = 'project_progress' and superseded_by is null group by 1, 2""").fetchall()}

    def _year(self, year: str) -> _Year:
        if year not in self.years:
            if self.before_read is not None:
                self.before_read()
            rows = self.con.sql("""
                select t.project_code, t.period, t.file_id, f.submitter_code, t.ytd_completed
                from project_progress t
                join files f on f.file_id = t.file_id
                join file_periods fp on fp.file_id = t.file_id and fp.period = t.period and fp.superseded_by is null
                where t.period between ? and ?""", params=[f"{year}-01", f"{year}-12"]).to_arrow_table()
            rows = pl.from_arrow(rows)
            self.years[year] = _Year(rows.cast(COLUMNS) if rows.height else pl.DataFrame(schema=COLUMNS))
        return self.years[year]

    def standing(self, incoming: pl.DataFrame, submitter: str | None = None) -> pl.DataFrame:
        """The standing rows (project_code, period, ytd_completed, submitter_code)
        of the incoming projects in the incoming years. ``submitter``: as they will
        stand once its file of ``incoming`` is accepted — its earlier files superseded
        for the file's periods, whether or not they hold the file's projects there
        (without it, a project the file leaves out of a period would keep its
        superseded figure there, and another submitter's figure would stay hidden
        behind it)."""
        return self.standing_plan(incoming, submitter).collect()

    def standing_plan(self, incoming: pl.DataFrame, submitter: str | None = None) -> pl.LazyFrame:
        """``standing`` as a plan: the candidate rows are gathered from memory, the rule
        over them is one Polars plan (a collect costs about as much as a file's rows do)."""
        years = incoming["period"].str.slice(0, 4)
        codes = incoming["project_code"]
        parts = [self._year(year).rows_for(codes if years.n_unique() == 1 else codes.filter(years == year))
                 for year in years.unique().sort().to_list()]
        rows = pl.concat(parts) if len(parts) > 1 else parts[0] if parts else pl.DataFrame(schema=COLUMNS)
        # the files these rows came from (a few), each superseded for its period when it is not
        # its submitter's latest there: the tables the rule reads, in memory
        pairs = rows.select("submitter_code", "period").unique().rows()
        superseding = set(incoming["period"].unique().to_list()) if submitter is not None else set()
        latest = pl.LazyFrame([(s, p, INCOMING if s == submitter and p in superseding else self.latest.get((s, p)))
                               for s, p in pairs],
                              schema={"submitter_code": pl.String, "period": pl.String, "latest": pl.Int64},
                              orient="row")
        used = rows.lazy().select("file_id", "submitter_code", "period").unique()
        file_periods = (used.join(latest, on=["submitter_code", "period"], how="left")
                        .select("file_id", "period", pl.when(pl.col("latest") != pl.col("file_id"))
                                .then(pl.col("latest")).alias("superseded_by")))
        files = used.select("file_id", "submitter_code").unique().with_columns(
            pl.lit(None, dtype=pl.Datetime).alias("received_at"))
        ctx = pl.SQLContext(rows=rows.lazy().drop("submitter_code"), files=files, file_periods=file_periods)
        return ctx.execute(rule(), eager=False).select("project_code", "period", "ytd_completed", "submitter_code")

    def accepted(self, file_id: int, submitter: str, table: pl.DataFrame) -> None:
        """A project file was recorded as accepted: it stands for its periods now."""
        rows = table.select(pl.col("project_code"), pl.col("period"), pl.lit(file_id, dtype=pl.Int64).alias("file_id"),
                            pl.lit(submitter).alias("submitter_code"),
                            (pl.col("ytd_completed") if "ytd_completed" in table.columns else pl.lit(None))
                            .cast(pl.Float64).alias("ytd_completed"))
        for period in rows["period"].unique().to_list():
            self.latest[(submitter, period)] = file_id
        for (year,), part in rows.group_by(pl.col("period").str.slice(0, 4)):
            if year in self.years:  # a year not loaded yet is read from the ledger when first needed
                self.years[year].add(part)
