"""The table of row checks (ingest/reference/row_checks.csv) is the one place a
row's rules live: a line added to it is reported by both ingest paths, on the
same row, with its words; and the documented list of checks is the table's."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from ingest import row_checks
from ingest.reference import REFERENCE_DIR
from tests.conftest import csv_bytes

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["统计期", "项目代码", "项目名称", "所属地区代码", "所属园区代码", "总投资", "年度计划投资", "本年累计完成投资"]
ROWS = [HEADER, ["2024-05", "XM1", "项目甲", "431302", "", "5000", "1200", "300"],
        ["2024-05", "XM2", "项目乙", "431302", "", "800", "1200", "300"]]  # a year's plan above the whole project

BOTH_PATHS = """
import datetime as dt, json, sys
from ingest.layout import SCAN_ROWS, find_layout
from ingest.readers import read_grid
from ingest.validate import parse_rows
from ingest.vectorized import parse_table
data = open(sys.argv[1], "rb").read()
grid = read_grid(data, "p.csv")
layout = find_layout(grid.head(SCAN_ROWS + 1))
today = dt.date(2025, 6, 15)
fast = parse_table(grid, layout, "431300", {}, today)
slow = parse_rows(read_grid(data, "p.csv").rows, layout, "431300", {}, today)
print(json.dumps({name: {"messages": [m.as_dict() for m in p.messages], "accepted": p.table()["project_code"].to_list()}
                  for name, p in (("fast", fast), ("slow", slow)) if p is not None}, ensure_ascii=False))
"""

NEW_CHECK = {"code": "plan_above_total", "kinds": "project_progress", "field": "annual_plan", "scope": "row",
             "severity": "error", "when": "annual_plan > total_investment", "sets": "",
             "zh": "年度计划投资 {annual_plan} 万元超过总投资 {total_investment} 万元",
             "en": "the annual plan ({annual_plan} 万元) exceeds the whole project's investment", "value": ""}


def both_paths(checkout: Path, data: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARKSTAT_")}
    out = subprocess.run([sys.executable, "-c", BOTH_PATHS, str(data)], cwd=checkout, capture_output=True,
                         text=True, env={**env, "PYTHONPATH": str(checkout)}, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


def test_a_check_added_to_the_table_is_reported_by_both_paths(tmp_path):
    data = tmp_path / "p.csv"
    data.write_bytes(csv_bytes(ROWS))
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / "ingest", checkout / "ingest", ignore=shutil.ignore_patterns("__pycache__"))
    # as the table stands, nothing is wrong with the file: the column path takes it whole
    before = both_paths(checkout, data)
    assert before["fast"] == before["slow"] == {"messages": [], "accepted": ["XM1", "XM2"]}
    with (checkout / "ingest" / "reference" / "row_checks.csv").open("a", encoding="utf-8", newline="") as fh:
        csv.DictWriter(fh, fieldnames=list(NEW_CHECK)).writerow(NEW_CHECK)
    after = both_paths(checkout, data)
    assert after["fast"] == after["slow"] == {"messages": [{
        "severity": "error", "code": "plan_above_total", "zh": "年度计划投资 1200.0 万元超过总投资 800.0 万元",
        "en": "the annual plan (1200.0 万元) exceeds the whole project's investment", "row": 3,
        "column": "年度计划投资", "value": "1200"}], "accepted": ["XM1"]}
    # not a line of Python changed for it
    assert all((ROOT / p.relative_to(checkout)).read_bytes() == p.read_bytes() for p in checkout.rglob("*.py"))


def _table_codes() -> list[str]:
    with (REFERENCE_DIR / "row_checks.csv").open(encoding="utf-8", newline="") as fh:
        return list(dict.fromkeys(r["code"] for r in csv.DictReader(fh)))


def test_the_documented_checks_are_the_tables():
    doc = (ROOT / "docs" / "submissions.md").read_text(encoding="utf-8")
    listed = re.search(r"Its checks, in its order:(.*?)\. ", doc, re.S)
    assert listed, "docs/submissions.md no longer lists the row checks"
    assert re.findall(r"`(\w+)`", listed.group(1)) == _table_codes()
    reasons = doc[doc.index("## Reasons on a receipt"):]
    table = {c for line in reasons.splitlines() if line.startswith("| `") for c in re.findall(r"`(\w+)`", line.split("|")[1])}
    assert set(_table_codes()) <= table, set(_table_codes()) - table


def test_every_check_of_the_table_is_well_formed():
    """Each line names known kinds, a scope and a severity, applies to some kind,
    and its expressions and placeholders read columns the checked frame has: the
    whole table runs over an empty file of every kind."""
    import polars as pl

    from ingest import reference

    kinds = reference.kinds()
    for c in row_checks.checks():
        assert c.scope in ("cell", "row") and c.severity in ("error", "warning"), c
        assert c.kinds <= set(kinds), c
        assert any(c in (a for a, _ in row_checks.applied(k)) for k in kinds), f"{c.code} applies to nothing"
    for k in kinds:
        empty = row_checks.prepare(pl.DataFrame({"row_number": pl.Series([], dtype=pl.Int64)}), k, {},
                                   pl.Series([], dtype=pl.Int64), "431300", {})
        found = row_checks.run(empty, k, row_checks.params("431300", "2025-06"), {}, {})
        assert found.messages == [] and found.frame.height == 0
