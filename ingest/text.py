"""Normalising cell text: full-width forms, Traditional characters, spaces, brackets."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import opencc

_T2S = opencc.OpenCC("t2s")
_SPACES = re.compile(r"\s+")
_DASHES = str.maketrans({"—": "-", "–": "-", "－": "-", "~": "-", "～": "-", "至": "-"})
# a unit written in brackets inside a header cell: 总投资（亿元） 总投资[万元] 总投资(元)
_UNIT_IN_HEADER = re.compile(r"[(\[【<]\s*(?:单位[:：]?)?\s*([^()\[\]【】<>]*?)\s*[)\]】>]")


def nfkc(text: str) -> str:
    """Full-width digits, letters, brackets and colons to their ASCII forms."""
    return unicodedata.normalize("NFKC", text)


@cache
def to_simplified(text: str) -> str:
    return _T2S.convert(text)


def normalise_header(text: str) -> str:
    """The comparable form of a header cell, without its unit: spaces and line
    breaks removed (总 投 资), full-width brackets folded, Traditional made
    Simplified, English lower-cased."""
    name, _ = split_header_unit(text)
    return name


@cache
def split_header_unit(text: str) -> tuple[str, str | None]:
    """``'總投資（億元）'`` -> ``('总投资', '亿元')``."""
    t = to_simplified(nfkc(str(text)))
    t = _SPACES.sub("", t)
    unit = None
    for m in _UNIT_IN_HEADER.finditer(t):
        unit = m.group(1) or unit
    name = _UNIT_IN_HEADER.sub("", t).strip("：:").lower()
    return name, unit


def fold_dashes(text: str) -> str:
    """Every dash-like separator of a range (1—4月, 1~4月, 1至4月) to ``-``."""
    return text.translate(_DASHES)


@cache
def normalise_word(text: str) -> str:
    """The comparable form of an enumerated cell (省重点, Y, 十強): NFKC,
    Simplified, without spaces, lower-cased."""
    return _SPACES.sub("", to_simplified(nfkc(str(text)))).lower()
