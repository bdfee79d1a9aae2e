"""The upload site (``parkstat serve``): a real uvicorn server driven by headless
Chromium through Selenium (log in, upload, see the check, refresh, see the
receipt), and the site's refusals through an HTTP client — each asserting the
message a submitter or an attacker gets, on a real warehouse home."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from orchestration.cli import app as cli
from ingest.pipeline import check_file
from ingest.receipts import Receipt
from intake.accounts import Accounts, accounts_path
from intake.app import CSP, Settings, create_app
from tests.conftest import csv_bytes, env_vars, make_home, refresh, xlsx_bytes

pytestmark = pytest.mark.slow

PASSWORDS = {"clerk": "Lengshuijiang-秘密-431381", "louxing": "Louxing-secret-431302",
             "loudi": "Loudi-city-secret-431300", "lockme": "Lock-me-secret-99", "proxied": "Proxied-secret-12"}
CODES = {"clerk": "431381", "louxing": "431302", "loudi": "431300", "lockme": "431381", "proxied": "431382"}
PROJ_H = ["统计期", "项目代码", "项目名称", "所属地区代码", "总投资", "年度计划投资", "本年累计完成投资"]
GOOD_NAME = "2022年1-4月冷水江重点项目.xlsx"
GOOD = xlsx_bytes([["2022年1-4月冷水江市重点产业项目建设进度表"], ["单位：万元"], PROJ_H,
                   ["2022年1-4月", "LSJ-2022-001", "冷钢技改", "431381", "9000", "4000", "1500"],
                   ["2022年1-4月", "LSJ-2022-002", "锑品深加工", "431381", "12000", "5000", "2100"]])
FOREIGN = csv_bytes([PROJ_H, ["2022-04", "LSJ-2022-003", "冷水江新材料", "431381", "3000", "1000", "200"],
                     ["2022-04", "LX-2022-001", "娄星区项目", "431302", "8000", "3000", "900"]])
MAX_MB = 2  # the server's PARKSTAT_MAX_FILE_MB in this module


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A warehouse home with five accounts and `parkstat serve` running on it (a real
    uvicorn process on a free port; stopped with SIGKILL)."""
    root = tmp_path_factory.mktemp("intake")
    with env_vars(PARKSTAT_MAX_FILE_MB=str(MAX_MB), PARKSTAT_SETTLE_SECONDS="0"):
        home = make_home(root / "wh")
        with Accounts(accounts_path(home.intake)) as acc:
            for user, code in CODES.items():
                acc.add(code, user, PASSWORDS[user])
        port = free_port()
        log = open(root / "serve.log", "wb")
        proc = subprocess.Popen([sys.executable, "-c", "import sys; from orchestration.cli import app; app()", "serve",
                                 "--home", str(home.root), "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 60
            while True:
                try:
                    if httpx.get(base + "/login", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None and time.time() < deadline, (root / "serve.log").read_text()
                time.sleep(0.2)
            yield {"home": home, "base": base, "log": root / "serve.log", "root": root}
        finally:
            proc.kill()
            proc.wait(timeout=30)
            log.close()


@pytest.fixture
def client(site):
    """The same site in-process (Starlette's TestClient), on the same home."""
    with env_vars(PARKSTAT_MAX_FILE_MB=str(MAX_MB)):
        with TestClient(create_app(Settings(site["home"])), follow_redirects=False) as c:
            yield c


def text(res: httpx.Response) -> str:
    """The page as a reader sees it (entities decoded); escaping itself is asserted on the raw HTML."""
    import html

    return html.unescape(res.text)


def csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def login(c: TestClient, username: str, password: str | None = None) -> httpx.Response:
    token = csrf(c.get("/login").text)
    return c.post("/login", data={"username": username, "password": password or PASSWORDS[username],
                                  "csrf_token": token})


def upload(c: TestClient, files: list[tuple[str, bytes]], token: str | None = "page", **fields) -> httpx.Response:
    data = dict(fields)
    if token == "page":
        token = csrf(c.get("/").text)
    if token is not None:
        data["csrf_token"] = token
    return c.post("/upload", data=data, files=[("file", (name, body, "application/octet-stream"))
                                              for name, body in files])


def audit_lines(home) -> list[dict]:
    path = home.intake / "audit.log"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def chromium_driver(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")
    assert browser and driver, ("Chromium and its driver are needed for this test: "
                                "`apt-get install chromium chromium-driver` (.ci/run does it)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1200,1600"):
        opts.add_argument(arg)
    return webdriver.Chrome(options=opts, service=Service(executable_path=driver))


def wait_for(driver, url: str) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        WebDriverWait(driver, 30).until(lambda d: d.current_url == url)
    except TimeoutException:
        raise AssertionError(f"still at {driver.current_url}, not {url}:\n{driver.page_source[:3000]}") from None


def test_a_clerk_uploads_in_chromium_sees_the_check_and_after_the_refresh_the_receipt(site, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    home, base = site["home"], site["base"]
    good, foreign = tmp_path / GOOD_NAME, tmp_path / "另一县的行.csv"
    good.write_bytes(GOOD)
    foreign.write_bytes(FOREIGN)
    driver = chromium_driver(tmp_path / "profile")
    try:
        driver.get(base + "/")
        assert driver.current_url == base + "/login"  # no page without a session
        driver.find_element(By.ID, "username").send_keys("clerk")
        driver.find_element(By.ID, "password").send_keys(PASSWORDS["clerk"])
        driver.find_element(By.ID, "login").click()
        wait_for(driver, base + "/")
        assert driver.find_element(By.ID, "submitter").text == "431381 冷水江市"
        driver.find_element(By.ID, "file").send_keys(f"{good}\n{foreign}")
        driver.find_element(By.ID, "send").click()
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "results"))
        first = driver.find_element(By.ID, "result-1").text
        second = driver.find_element(By.ID, "result-2").text
        assert GOOD_NAME in first and "预检：可以接收 / check: accepted" in first
        assert "已接收 / accepted" in first and "It will be taken at the next refresh" in first
        assert "check: rejected" in second
        # the jurisdiction error, Chinese first, with row, column and value
        row = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#result-2 tr.error")]
        assert row == ["错误 / error 3 所属地区代码 431302 431381 无权报送 431302 的数据\n"
                       "431381 may not report for 431302 outside_jurisdiction"]
        assert (home.landing / "431381" / GOOD_NAME).read_bytes() == GOOD
        assert (home.landing / "431381" / "另一县的行.csv").read_bytes() == FOREIGN

        assert refresh(home)  # the nightly job, as the other tests run it
        assert not (home.landing / "431381" / GOOD_NAME).exists()

        driver.get(base + "/receipts")
        uploads = driver.find_element(By.ID, "uploads").text
        assert "回执：已接收 / receipt: accepted" in uploads and "回执：已退回 / receipt: rejected" in uploads
        items = {a.find_element(By.CSS_SELECTOR, "h3").text: a.text
                 for a in driver.find_elements(By.CSS_SELECTOR, "article.receipt-item")}
        assert "已接收 / accepted · 数据行 / rows 2" in items[GOOD_NAME]
        assert "(北京时间 Asia/Shanghai, UTC+8)" in items[GOOD_NAME]  # every time carries its zone
        assert "431381 may not report for 431302" in items["另一县的行.csv"]
        [a for a in driver.find_elements(By.CSS_SELECTOR, "article.receipt-item h3 a") if a.text == GOOD_NAME][0].click()
        WebDriverWait(driver, 30).until(lambda d: "/receipts/431381/" in d.current_url)
        assert re.fullmatch(re.escape(base) + r"/receipts/431381/\d{14}_[0-9a-f]{12}_\d+", driver.current_url)
        assert driver.find_element(By.ID, "file-name").text == GOOD_NAME
        assert "报送回执 / submission receipt" in driver.page_source
        driver.find_element(By.ID, "logout").click()
        wait_for(driver, base + "/login")
        driver.get(base + "/receipts")
        assert driver.current_url == base + "/login"  # the session is gone
    finally:
        driver.quit()
    events = [(e["event"], e.get("user"), e.get("file")) for e in audit_lines(home)]
    assert ("login", "clerk", None) in events and ("logout", "clerk", None) in events
    up = [e for e in audit_lines(home) if e["event"] == "upload" and e["file"] == GOOD_NAME][0]
    assert up["address"] == "127.0.0.1" and up["code"] == "431381" and up["size"] == len(GOOD)
    import hashlib

    assert up["sha256"] == hashlib.sha256(GOOD).hexdigest() and up["stored_as"] == f"landing/431381/{GOOD_NAME}"


def test_no_page_but_the_login_without_a_session(client, site):
    for path in ("/", "/receipts", "/receipts/431381/20220520T090000_0123456789ab_1", "/receipts/upload/1",
                 "/templates/project_progress.xlsx", "/no-such-page"):
        res = client.get(path)
        assert (res.status_code, res.headers["location"], res.text) == (303, "/login", ""), path
    before = sorted((site["home"].landing).rglob("*"))
    res = client.post("/upload", files=[("file", ("x.csv", b"a,b\n", "text/csv"))])
    assert (res.status_code, res.headers["location"]) == (303, "/login")
    assert sorted((site["home"].landing).rglob("*")) == before
    page = client.get("/login")
    assert page.status_code == 200 and 'name="password"' in page.text and 'name="csrf_token"' in page.text


def test_a_form_without_its_csrf_token_is_refused(client, site):
    home = site["home"]
    client.get("/login")
    res = client.post("/login", data={"username": "clerk", "password": PASSWORDS["clerk"]})
    assert res.status_code == 403
    assert "表单已失效或来源不明（CSRF 校验失败）" in text(res) and "the form's CSRF token is missing or wrong" in text(res)
    assert client.get("/").status_code == 303  # not logged in
    assert login(client, "clerk").status_code == 303
    token = csrf(client.get("/").text)
    landed = sorted((home.landing / "431381").iterdir()) if (home.landing / "431381").exists() else []
    for bad in (None, "forged-" + token):
        res = upload(client, [("csrf.csv", FOREIGN)], token=bad)
        assert res.status_code == 403, bad
        assert "the form's CSRF token is missing or wrong; reload the page and try again" in text(res)
    # the token after the file does not count: nothing is written for a form before it proves itself
    body, ctype = multipart([("file", "late.csv", FOREIGN), ("csrf_token", None, token.encode())])
    res = client.post("/upload", content=body, headers={"content-type": ctype})
    assert res.status_code == 403 and "CSRF" in res.text
    assert (sorted((home.landing / "431381").iterdir()) if (home.landing / "431381").exists() else []) == landed
    assert list((home.intake / "tmp").iterdir()) == []
    res = client.post("/logout", data={})
    assert res.status_code == 403 and "the form's CSRF token is missing or wrong" in text(res)
    assert client.get("/").status_code == 200  # still logged in
    refused = [e for e in audit_lines(home) if e["event"] == "upload_refused"]
    assert refused and refused[-1]["status"] == 403 and refused[-1]["user"] == "clerk"


def multipart(parts: list[tuple[str, str | None, bytes]], boundary: str = "parkstat-test-boundary"):
    out = b""
    for name, filename, data in parts:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        out += f"--{boundary}\r\nContent-Disposition: {disp}\r\n\r\n".encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_another_submitters_receipt_is_404_and_a_city_sees_its_counties(client, site):
    home = site["home"]
    receipt = Receipt("ab" * 32, "431381", "冷水江的文件.csv", "2022-05-20 09:00:00", "project_progress",
                      "accepted", 3, [], file_id=424242)
    stem = receipt.write(home.receipts).stem
    assert login(client, "clerk").status_code == 303
    mine = client.get(f"/receipts/431381/{stem}")
    assert mine.status_code == 200 and "冷水江的文件.csv" in mine.text
    assert "2022-05-20 09:00:00 (北京时间 Asia/Shanghai, UTC+8)" in mine.text
    res = upload(client, [("mine.csv", FOREIGN)])
    upload_id = int(re.search(r'/receipts/upload/(\d+)"', res.text).group(1))
    client.post("/logout", data={"csrf_token": csrf(client.get("/").text)})

    assert login(client, "louxing").status_code == 303  # 431302, a sibling county
    for path in (f"/receipts/431381/{stem}", f"/receipts/431302/{stem}", f"/receipts/upload/{upload_id}",
                 f"/receipts/431381/{stem}/../../431381/{stem}", "/receipts/431381/..%2F..%2Fintake%2Faudit.log",
                 "/receipts/..%2F431381/" + stem):
        res = client.get(path)
        assert res.status_code == 404, path
        assert "没有这份回执（或您无权查看）" in res.text or "没有这个页面" in res.text, path
    listing = client.get("/receipts").text
    assert "冷水江的文件.csv" not in listing and "mine.csv" not in listing
    client.post("/logout", data={"csrf_token": csrf(client.get("/").text)})

    assert login(client, "loudi").status_code == 303  # 431300 娄底市: its counties' receipts too
    assert client.get(f"/receipts/431381/{stem}").status_code == 200
    assert client.get(f"/receipts/upload/{upload_id}").status_code == 200
    listing = client.get("/receipts").text
    assert "冷水江的文件.csv" in listing and "mine.csv" in listing


def test_the_sixth_wrong_password_is_answered_429(site):
    home = site["home"]
    with TestClient(create_app(Settings(home)), client=("10.1.1.1", 40000), follow_redirects=False) as c:
        for i in range(5):
            res = login(c, "lockme", "wrong-password")
            assert res.status_code == 401, i
            assert "用户名或密码错误（或账户已停用）" in res.text and "wrong username or password" in res.text
        res = login(c, "lockme", "wrong-password")
        assert res.status_code == 429
        assert "登录失败次数过多，请 15 分钟后再试" in res.text and "too many failed logins; try again in 15 minute(s)" in res.text
        assert 890 < int(res.headers["retry-after"]) <= 901
        res = login(c, "lockme")  # the right password waits too
        assert res.status_code == 429 and "too many failed logins" in res.text
    # the account waits from any address
    with TestClient(create_app(Settings(home)), client=("10.1.1.2", 40000), follow_redirects=False) as c:
        assert login(c, "lockme").status_code == 429
    # an address that failed five times waits, whatever account it tries
    with TestClient(create_app(Settings(home)), client=("10.1.1.3", 40000), follow_redirects=False) as c:
        for name in ("nobody1", "nobody2", "nobody3", "nobody4", "proxied"):
            assert login(c, name, "guess-guess").status_code == 401
        res = login(c, "proxied")
        assert res.status_code == 429 and "登录失败次数过多" in res.text
    # fifteen minutes later (the failures aged in the accounts file) the account may log in again
    con = sqlite3.connect(accounts_path(home.intake))
    con.execute("update login_failures set at = at - 901")
    con.commit()
    con.close()
    with TestClient(create_app(Settings(home)), client=("10.1.1.1", 40000), follow_redirects=False) as c:
        assert login(c, "lockme").status_code == 303
    kinds = [e["event"] for e in audit_lines(home) if e.get("user") == "lockme"]
    assert kinds.count("login_failed") == 5 and kinds.count("login_refused") == 3 and kinds[-1] == "login"
    # a name that is no account (it may be a password typed in the wrong field) is not written down
    unknown = [e for e in audit_lines(home) if e["address"] == "10.1.1.3" and e["event"] == "login_failed"]
    assert len(unknown) == 5 and [e["user"] for e in unknown] == [None] * 4 + ["proxied"]
    assert all(len(e["unknown_user_sha256"]) == 16 for e in unknown[:4])
    assert "nobody1" not in (home.intake / "audit.log").read_text(encoding="utf-8")


def raw_upload(base: str, cookie: str, token: str, total: int, declared: int | None = None) -> tuple[bytes, int]:
    """A streamed upload over a socket (chunked, or with a declared length), stopping
    as soon as the server answers: (the answer, bytes of file data sent)."""
    host, port = base.removeprefix("http://").split(":")
    boundary = "streamed-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"huge.csv\"\r\n\r\n").encode()
    length = f"Content-Length: {declared}\r\n" if declared else "Transfer-Encoding: chunked\r\n"
    request = (f"POST /upload HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: parkstat_session={cookie}\r\n"
               f"Content-Type: multipart/form-data; boundary={boundary}\r\n{length}\r\n").encode()
    s = socket.create_connection((host, int(port)), timeout=30)
    sent = 0
    try:
        s.sendall(request)
        chunk = b"1" * (256 * 1024)

        def send(data: bytes) -> None:
            s.sendall(data if declared else f"{len(data):x}\r\n".encode() + data + b"\r\n")

        answered = False
        if not declared or declared < 10 * 2**20:
            send(head)
            s.settimeout(2)
            while sent < total:
                if select.select([s], [], [], 0)[0]:
                    answered = True
                    break
                try:
                    send(chunk)
                except (BrokenPipeError, ConnectionResetError, socket.timeout):
                    break
                sent += len(chunk)
        s.settimeout(30)
        answer = b""
        while b"</html>" not in answer:
            try:
                data = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not data:
                break
            answer += data
        assert answered or answer, "no answer"
        return answer, sent
    finally:
        s.close()


def test_an_upload_over_the_size_limit_is_refused_without_filling_the_disk(site):
    home, base = site["home"], site["base"]
    c = httpx.Client(base_url=base, follow_redirects=False)
    token = csrf(c.get("/login").text)
    assert c.post("/login", data={"username": "clerk", "password": PASSWORDS["clerk"],
                                  "csrf_token": token}).status_code == 303
    token = csrf(c.get("/").text)
    cookie = c.cookies["parkstat_session"]
    def landed() -> list[str]:  # (the folder is made by the first upload: none may have come yet)
        folder = home.landing / "431381"
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []

    before = landed()
    # streamed (no length said): refused once the cap is passed, the rest never read
    answer, sent = raw_upload(base, cookie, token, total=256 * 2**20)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    text = answer.decode("utf-8", "replace")
    assert f"文件超过上限 {MAX_MB} MB（一次上传的文件合计），未保存" in text
    assert f"the upload is over the limit of {MAX_MB} MB (all its files together); nothing was kept" in text
    assert sent < 64 * 2**20  # a quarter of what the client meant to send, at most (socket buffers)
    # a declared length over the limit: refused before a byte of the body is read
    answer, sent = raw_upload(base, cookie, token, total=0, declared=500 * 2**20)
    assert answer.startswith(b"HTTP/1.1 413") and sent == 0
    assert "the upload is over the limit of 2 MB" in answer.decode("utf-8", "replace")
    assert landed() == before
    assert list((home.intake / "tmp").iterdir()) == []  # nothing half-written is left
    # too many files at once
    with env_vars(PARKSTAT_UPLOAD_MAX_FILES="2"):
        with TestClient(create_app(Settings(home)), follow_redirects=False) as tc:
            assert login(tc, "clerk").status_code == 303
            res = upload(tc, [(f"f{i}.csv", FOREIGN) for i in range(3)])
            assert res.status_code == 413 and "一次最多上传 2 个文件，未保存" in res.text
            assert "at most 2 files per upload; nothing was kept" in res.text
    assert landed() == before
    c.close()


def test_a_file_named_with_a_path_lands_as_a_plain_name_in_the_accounts_folder(client, site):
    home = site["home"]
    assert login(client, "clerk").status_code == 303
    res = upload(client, [("../../x.csv", FOREIGN)], code="431302", submitter="431302")
    assert res.status_code == 200
    assert "landing/431381/x.csv" in res.text
    assert (home.landing / "431381" / "x.csv").read_bytes() == FOREIGN
    assert not (home.root / "x.csv").exists() and not (home.landing / "x.csv").exists()
    assert not (home.landing / "431302").exists()  # the code comes from the account, never the form
    res = upload(client, [("..\\..\\x.csv", FOREIGN)])
    assert "landing/431381/x (2).csv" in res.text  # never over a file that waits
    hostile = "<script>alert(1)</script>=HYPERLINK(1).csv"
    res = upload(client, [(hostile, FOREIGN), (".hidden.part", FOREIGN), ("\x1b[31m", FOREIGN)])
    assert res.status_code == 200
    assert "<script" not in res.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;=HYPERLINK(1).csv" in res.text  # as sent, escaped
    long_name = "冷水江" * 100 + ".xlsx"  # 905 bytes: more than a file system takes
    # (bytes of its own: the same bytes as another test's upload would be that file's duplicate)
    res = upload(client, [(long_name, GOOD + b"long name"), ("..", FOREIGN)])
    assert res.status_code == 200
    names = sorted(p.name for p in (home.landing / "431381").iterdir())
    assert "冷水江" * 21 + "冷水.xlsx" in names and "upload" in names
    # the last component only, reserved characters replaced, no leading dot, no "in progress" suffix
    assert {"script_=HYPERLINK(1).csv", "hidden.part_", "[31m"} <= set(names)
    assert all("/" not in n and not n.startswith(".") for n in names)
    listing = client.get("/receipts").text
    assert "<script" not in listing and "&lt;script&gt;alert(1)&lt;/script&gt;" in listing


def test_a_script_in_a_file_name_or_cell_is_shown_escaped(client, site):
    home = site["home"]
    assert login(client, "clerk").status_code == 303
    cell = '<img src=x onerror=alert(1)>'
    data = csv_bytes([PROJ_H, ["2022-04", "LSJ-X", "名", "431381", cell, "1", "1"]])
    res = upload(client, [("报表<b>粗</b>.csv", data)])
    assert res.status_code == 200
    assert "<img" not in res.text and "&lt;img src=x onerror=alert(1)&gt;" in res.text
    assert "报表&lt;b&gt;粗&lt;/b&gt;.csv" in res.text  # the name as sent, escaped
    assert "<script" not in res.text and "style=" not in res.text


def test_pages_carry_a_strict_csp_and_the_cookie_its_flags(site):
    home = site["home"]
    with TestClient(create_app(Settings(home)), follow_redirects=False) as c:
        res = c.get("/login")
        assert res.headers["content-security-policy"] == CSP
        assert "unsafe-inline" not in CSP and "script-src" not in CSP and "default-src 'none'" in CSP
        assert res.headers["x-frame-options"] == "DENY" and res.headers["x-content-type-options"] == "nosniff"
        cookie = res.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
        assert "<script" not in res.text and "style=" not in res.text
        assert c.get("/static/site.css").headers["content-type"].startswith("text/css")
        ok = login(c, "clerk")
        assert "HttpOnly" in ok.headers["set-cookie"] and "SameSite=strict" in ok.headers["set-cookie"]
    # behind the HTTPS proxy: X-Forwarded-Proto believed from the trusted proxy only
    settings = Settings(home, trusted_proxies=["10.2.2.2"])
    with TestClient(create_app(settings), client=("10.2.2.2", 1), follow_redirects=False) as c:
        res = c.get("/login", headers={"x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.9"})
        assert "Secure" in res.headers["set-cookie"]
    with TestClient(create_app(settings), client=("10.9.9.9", 1), follow_redirects=False) as c:
        res = c.get("/login", headers={"x-forwarded-proto": "https"})
        assert "Secure" not in res.headers["set-cookie"]
    with TestClient(create_app(Settings(home, secure_cookies=True)), follow_redirects=False) as c:
        res = c.get("/login")
        assert "Secure" in res.headers["set-cookie"] and "max-age" in res.headers["strict-transport-security"]
    # the address in the audit log is the client's, as the trusted proxy says
    with TestClient(create_app(settings), client=("10.2.2.2", 1), follow_redirects=False) as c:
        token = csrf(c.get("/login").text)
        c.post("/login", data={"username": "proxied", "password": "not-it", "csrf_token": token},
               headers={"x-forwarded-for": "203.0.113.77"})
    assert audit_lines(home)[-1]["address"] == "203.0.113.77"


def test_templates_have_the_headers_units_and_an_example_row_ingest_reads(client, site, tmp_path):
    from openpyxl import load_workbook

    home = site["home"]
    assert login(client, "clerk").status_code == 303
    expected = {"project_progress": "accepted", "region_indicators": "accepted", "park_registry": "accepted",
                "park_indicators": "rejected"}  # its example park is not registered yet
    for kind, status in expected.items():
        res = client.get(f"/templates/{kind}.xlsx")
        assert res.status_code == 200 and res.headers["content-disposition"] == f'attachment; filename="{kind}.xlsx"'
        path = tmp_path / f"{kind}.xlsx"
        path.write_bytes(res.content)
        ws = load_workbook(path).worksheets[0]
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        assert rows[1][0] == "单位：万元"
        receipt = check_file(home, path, "431381")
        assert (receipt.report_kind, receipt.status) == (kind, status), receipt.text()
        if kind == "project_progress":
            assert rows[2][:5] == ["统计期", "项目代码", "项目名称", "所属地区代码", "所属园区代码"]
            assert "总投资（万元）" in rows[2] and "431381" in rows[3]
    res = client.get("/templates/../../intake/audit.log")
    assert res.status_code == 404
    res = client.get("/templates/nothing.xlsx")
    assert res.status_code == 404 and "没有这种报表模板" in res.text


def test_accounts_from_the_command_line_and_no_password_kept_or_logged(site, tmp_path):
    home = site["home"]
    runner = CliRunner()
    args = ["--home", str(home.root)]
    res = runner.invoke(cli, ["users", "add", "431322", "xinhua", "--password-stdin", *args],
                        input="Xinhua-county-pw-1\n")
    assert res.exit_code == 0 and res.output.strip() == "added xinhua: 431322 新化县"
    res = runner.invoke(cli, ["users", "add", "999999", "ghost", "--password-stdin", *args], input="whatever-pw\n")
    assert res.exit_code == 2 and "'999999' is not a current division code" in res.output
    res = runner.invoke(cli, ["users", "add", "431121", "qiyang", "--password-stdin", *args], input="whatever-pw\n")
    assert res.exit_code == 2 and "“431121”不是现行的区划代码" in res.output  # 祁阳县, retired in 2021
    res = runner.invoke(cli, ["users", "add", "431322", "xinhua", "--password-stdin", *args], input="another-pw-1\n")
    assert res.exit_code == 2 and "user 'xinhua' exists already" in res.output
    res = runner.invoke(cli, ["users", "add", "431322", "short", "--password-stdin", *args], input="abc\n")
    assert res.exit_code == 2 and "the password must have at least 8 characters" in res.output
    res = runner.invoke(cli, ["users", "list", *args])
    assert res.exit_code == 0 and re.search(r"xinhua\t431322 新化县\tenabled\tchanged .* \(北京时间 Asia/Shanghai, UTC\+8\)",
                                            res.output)
    with TestClient(create_app(Settings(home)), client=("10.3.3.3", 1), follow_redirects=False) as c:
        assert login(c, "xinhua", "Xinhua-county-pw-1").status_code == 303
        assert runner.invoke(cli, ["users", "disable", "xinhua", *args]).output.strip() == "disabled xinhua"
        assert c.get("/").status_code == 303  # its session ended at once
        res = login(c, "xinhua", "Xinhua-county-pw-1")
        assert res.status_code == 401 and "或账户已停用" in res.text
        res = runner.invoke(cli, ["users", "reset", "xinhua", "--password-stdin", *args], input="Xinhua-new-pw-2\n")
        assert res.exit_code == 0 and "new password set, account enabled" in res.output
        assert login(c, "xinhua", "Xinhua-county-pw-1").status_code == 401
        assert login(c, "xinhua", "Xinhua-new-pw-2").status_code == 303
    res = runner.invoke(cli, ["users", "disable", "nobody", *args])
    assert res.exit_code == 2 and "no user 'nobody'" in res.output
    # no password in clear anywhere the site writes: the accounts file (and its WAL), the audit log, the server's log
    secrets_ = [*PASSWORDS.values(), "Xinhua-county-pw-1", "Xinhua-new-pw-2", "wrong-password", "guess-guess"]
    files = [p for p in home.intake.iterdir() if p.is_file()] + [site["log"]]
    assert any(p.name == "accounts.sqlite" for p in files) and any(p.name == "audit.log" for p in files)
    for p in files:
        raw = p.read_bytes()
        for s in secrets_:
            for enc in ("utf-8", "utf-16-le"):
                assert s.encode(enc) not in raw, (p.name, s)
    con = sqlite3.connect(accounts_path(home.intake))
    hashes = [h for (h,) in con.execute("select password_hash from users")]
    con.close()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)


def test_a_refresh_waits_for_a_check_that_holds_the_ledger(site):
    """The site's check of an upload reads the ledger for a moment (another process,
    read-only, which blocks a writer); a refresh that starts then waits for it
    instead of failing the night."""
    from ingest.ledger import Ledger

    home = site["home"]
    Ledger(home.ledger).close()  # the ledger exists (the browser test's refresh made it too)
    reader = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from ingest.ledger import Ledger; "
         "l = Ledger(__import__('pathlib').Path(sys.argv[1]), read_only=True); print('open', flush=True); "
         "time.sleep(1.5); l.close()", str(home.ledger)], stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "open"
        started = time.monotonic()
        writer = Ledger(home.ledger)
        waited = time.monotonic() - started
        writer.close()
    finally:
        reader.kill()
        reader.wait()
    assert 0.3 < waited < 30
