"""The bundled sample: a deterministic (seeded) Hunan province, 2019–2023, written
as the submission files counties, cities and the province would send, in the
messy shapes the contract promises.

It reproduces the seed documents' figures: 娄底's 2020 park shares (GDP 32.3 %,
规模工业增加值 68 %, 高新技术产业增加值 80.9 %, 进出口 80 %, 税收 59.6 %) beside the
province's (35, 69, 65, 72, 42 %).
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from pathlib import Path

from ingest import reference

SEED = 20220430
PROVINCE = "430000"
YEARS = range(2019, 2024)
LOUDI = "431300"
# the seeds' 2020 figures: park share of the city (娄底) and of the province, in percent
LOUDI_2020 = {"gdp": 32.3, "industrial_value_added": 68.0, "hightech_value_added": 80.9,
              "import_export": 80.0, "tax": 59.6}
PROVINCE_2020 = {"gdp": 35.0, "industrial_value_added": 69.0, "hightech_value_added": 65.0,
                 "import_export": 72.0, "tax": 42.0}
# each indicator as a share of GDP for a region's totals, and a typical park share
RATIO_OF_GDP = {"gdp": 1.0, "industrial_value_added": 0.30, "hightech_value_added": 0.24,
                "import_export": 0.11, "tax": 0.075, "fixed_asset_investment": 0.62,
                "industrial_revenue": 1.15, "profit": 0.065}
PARK_SHARE = {"gdp": 33.0, "industrial_value_added": 68.0, "hightech_value_added": 66.0,
              "import_export": 70.0, "tax": 45.0, "fixed_asset_investment": 47.0,
              "industrial_revenue": 70.0, "profit": 60.0}
# 2020 GDP in 亿元 of the 14 cities (rounded public figures; the sample's scale only)
CITY_GDP_2020 = {"430100": 12143, "430200": 3106, "430300": 2344, "430400": 3509, "430500": 2251,
                 "430600": 4002, "430700": 3749, "430800": 556, "430900": 1793, "431000": 2503,
                 "431100": 2261, "431200": 1674, "431300": 1651, "433100": 725}
PARK_KINDS = [("经济技术开发区", "国家级", "ETDZ"), ("高新技术产业开发区", "国家级", "HTZ"),
              ("经济开发区", "省级", "EDZ"), ("工业集中区", "省级", "IZ"), ("产业开发区", "省级", "IDZ")]
KIND_ZH_TITLE = {"park_indicators": "园区主要经济指标", "region_indicators": "地区主要经济指标",
                 "park_registry": "园区名录"}


@dataclass
class Park:
    code: str
    name: str
    region_code: str
    city_code: str
    level: str
    area_mu: int


def hunan() -> tuple[dict[str, str], dict[str, list[str]]]:
    """City code -> name, and city code -> its current county-level codes."""
    divs = reference.divisions()
    cities = {c: d.name for c, d in divs.items() if d.parent_code == PROVINCE and d.level == "city"
              and d.valid_to is None}
    counties = {c: sorted(k for k, d in divs.items() if d.parent_code == c and d.level == "county"
                          and d.valid_to is None and not d.is_statistical) for c in cities}
    return cities, counties


def reported_code(code: str, year: int) -> str:
    """The code a submitter would have used that year (祁阳县 431121 before 2021)."""
    for old, d in reference.divisions().items():
        if d.successor_code == code and d.valid_to is not None and year <= d.valid_to and d.level == "county":
            return old
    return code


def build(seed: int = SEED):
    rng = random.Random(seed)
    cities, counties = hunan()
    parks: list[Park] = []
    for city in sorted(cities):
        n = 10 if city != "430100" else 14
        hosts = [rng.choice(counties[city]) for _ in range(n)]
        for i, host in enumerate(hosts):
            suffix, level, abbr = PARK_KINDS[i % len(PARK_KINDS)] if i < 2 or city == "430100" else PARK_KINDS[2 + i % 3]
            name = reference.divisions()[host].name + suffix
            while name in {p.name for p in parks}:
                name = name.removesuffix("区") + "二区" if not name.endswith("二区") else name + "（扩）"
            parks.append(Park(f"{city}-{abbr}{i + 1:02d}", name, host, city, level if i < 2 else "省级",
                              rng.randrange(3000, 60000)))
    # city totals (万元), growing ~6 % a year; the parks' part of each city, then
    # the counties: each county at least what its parks produce, the rest of the
    # city spread over all its counties, so that the counties add up to the city.
    region_vals: dict[tuple[str, int, str], int] = {}
    park_vals: dict[tuple[str, int, str], int] = {}
    # each park's and county's weight within its city stays put from year to year
    park_weight = {(p.code, ind): rng.uniform(0.3, 3.0) for p in parks for ind in RATIO_OF_GDP}
    county_weight = {(c, ind): rng.uniform(0.5, 2.0) for cs in counties.values() for c in cs for ind in RATIO_OF_GDP}
    city_park_share = {(c, ind): PARK_SHARE[ind] * rng.uniform(0.8, 1.15) for c in cities for ind in RATIO_OF_GDP}
    for year in YEARS:
        growth = 1.06 ** (year - 2020)
        city_total = {}
        for city in cities:
            gdp = CITY_GDP_2020[city] * 10000 * growth * rng.uniform(0.98, 1.02)
            for ind, ratio in RATIO_OF_GDP.items():
                city_total[(city, ind)] = round(gdp * ratio * rng.uniform(0.9, 1.1))
        for ind in RATIO_OF_GDP:
            province_total = sum(city_total[(c, ind)] for c in cities)
            city_park = {c: city_total[(c, ind)] * min(city_park_share[(c, ind)] * rng.uniform(0.97, 1.03), 95.0)
                         / 100 for c in cities}
            if year == 2020 and ind in LOUDI_2020:  # the seeds' figures
                city_park[LOUDI] = city_total[(LOUDI, ind)] * LOUDI_2020[ind] / 100
                target = province_total * PROVINCE_2020[ind] / 100 - city_park[LOUDI]
                others = [c for c in cities if c != LOUDI]
                scale = target / sum(city_park[c] for c in others)
                for c in others:
                    city_park[c] *= scale
            region_vals[(PROVINCE, year, ind)] = province_total
            for city in cities:
                total = city_total[(city, ind)]
                region_vals[(city, year, ind)] = total
                cps = [p for p in parks if p.city_code == city]
                parts = _split(round(city_park[city]), [park_weight[(p.code, ind)] * rng.uniform(0.95, 1.05)
                                                        for p in cps])
                county_vals = dict.fromkeys(counties[city], 0)
                for p, v in zip(cps, parts):
                    park_vals[(p.code, year, ind)] = v
                    county_vals[p.region_code] += v
                rest = _split(total - sum(parts), [county_weight[(c, ind)] * rng.uniform(0.95, 1.05)
                                                   for c in counties[city]])
                for county, extra in zip(counties[city], rest):
                    region_vals[(county, year, ind)] = county_vals[county] + extra
    return cities, counties, parks, region_vals, park_vals


def _split(total: int, weights: list[float]) -> list[int]:
    """``total`` in integer parts proportional to ``weights``, adding up exactly."""
    parts = [round(total * w / sum(weights)) for w in weights]
    parts[-1] = total - sum(parts[:-1])
    return parts


# -- writing files in the contract's shapes --------------------------------------
def _csv_text(rows: list[list]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


def _fmt(v: float, unit: str) -> str:
    factor = {"万元": 1, "亿元": 10000, "元": 0.0001}[unit]
    x = v / factor
    return f"{x:.4f}" if unit == "亿元" else (f"{x:.0f}" if unit == "元" else f"{x:g}")


def write_table(path: Path, shape: str, kind: str, title: str, fields: list[str], rows: list[list],
                money_fields: set[str]) -> None:
    """Write one table in a shape: 'en_utf8' (English headers, UTF-8, 万元),
    'gbk_title_yi' (GBK, title row and 单位：亿元), 'xlsx_trad' (XLSX, Traditional
    headers with units in the header cells, 万元), 'gb18030_yuan' (GB18030, units
    (元) in header cells, thousands separators)."""
    zh = {f.name: f.zh for f in reference.kinds()[kind]}
    path.parent.mkdir(parents=True, exist_ok=True)
    if shape == "en_utf8":
        body = [fields] + [[_fmt(v, "万元") if f in money_fields and v is not None else v
                            for f, v in zip(fields, r)] for r in rows]
        path.with_suffix(".csv").write_text(_csv_text(body), encoding="utf-8")
    elif shape == "gbk_title_yi":
        body = [[title], ["单位：亿元"], [zh[f] for f in fields]]
        body += [[_fmt(v, "亿元") if f in money_fields and v is not None else v for f, v in zip(fields, r)]
                 for r in rows]
        path.with_suffix(".csv").write_bytes(_csv_text(body).encode("gbk"))
    elif shape == "gb18030_yuan":
        heads = [zh[f] + ("(元)" if f in money_fields else "") for f in fields]
        body = [heads] + [[f"{float(_fmt(v, '元')):,.0f}" if f in money_fields and v is not None else v
                           for f, v in zip(fields, r)] for r in rows]
        path.with_suffix(".csv").write_bytes(_csv_text(body).encode("gb18030"))
    elif shape == "xlsx_trad":
        import opencc
        from openpyxl import Workbook

        s2t = opencc.OpenCC("s2t")
        wb = Workbook()
        ws = wb.active
        ws.title = s2t.convert(KIND_ZH_TITLE.get(kind, kind))
        ws.append([s2t.convert(title)])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(fields))
        ws.append([s2t.convert(zh[f]) + ("（萬元）" if f in money_fields else "") for f in fields])
        for r in rows:
            ws.append([float(v) if f in money_fields and v is not None else v for f, v in zip(fields, r)])
        wb.save(path.with_suffix(".xlsx"))
    else:
        raise ValueError(shape)


SHAPES = ["en_utf8", "gbk_title_yi", "xlsx_trad", "gb18030_yuan"]


def write_sample(landing: Path, seed: int = SEED) -> list[Path]:
    """Write the sample submissions under ``landing/<submitter>/``; returns the files written."""
    cities, counties, parks, region_vals, park_vals = build(seed)
    inds = list(RATIO_OF_GDP)
    for i, city in enumerate(sorted(cities)):
        shape = "gbk_title_yi" if city == LOUDI else SHAPES[i % len(SHAPES)]
        name = cities[city]
        cparks = [p for p in parks if p.city_code == city]
        write_table(landing / city / f"{name}园区名录", shape, "park_registry", f"{name}产业园区名录",
                    ["park_code", "park_name", "region_code", "park_level", "area_mu"],
                    [[p.code, p.name, p.region_code, p.level, p.area_mu] for p in cparks], set())
        write_table(landing / city / f"{name}园区主要指标2019-2023", shape, "park_indicators",
                    f"2019-2023年{name}园区主要经济指标", ["period", "park_code", "park_name", *inds],
                    [[f"{y}年", p.code, p.name, *[park_vals[(p.code, y, k)] for k in inds]]
                     for y in YEARS for p in cparks], set(inds))
        write_table(landing / city / f"{name}地区主要指标2019-2023", shape, "region_indicators",
                    f"2019-2023年{name}地区主要经济指标", ["period", "region_code", "region_name", *inds],
                    [[f"{y}年", reported_code(c, y), reference.divisions()[reported_code(c, y)].name,
                      *[region_vals[(c, y, k)] for k in inds]]
                     for y in YEARS for c in [city, *counties[city]]], set(inds))
    write_table(landing / PROVINCE / "湖南省地区主要指标2019-2023", "en_utf8", "region_indicators",
                "2019-2023年湖南省主要经济指标", ["period", "region_code", "region_name", *inds],
                [[f"{y}-12", PROVINCE, "湖南省", *[region_vals[(PROVINCE, y, k)] for k in inds]] for y in YEARS],
                set(inds))
    return sorted(p for p in landing.rglob("*") if p.is_file())
