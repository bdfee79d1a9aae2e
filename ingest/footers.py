"""Footer rows under a table: notes (注：…) and sign-off lines (填报人：… 联系电话：…).

A row whose first filled cell starts with a footer word followed by a colon
(``ingest/reference/footer_words.csv``) ends the table: it and the rows after
it are footer, not data — unless a later row has every required value (data
after a note in the middle). Footer rows are skipped and named on the receipt
(a note), never read as figures nor rejected as broken rows.
"""

from __future__ import annotations

import re
from functools import cache

from ingest import reference
from ingest.messages import Message, note
from ingest.text import nfkc, to_simplified


@cache
def _footer() -> re.Pattern[str]:
    words = sorted(reference.footer_words(), key=len, reverse=True)
    return re.compile(r"^(?:" + "|".join(map(re.escape, words)) + r")\s*[0-9]*\s*[:：、]")


# any Chinese label with a colon at the start of a line (after quotes, delimiters, spaces): a cheap
# test, wider than a footer word in any script, of a whole CSV text
_LABEL_LINE = re.compile(r"(?m)^[\s\"',;\t|]*[\u4e00-\u9fff]{1,6}\s*[0-9]*\s*[:：、]")


def is_footer(row: list[str]) -> bool:
    first = next((c for c in row if c.strip()), "")
    return bool(first) and _footer().match(to_simplified(nfkc(first.strip())).replace(" ", "")) is not None


def footer_rows(rows: list[list[str]], header_row: int, required: list[int]) -> list[int]:
    """0-based indexes of the footer rows under the header at ``header_row``;
    ``required``: the columns of the required fields."""
    out: list[int] = []
    for r in range(header_row + 1, len(rows)):
        row = rows[r]
        if is_footer(row):
            out.append(r)
        elif out and any(c.strip() for c in row) and not all(i < len(row) and row[i].strip() for i in required):
            out.append(r)  # the lines of a note after its first, a signature line
    return out


def may_have_footer(text: str) -> bool:
    """False when no line of a CSV text (the table's body) can start a footer."""
    return _LABEL_LINE.search(text) is not None


def footer_note(rows: list[list[str]], footer: list[int]) -> Message:
    first = [next((c.strip() for c in rows[r] if c.strip()), "") for r in footer]
    shown = "；".join(t[:20] + ("…" if len(t) > 20 else "") for t in first[:3]) + ("…" if len(first) > 3 else "")
    span = f"{footer[0] + 1}" if len(footer) == 1 else f"{footer[0] + 1}–{footer[-1] + 1}"
    return note("footer_skipped", f"第 {span} 行是表尾（{shown}），未作为数据读取",
                f"row(s) {span} are the table's footer ({shown}), not read as data", row=footer[0] + 1)
