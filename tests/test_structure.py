"""The house's shape, checked: ``ingest/`` is the library at the bottom and imports
nothing above it; no two modules of parkstat import each other, directly or round
a loop (imports inside functions count: they are how cycles hide)."""

from __future__ import annotations

import ast
import os
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ingest", "orchestration", "intake")


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    modules = {_module(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            edges |= {t for t in targets if t in modules and t != name}
        graph[name] = edges
    return graph


def test_the_ingest_library_imports_nothing_above_it():
    upward = {m: sorted(e for e in edges if not e.startswith("ingest"))
              for m, edges in import_graph().items() if m.startswith("ingest")}
    assert {m: e for m, e in upward.items() if e} == {}


def test_no_import_cycles():
    graph = import_graph()
    cycles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()  # orchestration.cli imports these inside its commands only
    assert {"orchestration.instance", "orchestration.status"} <= graph["orchestration.cli"]


# -- changes that are data, not code: tried in a copy of the checkout ---------------------------

NEW_MART_SQL = """-- 社会消费品零售总额 by region: a mart added by a YAML file and a query, nothing else
select period, entity_code as region_code, value as retail_sales
from {{ ref('fct_indicator_values') }}
where entity_type = 'region' and indicator = 'retail_sales'
"""
NEW_MART_YML = """version: 2
models:
- name: region_retail_sales
  description: 各地区社会消费品零售总额 / retail sales of consumer goods by region
  config:
    meta: {sheet: 社零总额, sheet_order: 99, required: false}
  columns:
  - name: period
    data_type: varchar
    description: 统计期 / period
    meta: {header_zh: 统计期}
  - name: region_code
    data_type: varchar
    description: 地区代码 / region code
    meta: {header_zh: 地区代码}
  - name: retail_sales
    data_type: decimal(38,10)
    description: 社会消费品零售总额（万元）/ retail sales of consumer goods, 万元
    meta: {header_zh: 社零总额（万元）}
"""


def _append(path: Path, line: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text + ("" if text.endswith("\n") else "\n") + line + "\n", encoding="utf-8")


@pytest.mark.slow
def test_a_region_only_indicator_and_a_new_mart_are_data_not_code(tmp_path):
    """A region-only indicator is three CSV rows (the indicator, its column in the
    region report, its header) and reaches the marts; a new mart is a query and its
    YAML, and appears in the workbook with its Chinese headers and enforced types.
    Not a line of Python changes."""
    import shutil
    import subprocess
    import sys

    from openpyxl import load_workbook

    from tests.conftest import csv_bytes, drop, make_home, query

    copy = tmp_path / "checkout"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for rel in filter(None, tracked.decode().split("\0")):
        if rel.split("/")[0] in ("ingest", "orchestration", "dbt_project", "intake", "pyproject.toml"):
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, copy / rel)
    ref = copy / "ingest" / "reference"
    _append(ref / "indicators.csv", "retail_sales,社会消费品零售总额,retail sales of consumer goods,万元,CNY")
    _append(ref / "report_kinds.csv", "region_indicators,retail_sales,社会消费品零售总额,money,indicator,no,")
    _append(ref / "header_synonyms.csv", "retail_sales,社零总额,")
    (copy / "dbt_project" / "models" / "marts" / "region_retail_sales.sql").write_text(NEW_MART_SQL, encoding="utf-8")
    (copy / "dbt_project" / "models" / "marts" / "_region_retail_sales.yml").write_text(NEW_MART_YML, encoding="utf-8")
    assert not list(copy.rglob("*.py")) or all(
        (ROOT / p.relative_to(copy)).read_bytes() == p.read_bytes() for p in copy.rglob("*.py"))

    home = make_home(tmp_path / "wh")
    header = ["统计期", "地区代码", "地区名称", "地区生产总值", "社零总额"]
    drop(home, "431300", "2021.csv", csv_bytes([header, ["2021年12月", "431300", "娄底市", "1800000", "600000"]]))
    drop(home, "431300", "2022.csv", csv_bytes([header, ["2022年12月", "431300", "娄底市", "1900000", "660000"]]))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARKSTAT_", "DAGSTER_", "WAREHOUSE_"))}
    env.update(PYTHONPATH=str(copy), PARKSTAT_SETTLE_SECONDS="0", DO_NOT_TRACK="1")
    out = subprocess.run([sys.executable, "-m", "orchestration.cli", "refresh", "--home", str(home.root)], cwd=copy,
                         env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    # the indicator reached the marts: 10 % growth of 娄底's retail sales
    assert query(home, """select indicator_name, cast(growth_pct as double) from marts.growth_comparison
                          where entity_code = '431300' and period = '2022-12' and indicator = 'retail_sales'""") \
        == [("社会消费品零售总额", 10.0)]
    assert query(home, "select period, region_code, retail_sales from marts.region_retail_sales order by 1") == [
        ("2021-12", "431300", Decimal("600000")), ("2022-12", "431300", Decimal("660000"))]
    # the new mart is a sheet of the workbook, last, under its Chinese headers
    wb = load_workbook(home.current / "parkstat.xlsx", read_only=True)
    assert wb.sheetnames[-2:] == ["社零总额", "说明"]
    assert [c.value for c in next(wb["社零总额"].iter_rows(max_row=1))] == ["统计期", "地区代码", "社零总额（万元）"]
    # its columns are described in both languages in the published file, like every mart's
    assert query(home, """select comment from duckdb_columns() where schema_name = 'marts'
                          and table_name = 'region_retail_sales' and column_name = 'retail_sales'""") == [
        ("社会消费品零售总额（万元）/ retail sales of consumer goods, 万元",)]
