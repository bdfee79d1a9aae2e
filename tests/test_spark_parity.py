"""The same landing area built on DuckDB and on Spark publishes the same marts.

Two warehouse homes receive the same files — generated here with a seed no
other test uses, plus hand-written ones in the promised formats, some of them
rejected — and run the real ``parkstat refresh``, one with ``--target spark``
(dbt-spark's local session, real Spark), one on DuckDB. Every mart (and every
core table) of the two published files must hold the same values; then a second
night (a new month, a correction, a rejected file) is built incrementally on
both and compared again. Spark needs Java 17 and ``uv sync --group spark``;
without them these tests fail, they are not skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from ingest.synthetic import generate
from ingest.settings import WarehouseHome
from orchestration.engines import compare_published, missing_requirements
from tests.conftest import csv_bytes, materialized_row_counts, xlsx_bytes

pytestmark = pytest.mark.slow

SEED = 88  # not the benchmark's, not any other test's: files the project has never seen
PROJ_H = ["统计期", "项目代码", "项目名称", "所属地区代码", "总投资", "年度计划投资", "本年累计完成投资"]


def _write(landing: Path, submitter: str, name: str, data: bytes) -> None:
    (landing / submitter).mkdir(parents=True, exist_ok=True)
    (landing / submitter / name).write_bytes(data)


def night_one_extras(landing: Path) -> None:
    """What the generator does not write: every promised shape, and files to reject."""
    # GBK, a title row and 单位：亿元
    _write(landing, "430100", "长沙园区补报.csv", csv_bytes(
        [["长沙市园区主要指标"], ["单位：亿元"], ["统计期", "园区代码", "税收"], ["2022", "430102-P1", "1.5"]],
        encoding="gbk"))
    # merged two-row header in a workbook
    _write(landing, "430200", "株洲地区指标.xlsx", xlsx_bytes(
        [["统计期", "地区代码", "主要指标", None], [None, None, "地区生产总值（万元）", "税收（万元）"],
         ["2022", "430200", 4_000_000, 300_000]], merges=["A1:A2", "B1:B2", "C1:D1"]))
    # Traditional headers, from a county
    _write(landing, "430302", "雨湖項目.csv", csv_bytes(
        [["統計期", "項目代碼", "項目名稱", "所屬地區代碼", "總投資", "年度計劃投資", "本年累計完成投資"],
         ["2024-03", "PARITY-1", "对照项目", "430302", "9000", "3000", "800"]]))
    # contract v2: a second table for the same city-years (structure, people in 人, land in 公顷) ...
    _write(landing, "430200", "株洲结构人口面积.csv", csv_bytes(
        [["株洲市经济结构、人口与面积"], ["单位：亿元"],
         ["统计期", "地区代码", "第一产业增加值", "第二产业增加值", "第三产业增加值", "产业投资", "地方一般公共预算收入",
          "常住人口（人）", "行政区域面积（公顷）", "规模工业企业数（家）"],
         ["2023年", "430200", "290.1", "1650.4", "1931.6", "1400.2", "260.5", "3900000", "1126200", "1650"],
         ["2024年", "430200", "300.5", "1900.8", "2159.6", "1700.9", "280.3", "3890000", "1126200", "1700"],
         ["2024年", "430203", "10.5", "150.3", "200.1", "120.7", "20.3", "450000", "32000", "120"]],
        encoding="gbk"))
    # ... the province's park evaluations, and a project with level, programmes, industrial and start
    # (in February: a project list stands whole, so March's 雨湖項目.csv would supersede it)
    _write(landing, "430000", "园区评价.csv", csv_bytes(
        [["评价年度", "园区代码", "评价类别", "名次", "星级"], ["2024", "430203-P1", "十强", "1", ""],
         ["2024年", "430203-P1", "星级", "", "4"]]))
    _write(landing, "430302", "雨湖重点项目.csv", csv_bytes(
        [PROJ_H + ["项目级别", "专项", "是否产业项目", "开工日期", "项目阶段"],
         ["2024-02", "PARITY-2", "新材料项目", "430302", "20000", "8000", "1200", "省重点", "双引擎、三高四新", "是",
          "2024-02-15", "新开工"]]))
    # rejected: a figure that is not a number, a region outside the submitter's jurisdiction
    _write(landing, "430100", "坏数据.csv", csv_bytes(
        [PROJ_H, ["2024-03", "BAD-1", "坏", "430102", "9000", "三千", "100"]]))
    _write(landing, "430200", "越界.csv", csv_bytes(
        [PROJ_H, ["2024-03", "BAD-2", "越界", "430102", "9000", "3000", "100"]]))
    # many messages in one receipt: their order is the file's, on both engines
    _write(landing, "430300", "多处错误.csv", csv_bytes(
        [PROJ_H] + [["2024-03", f"BAD-{i}", "错", "430302", "9000", bad, "100"]
                    for i, bad in enumerate(["三千", "-5", "abc", "1e999", "？", "3,000.5.1"], start=3)]))


def night_two_extras(landing: Path) -> None:
    """A correction of an earlier month (a year already built) and another rejection."""
    _write(landing, "430302", "雨湖項目更正.csv", csv_bytes(
        [PROJ_H, ["2024-03", "PARITY-1", "对照项目", "430302", "9000", "3000", "950"]]))
    _write(landing, "430100", "空表.csv", csv_bytes([PROJ_H]))
    # a slimmer later report: no level, programme or industrial column; the project keeps them
    _write(landing, "430302", "雨湖重点项目4月.csv", csv_bytes(
        [PROJ_H, ["2024-04", "PARITY-2", "新材料项目", "430302", "20000", "8000", "2500"]]))


def refresh(home: Path, target: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The real command line: ``parkstat refresh --home H --target T``."""
    return subprocess.run([sys.executable, "-m", "orchestration.cli", "refresh", "--home", str(home), "--target", target],
                          env=env, capture_output=True, text=True, timeout=900)


def _files(folder: Path) -> dict[str, float]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*.parquet")}


def _copy_tree(src: Path, dst: Path) -> None:
    for p in src.rglob("*"):
        if p.is_file():
            (dst / p.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dst / p.relative_to(src))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    assert not missing_requirements("spark"), (
        "the Spark parity test needs Java 17+ and `uv sync --group spark`: " + "; ".join(missing_requirements("spark")))
    root = tmp_path_factory.mktemp("parity")
    data = root / "data"
    spec = generate("tiny", data, SEED)
    env = {**os.environ, "PARKSTAT_NOW": spec["now"], "PARKSTAT_SETTLE_SECONDS": "0",
           "PARKSTAT_REPORTING_CALENDAR": str(data / "reporting_calendar.csv"),
           # small data: few shuffle partitions, and a JVM that compiles quickly rather than well
           "PARKSTAT_SPARK_SHUFFLE_PARTITIONS": "1",
           "PARKSTAT_SPARK_JAVA_OPTIONS": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:ReservedCodeCacheSize=512m"}
    homes = {t: WarehouseHome(root / t).ensure() for t in ("duckdb", "spark")}
    night_one_extras(data / "full")  # written once: the same bytes land in both homes
    night_two_extras(data / "increment")
    temp = Path(tempfile.gettempdir())
    left_before = set(temp.glob("*_resources"))
    nights = []
    for part in ("full", "increment"):
        for home in homes.values():
            _copy_tree(data / part, home.landing)
        # the two homes are independent: both engines build the night at once
        with ThreadPoolExecutor(2) as pool:
            results = dict(zip(homes, pool.map(lambda t: refresh(homes[t].root, t, env), homes)))
        for target, result in results.items():
            assert result.returncode == 0, f"{target} night {len(nights) + 1}:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
        nights.append({t: _keep(h, f"night{len(nights) + 1}") for t, h in homes.items()})
        nights[-1]["spark_facts"] = _files(homes["spark"].spark_dir / "warehouse" / "core.db" / "fct_project_investment")
    return {"homes": homes, "nights": nights, "root": root,
            "left_in_temp": sorted(str(p) for p in set(temp.glob("*_resources")) - left_before)}


def _keep(home: WarehouseHome, name: str) -> Path:
    kept = home.root.parent / f"{home.root.name}-{name}.duckdb"
    shutil.copyfile(home.published_db, kept)
    return kept


def _counts(db: Path, schema: str) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f'select count(*) from "{schema}"."{t}"').fetchone()[0] for (t,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = ?", [schema]).fetchall()}
    finally:
        con.close()


@pytest.mark.parametrize("night", [0, 1])
def test_every_mart_and_core_table_holds_the_same_values_on_spark(built, night):
    published = built["nights"][night]
    assert compare_published(published["duckdb"], published["spark"], ("marts", "core")) == {}
    counts = _counts(published["spark"], "marts")
    # the comparison is not vacuous: every contract mart has rows, rejections and warnings included
    assert len(counts) >= 8 and all(n > 0 for n in counts.values()), counts
    con = duckdb.connect(str(published["spark"]), read_only=True)
    try:
        statuses = dict(con.execute("select status, count(*) from marts.submission_receipts group by 1").fetchall())
        built_on = con.execute("select built_on from meta.publish").fetchone()[0]
    finally:
        con.close()
    assert statuses.get("rejected", 0) >= (3 if night == 0 else 4) and statuses.get("accepted", 0) > 50, statuses
    con = duckdb.connect(str(published["spark"]), read_only=True)
    try:
        messages = con.execute("select messages from marts.submission_receipts where file_name = '多处错误.csv'").fetchone()[0]
    finally:
        con.close()
    assert [line.split("第")[1].split("行")[0] for line in messages.splitlines()] == list("234567"), messages
    assert built_on == "spark"


def test_the_second_night_is_incremental_on_spark(built):
    """insert_overwrite by period_year: the 2024 partition is rewritten (a new month,
    a correction of March), 2023's files — a year nothing touched — stay as the first
    night wrote them."""
    before, after = built["nights"][0]["spark_facts"], built["nights"][1]["spark_facts"]
    years = sorted({name.split("/")[0] for name in after})
    assert years == ["period_year=2023", "period_year=2024"], years

    def year(files: dict, y: int) -> dict:
        return {k: v for k, v in files.items() if k.startswith(f"period_year={y}/")}

    assert year(before, 2023) and year(after, 2023) == year(before, 2023)
    assert year(after, 2024) and set(year(after, 2024)).isdisjoint(year(before, 2024))
    con = duckdb.connect(str(built["homes"]["spark"].published_db), read_only=True)
    try:
        rows = con.execute("select period, ytd_completed from core.fct_project_investment "
                           "where project_code = 'PARITY-1'").fetchall()
        months = con.execute("select count(distinct period) from core.fct_project_investment "
                             "where period like '2024-%'").fetchone()[0]
        # April's slimmer report (no level, programme or industrial column) kept March's attributes
        kept = con.execute("select period, project_level, programmes, is_industrial, stage "
                           "from core.fct_project_investment where project_code = 'PARITY-2' order by 1").fetchall()
        groups = con.execute("select group_type, group_value, project_count from marts.investment_by_group "
                             "where period = '2024-04' and region_code = '430302' and group_type in "
                             "('level', 'programme', 'industrial') order by 1, 2").fetchall()
    finally:
        con.close()
    assert rows == [("2024-03", 950.0)] and months == 11  # 2024-02..2024-12
    assert kept == [("2024-02", "province", "双引擎；三高四新", True, "新开工"),
                    ("2024-04", "province", "双引擎；三高四新", True, "新开工")], kept
    assert ("level", "province", 1) in groups and ("programme", "三高四新", 1) in groups \
        and ("industrial", "true", 1) in groups, groups


def test_the_published_outputs_are_made_from_spark_results(built):
    current = built["homes"]["spark"].current
    assert (current / "parkstat.xlsx").stat().st_size > 0 and (current / "report.html").stat().st_size > 0
    con = duckdb.connect()
    try:
        for mart in ("park_share_comparison", "investment_progress", "submission_status"):
            parquet = con.execute(f"select count(*) from read_parquet(?)",
                                  [str(current / "marts" / f"{mart}.parquet")]).fetchone()[0]
            assert parquet == _counts(built["nights"][1]["spark"], "marts")[mart] > 0, mart
    finally:
        con.close()


def test_spark_leaves_nothing_in_the_systems_temp_directory(built):
    # Hive's session state made a <session id>_resources folder there on every night, for good;
    # the profile keeps it in the home's Spark folder
    assert built["left_in_temp"] == []
    assert (built["homes"]["spark"].spark_dir / "hive_resources").is_dir()


def test_every_table_the_spark_build_made_carries_its_row_count(built):
    """dbt-spark runs only the hooks inside its transaction: the row count a table tells
    (macros/row_count.sql) must reach Dagster from there too."""
    counts, tables = materialized_row_counts(built["homes"]["spark"])
    assert tables and {k: v for k, v in counts.items() if not k.startswith("intermediate/")} == tables


def test_the_comparison_finds_any_difference(built, tmp_path):
    """A changed figure, a missing row, an extra row, a missing mart: each is reported."""
    base = built["nights"][0]["duckdb"]
    cases = {
        "update marts.park_rankings set value = value + 0.000001 where rowid = "
        "(select min(rowid) from marts.park_rankings where value is not null)": "marts.park_rankings",
        "delete from marts.submission_messages where rowid = 0": "marts.submission_messages",
        "insert into marts.region_share select * from marts.region_share limit 1": "marts.region_share",
        "drop table marts.growth_comparison": "marts.growth_comparison",
        "update marts.submission_status set due_date = null where rowid = "
        "(select min(rowid) from marts.submission_status where due_date is not null)": "marts.submission_status",
    }
    for i, (sql, table) in enumerate(cases.items()):
        changed = tmp_path / f"changed{i}.duckdb"
        shutil.copyfile(base, changed)
        os.chmod(changed, 0o644)
        con = duckdb.connect(str(changed))
        con.execute(sql)
        con.close()
        differences = compare_published(base, changed)
        assert list(differences) == [table], (sql, differences)
    assert compare_published(base, base) == {}
    # the same from the command line, as an operator checks a migration
    cli = [sys.executable, "-m", "orchestration.cli", "compare"]
    result = subprocess.run([*cli, str(base), str(tmp_path / "changed0.duckdb")], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout.startswith("marts.park_rankings: 1 rows only in ") and ", 1 rows only in " in result.stdout
    result = subprocess.run([*cli, str(base), str(base), "--schemas", "marts,core"], capture_output=True, text=True)
    assert result.returncode == 0 and "the same values in every table of marts,core" in result.stdout
    result = subprocess.run([*cli, str(base), str(base), "--schemas", "mart"], capture_output=True, text=True)
    assert result.returncode == 2 and "nothing to compare: neither file has a table in mart" in result.stderr


def test_spark_without_java_or_pyspark_is_refused_before_anything_is_ingested(tmp_path):
    home = WarehouseHome(tmp_path / "wh").ensure()
    _write(home.landing, "431300", "项目.csv", csv_bytes([PROJ_H, ["2022-03", "C", "丙", "431382", "9000", "2000", "1000"]]))
    bare = tmp_path / "bin"
    bare.mkdir()
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "no-java"), "PATH": str(bare)}
    result = refresh(home.root, "spark", env)
    assert result.returncode == 2
    assert "cannot build on spark: no Java found" in result.stderr
    assert "Java 17" in result.stderr and "uv sync --group spark" in result.stderr
    assert (home.landing / "431300" / "项目.csv").exists() and not any(home.archive.rglob("*.csv"))
    result = refresh(home.root, "oracle", env)
    assert result.returncode == 2 and "unknown build target 'oracle': choose duckdb or spark" in result.stderr


def test_publish_reads_spark_tables_by_their_shapes(built, tmp_path):
    """A partitioned table keeps its column types (from the shape the build wrote
    beside it, not guessed from folder names); when Spark wrote no file for it (an
    empty partitioned table) it is published empty with the same columns; with no
    shape either, publish says what is missing."""
    from orchestration.engines import EngineError
    from orchestration.publish import build_candidate

    spark = built["homes"]["spark"]
    con = duckdb.connect(str(built["nights"][1]["spark"]), read_only=True)
    try:
        columns = con.execute("select column_name, data_type from duckdb_columns() "
                              "where schema_name = 'core' and table_name = 'fct_project_investment'").fetchall()
    finally:
        con.close()
    assert ("period_year", "INTEGER") == columns[-1], columns

    home = WarehouseHome(tmp_path / "wh").ensure()
    shutil.copytree(spark.spark_dir / "warehouse", home.spark_dir / "warehouse")
    facts = home.spark_dir / "warehouse" / "core.db" / "fct_project_investment"
    for part in facts.glob("period_year=*"):
        shutil.rmtree(part)  # what Spark leaves of an empty partitioned table: _SUCCESS only
    candidate, counts = build_candidate(home, "empty", target="spark")
    assert counts["core.fct_project_investment"] == 0 and counts["marts.investment_progress"] > 0
    con = duckdb.connect(str(candidate), read_only=True)
    try:
        assert con.execute("select column_name, data_type from duckdb_columns() where schema_name = 'core' "
                           "and table_name = 'fct_project_investment'").fetchall() == columns
    finally:
        con.close()
    shutil.rmtree(home.spark_dir / "warehouse" / "core.db" / "_shapes")
    with pytest.raises(EngineError) as raised:
        build_candidate(home, "no-shape", target="spark")
    assert str(raised.value).startswith("core.fct_project_investment: Spark wrote no Parquet under ")
    assert "and no shape of it under " in str(raised.value) and "_shapes/fct_project_investment" in str(raised.value)
