"""Parsing one cell: numbers, money with units, periods, dates, codes.

Each parser returns the value or raises ``ValueProblem`` with the reason in
Chinese and English.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal

import polars as pl

from ingest import reference
from ingest.text import fold_dashes, nfkc, normalise_word, to_simplified

# amounts (money in 万元, quantities in their unit) as stored: exact decimals
AMOUNT = pl.Decimal(38, 10)
FACTOR = pl.Decimal(38, 10)
# no figure of the contract comes near this (a province's GDP is ~10^9 万元); past
# it a number is a slip (1e300) and could not be stored exactly
MAX_NUMBER = 1e16


class ValueProblem(Exception):
    """``code``: a reason more precise than the caller's default (ambiguous_number, ambiguous_period)."""

    def __init__(self, zh: str, en: str, code: str | None = None):
        super().__init__(en)
        self.zh, self.en, self.code = zh, en, code


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# a comma is only ever a thousands separator: 1,234 and 12,345,678.5 — never 3,5 (a decimal comma?) or 1,23
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?%?$")


def is_missing(text: str) -> bool:
    return nfkc(text).strip() in reference.missing_tokens()


def parse_number(text: str) -> float | None:
    """``'１,２３４.５'`` -> 1234.5; ``'12.5%'`` -> 12.5; missing markers -> None."""
    t = nfkc(text).strip()
    if t in reference.missing_tokens():
        return None
    t = t.replace(" ", "").replace("\u00a0", "")
    if "," in t:
        if not _THOUSANDS.match(t):
            raise ValueProblem("逗号只能用作千位分隔符（如 1,234.5），该数字有歧义；小数点请写“.”（3.5），或去掉逗号",
                               "a comma is read only as a thousands separator (1,234.5); this number is ambiguous: "
                               "write the decimal point as '.' (3.5), or drop the comma", code="ambiguous_number")
        t = t.replace(",", "")
    if t.endswith("%"):
        t = t[:-1]
    if not _NUMBER.match(t):
        raise ValueProblem("不是数字", "not a number")
    v = float(t)
    if not math.isfinite(v):
        raise ValueProblem("不是有限的数字", "not a finite number")
    if abs(v) >= MAX_NUMBER:
        raise ValueProblem("数值过大（不小于 10^16），请检查单位和数字",
                           "the number is too large (10^16 or more); check the figure and its unit")
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
    return value * float(money_factor(unit, year, usd_allowed))


def money_factor(unit: str | None, year: int, usd_allowed: bool) -> Decimal:
    """The exact factor from ``unit`` to 万元 (times that year's CNY/USD rate for dollars)."""
    currency, _ = unit_factor(unit)
    factor = reference.unit_factors()[nfkc(unit).strip()][1] if unit else Decimal(1)
    if currency == "CNY":
        return factor
    if currency == "USD":
        if not usd_allowed:
            raise ValueProblem(f"该列不接受外币单位“{unit}”", f"a foreign-currency unit '{unit}' is not accepted here")
        rate = reference.exact_usd_rates().get(year)
        if rate is None:
            known = reference.exact_usd_rates()
            last = max(known) if known else None
            raise ValueProblem(f"没有 {year} 年的美元汇率，无法折算（汇率表为 {min(known)}–{last} 年）：请将该列折算为万元后报送，"
                               f"或请管理员在 usd_cny_rates.csv 中补充 {year} 年的年平均汇率",
                               f"no CNY/USD rate for {year} to convert with (the rate table covers {min(known)}–{last}): "
                               f"send this column in 万元, or ask the operator to add {year}'s annual average rate "
                               "to usd_cny_rates.csv")
        return factor * rate
    raise ValueProblem(f"金额单位不能是“{unit}”", f"'{unit}' is not a money unit")


def quantity_factor(unit: str | None, stored_unit: str) -> Decimal:
    """The exact factor from ``unit`` to ``stored_unit`` (人 -> 万人: 0.0001); no
    unit means the stored unit. A unit of another class (亿元 on a population) is an error."""
    table = reference.unit_factors()
    want, base = table[stored_unit]
    if unit is None or unit == "":
        return Decimal(1)
    u = nfkc(unit).strip()
    if u not in table:
        raise ValueProblem(f"不认识的单位“{unit}”", f"unknown unit '{unit}'")
    cls, factor = table[u]
    if cls != want:
        raise ValueProblem(f"该列应以“{stored_unit}”计，不能用单位“{unit}”",
                           f"this column is counted in {stored_unit}; '{unit}' is not a unit of it")
    return factor / base


def exact_amounts(numbers: pl.Series, factors: pl.Series) -> pl.Series:
    """Figures as written (doubles, in their unit) times exact factors, as
    DECIMAL(38, 10): each double is read back as the shortest decimal that
    names it (399.4897 stays 399.4897), so 399.4897 亿元 is exactly 3994897 万元.
    The one conversion both the row-by-row and the vectorised path use."""
    written = numbers.cast(pl.Float64).cast(pl.String).str.to_decimal(scale=10)
    return (written * factors.cast(FACTOR)).cast(AMOUNT)


def parse_word(field: str, text: str) -> str | None:
    """An enumerated cell (项目级别 省重点 -> province; 是 -> true; 十強 -> 十强),
    None for a missing marker."""
    if is_missing(text):
        return None
    words = reference.value_words()[field]
    value = words.get(normalise_word(text))
    if value is None:
        known = "、".join(dict.fromkeys(w for w in words if not w.isascii()))
        raise ValueProblem(f"不认识的取值（可用：{known}）", f"not one of the accepted values ({', '.join(sorted(set(words.values())))})")
    return value


_TAG_SEPARATORS = re.compile(r"[；;、,，/]+")


def parse_tags(text: str) -> str | None:
    """``'双引擎；三高四新'`` -> ``'双引擎；三高四新'`` (separators ；;、, folded to
    ；, spaces dropped, Traditional made Simplified (雙引擎 -> 双引擎), each tag
    once, in the order written); None when empty."""
    if is_missing(text):
        return None
    tags = [to_simplified(t.strip()) for t in _TAG_SEPARATORS.split(nfkc(text).replace("；", ";"))]
    tags = list(dict.fromkeys(t for t in tags if t and t not in reference.missing_tokens()))
    return "；".join(tags) or None


def parse_integer(text: str) -> int | None:
    """A whole number (名次, 星级): ``'3'``, ``'３'``, ``'3.0'``; None when missing."""
    v = parse_number(text)
    if v is None:
        return None
    if v != int(v) or v < 0:
        raise ValueProblem("应为非负整数", "must be a whole number, not negative")
    return int(v)


_AMBIGUOUS_DOT = re.compile(r"^(?P<year>\d{4})\.1$")
_TIME_OF_DAY = re.compile(r"(?<=\d)[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")  # of a date cell: 2022-04-30 00:00:00
_NOT_FROM_JANUARY = re.compile(r"^(?P<year>\d{4})年(?P<first>\d{1,2})-(?P<month>\d{1,2})月$")


def _refuse_ambiguous_dot(t: str, what_zh: str, what: str) -> None:
    """``2025.1`` is January as written, but also what a spreadsheet makes of the number
    2025.10 (October): refused (code ``ambiguous_<what>``), saying what to write."""
    m = _AMBIGUOUS_DOT.match(t)
    if m:
        y = m.group("year")
        raise ValueProblem(f"{what_zh}“{t}”有歧义：可能是 {y}年1月，也可能是被表格存成数字的 {y}.10（10月）；"
                           f"请写成文本 {y}-01 或 {y}-10",
                           f"the {what} '{t}' is ambiguous: January {y}, or {y}.10 (October) stored as a number "
                           f"by the spreadsheet; write it as text, {y}-01 or {y}-10", code=f"ambiguous_{what}")


def parse_period(text: str) -> str:
    """Every period format of the contract -> ``YYYY-MM`` (cumulative from January).

    ``2025.1`` is refused as ambiguous: it is January as written, but also what a
    spreadsheet makes of the number 2025.10 (October); ``2025.10``, ``2025.01``
    and ``2025.2``–``2025.9`` are not. A date (``2022-04-30``) must be a real
    one; ``2024年3-4月`` (not from January) is refused, saying what to send."""
    t = _TIME_OF_DAY.sub("", fold_dashes(nfkc(text)).strip()).replace(" ", "")
    if t.endswith(".0") and t[:-2].isdigit():  # spreadsheets turn 2020 into 2020.0
        t = t[:-2]
    _refuse_ambiguous_dot(t, "统计期", "period")
    m = _NOT_FROM_JANUARY.match(t)
    if m and int(m.group("first")) != 1:
        y, last = m.group("year"), int(m.group("month"))
        raise ValueProblem(f"统计期“{t}”不是自年初起的累计：所有数字须为 1 月起的累计数，请报送 {y}年1-{last}月",
                           f"the period '{t}' does not start in January: every figure is cumulative from January; "
                           f"send {y}年1-{last}月 (January–{last:02d})")
    for pat in reference.period_patterns():
        m = pat.match(t)
        if m:
            year = int(m.group("year"))
            month = int(m.groupdict().get("month") or 12)
            if not 1 <= month <= 12 or not 1949 < year < 2200:
                break
            day = m.groupdict().get("day")
            if day is not None:
                try:
                    dt.date(year, month, int(day))
                except ValueError:
                    raise ValueProblem(f"统计期“{t}”不是有效的日期", f"the period '{t}' is not a valid date") from None
            return f"{year:04d}-{month:02d}"
    raise ValueProblem("无法识别的统计期", "unrecognised period")


def parse_date(text: str) -> dt.date | None:
    """A date cell (开工日期) -> the date; a month alone (2023-05, 2023年5月) is its first day.
    ``2023.1`` is refused as ambiguous, as a period is (``parse_period``): a spreadsheet
    stores 2023.10 as the number 2023.1; and a year must have four digits (``23.5.18``
    is not 0023)."""
    t = fold_dashes(nfkc(text)).strip()
    if t in reference.missing_tokens():
        return None
    _refuse_ambiguous_dot(t, "日期", "date")
    t = re.sub(r"[年月/.]", "-", t).rstrip("日").rstrip("-")
    t = t.split(" ")[0].split("T")[0]
    parts = t.split("-")
    if len(parts) in (2, 3) and not re.fullmatch(r"\d{4}", parts[0]):
        raise ValueProblem(f"日期“{text.strip()}”的年份须为四位数字（如 2023-05-18）",
                           f"the year of the date '{text.strip()}' must have four digits (e.g. 2023-05-18)")
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
