"""The fuzz targets and their input strategies (see ``fuzz/__init__.py``)."""

from __future__ import annotations

import datetime as dt
import random
import signal
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import reference
from ingest.layout import Layout, LayoutProblem, find_layout
from ingest.ledger import Ledger
from ingest.pipeline import Arrival, _validate_unguarded, examine
from ingest.readers import UnreadableFile, read_grid
from ingest.synthetic.files import csv_bytes, xls_bytes, xlsx_bytes
from ingest.text import split_header_unit
from ingest.values import ValueProblem, money_to_wan, parse_code, parse_date, parse_number, parse_period
from ingest.validate import Parsed

HANG_SECONDS = 20

# words the parsers care about, to steer random text towards the interesting cases
WORDS = ["统计期", "園區代碼", "园区代码", "地区代码", "项目代码", "项目名称", "所属地区代码", "总投资（亿元）", "年度计划投资",
         "本年累计完成投资", "园区生产总值", "税收(元)", "进出口总额[万美元]", "單位：億元", "单位：", "合计", "投资情况",
         "2022年1-4月", "2022.4", "202204", "2020年", "1-2月", "１２３", "1,234.5", "12%", "—", "-", "/", "无", "亿元",
         "万美元", "431300", "431121", "430472", "431300-ETDZ", "\n", "（", "）", "=SUM(A1)", "'; drop table x; --",
         "1e308", "nan", "inf", "-0", "  ", "\x00", "\ufeff", "𠀀", "2022-13", "9999", "0000-00"]


def text_cells() -> st.SearchStrategy[str]:
    return st.one_of(st.text(max_size=24), st.sampled_from(WORDS),
                     st.lists(st.sampled_from(WORDS), max_size=4).map("".join),
                     st.tuples(st.sampled_from(WORDS), st.text(max_size=6)).map("".join))


def grids() -> st.SearchStrategy[list[list[str]]]:
    header = st.lists(st.sampled_from([w for w in WORDS if len(w) > 1]), min_size=1, max_size=10)
    rows = st.lists(st.lists(text_cells(), max_size=10), max_size=10)
    return st.tuples(st.lists(st.lists(text_cells(), max_size=3), max_size=3), header, rows).map(
        lambda t: [*t[0], t[1], *t[2]])


def _seed_files() -> list[bytes]:
    rows = [["2022年重点项目"], ["单位：万元"], ["统计期", "项目代码", "项目名称", "所属地区代码", "总投资", "年度计划投资",
                                          "本年累计完成投资"], ["2022-04", "A", "甲", "431381", "100", "50", "20"]]
    out = [csv_bytes(rows, enc, "\r\n") for enc in ("utf-8", "gbk", "utf-16")]
    out.append(xlsx_bytes(rows, sheet="Sheet"))
    try:
        out.append(xls_bytes(rows, sheet="s"))
    except ImportError:  # pragma: no cover - xlwt is a dev dependency
        pass
    return out


SEEDS = _seed_files()


@st.composite
def files(draw) -> tuple[str, bytes]:
    """Random bytes, seed files mutated (flips, cuts, splices), or random grids as CSV."""
    how = draw(st.sampled_from(["random", "mutated", "grid"]))
    if how == "random":
        data = draw(st.binary(max_size=4000))
    elif how == "grid":
        g = draw(grids())
        enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
        data = csv_bytes(g, enc, "\r\n", errors="replace")
    else:
        seed = bytearray(draw(st.sampled_from(SEEDS)))
        rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
        for _ in range(draw(st.integers(1, 12))):
            op = rnd.choice(["flip", "cut", "insert", "dup"])
            if not seed:
                break
            i = rnd.randrange(len(seed))
            if op == "flip":
                seed[i] ^= 1 << rnd.randrange(8)
            elif op == "cut":
                del seed[i:i + rnd.randrange(1, 64)]
            elif op == "insert":
                seed[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 16)))
            else:
                seed[i:i] = seed[i:i + rnd.randrange(1, 256)]
        data = bytes(seed)
    name = draw(st.sampled_from(["r.csv", "r.xlsx", "r.xls", "r.txt", "报表", "r.CSV"]))
    return name, data


class Hang(Exception):
    pass


def _alarm(signum, frame):  # pragma: no cover - only on a hang
    raise Hang(f"no answer within {HANG_SECONDS} s")


@dataclass
class Target:
    name: str
    strategy: st.SearchStrategy
    run: Callable


def _cells(args) -> None:
    text, unit, year = args
    for f in (parse_number, parse_period, parse_date, parse_code):
        try:
            f(text)
        except ValueProblem:
            pass
    split_header_unit(text)
    try:
        money_to_wan(1.5, unit, year, usd_allowed=True)
    except ValueProblem:
        pass


def _reader(args) -> None:
    name, data = args
    try:
        grid = read_grid(data, name)
    except UnreadableFile:
        return
    assert isinstance(grid.rows, list)


def _layout(grid) -> None:
    assert isinstance(find_layout(grid), (Layout, LayoutProblem))


_LEDGER: Ledger | None = None


def _ledger() -> Ledger:
    global _LEDGER
    if _LEDGER is None:
        from pathlib import Path

        _LEDGER = Ledger(Path("/nonexistent/parkstat-fuzz.duckdb"), read_only=True)  # in memory, empty
        _LEDGER.con.execute("insert into park_registry values (1, '431300-ETDZ', '娄底经开区', '431302', null, null, 2)")
    return _LEDGER


def _whole_file(args) -> None:
    name, data = args
    arr = Arrival(None, "431300", name, data, "0" * 64, size=len(data))
    examine(arr)
    parsed = _validate_unguarded(arr, _ledger(), dt.date(2023, 6, 15))
    assert isinstance(parsed, Parsed)
    assert parsed.row_count or parsed.messages  # something is always said (rows taken in, or why not)


TARGETS = [
    Target("cells", st.tuples(text_cells(), st.one_of(st.none(), text_cells()), st.integers(1900, 2100)), _cells),
    Target("reader", files(), _reader),
    Target("layout", grids(), _layout),
    Target("whole_file", files(), _whole_file),
]


def run_target(target: Target, inputs: int, seed: int | None = 0) -> int:
    """Run ``inputs`` generated inputs through a target; returns how many ran.
    Any exception other than the parser's named problems propagates."""
    count = 0

    @settings(max_examples=inputs, deadline=None, database=None, derandomize=seed is not None,
              suppress_health_check=list(HealthCheck))
    @given(target.strategy)
    def body(x):
        nonlocal count
        count += 1
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(HANG_SECONDS)
        try:
            target.run(x)
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)

    reference.kinds()  # load reference data outside the timed body
    body()
    return count
