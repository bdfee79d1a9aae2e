"""Templates to download: per report kind, an XLSX with the contract's headers
(Chinese, units in the header cells), one example row for the account, and a
sheet describing every column. Built from ``ingest/reference/report_kinds.csv``."""

from __future__ import annotations

import io

from ingest import reference
from ingest.pipeline import now_local
from ingest.receipts import KIND_ZH

UNIT = {"money": "万元"}
TYPE_ZH = {"period": "统计期（如 2022-04、2022年1-4月）", "code": "代码", "region": "6位区划代码",
           "park": "园区代码（须已登记）", "text": "文字", "money": "金额（万元）", "number": "数字",
           "date": "日期（如 2022-03-01）"}
REQUIRED_ZH = {"yes": "必填 / required", "no": "选填 / optional",
               "indicator": "至少填一项指标 / at least one indicator"}


def _example(kind: str, code: str, name: str) -> dict[str, object]:
    today = now_local().date()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    period = f"{year}-{month:02d}"
    park = f"{code}-ETDZ"
    if kind == "project_progress":
        return {"period": period, "project_code": f"{code}-P001", "project_name": "示例：某新材料产业项目",
                "region_code": code, "park_code": "", "industry_chain": "新材料", "nature": "新建",
                "stage": "续建", "total_investment": 50000, "annual_plan": 12000, "ytd_completed": 8000,
                "start_date": f"{year - 1}-03-01"}
    if kind == "park_evaluations":  # a year, a park of the account's area, a category
        return {"period": f"{year - 1}年", "park_code": park, "park_name": f"示例{name}经济开发区",
                "category": "十强", "rank": 1}
    if kind == "park_registry":
        return {"park_code": park, "park_name": f"示例{name}经济开发区", "region_code": code,
                "park_level": "省级", "area_mu": 12000}
    values = {"gdp": 1200000, "industrial_value_added": 360000, "hightech_value_added": 280000,
              "import_export": 130000, "tax": 90000, "fixed_asset_investment": 740000,
              "industrial_revenue": 1380000, "profit": 78000}
    if kind == "park_indicators":
        return {"period": period, "park_code": park, "park_name": f"示例{name}经济开发区",
                **{k: round(v * 0.3) for k, v in values.items()}}
    return {"period": period, "region_code": code, "region_name": name, **values,
            "resident_population": 35.6, "land_area": 439, "industrial_enterprises": 160}


def template_xlsx(kind: str, code: str) -> bytes:
    """The template of ``kind`` with an example row for submitter ``code``."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    fields = reference.kinds()[kind]
    div = reference.divisions().get(code)
    name = div.name if div else ""
    example = _example(kind, code, name)
    wb = Workbook()
    ws = wb.active
    ws.title = KIND_ZH[kind]
    ws.append([f"{KIND_ZH[kind]}（{kind}）报送模板 — {code} {name}"])
    ws.append(["单位：万元"])
    ws.append([f.zh + (f"（{_unit(f)}）" if _unit(f) and "（" not in f.zh else "") for f in fields])
    for cell in ws[3]:
        cell.font = Font(bold=True)
    row = []
    for f in fields:
        value = example.get(f.name, "")
        row.append(value)
    ws.append(row)
    for cell in ws[4]:
        if isinstance(cell.value, str):
            cell.data_type = "s"  # text stays text
    for i, f in enumerate(fields, start=1):
        ws.column_dimensions[ws.cell(row=3, column=i).column_letter].width = max(12, 2 * len(f.zh) + 6)
    notes = wb.create_sheet("说明")
    notes.append(["列 / column", "字段 / field", "类型 / type", "必填 / required", "说明 / notes"])
    for f in fields:
        notes.append([f.zh, f.name, TYPE_ZH.get(f.type, f.type), REQUIRED_ZH.get(f.required, f.required),
                      _note(f)])
    notes.append([])
    notes.append(["第4行是示例，请替换为本单位的数据 / row 4 is an example: replace it with your figures."])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _unit(f: reference.Field) -> str:
    """The unit a column is read in, said in its header: 万元 for money, a quantity's own
    (常住人口 in 万人, 行政区域面积 in 平方公里, 企业数 in 个)."""
    return UNIT.get(f.type) or (reference.indicator_units().get(f.name, "") if f.type == "quantity" else "")


def _note(f: reference.Field) -> str:
    for r in reference.read_csv("report_kinds.csv"):
        if r["kind"] == f.kind and r["field"] == f.name:
            return r["notes"]
    return ""
