"""The benchmark's sizes (``tiny``, ``province``, ``national``): a deterministic,
seeded generator of submissions at scale.

Every current county-level division of the national division list
(``ingest/reference/divisions.csv``) hosts parks and key projects; each city
(or, for a municipality, the province) sends, in the contract's shapes:

* its park register once (园区名录; XLSX for some cities),
* each year's park and region indicators (年报),
* each month's key-project report (月报, 1-2月 together), one file per month.

Shapes (``shapes.csv``) rotate by city: UTF-8 with Chinese headers and 万元 in
the header; GBK with a title row and a ``单位：亿元`` line; UTF-8 with a BOM and
the contract's English field names; GB18030 in 元; and, for one city in fifty,
the monthly report as an XLSX workbook with a unit line. Period texts vary as
the shapes spell them (``2024-05``, ``2024年1-5月``, ``2024年5月``).

Sizes (``sizes.py``): ``tiny`` (tests), ``province`` (Hunan), ``national`` (all
of China: ~2,850 counties, ~2,500 parks, 200,000 projects, five years ≈ 11 M
project-months). The last month is held back in ``increment/`` for the
benchmark's nightly increment.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl

from ingest import reference
from ingest.synthetic.codes import CHAINS, NATURES, reported_code
from ingest.synthetic.shapes import period_text, shapes, write_table
from ingest.synthetic.sizes import SIZES, Size

INDICATORS = ["gdp", "industrial_value_added", "hightech_value_added", "import_export", "tax",
              "fixed_asset_investment", "industrial_revenue", "profit"]
# share of a region's GDP each indicator is, and the parks' share of their host
RATIO = {"gdp": 1.0, "industrial_value_added": 0.32, "hightech_value_added": 0.2, "import_export": 0.18,
         "tax": 0.08, "fixed_asset_investment": 0.7, "industrial_revenue": 1.3, "profit": 0.07}
PROJECT_FIELDS = ["period", "project_code", "project_name", "region_code", "park_code", "industry_chain",
                  "nature", "stage", "total_investment", "annual_plan", "ytd_completed", "start_date"]
MONEY = {"total_investment", "annual_plan", "ytd_completed", *INDICATORS}
# the shapes (shapes.csv) the submitters take in turn; XLSX for a few
ROTATION = ["zh_utf8", "gbk_title_yi", "en_bom", "gb18030_yuan_plain"]
XLSX = "xlsx_unit_line"
MONTHS = [2, *range(3, 13)]  # project reports: 1-2月 together, then monthly


def submitters(size: Size) -> dict[str, list[str]]:
    """submitter (city, or province for counties directly under it) -> its current counties."""
    divs = reference.divisions()
    out: dict[str, list[str]] = {}
    for d in sorted(divs.values(), key=lambda d: d.code):
        if d.level != "county" or d.valid_to is not None or d.is_statistical:
            continue
        if size.provinces and d.code[:2] not in size.provinces:
            continue
        out.setdefault(d.parent_code, []).append(d.code)
    keys = sorted(out)[: size.cities] if size.cities else sorted(out)
    return {k: out[k] for k in keys}


def _write(path: Path, shape: str, kind: str, title: str, fields: list[str], frame: pl.DataFrame) -> None:
    write_table(path, shape, kind, title, fields, frame.select(fields).iter_rows(), MONEY & set(fields))


def generate(size_name: str, out: Path, seed: int | None = None) -> dict:
    """Write the submissions of ``size`` under ``out/full/<submitter>/`` and the
    held-back last month under ``out/increment/<submitter>/``; returns counts
    (also written to ``out/manifest.json``). Same seed, same bytes."""
    size = SIZES[size_name]
    seed = size.seed if seed is None else seed
    rng = random.Random(seed)
    divs = reference.divisions()
    subs = submitters(size)
    n_counties = sum(len(v) for v in subs.values())
    per_county = max(1, size.projects // n_counties)
    years = list(size.years)
    last = (years[-1], 12)
    counts = {"size": size.name, "seed": seed, "submitters": len(subs), "counties": n_counties, "parks": 0,
              "projects": 0, "project_rows": 0, "files": 0, "increment_files": 0, "bytes": 0, "now": size.now}

    for i, (sub, counties) in enumerate(subs.items()):
        shape = ROTATION[i % len(ROTATION)]
        period = shapes()[shape].period
        xlsx_projects = i % 50 == 7
        name = divs[sub].name
        # parks: most counties host one, a few two
        parks = []
        for c in counties:
            n = 1 if rng.random() < 0.83 else (2 if rng.random() < 0.2 else 0)
            for k in range(n):
                parks.append({"park_code": f"{c}-P{k + 1}", "park_name": f"{divs[c].name}产业园{'一二'[k]}区",
                              "region_code": c, "park_level": rng.choice(["国家级", "省级", "省级", "市级"]),
                              "area_mu": f"{rng.randint(2, 60) * 1000}"})
        counts["parks"] += len(parks)
        full = out / "full" / sub
        if parks:
            reg = pl.DataFrame(parks)
            fields = ["park_code", "park_name", "region_code", "park_level", "area_mu"]
            _write(full / f"{name}园区名录", XLSX if i % 10 == 5 else shape, "park_registry", f"{name}产业园区名录",
                   fields, reg)

        # annual indicators: regions (the city and its counties) and parks
        base = {c: rng.uniform(80, 900) * 10000 for c in counties}  # county GDP in 万元
        base[sub] = sum(base.values()) * 1.15
        for y in years:
            growth = (1.06 + 0.01 * (y - years[0])) ** (y - years[0])
            rrows, prows = [], []
            for c in [sub, *counties]:
                rc = reported_code(c, y)
                if rc is None:  # a county made later, of no earlier county: no figures yet
                    continue
                g = base[c] * growth * rng.uniform(0.97, 1.03)
                rrows.append({"period": period_text(period, y, 12), "region_code": rc, "region_name": divs[rc].name,
                              **{k: g * RATIO[k] * rng.uniform(0.9, 1.1) for k in INDICATORS}})
                for p in (p for p in parks if p["region_code"] == c):
                    share = rng.uniform(0.15, 0.4)
                    prows.append({"period": period_text(period, y, 12), "park_code": p["park_code"],
                                  "park_name": p["park_name"], **{k: g * share * RATIO[k] for k in INDICATORS}})
            rf = ["period", "region_code", "region_name", *INDICATORS]
            _write(full / f"{name}{y}年地区主要指标", shape, "region_indicators", f"{y}年{name}地区主要经济指标", rf,
                   pl.DataFrame(rrows))
            if prows:
                pf = ["period", "park_code", "park_name", *INDICATORS]
                _write(full / f"{name}{y}年园区主要指标", shape, "park_indicators", f"{y}年{name}园区主要经济指标", pf,
                       pl.DataFrame(prows))

        # key projects: attributes once, then every month's cumulative figures (vectorised)
        projects = []
        for c in counties:
            cparks = [p["park_code"] for p in parks if p["region_code"] == c]
            for k in range(per_county):
                start = rng.randint(years[0] - 2, years[-1])
                total = round(rng.uniform(0.5, 40) * 10000, 2)
                projects.append({"project_code": f"XM{c}{k:04d}", "project_name": f"{divs[c].name}重点项目{k + 1}号",
                                 "region_code": c,
                                 "park_code": rng.choice(cparks) if cparks and rng.random() < 0.6 else "",
                                 "industry_chain": rng.choice(CHAINS), "nature": rng.choice(NATURES),
                                 "start_year": start, "total": total,
                                 "start_date": f"{start}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                                 "pace": rng.uniform(0.7, 1.2), "share": rng.uniform(0.15, 0.45)})
        counts["projects"] += len(projects)
        pf = pl.DataFrame(projects)
        months = pl.DataFrame({"year": [y for y in years for _ in MONTHS], "month": MONTHS * len(years)})
        codes = pl.DataFrame([(c, y, reported_code(c, y)) for c in counties for y in years],
                             schema={"region_code": pl.String, "year": pl.Int64, "reported": pl.String}, orient="row")
        rows = (pf.join(months, how="cross")
                .join(codes.drop_nulls(), on=["region_code", "year"], how="inner")  # none before the county was made
                .with_columns(region_code=pl.col("reported")).drop("reported")
                .with_columns(
                    stage=pl.when(pl.col("year") < pl.col("start_year")).then(pl.lit("前期"))
                    .when(pl.col("year") == pl.col("start_year")).then(pl.lit("新开工")).otherwise(pl.lit("续建")),
                    plan=(pl.col("total") * pl.col("share") * (1 + 0.03 * (pl.col("year") - years[0]))).round(2))
                .with_columns(ytd=(pl.col("plan") * pl.col("month") / 12 * pl.col("pace")).round(2)))
        counts["project_rows"] += rows.height
        month_shape = XLSX if xlsx_projects else shape
        for (y, m), part in rows.group_by(["year", "month"], maintain_order=True):
            frame = part.with_columns(period=pl.lit(period_text(shapes()[month_shape].period, y, m)),
                                      total_investment=pl.col("total"), annual_plan=pl.col("plan"),
                                      ytd_completed=pl.col("ytd"))
            where = (out / "increment" / sub) if (y, m) == last else full
            stem = f"{y}年1-{m}月{name}重点产业项目进度"
            _write(where / stem, month_shape, "project_progress", stem, PROJECT_FIELDS, frame)

    for part in ("full", "increment"):
        files = [p for p in (out / part).rglob("*") if p.is_file()]
        counts["files" if part == "full" else "increment_files"] = len(files)
        counts["bytes"] += sum(p.stat().st_size for p in files)
    calendar = out / "reporting_calendar.csv"
    calendar.write_text(national_calendar(size), encoding="utf-8")
    (out / "manifest.json").write_text(json.dumps(counts, ensure_ascii=False, indent=1), encoding="utf-8")
    return counts


def national_calendar(size: Size) -> str:
    """The reporting calendar the generated submitters follow (every province in
    ``size``; submitters are cities, and provinces for counties directly under them)."""
    first = size.years[0]
    lines = ["report_kind,submitters,within,months,from_period,to_period,due_days,notes"]
    for within in size.provinces or ("",):
        lines += [f"region_indicators,city,{within},12,{first}-12,,60,",
                  f"park_indicators,city,{within},12,{first}-12,,60,",
                  f"project_progress,city,{within},2-12,{first}-02,,15,"]
    return "\n".join(lines) + "\n"
