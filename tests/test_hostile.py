"""Hostile files in the landing area: strange names, symlinks, zip bombs,
oversized files, one enormous line, cell text that is SQL, shell or a formula.
Each is refused or stored verbatim and made harmless, with a receipt naming
the reason, and nothing outside the warehouse home is read or changed."""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import zipfile
from pathlib import Path

import duckdb
import pytest

from ingest.pipeline import ingest_landing
from tests.conftest import csv_bytes, drop, ledger_rows, make_home, xlsx_bytes

GOOD = csv_bytes([["统计期", "地区代码", "地区生产总值"], ["2021", "431300", "100"]])


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A warehouse home and, beside it, a folder the warehouse must never touch."""
    monkeypatch.setenv("PARKSTAT_NOW", "2023-06-15T09:00:00")
    monkeypatch.setenv("PARKSTAT_PARTIAL_GRACE_SECONDS", "0")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_bytes(csv_bytes([["统计期", "地区代码", "地区生产总值"], ["2021", "431300", "777"]]))
    home = make_home(tmp_path / "wh")
    return home, outside


def tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*"))}


def only_receipt(home):
    s = ingest_landing(home)
    assert len(s.receipts) == 1, [r.file_name for r in s.receipts]
    return s.receipts[0]


@pytest.mark.parametrize("name", ["..报表.csv", "...", "..\\..\\evil.csv", "a\nb.csv", "\x1b[31mred\x07.csv",
                                  "'; DROP TABLE files; --.csv", "$(touch pwned).csv"])
def test_strange_names_are_only_data(world, name):
    home, outside = world
    before = tree(outside)
    drop(home, "431300", name, GOOD)
    r = only_receipt(home)
    assert r.status == "accepted" and r.file_name == name
    assert ledger_rows(home, "select file_name from files") == [(name,)]
    # the receipt sits in the submitter's folder under a name made of time, hash and number
    [txt] = (home.receipts / "431300").glob("*.txt")
    assert txt.name.endswith(f"_{r.file_sha256[:12]}_{r.file_id}.txt")
    assert tree(outside) == before and not Path("pwned").exists()
    assert not any(p.name == "evil.csv" for p in home.root.parent.rglob("evil.csv"))


def test_a_name_that_is_not_utf8_is_kept_escaped(world):
    home, _ = world
    folder = home.landing / "431300"
    folder.mkdir(parents=True)
    raw = os.fsencode(str(folder)) + b"/\xff\xfe\xb1\xa8.csv"
    with open(raw, "wb") as fh:
        fh.write(GOOD)
    r = only_receipt(home)
    assert r.status == "accepted"
    assert r.file_name == "\\xff\\xfe\\xb1\\xa8.csv"  # undecodable bytes shown, never guessed
    assert not os.path.exists(raw)


def test_a_symlink_to_a_file_outside_is_refused_and_never_read(world):
    home, outside = world
    before = tree(outside)
    (home.landing / "431300").mkdir(parents=True)
    os.symlink(outside / "secret.csv", home.landing / "431300" / "report.csv")
    r = only_receipt(home)
    assert r.status == "rejected"
    assert [(m.code, m.en) for m in r.messages] == [
        ("symlink", "a symbolic link is refused (what it points to was not read)")]
    assert tree(outside) == before
    assert not (home.landing / "431300" / "report.csv").is_symlink()  # the link is gone, its target is not
    assert not list(home.archive.rglob("*"))  # nothing read, nothing archived
    assert ledger_rows(home, "select count(*) from indicator_values") == [(0,)]


def test_a_symlinked_submitter_folder_is_refused_and_never_walked(world):
    home, outside = world
    before = tree(outside)
    os.symlink(outside, home.landing / "431300")
    r = only_receipt(home)
    assert r.status == "rejected" and r.messages[0].code == "symlink" and r.submitter_code == "431300"
    assert tree(outside) == before and (outside / "secret.csv").exists()
    assert ledger_rows(home, "select count(*) from indicator_values") == [(0,)]


def zip_bomb(inflated_mb: int) -> bytes:
    """A valid-looking XLSX whose sheet inflates to ``inflated_mb`` MB of zeros."""
    good = zipfile.ZipFile(io.BytesIO(xlsx_bytes([["统计期", "地区代码", "地区生产总值"], ["2021", "431300", 1]])))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in good.infolist():
            z.writestr(info.filename, good.read(info.filename))
        with z.open("xl/worksheets/padding.bin", "w", force_zip64=True) as fh:
            block = b"\0" * (1 << 20)
            for _ in range(inflated_mb):
                fh.write(block)
    return buf.getvalue()


def test_a_workbook_that_inflates_past_the_limit_is_refused_unopened(world, monkeypatch):
    home, _ = world
    monkeypatch.setenv("PARKSTAT_MAX_INFLATED_MB", "40")
    bomb = zip_bomb(64)
    assert len(bomb) < 1_000_000
    drop(home, "431300", "bomb.xlsx", bomb)
    t0 = time.monotonic()
    r = only_receipt(home)
    assert time.monotonic() - t0 < 10
    assert r.status == "rejected"
    assert "the workbook inflates to 64 MB, over the limit of 40 MB" in r.messages[0].en
    assert (home.archive / r.file_sha256[:2] / r.file_sha256).read_bytes() == bomb  # kept verbatim


def test_a_file_over_the_size_limit_is_archived_and_refused(world, monkeypatch):
    home, _ = world
    monkeypatch.setenv("PARKSTAT_MAX_FILE_MB", "1")
    big = GOOD + b"\n".join(b"2021,431300,%d" % i for i in range(200_000))
    assert len(big) > 2**20
    drop(home, "431300", "big.csv", big)
    r = only_receipt(home)
    assert r.status == "rejected" and r.messages[0].code == "too_large"
    assert "over the limit of 1 MB; archived, not read" in r.messages[0].en
    assert r.file_sha256 == hashlib.sha256(big).hexdigest()
    assert (home.archive / r.file_sha256[:2] / r.file_sha256).read_bytes() == big
    assert ledger_rows(home, "select size_bytes from files") == [(len(big),)]


@pytest.mark.parametrize("line,reason", [
    (b"x" * 5_000_000, "malformed CSV (field larger than field limit (131072)): open it in Excel and save it again"),
    (b"1," * 2_000_000, "row 1 has 2,000,001 columns, over the limit of 500"),
])
def test_one_enormous_line_is_refused_with_its_reason(world, line, reason):
    home, _ = world
    drop(home, "431300", "line.csv", line)
    t0 = time.monotonic()
    r = only_receipt(home)
    assert time.monotonic() - t0 < 30
    assert r.status == "rejected" and reason in r.messages[0].en, r.text()


def test_cell_text_that_is_sql_shell_or_a_formula_is_stored_verbatim_and_runs_nothing(world, tmp_path):
    home, _ = world
    drop(home, "431300", "名录.csv", csv_bytes([["园区代码", "园区名称", "所属地区代码"],
                                              ["431300-A", "'; DROP TABLE files; --", "431302"],
                                              ["431300-B", f"$(touch {tmp_path}/pwned)`id`", "431302"],
                                              ["431300-C", '=HYPERLINK("http://x","y")', "431302"],
                                              ["431300-D", "Robert'); DROP TABLE park_registry;--", "431302"]]))
    r = only_receipt(home)
    assert r.status == "accepted"
    names = [n for (n,) in ledger_rows(home, "select park_name from park_registry order by park_code")]
    assert names == ["'; DROP TABLE files; --", f"$(touch {tmp_path}/pwned)`id`", '=HYPERLINK("http://x","y")',
                     "Robert'); DROP TABLE park_registry;--"]
    assert ledger_rows(home, "select count(*) from files") == [(1,)]
    assert not (tmp_path / "pwned").exists()
    receipt = json.loads(next((home.receipts / "431300").glob("*.json")).read_text(encoding="utf-8"))
    assert receipt["status"] == "accepted"


def test_a_file_still_being_written_waits_for_the_next_run(world, monkeypatch):
    home, _ = world
    monkeypatch.setenv("PARKSTAT_SETTLE_SECONDS", "3600")
    monkeypatch.setenv("PARKSTAT_PARTIAL_GRACE_SECONDS", "3600")
    drop(home, "431300", "fresh.csv", GOOD)
    drop(home, "431300", "upload.csv.part", GOOD)
    assert ingest_landing(home).receipts == []
    assert (home.landing / "431300" / "fresh.csv").exists()
    monkeypatch.setenv("PARKSTAT_SETTLE_SECONDS", "0")
    assert [r.file_name for r in ingest_landing(home).receipts] == ["fresh.csv"]
    old = time.time() - 7200
    os.utime(home.landing / "431300" / "upload.csv.part", (old, old))
    [r] = ingest_landing(home).receipts  # an abandoned upload is answered in the end, not left forever
    assert r.file_name == "upload.csv.part"


def test_a_warehouse_home_whose_path_has_a_quote(tmp_path, monkeypatch):
    monkeypatch.setenv("PARKSTAT_NOW", "2023-06-15T09:00:00")
    home = make_home(tmp_path / "o'brien's \"wh\"")
    drop(home, "431300", "a.csv", GOOD)
    assert only_receipt(home).status == "accepted"
    con = duckdb.connect()
    assert con.execute("select count(*) from read_parquet(?)",
                       [str(home.staged / "indicator_values" / "*.parquet")]).fetchone() == (1,)
