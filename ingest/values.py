"""Parsing one cell: numbers, money with units, periods, dates, codes.

Each parser returns the value or raises ``ValueProblem`` with the reason in
Chinese and English.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from ingest import reference
from ingest.text import fold_dashes, nfkc


class ValueProblem(Exception):
    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def is_missing(text: str) -> bool:
    return nfkc(text).strip() in reference.missing_tokens()


def parse_number(text: str) -> float | None:
    """``'１,２３４.５'`` -> 1234.5; ``'12.5%'`` -> 12.5; missing markers -> None."""
    t = nfkc(text).strip()
    if t in reference.missing_tokens():
        return None
    t = t.replace(",", "").replace(" ", "").replace("\u00a0", "")
    if t.endswith("%"):
        t = t[:-1]
    if not _NUMBER.match(t):
        raise ValueProblem("不是数字", "not a number")
    v = float(t)
    if not math.isfinite(v):
        raise ValueProblem("不是有限的数字", "not a finite number")
    return v


def unit_factor(unit: str | None) -> tuple[str, float]:
    """(currency, factor to 万) for a unit word; no unit means 万元."""
    if unit is None or unit == "":
        return "CNY", 1.0
    table = reference.units()
    u = nfkc(unit).strip()
    if u not in table:
        raise ValueProblem(f"不认识的单位“{unit}”", f"unknown unit '{unit}'")
    return table[u]


def money_to_wan(value: float, unit: str | None, year: int, usd_allowed: bool) -> float:
    currency, factor = unit_factor(unit)
    if currency == "CNY":
        return value * factor
    if currency == "USD":
        if not usd_allowed:
            raise ValueProblem(f"该列不接受外币单位“{unit}”", f"a foreign-currency unit '{unit}' is not accepted here")
        rate = reference.usd_rates().get(year)
        if rate is None:
            raise ValueProblem(f"没有 {year} 年的美元汇率，无法折算", f"no CNY/USD rate for {year} to convert with")
        return value * factor * rate
    raise ValueProblem(f"金额单位不能是“{unit}”", f"'{unit}' is not a money unit")


def parse_period(text: str) -> str:
    """Every period format of the contract -> ``YYYY-MM`` (cumulative from January)."""
    t = fold_dashes(nfkc(text)).strip().replace(" ", "")
    if t.endswith(".0") and t[:-2].isdigit():  # spreadsheets turn 2020 into 2020.0
        t = t[:-2]
    for pat in reference.period_patterns():
        m = pat.match(t)
        if m:
            year = int(m.group("year"))
            month = int(m.groupdict().get("month") or 12)
            if not 1 <= month <= 12 or not 1949 < year < 2200:
                break
            return f"{year:04d}-{month:02d}"
    raise ValueProblem("无法识别的统计期", "unrecognised period")


def parse_date(text: str) -> dt.date | None:
    t = fold_dashes(nfkc(text)).strip()
    if t in reference.missing_tokens():
        return None
    t = re.sub(r"[年月/.]", "-", t).rstrip("日").rstrip("-")
    t = t.split(" ")[0].split("T")[0]
    parts = t.split("-")
    try:
        if len(parts) == 3:
            return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
        if len(parts) == 2:
            return dt.date(int(parts[0]), int(parts[1]), 1)
    except (ValueError, OverflowError):  # OverflowError: a 10-digit "year" (found by the fuzzer)
        pass
    raise ValueProblem("无法识别的日期", "unrecognised date")


def parse_code(text: str) -> str:
    t = nfkc(text).strip()
    if t.endswith(".0") and t[:-2].isdigit():
        t = t[:-2]
    return t
