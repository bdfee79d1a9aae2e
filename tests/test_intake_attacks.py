"""The upload site against what an attacker or a careless clerk sends (found by
hand against ``parkstat serve``): logins fired at once, a password typed in the
name field, an upload number past SQLite's integers; and the templates of every
kind, each read back by ingest as its kind, with each column's unit."""

from __future__ import annotations

import asyncio
import re
from collections import Counter

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from ingest.pipeline import check_file
from intake.accounts import Accounts, accounts_path
from intake.app import Settings, create_app
from tests.conftest import make_home

PASSWORD = "Target-county-pw-431322"


@pytest.fixture
def site(tmp_path):
    home = make_home(tmp_path / "wh")
    with Accounts(accounts_path(home.intake)) as acc:
        acc.add("431322", "target", PASSWORD)
    return home


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_logins_sent_at_once_get_no_more_than_five_tries(site):
    async def burst(n: int) -> list[int]:
        app = create_app(Settings(site))
        clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.5.5.5", 1)),
                                     base_url="http://site") for _ in range(n)]
        tokens = [csrf((await c.get("/login")).text) for c in clients]
        answers = await asyncio.gather(*(c.post("/login", data={"username": "target", "password": f"guess-{i}",
                                                                "csrf_token": t})
                                         for i, (c, t) in enumerate(zip(clients, tokens))))
        for c in clients:
            await c.aclose()
        return [a.status_code for a in answers]

    assert Counter(asyncio.run(burst(20))) == {401: 5, 429: 15}


def test_a_right_login_is_no_failure_of_its_address(site):
    with TestClient(create_app(Settings(site)), client=("10.6.6.6", 1), follow_redirects=False) as c:
        for _ in range(6):  # an office's clerks behind one address, logging in and out all day
            assert c.post("/login", data={"username": "target", "password": PASSWORD,
                                          "csrf_token": csrf(c.get("/login").text)}).status_code == 303
            assert c.post("/logout", data={"csrf_token": csrf(c.get("/").text)}).status_code == 303


def test_a_password_typed_as_the_user_name_is_kept_nowhere_in_clear(site):
    typed = "Typed-In-The-Name-Field-77"
    with TestClient(create_app(Settings(site)), client=("10.7.7.7", 1), follow_redirects=False) as c:
        res = c.post("/login", data={"username": typed, "password": "", "csrf_token": csrf(c.get("/login").text)})
        assert res.status_code == 401 and "wrong username or password" in res.text
    for p in site.intake.iterdir():
        if p.is_file():
            assert typed.encode() not in p.read_bytes(), p.name


def test_an_upload_number_past_sqlites_integers_is_404_not_a_crash(site):
    with TestClient(create_app(Settings(site)), follow_redirects=False) as c:
        c.post("/login", data={"username": "target", "password": PASSWORD, "csrf_token": csrf(c.get("/login").text)})
        res = c.get(f"/receipts/upload/{2**64}")
        assert res.status_code == 404 and "no such receipt (or it is not yours to see)" in res.text


def test_every_kinds_template_is_read_as_its_kind_with_its_units(site, tmp_path):
    from openpyxl import load_workbook

    from intake.workbooks import template_xlsx

    # an evaluation names a registered park: the example's is not (yet), and only that is wrong in row 4
    outcome = {"region_indicators": set(), "park_evaluations": {"unknown_park"}}
    for kind, errors in outcome.items():
        path = tmp_path / f"{kind}.xlsx"
        path.write_bytes(template_xlsx(kind, "431322"))
        header, example = list(load_workbook(path).worksheets[0].iter_rows(values_only=True))[2:4]
        receipt = check_file(site, path, "431322")
        assert receipt.report_kind == kind, receipt.text()
        assert {(m.code, m.row) for m in receipt.messages if m.severity == "error"} == {(e, 4) for e in errors}
        assert receipt.status == ("rejected" if errors else "accepted") and (errors or receipt.row_count == 1)
    assert {"常住人口（万人）", "行政区域面积（平方公里）", "规模工业企业数（个）"} <= set(
        load_workbook(tmp_path / "region_indicators.xlsx").worksheets[0][3][i].value for i in range(19))
    assert example[:4] == (f"{example[0]}", "431322-ETDZ", "示例新化县经济开发区", "十强")
