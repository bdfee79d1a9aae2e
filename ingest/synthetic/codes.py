"""What submitters write in the cells, the one place every generator of
submissions (the bundled sample, the benchmark's sizes) asks: the code of a
division in a given year, and the words of key projects."""

from __future__ import annotations

from ingest import reference

CHAINS = ["工程机械", "先进钢铁材料", "新能源", "电子信息", "新材料", "农产品加工", "生物医药", "轻纺制鞋"]
NATURES = ["新建", "扩建", "改建和技术改造", "迁建"]


def reported_code(code: str, year: int) -> str | None:
    """The code a county was reported under in ``year``: its own once it exists,
    before that its county-level predecessor's of that year (祁阳县 431121 until
    2020, 祁阳市 431181 from 2021; a district made of a county reports under the
    county's code before); None when neither it nor a predecessor existed then
    (新疆's counties of 2022): it reports nothing that year."""
    divs = reference.divisions()
    d = divs[code]
    if d.valid_from is None or year >= d.valid_from:
        return code
    for p in divs.values():
        if p.successor_code == code and p.level == "county" and (p.valid_from is None or p.valid_from <= year) \
                and (p.valid_to is None or year <= p.valid_to):
            return reported_code(p.code, year)
    return None
