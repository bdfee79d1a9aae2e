"""The model of the bundled sample (the generator's ``sample`` size): a
deterministic (seeded) Hunan province, 2019–2023, written as the submission
files counties, cities and the province would send, in the messy shapes the
contract promises (the files: ``ingest/synthetic/sample.py``).

It reproduces the seed documents' figures:
- 娄底's 2020 park shares (GDP 32.3 %, 规模工业增加值 68 %, 高新技术产业增加值 80.9 %,
  进出口 80 %, 税收 59.6 %) beside the province's (35, 69, 65, 72, 42 %);
- 娄底 2021: the parks' 利润总额 up 26.5 %, 11.4 points above the city's 15.1 %;
- 衡阳 2021: the parks' 固定资产投资 904.6亿 = 47 % of the city's; 县域 GDP = 63.6 %
  of the city's 3840.3亿, six counties above 300亿 and two above 400亿;
- key projects: 祁阳 2022年1-4月 53.93亿 completed = 33.7 % of a 160亿 annual plan;
  娄底 2021年1-6月 ("双引擎" projects) 69.73亿 = 96.9 % of plan.

Seed 002 (a 观摩督导 speech) names no city: its figures (衡阳's above) are placed in
a sample city, not that city's own.

Beyond the seeds, contract v2's figures have something to show: every city
reports its region's structure (sectors, fiscal revenue, population, land,
enterprises) in a second table for the same years, and its key projects month
by month in 2022 and 2023 (levels, programmes, industrial or not, start dates,
stages); the province sends its park evaluations (十强, 十快, 十先进, 星级) for
2021–2023. A few submissions are deliberately late or partial, as in life:
张家界 has not sent its projects for 2023年1-11月 and 1-12月; 永州's own
2022年1-5月 report is missing (祁阳 sent its part); 衡阳's 2023年1-9月 report
leaves out two projects; 怀化 sent 2023 figures for six of its ten parks;
湘西's 2023 region table leaves out 永顺县; two parks (one in 长沙, one in 岳阳)
reported for the first time in 2022 (同口径 growth leaves them out).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ingest import reference
from ingest.synthetic.codes import CHAINS, NATURES
from ingest.synthetic.sizes import SIZES

SEED = SIZES["sample"].seed
PROVINCE = "430000"
YEARS = range(SIZES["sample"].years[0], SIZES["sample"].years[-1] + 1)
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
STRUCTURE = ["general_budget_revenue", "primary_value_added", "secondary_value_added", "tertiary_value_added",
             "industrial_investment", "resident_population", "land_area", "industrial_enterprises"]
STRUCTURE_MONEY = set(STRUCTURE[:5])
PROVINCE_LAND = 211_800  # 平方公里
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
    newcomers = newcomer_parks(parks)
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
                if year < NEW_PARK_FIRST_YEAR:  # a park that reports only from then on has no part before
                    index = {p.code: i for i, p in enumerate(cps)}
                    for new, neighbour in newcomers.items():
                        if new in index:
                            parts[index[neighbour]] += parts[index[new]]
                            parts[index[new]] = 0
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
    region_vals.update(build_structure(rng, cities, counties, region_vals))
    return cities, counties, parks, region_vals, park_vals, projects


def newcomer_parks(parks: list[Park]) -> dict[str, str]:
    """The parks that report for the first time in NEW_PARK_FIRST_YEAR (the last
    park of each city in NEW_PARK_CITIES whose county hosts another), each with
    that other park: before, the newcomer's part is its neighbour's, so the
    county's figures run on without a jump."""
    out = {}
    for c in NEW_PARK_CITIES:
        mine = [p for p in parks if p.city_code == c]
        new = next(p for p in reversed(mine) if any(q.region_code == p.region_code for q in mine if q is not p))
        out[new.code] = next(q.code for q in mine if q.region_code == new.region_code and q is not new)
    return out


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


LEVEL_WORDS = {"province": "省重点", "city": "市重点", "county": "县重点"}
PROGRAMMES = ["双引擎", "三高四新", "产业链链长制"]
# deliberately late or partial submissions (module docstring)
LATE_PROJECT_MONTHS = {"430800": {(2023, 11), (2023, 12)}}  # 张家界
DROPPED_PROJECTS = {("430400", 2023, 9): 2}  # 衡阳 leaves two projects out of 2023年1-9月
YONGZHOU_MISSING = (2022, 5)  # 永州's own 2022年1-5月 report
PARTIAL_PARKS = ("431200", 2023, 6)  # 怀化 2023: six of ten parks
LEFT_OUT_COUNTY = ("433100", 2023, "433127")  # 湘西 2023 without 永顺县
NEW_PARK_CITIES = ("430100", "430600")  # the last park of each first reports in 2022
NEW_PARK_FIRST_YEAR = 2022


def build_projects(rng: random.Random, parks: list[Park], counties: dict[str, list[str]]) -> list[dict]:
    """Monthly cumulative progress reports of key projects: 娄底's in 2021
    (January–June, the 双引擎 list), and every city's in 2022 and 2023 (January
    to December; 永州's with the seeds' 祁阳 figures pinned at 1-4月). A project
    not finished in 2022 mostly goes on in 2023 with a new annual plan."""
    rows: list[dict] = []
    carried: dict[str, list[dict]] = {}
    for city, year, last in [(LOUDI, 2021, 6)] + [(c, y, 12) for y in (2022, 2023) for c in sorted(counties)]:
        projects = [dict(p, annual_plan=None) for p in carried.get(city, []) if not p["finishes"]
                    and rng.random() < 0.7] if year == 2023 else []
        for p in projects:
            p.update(starts=0, finishes=rng.random() < 0.25, start_year=p["start_year"],
                     plan_weight=p["total_investment"] * rng.uniform(0.15, 0.45), pace=rng.uniform(0.85, 1.2))
        for county in counties[city]:
            hosted = [p for p in parks if p.region_code == county]
            many = (city, year) in ((YONGZHOU, 2022), (LOUDI, 2021))
            for _ in range(rng.randrange(4, 9) if many else rng.randrange(2, 4)):
                i = sum(1 for p in projects if p["region_code"] == county) + 1
                chain = rng.choice(CHAINS)
                total = rng.randrange(20_000, 400_000)
                starts = rng.choice([0, 0, 0, 3, 4]) if many else rng.choice([0, 0, 3, 4, 5, 7, 9])
                projects.append({
                    "project_code": f"XM{county}{year % 100:02d}{i:02d}", "region_code": county,
                    "project_name": f"{reference.divisions()[county].name}{chain}项目{year % 100}-{i}",
                    "park_code": hosted[i % len(hosted)].code if hosted and i % 3 else None,
                    "industry_chain": chain, "nature": rng.choice(NATURES), "total_investment": total,
                    "plan_weight": total * rng.uniform(0.2, 0.6), "pace": rng.uniform(0.85, 1.2),
                    "starts": starts, "start_year": year if starts else year - 1,
                    "start_day": rng.randrange(1, 28), "start_month": starts or rng.randrange(3, 12),
                    "finishes": rng.random() < 0.15,
                    "level": rng.choices(list(LEVEL_WORDS), [2, 4, 4])[0],
                    "programmes": ["双引擎"] if city == LOUDI and year == 2021 else
                    rng.choice([[], [], ["双引擎"], ["三高四新"], ["双引擎", "三高四新"], ["产业链链长制"]]),
                    "industrial": rng.random() < 0.85})
        carried[city] = projects
        pin_month = next((m for r, y, m in PROJECT_TARGETS if y == year and reference.ancestors(r)[1:2] == (city,)
                          or (r == city and y == year)), None)
        # annual plans, and the cumulative figure of the pinned month, where the seeds give them
        for scope in {r for r, y, m in PROJECT_TARGETS if y == year and m == pin_month}:
            members = [p for p in projects if (p["region_code"] == scope or
                       reference.divisions()[p["region_code"]].parent_code == scope)
                       and (not p["starts"] or p["starts"] <= pin_month)]  # those in the pinned month's report
            if not members:
                continue
            plan, done = PROJECT_TARGETS[(scope, year, pin_month)]
            for p, v in zip(members, _split(plan, [p["plan_weight"] for p in members])):
                p["annual_plan"] = v
                # a year's plan is a part of the whole: 30–50 % of the total investment
                p["total_investment"] = max(p["total_investment"], round(v / rng.uniform(0.3, 0.5)))
            for p, v in zip(members, _split(done, [p["annual_plan"] * p["pace"] for p in members])):
                p["done_at"] = (pin_month, v)
        for p in projects:
            if p.get("annual_plan") is None:
                p["annual_plan"] = round(p["plan_weight"])
            k, done_k = p.pop("done_at", (None, None))
            full = round(p["annual_plan"] * p["pace"] * last / 12 * (1.1 if last < 12 else 1.0))
            if k is None:
                k, done_k = last, full
            full = max(full, done_k)
            finish = last if p["finishes"] else None
            for month in range(2, last + 1):  # January is reported with February (1-2月)
                if p["starts"] and month < p["starts"]:
                    continue
                stage = ("新开工" if p["starts"] and month == p["starts"] else
                         "竣工" if finish and month == finish - 1 else
                         "投产" if finish and month == finish else "续建")
                done = (done_k if month == k else round(done_k * (month / k) ** 1.15) if month < k else
                        done_k + round((full - done_k) * (month - k) / (last - k)))
                rows.append({"period": f"{year}-{month:02d}", "year": year, "month": month, "last": last,
                             "city": city, "project_code": p["project_code"], "project_name": p["project_name"],
                             "region_code": p["region_code"], "park_code": p["park_code"],
                             "industry_chain": p["industry_chain"], "nature": p["nature"], "stage": stage,
                             "total_investment": p["total_investment"], "annual_plan": p["annual_plan"],
                             "ytd_completed": done, "project_level": p["level"],
                             "programmes": p["programmes"], "is_industrial": p["industrial"],
                             "start_date": f"{p['start_year']}-{p['start_month']:02d}-{p['start_day']:02d}"})
    return rows


def build_structure(rng: random.Random, cities: dict[str, str], counties: dict[str, list[str]],
                    region_vals: dict) -> dict[tuple[str, int, str], float]:
    """Each county's economic structure, fiscal revenue, industrial investment,
    population, land and enterprises, consistent with its GDP, fixed-asset
    investment and industry; a city's the sum of its counties' (its revenue a
    little more: the city's own), the province's the sum of its cities'."""
    out: dict[tuple[str, int, str], float] = {}
    share = {c: (rng.uniform(0.06, 0.2), rng.uniform(0.34, 0.47), rng.uniform(0.04, 0.08), rng.uniform(0.4, 0.6),
                 rng.uniform(0.6, 1.5), rng.uniform(0.5, 2.0), rng.uniform(0.8, 1.3))
             for cs in counties.values() for c in cs}
    land = {}
    for city in cities:
        city_land = round(PROVINCE_LAND * CITY_GDP_2020[city] ** 0.25 / sum(v ** 0.25 for v in CITY_GDP_2020.values()))
        for c, v in zip(counties[city], _split(city_land, [share[c][5] for c in counties[city]])):
            land[c] = v
    for year in YEARS:
        for city in cities:
            for c in counties[city]:
                gdp = region_vals[(c, year, "gdp")]
                p1, p2, rev, inv, pop, _, ent = share[c]
                p1 -= 0.004 * (year - 2019)  # the primary sector's share shrinks, year by year
                primary, secondary = round(gdp * p1), round(gdp * (p2 + 0.002 * (year - 2019)))
                vals = {"primary_value_added": primary, "secondary_value_added": secondary,
                        "tertiary_value_added": gdp - primary - secondary,
                        "general_budget_revenue": round(gdp * rev),
                        "industrial_investment": round(region_vals[(c, year, "fixed_asset_investment")] * inv),
                        "resident_population": round((gdp / 10_000) ** 0.6 * pop * 160 * (1 - 0.003 * (year - 2019))),
                        "land_area": land[c],
                        "industrial_enterprises": max(3, round(region_vals[(c, year, "industrial_value_added")]
                                                               / 6_000 * ent))}
                for k, v in vals.items():
                    out[(c, year, k)] = v
            for k in STRUCTURE:
                out[(city, year, k)] = sum(out[(c, year, k)] for c in counties[city])
            out[(city, year, "general_budget_revenue")] = round(out[(city, year, "general_budget_revenue")] * 1.2)
        for k in STRUCTURE:
            out[(PROVINCE, year, k)] = sum(out[(c, year, k)] for c in cities)
    # population in hundredths of 万人 (a county of 100万 is 10000)
    for key in [k for k in out if k[2] == "resident_population"]:
        out[key] = out[key] / 100
    return out


def build_evaluations(rng: random.Random, parks: list[Park], park_vals: dict) -> list[list]:
    """The province's evaluations, 2021–2023: 十强 by 规模工业营业收入, 十快 by its
    growth, 十先进 by 税收 per 亩, 星级 (1–5) for about a third of the parks."""
    rows = []
    for year in (2021, 2022, 2023):
        rev = {p.code: park_vals[(p.code, year, "industrial_revenue")] for p in parks
               if park_vals[(p.code, year, "industrial_revenue")] > 0}  # the parks reporting that year
        growth = {c: v / park_vals[(c, year - 1, "industrial_revenue")] for c, v in rev.items()
                  if park_vals[(c, year - 1, "industrial_revenue")] > 0}
        per_mu = {p.code: park_vals[(p.code, year, "tax")] / p.area_mu for p in parks if p.code in rev}
        for category, score in (("十强", rev), ("十快", growth), ("十先进", per_mu)):
            for rank, code in enumerate(sorted(score, key=lambda c: -score[c])[:10], 1):
                rows.append([f"{year}年", code, next(p.name for p in parks if p.code == code), category, rank, None])
        rated = sorted(rng.sample(sorted(rev), len(parks) // 3))
        for code in rated:
            stars = min(5, 1 + sum(per_mu[code] > per_mu[c] for c in rated) * 5 // len(rated))
            rows.append([f"{year}年", code, next(p.name for p in parks if p.code == code), "星级", None, stars])
    return rows


def _split(total: int, weights: list[float]) -> list[int]:
    """``total`` in integer parts proportional to ``weights``, adding up exactly."""
    parts = [round(total * w / sum(weights)) for w in weights]
    parts[-1] = total - sum(parts[:-1])
    return parts

