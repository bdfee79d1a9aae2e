"""The leaders' report: one static HTML file per publish, charts drawn as inline
SVG (no script, no CDN, opens offline in any browser): each city's park share
against the province's, key-project investment against the calendar, the
province's 十强 and 十快, and who has not reported.

Plain functions over the verified candidate file; every text that came from
a submission (park names, file names) is HTML-escaped.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import duckdb

from orchestration.outputs import completeness_sql

PARK = "#c0392b"  # the parks' bars
PACE = "#1f618d"  # the investment bars
MARK = "#2c3e50"  # reference lines (province share, time elapsed)
SHARE_INDICATORS = ("gdp", "industrial_value_added", "tax")
RANK_INDICATORS = ("tax", "industrial_value_added")

CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:18px;border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:32px}
.note{color:#666;font-size:13px}table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#f4f4f4}td.n{text-align:right}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart{border:1px solid #eee;padding:8px}
.incomplete{color:#9c0006;background:#ffc7ce;font-weight:bold}
"""
INCOMPLETE = "不完整"


def _mark(label: str, completeness: str | None) -> str:
    """A chart label with its completeness when the total is incomplete."""
    return label if not completeness or completeness == "完整" else f"{label}（{completeness}）"


def _completeness(con, table: str) -> str:
    cols = [c for (c,) in con.execute("""select column_name from duckdb_columns()
                                         where schema_name = 'marts' and table_name = ?""", [table]).fetchall()]
    return completeness_sql(cols) or "null"


def _bars(title: str, rows: list[tuple[str, float | None]], mark: float | None, mark_label: str,
          color: str, width: int = 520) -> str:
    """A horizontal bar chart in SVG: one bar per (label, percent), a dashed reference line."""
    bar_h, gap, left, top = 18, 6, 110, 28
    scale_max = max([100.0] + [v for _, v in rows if v is not None] + ([mark] if mark is not None else []))
    plot_w = width - left - 60
    height = top + len(rows) * (bar_h + gap) + 24
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
           f'aria-label="{escape(title)}">',
           f'<text x="4" y="16" font-size="14" font-weight="bold">{escape(title)}</text>']
    for i, (label, v) in enumerate(rows):
        y = top + i * (bar_h + gap)
        out.append(f'<text x="{left - 6}" y="{y + 13}" font-size="12" text-anchor="end">{escape(label)}</text>')
        if v is None:
            out.append(f'<text x="{left + 4}" y="{y + 13}" font-size="11" fill="#999">无数据</text>')
            continue
        w = max(1.0, plot_w * v / scale_max)
        out.append(f'<rect class="bar" x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>')
        out.append(f'<text x="{left + w + 4:.1f}" y="{y + 13}" font-size="11">{v:.1f}%</text>')
    if mark is not None:
        x = left + plot_w * mark / scale_max
        out.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 18}" stroke="{MARK}" '
                   f'stroke-width="2" stroke-dasharray="5,3"/>')
        out.append(f'<text x="{x:.1f}" y="{height - 4}" font-size="11" text-anchor="middle">'
                   f'{escape(mark_label)} {mark:.1f}%</text>')
    out.append("</svg>")
    return "".join(out)


def _table(headers: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for r in rows:
        cells = []
        for i, v in enumerate(r):
            text = "" if v is None else (f"{v:,.1f}" if isinstance(v, float) else str(v))
            if isinstance(v, str) and v.startswith(INCOMPLETE):
                cells.append(f'<td class="incomplete">{escape(text)}</td>')
            else:
                cells.append(f'<td class="n">{escape(text)}</td>' if i in numeric else f"<td>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _park_shares(con) -> str:
    latest = con.execute("select max(period) from marts.park_share_comparison where period like '%-12'").fetchone()[0]
    if latest is None:
        return "<p class='note'>暂无园区占比数据 / no park shares yet</p>"
    charts = []
    for ind in SHARE_INDICATORS:
        rows = con.execute(f"""select city_name, park_share_pct, province_park_share_pct, indicator_name,
                                      {_completeness(con, 'park_share_comparison')}
                               from marts.park_share_comparison where period = ? and indicator = ?
                               order by city_code""", [latest, ind]).fetchall()
        if not rows:
            continue
        prov = next((r[2] for r in rows if r[2] is not None), None)
        charts.append('<div class="chart">' + _bars(f"{latest[:4]}年 各市州园区{rows[0][3]}占比",
                                                    [(_mark(r[0], r[4]), r[1]) for r in rows], prov, "全省", PARK)
                      + "</div>")
    return f"<div class='charts'>{''.join(charts)}</div>"


def _investment(con) -> str:
    latest = con.execute("select max(period) from marts.investment_progress").fetchone()[0]
    if latest is None:
        return "<p class='note'>暂无重点项目数据 / no key-project reports yet</p>"
    done = _completeness(con, "investment_progress")
    rows = con.execute(f"""select region_name, completion_pct, time_elapsed_pct, region_level, {done}
                           from marts.investment_progress where period = ? and region_level in ('city', 'county')
                           order by region_level, completion_pct desc nulls last limit 30""", [latest]).fetchall()
    elapsed = rows[0][2] if rows else None
    label = con.execute("select max(period_label) from marts.investment_progress where period = ?",
                        [latest]).fetchone()[0]
    chart = _bars(f"{label} 重点项目投资完成率（虚线为时间进度）", [(_mark(r[0], r[4]), r[1]) for r in rows],
                  elapsed, "时间进度", PACE)
    table = _table(["完整性", "地区", "层级", "项目数", "年度计划（亿元）", "累计完成（亿元）", "完成率%",
                    "快于时间进度（百分点）"],
                   [list(r) for r in con.execute(f"""
                       select {done}, region_name, region_level, project_count, cast(annual_plan / 10000 as double),
                              cast(ytd_completed / 10000 as double), completion_pct, pace_gap_pp
                       from marts.investment_progress where period = ? order by region_level desc, rank_in_parent""",
                                                  [latest]).fetchall()], numeric={3, 4, 5, 6, 7})
    return f"<div class='chart'>{chart}</div>{table}"


def _starts(con) -> str:
    latest = con.execute("select max(period) from marts.project_starts").fetchone()[0]
    if latest is None:
        return "<p class='note'>暂无项目开工数据 / no project starts yet</p>"
    return _table(["完整性", "地区", "统计期", "新开工项目", "开工项目总投资（亿元）", "其中产业项目", "竣工投产项目"],
                  [list(r) for r in con.execute(f"""
                      select {_completeness(con, 'project_starts')}, region_name, period_label, projects_started,
                             cast(started_total_investment / 10000 as double), industrial_started, projects_completed
                      from marts.project_starts where period = ? and region_level in ('province', 'city')
                      order by region_level desc, region_code""", [latest]).fetchall()], numeric={3, 4, 5, 6})


def _evaluations(con) -> str:
    latest = con.execute("select max(period) from marts.park_evaluation_counts").fetchone()[0]
    if latest is None:
        return "<p class='note'>暂无园区评价 / no park evaluations yet</p>"
    return _table(["市州", "十强", "十快", "十先进", "二星及以上", "登记园区"],
                  [list(r) for r in con.execute("""
                      select city_name, top10_scale_count, top10_growth_count, top10_advanced_count,
                             stars_2plus_count, parks_registered
                      from marts.park_evaluation_counts where period = ?
                      order by top10_scale_count desc, top10_growth_count desc, city_code""", [latest]).fetchall()],
                  numeric={1, 2, 3, 4, 5})


def _rankings(con) -> str:
    latest = con.execute("select max(period) from marts.park_rankings where period like '%-12'").fetchone()[0]
    if latest is None:
        return "<p class='note'>暂无园区排名 / no rankings yet</p>"
    parts = []
    for ind in RANK_INDICATORS:
        name = con.execute("select indicator_name from marts.park_rankings where indicator = ? limit 1",
                           [ind]).fetchone()
        if not name:
            continue
        strong = con.execute("""select scale_rank, park_name, city_name, cast(value / 10000 as double), growth_pct
                                from marts.park_rankings where period = ? and indicator = ? and is_top10_scale
                                order by scale_rank""", [latest, ind]).fetchall()
        fast = con.execute("""select growth_rank, park_name, city_name, growth_pct, cast(value / 10000 as double)
                              from marts.park_rankings where period = ? and indicator = ? and is_top10_growth
                              order by growth_rank""", [latest, ind]).fetchall()
        parts.append(f"<h3>{escape(name[0])}十强（{latest[:4]}年）</h3>"
                     + _table(["位次", "园区", "市州", "亿元", "增长%"], [list(r) for r in strong], {0, 3, 4}))
        parts.append(f"<h3>{escape(name[0])}十快（{latest[:4]}年）</h3>"
                     + _table(["位次", "园区", "市州", "增长%", "亿元"], [list(r) for r in fast], {0, 3, 4}))
    return "".join(parts)


LATE_BY_SUBMITTER = """
    select submitter_code, any_value(submitter_name) as submitter_name, min(period) as late_since,
           count(*) as reports, string_agg(distinct report_kind, ', ' order by report_kind) as kinds,
           max(period) as latest, count(*) filter (where status = 'rejected') as rejected
    from marts.submission_status
    where is_late
    group by submitter_code
    order by late_since, submitter_code"""


def late_by_submitter(con) -> list[dict]:
    """Who is late, one line per submitter: since which period, how many reports
    (and of which kinds) — not one line a month."""
    return [{"submitter_code": c, "submitter_name": n or "", "late_since": since, "reports": k, "kinds": kinds,
             "latest": latest, "rejected": rej}
            for c, n, since, k, kinds, latest, rej in con.execute(LATE_BY_SUBMITTER).fetchall()]


def _late(con) -> str:
    rows = late_by_submitter(con)
    if not rows:
        return "<p>应报的报表均已报送。/ Everything due has been received.</p>"
    kinds = {"project_progress": "重点项目进度", "park_indicators": "园区指标", "region_indicators": "区域指标",
             "park_evaluations": "园区评价"}
    return _table(["报送单位", "逾期起始统计期", "逾期报表数", "报表"],
                  [[f"{r['submitter_name']}（{r['submitter_code']}）", r["late_since"],
                    r["reports"], "、".join(kinds.get(k, k) for k in r["kinds"].split(", "))] for r in rows], {2})


def write_report(con: duckdb.DuckDBPyConnection, path: Path, publish_id: str) -> Path:
    sections = [("各市州园区占比与全省对比", _park_shares(con)), ("重点项目投资进度与时间进度", _investment(con)),
                ("重点项目开工与竣工", _starts(con)), ("园区十强、十快", _rankings(con)),
                ("省园区评价分市统计", _evaluations(con)), ("逾期未报", _late(con))]
    from ingest.settings import show_time

    now = show_time()
    body = "".join(f"<h2>{escape(t)}</h2>{html}" for t, html in sections)
    doc = (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>parkstat 园区与重点项目简报</title>"
           f"<style>{CSS}</style></head><body><h1>园区与重点项目简报</h1>"
           f"<p class='note'>发布 {escape(publish_id)}，生成于 {now}。金额单位：亿元；比重、增速为百分数。"
           f"标“不完整”的合计缺少应报单位或项目的数据（已报 已报数/应报数），不是全量。"
           f"数据来自 parkstat 发布库，可用 SQL 查询 marts 各表核对。</p>{body}</body></html>")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(doc, encoding="utf-8")
    tmp.replace(path)
    return path
