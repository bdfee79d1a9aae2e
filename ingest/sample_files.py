"""The bundled sample written as files (the model of the province is
``ingest/sample.py``): each report in the messy shape a real submitter might
use — English headers in UTF-8, a GBK table titled in 亿元, a Traditional XLSX,
GB18030 in 元 — the key projects month by month, the demo's reporting calendar
and the ``parkstat check`` example."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

from ingest import reference
from ingest.sample import (DROPPED_PROJECTS, KIND_ZH_TITLE, LATE_PROJECT_MONTHS, LEFT_OUT_COUNTY, LEVEL_WORDS,
                           LOUDI, NEW_PARK_FIRST_YEAR, PARTIAL_PARKS, PROVINCE, Park, QIYANG, RATIO_OF_GDP,
                           SEED, STRUCTURE, STRUCTURE_MONEY, YEARS, YONGZHOU, YONGZHOU_MISSING, build,
                           build_evaluations, hunan, newcomer_parks, reported_code)


def _csv_text(rows: list[list]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


def _fmt(v: float, unit: str) -> str:
    factor = {"万元": 1, "亿元": 10000, "元": 0.0001}[unit]
    x = v / factor
    return f"{x:.4f}" if unit == "亿元" else (f"{x:.0f}" if unit == "元" else f"{x:g}")


def _qty(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def write_table(path: Path, shape: str, kind: str, title: str, fields: list[str], rows: list[list],
                money_fields: set[str], quantities: dict[str, tuple[str, float]] | None = None) -> None:
    """Write one table in a shape: 'en_utf8' (English headers, UTF-8, 万元),
    'gbk_title_yi' (GBK, title row and 单位：亿元), 'xlsx_trad' (XLSX, Traditional
    headers with units in the header cells, 万元), 'gb18030_yuan' (GB18030, units
    (元) in header cells, thousands separators)."""
    zh = {f.name: f.zh for f in reference.kinds()[kind]}
    qty = quantities or {}  # field -> (unit written in its header, factor from the stored unit)
    rows = [[_qty(v * qty[f][1]) if f in qty and v is not None else v for f, v in zip(fields, r)] for r in rows]
    zh = {f: z + (f"（{qty[f][0]}）" if f in qty else "") for f, z in zh.items()}
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
    newcomers = newcomer_parks(parks)
    for i, city in enumerate(sorted(cities)):
        shape = "gbk_title_yi" if city == LOUDI else SHAPES[i % len(SHAPES)]
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
                    [[f"{y}年", p.code, p.name, *[park_vals[(p.code, y, k)] for k in inds]]
                     for y in YEARS for p in reported_parks(y)], set(inds))

        def regions(year: int) -> list[str]:
            return [c for c in [city, *counties[city]] if (city, year, c) != LEFT_OUT_COUNTY]
        write_table(landing / city / f"{name}地区主要指标2019-2023", shape, "region_indicators",
                    f"2019-2023年{name}地区主要经济指标", ["period", "region_code", "region_name", *inds],
                    [[f"{y}年", reported_code(c, y), reference.divisions()[reported_code(c, y)].name,
                      *[region_vals[(c, y, k)] for k in inds]]
                     for y in YEARS for c in regions(y)], set(inds))
        # a second table for the same years, from another office: it stands beside the first
        units = ({"resident_population": ("人", 10_000), "land_area": ("公顷", 100),
                  "industrial_enterprises": ("家", 1)} if city == "430200" else
                 {"resident_population": ("万人", 1), "land_area": ("平方公里", 1), "industrial_enterprises": ("个", 1)})
        write_table(landing / city / f"{name}地区经济结构与人口面积2019-2023",
                    "xlsx_trad" if city == "430200" else SHAPES[(i + 1) % len(SHAPES)], "region_indicators",
                    f"2019-2023年{name}经济结构、人口与面积", ["period", "region_code", "region_name", *STRUCTURE],
                    [[f"{y}年", reported_code(c, y), reference.divisions()[reported_code(c, y)].name,
                      *[region_vals[(c, y, k)] for k in STRUCTURE]] for y in YEARS for c in regions(y)],
                    STRUCTURE_MONEY, units)
    write_table(landing / PROVINCE / "湖南省地区主要指标2019-2023", "en_utf8", "region_indicators",
                "2019-2023年湖南省主要经济指标", ["period", "region_code", "region_name", *inds],
                [[f"{y}-12", PROVINCE, "湖南省", *[region_vals[(PROVINCE, y, k)] for k in inds]] for y in YEARS],
                set(inds))
    write_table(landing / PROVINCE / "湖南省经济结构与人口面积2019-2023", "en_utf8", "region_indicators",
                "2019-2023年湖南省经济结构、人口与面积", ["period", "region_code", "region_name", *STRUCTURE],
                [[f"{y}-12", PROVINCE, "湖南省", *[region_vals[(PROVINCE, y, k)] for k in STRUCTURE]]
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
    from openpyxl import Workbook

    qiyang = [r for r in rows if r["region_code"] == QIYANG and r["year"] == 2022]
    for month in sorted({r["month"] for r in qiyang}):
        mine = [r for r in qiyang if r["month"] == month]
        fields = [f for f in PROJECT_FIELDS if month < 6 or f not in SLIM]
        title = f"2022年1-{month}月祁阳市重点产业项目建设进度表"
        wb = Workbook()
        ws = wb.active
        ws.title = "重点项目"
        zh = {f.name: f.zh for f in reference.kinds()["project_progress"]}
        heads = [zh[f] for f in fields]
        plan_at = fields.index("annual_plan")
        ws.append([title])
        ws.append(["单位：万元"])
        ws.append(["序号", *heads[:plan_at], "投资情况", None, *heads[plan_at + 2:], "备注"])
        ws.append([None] * (plan_at + 1) + ["年度计划投资", "本年累计完成投资"] + [None] * (len(fields) - plan_at - 1))
        width = len(fields) + 2
        for c in [*range(1, plan_at + 2), *range(plan_at + 4, width + 1)]:
            ws.merge_cells(start_row=3, start_column=c, end_row=4, end_column=c)
        ws.merge_cells(start_row=3, start_column=plan_at + 2, end_row=3, end_column=plan_at + 3)
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
        for i, r in enumerate(mine, 1):
            ws.append([i, *_project_row(r, f"2022年1-{month}月", fields), None])
        total = {f: sum(r[f] for r in mine) for f in PROJECT_MONEY}
        ws.append(["合计", *[total.get(f) for f in fields], None])
        path = landing / QIYANG / f"{title}.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        wb.save(path)
    yongzhou = [r for r in rows if r["city"] == YONGZHOU and r["year"] == 2022 and r["region_code"] != QIYANG]
    write_table(landing / YONGZHOU / "2022年1-4月永州市重点产业项目进度", "gbk_title_yi", "project_progress",
                "2022年1-4月永州市重点产业项目进度（不含祁阳市）", PROJECT_FIELDS,
                [_project_row(r, f"2022年1-{r['month']}月") for r in yongzhou if r["month"] <= 4], PROJECT_MONEY)
    write_table(landing / YONGZHOU / "2022年6-12月永州市重点产业项目进度", "gbk_title_yi", "project_progress",
                "2022年6-12月永州市重点产业项目进度（不含祁阳市）", PROJECT_FIELDS,
                [_project_row(r, f"2022年1-{r['month']}月") for r in yongzhou
                 if r["month"] > 4 and (2022, r["month"]) != YONGZHOU_MISSING], PROJECT_MONEY)
    loudi = [r for r in rows if r["city"] == LOUDI and r["year"] == 2021]
    for month in sorted({r["month"] for r in loudi}):
        write_table(landing / LOUDI / f"2021年1-{month}月娄底市双引擎重点产业项目进度", "gbk_title_yi",
                    "project_progress", f"2021年1-{month}月娄底市“双引擎”重点产业项目建设进度",
                    PROJECT_FIELDS, [_project_row(r, f"2021年1-{month}月") for r in loudi if r["month"] == month],
                    PROJECT_MONEY)
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
            shape = SHAPES[(i + year) % len(SHAPES)]
            write_table(landing / city / f"{year}年{names[city]}重点产业项目进度（分月）", shape, "project_progress",
                        f"{year}年{names[city]}重点产业项目建设进度（逐月累计）", PROJECT_FIELDS,
                        [_project_row(r, f"{year}年1-{r['month']}月", english=shape == "en_utf8") for r in mine],
                        PROJECT_MONEY)


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
