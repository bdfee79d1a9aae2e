"""The bundled sample: a deterministic (seeded) Hunan province, 2019–2023, written
as the submission files counties, cities and the province would send, in the
messy shapes the contract promises.

It reproduces the seed documents' figures:
- 娄底's 2020 park shares (GDP 32.3 %, 规模工业增加值 68 %, 高新技术产业增加值 80.9 %,
  进出口 80 %, 税收 59.6 %) beside the province's (35, 69, 65, 72, 42 %);
- 娄底 2021: the parks' 利润总额 up 26.5 %, 11.4 points above the city's 15.1 %;
- 衡阳 2021: the parks' 固定资产投资 904.6亿 = 47 % of the city's; 县域 GDP = 63.6 %
  of the city's 3840.3亿, six counties above 300亿 and two above 400亿;
- key projects: 祁阳 2022年1-4月 53.93亿 completed = 33.7 % of a 160亿 annual plan;
  娄底 2021年1-6月 ("双引擎" projects) 69.73亿 = 96.9 % of plan.
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
HENGYANG = "430400"
QIYANG = "431181"
YONGZHOU = "431100"
# 衡阳 2021 (万元): city GDP, its 县域 counties' GDP, parks' and city's fixed-asset investment
HENGYANG_GDP_2021 = 38_403_000
HENGYANG_COUNTY_GDP_2021 = {"430481": 4_800_000, "430421": 4_100_000, "430422": 3_950_000,
                            "430482": 3_500_000, "430426": 3_300_000, "430424": 3_100_000,
                            "430423": 1_674_000}  # 2442.4亿 = 63.6 % of 3840.3亿
HENGYANG_PARK_FAI_2021 = 9_046_000  # 904.6亿
HENGYANG_FAI_2021 = round(9_046_000 / 0.47)  # parks = 47.0 %
LOUDI_PROFIT_GROWTH_2021 = (1.265, 1.151)  # parks, city: 26.5 % vs 15.1 % (11.4 points)
# key projects (万元): (region, year, month) -> (annual plan, completed January to that month)
PROJECT_TARGETS = {(QIYANG, 2022, 4): (1_600_000, 539_300), (LOUDI, 2021, 6): (719_600, 697_300)}
CHAINS = ["工程机械", "先进钢铁材料", "新能源", "电子信息", "新材料", "农产品加工", "生物医药", "轻纺制鞋"]
NATURES = ["新建", "扩建", "改建和技术改造", "迁建"]
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
        if year == 2021:  # the seeds' 2021 figures
            city_total[(HENGYANG, "gdp")] = HENGYANG_GDP_2021
            city_total[(HENGYANG, "fixed_asset_investment")] = HENGYANG_FAI_2021
            city_total[(LOUDI, "profit")] = round(region_vals[(LOUDI, 2020, "profit")] * LOUDI_PROFIT_GROWTH_2021[1])
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
            if year == 2021 and ind == "fixed_asset_investment":
                city_park[HENGYANG] = HENGYANG_PARK_FAI_2021
            if year == 2021 and ind == "profit":
                loudi_parks_2020 = sum(park_vals[(p.code, 2020, ind)] for p in parks if p.city_code == LOUDI)
                city_park[LOUDI] = loudi_parks_2020 * LOUDI_PROFIT_GROWTH_2021[0]
            region_vals[(PROVINCE, year, ind)] = province_total
            for city in cities:
                total = city_total[(city, ind)]
                region_vals[(city, year, ind)] = total
                cps = [p for p in parks if p.city_code == city]
                pinned = HENGYANG_COUNTY_GDP_2021 if (city, year, ind) == (HENGYANG, 2021, "gdp") else {}
                parts = _split(round(city_park[city]), [park_weight[(p.code, ind)] * rng.uniform(0.95, 1.05)
                                                        for p in cps])
                if pinned:
                    parts = _fit_parks(parts, [p.region_code for p in cps], pinned)
                county_vals = dict.fromkeys(counties[city], 0)
                for p, v in zip(cps, parts):
                    park_vals[(p.code, year, ind)] = v
                    county_vals[p.region_code] += v
                free = [c for c in counties[city] if c not in pinned]
                rest = _split(total - sum(pinned.values()) - sum(county_vals[c] for c in free),
                              [county_weight[(c, ind)] * rng.uniform(0.95, 1.05) for c in free])
                assert min(rest) >= 0, (city, year, ind)
                for county, extra in zip(free, rest):
                    region_vals[(county, year, ind)] = county_vals[county] + extra
                for county, v in pinned.items():
                    region_vals[(county, year, ind)] = v
    projects = build_projects(rng, parks, counties)
    return cities, counties, parks, region_vals, park_vals, projects


def _fit_parks(parts: list[int], hosts: list[str], pinned: dict[str, int]) -> list[int]:
    """Park values whose sum in each pinned county stays within 85 % of the
    county's pinned total; what is taken off goes to the parks elsewhere."""
    parts = list(parts)
    excess = 0
    for county, cap in pinned.items():
        idx = [i for i, h in enumerate(hosts) if h == county]
        inside = sum(parts[i] for i in idx)
        if inside > cap * 0.85:
            scaled = _split(int(cap * 0.85), [parts[i] for i in idx])
            excess += inside - sum(scaled)
            for i, v in zip(idx, scaled):
                parts[i] = v
    others = [i for i, h in enumerate(hosts) if h not in pinned]
    for i, v in zip(others, _split(excess, [parts[i] + 1 for i in others])):
        parts[i] += v
    return parts


def build_projects(rng: random.Random, parks: list[Park], counties: dict[str, list[str]]) -> list[dict]:
    """Monthly cumulative progress reports of key projects: 永州's counties in
    2022 (January–April) and 娄底's in 2021 (January–June), the seeds' totals pinned."""
    rows: list[dict] = []
    for city, year, last in ((YONGZHOU, 2022, 4), (LOUDI, 2021, 6)):
        projects = []
        for county in counties[city]:
            hosted = [p for p in parks if p.region_code == county]
            for i in range(rng.randrange(4, 9)):
                chain = rng.choice(CHAINS)
                total = rng.randrange(20_000, 400_000)
                projects.append({
                    "project_code": f"XM{county}{i + 1:03d}", "region_code": county,
                    "project_name": f"{reference.divisions()[county].name}{chain}项目{i + 1}",
                    "park_code": hosted[i % len(hosted)].code if hosted and i % 3 else None,
                    "industry_chain": chain, "nature": rng.choice(NATURES), "total_investment": total,
                    "plan_weight": total * rng.uniform(0.2, 0.6), "pace": rng.uniform(0.6, 1.4),
                    "starts": rng.choice([0, 0, 0, 3, 4]), "finishes": rng.random() < 0.15})
        # annual plans and the cumulative figure of the last month, pinned where the seeds give them
        for scope in {r for r, y, m in PROJECT_TARGETS if y == year and m == last}:
            members = [p for p in projects if p["region_code"] == scope or
                       reference.divisions()[p["region_code"]].parent_code == scope]
            plan, done = PROJECT_TARGETS[(scope, year, last)]
            for p, v in zip(members, _split(plan, [p["plan_weight"] for p in members])):
                p["annual_plan"] = v
            for p, v in zip(members, _split(done, [p["annual_plan"] * p["pace"] for p in members])):
                p["done"] = v
        for p in projects:
            p.setdefault("annual_plan", round(p["plan_weight"]))
            p.setdefault("done", round(p["annual_plan"] * p["pace"] * last / 12 * 1.1))
            for month in range(2, last + 1):  # January is reported with February (1-2月)
                if p["starts"] and month < p["starts"]:
                    continue
                stage = ("新开工" if p["starts"] and month == p["starts"] else
                         "竣工" if p["finishes"] and month == last else "续建")
                rows.append({"period": f"{year}-{month:02d}", "month": month, "last": last,
                             "project_code": p["project_code"], "project_name": p["project_name"],
                             "region_code": p["region_code"], "park_code": p["park_code"],
                             "industry_chain": p["industry_chain"], "nature": p["nature"], "stage": stage,
                             "total_investment": p["total_investment"], "annual_plan": p["annual_plan"],
                             "ytd_completed": p["done"] if month == last else
                             round(p["done"] * (month / last) ** 1.15)})
    return rows


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
    cities, counties, parks, region_vals, park_vals, projects = build(seed)
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
    write_projects(landing, projects)
    return sorted(p for p in landing.rglob("*") if p.is_file())


PROJECT_FIELDS = ["period", "project_code", "project_name", "region_code", "park_code", "industry_chain", "nature",
                  "stage", "total_investment", "annual_plan", "ytd_completed"]
PROJECT_MONEY = {"total_investment", "annual_plan", "ytd_completed"}


def _project_row(r: dict, period_text: str) -> list:
    return [period_text, *[r[f] for f in PROJECT_FIELDS[1:]]]


def write_projects(landing: Path, rows: list[dict]) -> None:
    """祁阳 sends each month's report as the seeds' workbook (title, 单位 line, 投资情况
    merged over plan and completion); 永州 sends its other counties' months in one
    GBK file; 娄底 sends a GBK file each month."""
    from openpyxl import Workbook

    for month in sorted({r["month"] for r in rows if r["region_code"] == QIYANG}):
        mine = [r for r in rows if r["region_code"] == QIYANG and r["month"] == month]
        title = f"2022年1-{month}月祁阳市重点产业项目建设进度表"
        wb = Workbook()
        ws = wb.active
        ws.title = "重点项目"
        ws.append([title])
        ws.append(["单位：万元"])
        ws.append(["序号", "统计期", "项目代码", "项目名称", "所属地区代码", "所属园区代码", "产业链", "建设性质",
                   "项目阶段", "总投资", "投资情况", None, "备注"])
        ws.append([None] * 10 + ["年度计划投资", "本年累计完成投资", None])
        for c in [*range(1, 11), 13]:
            ws.merge_cells(start_row=3, start_column=c, end_row=4, end_column=c)
        ws.merge_cells(start_row=3, start_column=11, end_row=3, end_column=12)
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=13)
        for i, r in enumerate(mine, 1):
            ws.append([i, f"2022年1-{month}月", *[r[f] for f in PROJECT_FIELDS[1:]], None])
        ws.append(["合计", None, None, None, None, None, None, None, None,
                   sum(r["total_investment"] for r in mine), sum(r["annual_plan"] for r in mine),
                   sum(r["ytd_completed"] for r in mine), None])
        path = landing / QIYANG / f"{title}.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        wb.save(path)
    others = [r for r in rows if r["region_code"].startswith(YONGZHOU[:4]) and r["region_code"] != QIYANG]
    write_table(landing / YONGZHOU / "2022年1-4月永州市重点产业项目进度", "gbk_title_yi", "project_progress",
                "2022年1-4月永州市重点产业项目进度（不含祁阳市）", PROJECT_FIELDS,
                [_project_row(r, f"2022年1-{r['month']}月") for r in others], PROJECT_MONEY)
    loudi = [r for r in rows if r["region_code"].startswith(LOUDI[:4])]
    for month in sorted({r["month"] for r in loudi}):
        write_table(landing / LOUDI / f"2021年1-{month}月娄底市双引擎重点产业项目进度", "gbk_title_yi",
                    "project_progress", f"2021年1-{month}月娄底市“双引擎”重点产业项目建设进度",
                    PROJECT_FIELDS, [_project_row(r, f"2021年1-{month}月") for r in loudi if r["month"] == month],
                    PROJECT_MONEY)


# where the sample's data ends, by kind: its reporting calendar ends there too, so the
# demo does not call every city late for every month between the sample and today
SAMPLE_ENDS = {"region_indicators": f"{YEARS[-1]}-12", "park_indicators": f"{YEARS[-1]}-12",
               "project_progress": "2022-04"}


def write_sample_calendar(path: Path) -> Path:
    """The bundled reporting calendar, each line ending where the sample's data of
    its kind ends (the clock stays the real one), and monthly project reports
    expected of the two cities the sample has them for."""
    with (reference.REFERENCE_DIR / "reporting_calendar.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for r in rows:
        end = SAMPLE_ENDS.get(r["report_kind"])
        if end and (not r["to_period"] or r["to_period"] > end):
            r["to_period"] = end
        if r["report_kind"] == "project_progress" and r["submitters"] == "city":
            # the sample has monthly project reports of 娄底 and 永州 only: the others are not
            # expected to send them (rather than called late for every month)
            for city in (LOUDI, YONGZHOU):
                out.append({**r, "submitters": city, "notes": f"样例：{reference.divisions()[city].name}重点产业项目月报 / "
                                                              "the sample's monthly project reports"})
            continue
        out.append(r)
    rows = out
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


CHECK_EXAMPLE = "祁阳2022年1-4月项目进度（更正）.xlsx"


def write_check_example(folder: Path, landing_file: Path) -> Path:
    """A correction 祁阳 might send after the sample: its 2022年1-4月 workbook with
    one project's completed investment raised by 100 万元 (and the total), for
    ``parkstat check`` to try (README)."""
    from openpyxl import load_workbook

    wb = load_workbook(landing_file)
    ws = wb.active
    ws.cell(1, 1).value = f"{ws.cell(1, 1).value}（更正）"
    first, total = 5, ws.max_row
    ws.cell(first, 12).value = ws.cell(first, 12).value + 100
    ws.cell(total, 12).value = ws.cell(total, 12).value + 100
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CHECK_EXAMPLE
    wb.save(path)
    return path
