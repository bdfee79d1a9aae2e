"""The ``sample`` size: the bundled sample written as files (the model of the
province is ``ingest/synthetic/hunan.py``): each report in the messy shape a real
submitter might use (``shapes.csv``) — English headers in UTF-8, a GBK table
titled in 亿元, a Traditional XLSX, GB18030 in 元 — the key projects month by
month, the demo's reporting calendar and the ``parkstat check`` example.
``parkstat demo`` writes these; so does ``generate("sample", out)``."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

from ingest import reference
from ingest.settings import WarehouseHome
from ingest.synthetic.codes import reported_code
from ingest.synthetic.files import merge_range, workbook
from ingest.synthetic.hunan import (DROPPED_PROJECTS, LATE_PROJECT_MONTHS, LEFT_OUT_COUNTY, LEVEL_WORDS, LOUDI,
                                    NEW_PARK_FIRST_YEAR, PARTIAL_PARKS, PROVINCE, Park, QIYANG, RATIO_OF_GDP, SEED,
                                    STRUCTURE, STRUCTURE_MONEY, YEARS, YONGZHOU, YONGZHOU_MISSING, build,
                                    build_evaluations, hunan, newcomer_parks)
from ingest.synthetic.shapes import period_text, write_table


# the shapes (shapes.csv) the cities take in turn
ROTATION = ["en_utf8", "gbk_title_yi", "xlsx_trad", "gb18030_yuan"]


def _name(code: str) -> str:
    return reference.divisions()[code].name


def write_sample(landing: Path, seed: int = SEED) -> list[Path]:
    """Write the sample submissions under ``landing/<submitter>/``; returns the files written."""
    cities, counties, parks, region_vals, park_vals, projects = build(seed)
    inds = list(RATIO_OF_GDP)
    newcomers = newcomer_parks(parks)
    for i, city in enumerate(sorted(cities)):
        shape = "gbk_title_yi" if city == LOUDI else ROTATION[i % len(ROTATION)]
        name = cities[city]
        cparks = [p for p in parks if p.city_code == city]
        write_table(landing / city / f"{name}园区名录", shape, "park_registry", f"{name}产业园区名录",
                    ["park_code", "park_name", "region_code", "park_level", "area_mu"],
                    [[p.code, p.name, p.region_code, p.level, p.area_mu] for p in cparks], set())

        def reported_parks(year: int) -> list[Park]:
            mine = [p for p in cparks if p.code not in newcomers or year >= NEW_PARK_FIRST_YEAR]
            return mine[:PARTIAL_PARKS[2]] if (city, year) == PARTIAL_PARKS[:2] else mine
        write_table(landing / city / f"{name}园区主要指标2019-2023", shape, "park_indicators",
                    f"2019-2023年{name}园区主要经济指标", ["period", "park_code", "park_name", *inds],
                    [[period_text("year_cn", y), p.code, p.name, *[park_vals[(p.code, y, k)] for k in inds]]
                     for y in YEARS for p in reported_parks(y)], set(inds))

        def regions(year: int) -> list[str]:
            return [c for c in [city, *counties[city]] if (city, year, c) != LEFT_OUT_COUNTY]
        write_table(landing / city / f"{name}地区主要指标2019-2023", shape, "region_indicators",
                    f"2019-2023年{name}地区主要经济指标", ["period", "region_code", "region_name", *inds],
                    [[period_text("year_cn", y), reported_code(c, y), _name(reported_code(c, y)),
                      *[region_vals[(c, y, k)] for k in inds]]
                     for y in YEARS for c in regions(y)], set(inds))
        # a second table for the same years, from another office: it stands beside the first
        units = ({"resident_population": ("人", 10_000), "land_area": ("公顷", 100),
                  "industrial_enterprises": ("家", 1)} if city == "430200" else
                 {"resident_population": ("万人", 1), "land_area": ("平方公里", 1), "industrial_enterprises": ("个", 1)})
        write_table(landing / city / f"{name}地区经济结构与人口面积2019-2023",
                    "xlsx_trad" if city == "430200" else ROTATION[(i + 1) % len(ROTATION)], "region_indicators",
                    f"2019-2023年{name}经济结构、人口与面积", ["period", "region_code", "region_name", *STRUCTURE],
                    [[period_text("year_cn", y), reported_code(c, y), _name(reported_code(c, y)),
                      *[region_vals[(c, y, k)] for k in STRUCTURE]] for y in YEARS for c in regions(y)],
                    STRUCTURE_MONEY, units)
    write_table(landing / PROVINCE / "湖南省地区主要指标2019-2023", "en_utf8", "region_indicators",
                "2019-2023年湖南省主要经济指标", ["period", "region_code", "region_name", *inds],
                [[period_text("iso", y), PROVINCE, "湖南省", *[region_vals[(PROVINCE, y, k)] for k in inds]]
                 for y in YEARS], set(inds))
    write_table(landing / PROVINCE / "湖南省经济结构与人口面积2019-2023", "en_utf8", "region_indicators",
                "2019-2023年湖南省经济结构、人口与面积", ["period", "region_code", "region_name", *STRUCTURE],
                [[period_text("iso", y), PROVINCE, "湖南省", *[region_vals[(PROVINCE, y, k)] for k in STRUCTURE]]
                 for y in YEARS], STRUCTURE_MONEY)
    write_table(landing / PROVINCE / "湖南省产业园区综合评价结果2021-2023", "gbk_title_yi", "park_evaluations",
                "湖南省省级及以上产业园区综合评价结果（2021-2023年）",
                ["period", "park_code", "park_name", "category", "rank", "stars"],
                build_evaluations(random.Random(seed + 1), parks, park_vals), set())
    write_projects(landing, projects)
    return sorted(p for p in landing.rglob("*") if p.is_file())


PROJECT_FIELDS = ["period", "project_code", "project_name", "region_code", "park_code", "industry_chain", "nature",
                  "stage", "total_investment", "annual_plan", "ytd_completed", "project_level", "programmes",
                  "is_industrial", "start_date"]
PROJECT_MONEY = {"total_investment", "annual_plan", "ytd_completed"}
SLIM = ("project_level", "programmes", "is_industrial")  # 祁阳's workbook leaves these out from 1-6月 on


def _project_row(r: dict, period_text: str, fields: list[str] = PROJECT_FIELDS, english: bool = False) -> list:
    shown = {"project_level": r["project_level"] if english else LEVEL_WORDS[r["project_level"]],
             "programmes": "；".join(r["programmes"]),
             "is_industrial": ("Y" if r["is_industrial"] else "N") if english else ("是" if r["is_industrial"] else "否")}
    return [period_text, *[shown.get(f, r[f]) for f in fields[1:]]]


def write_projects(landing: Path, rows: list[dict]) -> None:
    """祁阳 sends each month of 2022 as the seeds' workbook (title, 单位 line, 投资情况
    merged over plan and completion; from 1-6月 on without the level, programme
    and industrial columns: the projects keep theirs); 永州 sends its other
    counties' months of 2022 in two GBK files (1-5月 is missing); 娄底 sends a GBK
    file each month of 2021; every city sends each year's months of 2022 and 2023
    in one file (张家界 without 2023年1-11月 and 1-12月; 衡阳's 1-9月 without two
    projects)."""
    qiyang = [r for r in rows if r["region_code"] == QIYANG and r["year"] == 2022]
    for month in sorted({r["month"] for r in qiyang}):
        mine = [r for r in qiyang if r["month"] == month]
        fields = [f for f in PROJECT_FIELDS if month < 6 or f not in SLIM]
        title = f"2022年1-{month}月祁阳市重点产业项目建设进度表"
        zh = {f.name: f.zh for f in reference.kinds()["project_progress"]}
        heads = [zh[f] for f in fields]
        plan_at = fields.index("annual_plan")
        table = [[title], ["单位：万元"], ["序号", *heads[:plan_at], "投资情况", None, *heads[plan_at + 2:], "备注"],
                 [None] * (plan_at + 1) + ["年度计划投资", "本年累计完成投资"] + [None] * (len(fields) - plan_at - 1)]
        width = len(fields) + 2
        merges = [merge_range(3, c, 4, c) for c in [*range(1, plan_at + 2), *range(plan_at + 4, width + 1)]]
        merges += [merge_range(3, plan_at + 2, 3, plan_at + 3), merge_range(1, 1, 1, width)]
        for i, r in enumerate(mine, 1):
            table.append([i, *_project_row(r, period_text("cumulative_cn", 2022, month), fields), None])
        total = {f: sum(r[f] for r in mine) for f in PROJECT_MONEY}
        table.append(["合计", *[total.get(f) for f in fields], None])
        path = landing / QIYANG / f"{title}.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(workbook([("重点项目", table, "visible")], merges=merges))
    yongzhou = [r for r in rows if r["city"] == YONGZHOU and r["year"] == 2022 and r["region_code"] != QIYANG]
    write_table(landing / YONGZHOU / "2022年1-4月永州市重点产业项目进度", "gbk_title_yi", "project_progress",
                "2022年1-4月永州市重点产业项目进度（不含祁阳市）", PROJECT_FIELDS,
                [_project_row(r, period_text("cumulative_cn", 2022, r["month"])) for r in yongzhou
                 if r["month"] <= 4], PROJECT_MONEY)
    write_table(landing / YONGZHOU / "2022年6-12月永州市重点产业项目进度", "gbk_title_yi", "project_progress",
                "2022年6-12月永州市重点产业项目进度（不含祁阳市）", PROJECT_FIELDS,
                [_project_row(r, period_text("cumulative_cn", 2022, r["month"])) for r in yongzhou
                 if r["month"] > 4 and (2022, r["month"]) != YONGZHOU_MISSING], PROJECT_MONEY)
    loudi = [r for r in rows if r["city"] == LOUDI and r["year"] == 2021]
    for month in sorted({r["month"] for r in loudi}):
        write_table(landing / LOUDI / f"2021年1-{month}月娄底市双引擎重点产业项目进度", "gbk_title_yi",
                    "project_progress", f"2021年1-{month}月娄底市“双引擎”重点产业项目建设进度",
                    PROJECT_FIELDS, [_project_row(r, period_text("cumulative_cn", 2021, month))
                                     for r in loudi if r["month"] == month], PROJECT_MONEY)
    names = hunan()[0]
    for i, city in enumerate(sorted(names)):
        for year in (2022, 2023):
            if (city, year) == (YONGZHOU, 2022):
                continue
            mine = [r for r in rows if r["city"] == city and r["year"] == year
                    and (year, r["month"]) not in LATE_PROJECT_MONTHS.get(city, set())]
            for (c, y, m), n in DROPPED_PROJECTS.items():
                if (c, y) == (city, year):
                    left_out = sorted({r["project_code"] for r in mine if r["month"] == m})[:n]
                    mine = [r for r in mine if not (r["month"] == m and r["project_code"] in left_out)]
            shape = ROTATION[(i + year) % len(ROTATION)]
            write_table(landing / city / f"{year}年{names[city]}重点产业项目进度（分月）", shape, "project_progress",
                        f"{year}年{names[city]}重点产业项目建设进度（逐月累计）", PROJECT_FIELDS,
                        [_project_row(r, period_text("cumulative_cn", year, r["month"]), english=shape == "en_utf8")
                         for r in mine], PROJECT_MONEY)


# where the sample's data ends, by kind: its reporting calendar ends there too, so the
# demo does not call every city late for every month between the sample and today
SAMPLE_ENDS = {"region_indicators": f"{YEARS[-1]}-12", "park_indicators": f"{YEARS[-1]}-12",
               "project_progress": f"{YEARS[-1]}-12", "park_evaluations": f"{YEARS[-1]}-12"}


def write_sample_calendar(path: Path) -> Path:
    """The bundled reporting calendar, each line ending where the sample's data of
    its kind ends (the clock stays the real one): the demo's home keeps it, so
    the demo stays honest whatever calendar a deployment ships."""
    with (reference.REFERENCE_DIR / "reporting_calendar.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        end = SAMPLE_ENDS.get(r["report_kind"])
        if end and (not r["to_period"] or r["to_period"] > end):
            r["to_period"] = end
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def write_demo(home: WarehouseHome) -> tuple[list[Path], Path]:
    """What ``parkstat demo`` puts in a home before its refresh: the sample's
    calendar, the sample submissions in the landing area and, under
    ``examples/``, the file to try ``parkstat check`` on; returns the
    submissions and that file."""
    write_sample_calendar(home.reporting_calendar)
    files = write_sample(home.landing)
    qiyang = next(p for p in files if p.parent.name == QIYANG and "1-4月" in p.name)
    return files, write_check_example(home.root / "examples", qiyang)


def generate(out: Path, seed: int = SEED) -> dict:
    """The ``sample`` size in the generator's layout: the submissions the demo
    writes into its landing area under ``out/full/<submitter>/`` (nothing held
    back: ``out/increment/`` stays empty), its calendar as
    ``out/reporting_calendar.csv``; returns counts (also ``out/manifest.json``)."""
    files = write_sample(out / "full", seed)
    (out / "increment").mkdir(parents=True, exist_ok=True)
    write_sample_calendar(out / "reporting_calendar.csv")
    counts = {"size": "sample", "seed": seed, "submitters": len({p.parent.name for p in files}), "files": len(files),
              "increment_files": 0, "bytes": sum(p.stat().st_size for p in files)}
    (out / "manifest.json").write_text(json.dumps(counts, ensure_ascii=False, indent=1), encoding="utf-8")
    return counts


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
