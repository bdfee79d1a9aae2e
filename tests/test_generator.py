"""One generator of synthetic submissions (``ingest/synthetic/``) for the demo,
the tests and the benchmark: each of its rules is defined once, its three users
call it, ``generate("sample")`` writes what ``parkstat demo`` writes, and every
shape it writes is taken in with the values it was given."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ingest.pipeline import ingest_landing
from ingest.synthetic import SIZES, generate
from ingest.synthetic.codes import reported_code
from ingest.synthetic.sample import write_demo
from ingest.synthetic.shapes import shapes, write_table
from tests.conftest import ledger_rows

ROOT = Path(__file__).resolve().parents[1]
TREES = ("ingest", "orchestration", "intake", "benchmarks", "tests", "fuzz", "scripts")
GENERATOR = ROOT / "ingest" / "synthetic"
# the rules the issue found defined twice (reported_code disagreed between two generators)
ONCE = {"reported_code", "csv_bytes", "xlsx_bytes", "xls_bytes", "workbook", "write_table", "money_text",
        "header_rows", "period_text"}


def _modules():
    for tree in TREES:
        for path in sorted((ROOT / tree).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_each_rule_of_the_generated_files_is_defined_once_in_the_generator():
    where: dict[str, list[str]] = {}
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in ONCE:
                where.setdefault(node.name, []).append(str(path.relative_to(ROOT)))
    assert {name: len(paths) for name, paths in where.items()} == dict.fromkeys(ONCE, 1), where
    assert all(p[0].startswith("ingest/synthetic/") for p in where.values()), where


def test_only_the_generator_writes_csv_and_workbooks():
    """Outside the generator nothing writes a CSV with ``csv.writer`` or a workbook
    with openpyxl or xlwt, but the intake's submission templates (a product, not
    a generated submission)."""
    writers = set()
    for path, tree in _modules():
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in ("openpyxl", "xlwt") and \
                    any(a.name == "Workbook" for a in node.names) or \
                    isinstance(node, ast.Import) and any(a.name == "xlwt" for a in node.names) or \
                    isinstance(node, ast.Attribute) and node.attr == "writer" and \
                    isinstance(node.value, ast.Name) and node.value.id == "csv":
                writers.add(rel)
    assert writers == {"ingest/synthetic/files.py", "intake/workbooks.py"}


def test_the_demo_the_tests_and_the_benchmark_call_the_generator():
    import benchmarks.__main__ as bench_cli
    import benchmarks.run as bench_run
    import tests.conftest as conftest
    from ingest.synthetic import files

    assert not (ROOT / "benchmarks" / "generate.py").exists()
    assert bench_run.generate is generate and bench_run.SIZES is SIZES
    assert set(bench_cli.SIZES) == {"tiny", "province", "national"}
    for name in ("csv_bytes", "xlsx_bytes", "xls_bytes", "workbook"):
        assert getattr(conftest, name) is getattr(files, name), name
    cli = ast.parse((ROOT / "orchestration" / "cli.py").read_text(encoding="utf-8"))
    demo = next(n for n in ast.walk(cli) if isinstance(n, ast.FunctionDef) and n.name == "demo")
    assert [(n.module, [a.name for a in n.names]) for n in ast.walk(demo) if isinstance(n, ast.ImportFrom)] \
        == [("ingest.synthetic.sample", ["write_demo"])]


def test_generate_sample_writes_the_files_the_demo_uses(tmp_path: Path, home):
    counts = generate("sample", tmp_path / "gen")
    demo_files, example = write_demo(home)
    full = tmp_path / "gen" / "full"
    generated = sorted(p.relative_to(full) for p in full.rglob("*") if p.is_file())
    assert generated == sorted(p.relative_to(home.landing) for p in demo_files)
    assert counts["files"] == len(generated) == 104 and counts["increment_files"] == 0
    assert {p.suffix for p in generated} == {".csv", ".xlsx"}
    for rel in generated:  # byte for byte, the workbooks too (their timestamps are fixed)
        assert (full / rel).read_bytes() == (home.landing / rel).read_bytes(), rel
    assert (tmp_path / "gen" / "reporting_calendar.csv").read_bytes() == home.reporting_calendar.read_bytes()
    assert example.parent == home.root / "examples"


def test_a_workbook_is_the_same_bytes_whenever_it_is_written():
    import time

    from ingest.synthetic.files import xlsx_bytes

    first = xlsx_bytes([["统计期", "税收"], ["2022-04", 12]], merges=["A1:B1"])
    time.sleep(1.1)  # a zip entry's time has a two-second grain: cross at least one boundary in two tries
    assert xlsx_bytes([["统计期", "税收"], ["2022-04", 12]], merges=["A1:B1"]) == first
    time.sleep(1.1)
    assert xlsx_bytes([["统计期", "税收"], ["2022-04", 12]], merges=["A1:B1"]) == first


def test_an_unknown_size_is_named_with_the_sizes_there_are(tmp_path: Path):
    with pytest.raises(ValueError) as exc:
        generate("galactic", tmp_path)
    assert str(exc.value) == "unknown size 'galactic'; choose one of sample, tiny, province, national"


def test_a_county_is_reported_under_the_code_of_its_year():
    assert [reported_code("431181", y) for y in (2019, 2020, 2021, 2023)] == ["431121", "431121", "431181", "431181"]
    assert reported_code("370116", 2017) == "371202"  # 莱芜区 was 莱城区 (a county), not 莱芜市 (a city)
    assert reported_code("130402", 2015) == "130402"  # 邯山区 existed before 邯郸县 merged into it
    assert reported_code("653228", 2023) is None and reported_code("653228", 2024) == "653228"  # 和康县, of no earlier county


@pytest.mark.parametrize("shape", sorted(shapes()))
def test_every_shape_is_taken_in_with_the_values_it_was_written_with(home, shape, monkeypatch):
    monkeypatch.setenv("PARKSTAT_NOW", "2023-06-15T09:00:00")
    fields = ["period", "region_code", "region_name", "gdp", "tax", "resident_population"]
    rows = [["2022年", "431300", "娄底市", 18_700_000, 1_234_567.4, 382.5],
            ["2022年", "431381", "冷水江市", 3_400_000, 250_000, None]]
    path = write_table(home.landing / "431300" / "地区", shape, "region_indicators", "2022年娄底市主要指标", fields,
                       rows, {"gdp", "tax"}, {"resident_population": ("万人", 1)})
    assert path.suffix == "." + shapes()[shape].file
    receipt = ingest_landing(home).receipts[0]
    assert receipt.status == "accepted", receipt.text()
    got = ledger_rows(home, "select entity_code, indicator, value_wan from indicator_values order by 1, 2")
    # money as the shape writes it: 万元 to six significant digits in en_utf8, 亿元 to four places (1 万元)
    tax = {"en_utf8": 1_234_570, "gbk_title_yi": 1_234_567}.get(shape, 1_234_567.4)
    assert [(e, i, float(v)) for e, i, v in got if i in ("gdp", "tax")] == [
        ("431300", "gdp", 18_700_000), ("431300", "tax", pytest.approx(tax)),
        ("431381", "gdp", 3_400_000), ("431381", "tax", 250_000)]
