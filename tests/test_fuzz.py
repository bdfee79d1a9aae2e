"""The fuzz targets on a small, repeatable budget (``python -m fuzz`` runs 100,000+):
any cell, grid or byte string yields a value, a named problem or a receipt."""

from __future__ import annotations

import pytest

from fuzz.targets import TARGETS, run_target
from ingest.pipeline import Arrival, examine
from ingest.values import ValueProblem, parse_date

BUDGET = {"cells": 600, "reader": 150, "layout": 300, "whole_file": 150}


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_no_input_escapes_as_an_unhandled_exception(target):
    assert run_target(target, BUDGET[target.name], seed=0) == BUDGET[target.name]


def test_what_the_fuzzer_found_stays_fixed(tmp_path):
    # a ten-digit "year" in a date cell overflowed datetime instead of being a named problem
    # (a year must now have four digits: the fuzzer's 0月2200000000 is named by that rule first)
    with pytest.raises(ValueProblem, match="must have four digits"):
        parse_date("0月2200000000")
    with pytest.raises(ValueProblem, match="unrecognised date"):
        parse_date("2020-1-99999999999999999999")
    # a mutated .xls made calamine panic (a BaseException) and, in another case, allocate until killed
    from fuzz.targets import SEEDS

    xls = next(s for s in SEEDS if s.startswith(b"\xd0\xcf\x11\xe0"))
    broken = bytearray(xls)
    broken[0x30:0x34] = b"\xff\xff\xff\x7f"  # the directory's first sector: far past the end
    arr = Arrival(None, "431300", "broken.xls", bytes(broken), "0" * 64, size=len(broken))
    examine(arr)
    assert arr.problem is not None and arr.problem.code == "unreadable"
    assert "cannot read the spreadsheet" in arr.problem.en or "could not be read safely" in arr.problem.en


def _bad_crc(data: bytes, member: str) -> bytes:
    """``data`` (a zip) with the central directory's CRC-32 of ``member`` wrong."""
    out = bytearray(data)
    at = 0
    while (at := out.find(b"PK\x01\x02", at + 1)) != -1:
        name_len = int.from_bytes(out[at + 28:at + 30], "little")
        if out[at + 46:at + 46 + name_len] == member.encode():
            out[at + 16:at + 20] = b"\x00\x00\x00\x00"
            return bytes(out)
    raise AssertionError(member)


def test_a_workbook_whose_styles_fail_their_checksum_is_read_with_a_warning():
    # found by the fuzzer (issue 15): calamine reads the cells, the zip's check of xl/styles.xml
    # failed in the pass that looks for formulas and percentages and escaped as an exception
    from ingest.readers import read_grid
    from tests.conftest import xlsx_bytes

    grid = read_grid(_bad_crc(xlsx_bytes([["统计期", "园区代码", "税收"], ["2022-04", "431300-ETDZ", 1]]),
                              "xl/styles.xml"), "r.xlsx")
    assert grid.rows[1] == ["2022-04", "431300-ETDZ", "1"]
    warn = [m for m in grid.notes if m.code == "cells_unchecked"]
    assert warn and warn[0].severity == "warning"
    assert "无法检查工作簿的公式和单元格格式（BadZipFile" in warn[0].zh
    assert "formulas and cell formats could not be checked (BadZipFile" in warn[0].en
