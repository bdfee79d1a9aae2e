"""``parkstat serve``: the upload site (Starlette + Jinja2, served by uvicorn).

A clerk logs in, uploads report files, and is answered at once with what
``parkstat check`` says of each; the files land in ``landing/<the account's
code>/`` where the nightly refresh takes them. Everything a request sends is
data: the code comes from the account, file names are cleaned to a single
component, every text on a page is escaped, and no page carries a script.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ingest import reference
from ingest.config import Settings as ParkstatSettings, active
from ingest.receipts import KIND_ZH
from ingest.settings import WarehouseHome
from intake import views
from intake.accounts import Accounts, Session, User, accounts_path
from intake.clock import ZONE_LABEL, now_text, shown
from intake.uploads import UploadLimits, UploadRefused, clean_tmp, land, new_tmpdir, receive

HERE = Path(__file__).parent
COOKIE = "parkstat_session"
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")
SECURITY_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"),
                    (b"cross-origin-opener-policy", b"same-origin"), (b"cache-control", b"no-store")]
MAX_USERNAME, MAX_PASSWORD = 64, 1024  # what a login form may carry into the hash and the audit log
CSRF_ZH = "表单已失效或来源不明（CSRF 校验失败），请刷新页面后重试"
CSRF_EN = "the form's CSRF token is missing or wrong; reload the page and try again"


@dataclass
class Settings:
    """How the site runs: the warehouse home; ``secure_cookies`` forces the Secure
    flag (it is set anyway on a request that came over HTTPS); ``trusted_proxies``:
    addresses whose X-Forwarded-For/-Proto are believed (the reverse proxy's);
    ``config``: parkstat's settings (ingest/config.py; none: read when the app is
    built), in force for every request."""

    home: WarehouseHome
    secure_cookies: bool = False
    trusted_proxies: list[str] = field(default_factory=list)
    config: ParkstatSettings | None = None


class WithSettings:
    """parkstat's settings in force (``ingest.config.current``) for every request."""

    def __init__(self, app, config: ParkstatSettings):
        self.app, self.config = app, config

    async def __call__(self, scope, receive_, send):
        with active(self.config):
            await self.app(scope, receive_, send)


class SecurityHeaders:
    """Adds the Content-Security-Policy (no script, no inline style) and the other
    protective headers to every response."""

    def __init__(self, app, hsts: bool = False):
        self.app = app
        self.extra = SECURITY_HEADERS + ([(b"strict-transport-security", b"max-age=31536000")] if hsts else [])

    async def __call__(self, scope, receive_, send):
        if scope["type"] != "http":
            return await self.app(scope, receive_, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in self.extra if k not in names]
            await send(message)

        await self.app(scope, receive_, send_with_headers)


def create_app(settings: Settings):
    """The site (the edge of its process: parkstat's settings are read here when
    ``settings.config`` brings none)."""
    home = settings.home.ensure()
    config = settings.config or ParkstatSettings.load(home=home.root)
    limits = UploadLimits.of(config)
    home.intake.mkdir(parents=True, exist_ok=True)
    clean_tmp(home.intake)
    db_path = accounts_path(home.intake)
    Accounts(db_path).close()  # the schema, before the first request
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
    env.globals.update(zone=ZONE_LABEL, kinds=KIND_ZH)
    check_lock = threading.Lock()  # one check at a time: a short read of the ledger, CPU-bound
    audit_lock = threading.Lock()

    # -- helpers -----------------------------------------------------------------
    def address(request: Request) -> str:
        return request.client.host if request.client else "?"

    def is_https(request: Request) -> bool:
        return settings.secure_cookies or request.url.scheme == "https"

    def audit(request: Request, event: str, **fields) -> None:
        """One JSON line per login and upload in ``intake/audit.log``: when, what, who,
        from where; never a password."""
        line = {"at": now_text(), "event": event, "address": address(request), **fields}
        text = json.dumps(line, ensure_ascii=False) + "\n"
        with audit_lock, open(home.intake / "audit.log", "a", encoding="utf-8") as fh:
            fh.write(text)

    def page(request: Request, name: str, status: int = 200, session: Session | None = None,
             user: User | None = None, **context) -> HTMLResponse:
        html = env.get_template(name).render(request=request, session=session, user=user, **context)
        return HTMLResponse(html, status_code=status)

    def set_session_cookie(response: Response, request: Request, session: Session) -> None:
        response.set_cookie(COOKIE, session.sid, httponly=True, samesite="strict", secure=is_https(request),
                            path="/")

    def load(request: Request) -> tuple[Accounts, Session | None, User | None]:
        acc = Accounts(db_path)
        session = acc.session(request.cookies.get(COOKIE))
        user = acc.get(session.username) if session and session.username else None
        return acc, session, user

    def csrf_ok(session: Session | None, token: str | None) -> bool:
        return bool(session and token) and hmac.compare_digest(session.csrf.encode(), str(token).encode())

    def to_login() -> Response:
        return RedirectResponse("/login", status_code=303)

    # -- pages ---------------------------------------------------------------------
    async def login_form(request: Request) -> Response:
        acc, session, user = load(request)
        try:
            if user:
                return RedirectResponse("/", status_code=303)
            if session is None:
                session = acc.new_session()
            resp = page(request, "login.html", session=session)
            set_session_cookie(resp, request, session)
            return resp
        finally:
            acc.close()

    async def login(request: Request) -> Response:
        acc, session, _ = load(request)
        try:
            form = await request.form(max_files=0, max_fields=10)
            username = str(form.get("username") or "").strip()[:MAX_USERNAME]
            password = str(form.get("password") or "")[:MAX_PASSWORD]
            if not csrf_ok(session, form.get("csrf_token")):
                audit(request, "login_refused", user=username if acc.get(username) else None, reason="csrf")
                session = session or acc.new_session()
                resp = page(request, "login.html", 403, session=session, error=(CSRF_ZH, CSRF_EN),
                            username=username)
                set_session_cookie(resp, request, session)
                return resp
            wait, attempt = acc.attempt(username, address(request))  # counted as a failure until it succeeds
            if wait > 0:
                minutes = int(wait // 60) + 1
                audit(request, "login_refused", user=username if acc.get(username) else None, reason="locked")
                resp = page(request, "login.html", 429, session=session, username=username, error=(
                    f"登录失败次数过多，请 {minutes} 分钟后再试",
                    f"too many failed logins; try again in {minutes} minute(s)"))
                resp.headers["Retry-After"] = str(int(wait) + 1)
                return resp
            user = await run_in_threadpool(acc.verify, username, password)
            if user is None:
                if acc.get(username) is not None:
                    audit(request, "login_failed", user=username)
                else:  # a name that is no account may be a password typed in the wrong field: not logged as such
                    audit(request, "login_failed", user=None, unknown_user_sha256=hashlib.sha256(
                        username.encode("utf-8")).hexdigest()[:16])
                return page(request, "login.html", 401, session=session, username=username,
                            error=("用户名或密码错误（或账户已停用）", "wrong username or password (or the account "
                                   "is disabled)"))
            acc.succeeded(username, attempt)
            acc.end_session(session.sid)  # a new session id at login (no fixation)
            fresh = acc.new_session(user.username)
            audit(request, "login", user=user.username, code=user.code)
            resp = RedirectResponse("/", status_code=303)
            set_session_cookie(resp, request, fresh)
            return resp
        finally:
            acc.close()

    async def logout(request: Request) -> Response:
        acc, session, user = load(request)
        try:
            form = await request.form(max_files=0, max_fields=10)
            if not csrf_ok(session, form.get("csrf_token")):
                return page(request, "error.html", 403, session=session, user=user, error=(CSRF_ZH, CSRF_EN))
            acc.end_session(session.sid)
            if user:
                audit(request, "logout", user=user.username, code=user.code)
            resp = RedirectResponse("/login", status_code=303)
            resp.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=is_https(request))
            return resp
        finally:
            acc.close()

    def upload_page(request: Request, session: Session, user: User, status: int = 200, **context) -> HTMLResponse:
        return page(request, "upload.html", status, session=session, user=user,
                    max_mb=f"{limits.max_file_bytes / 2**20:,.0f}", max_files=limits.max_files, **context)

    async def index(request: Request) -> Response:
        acc, session, user = load(request)
        try:
            if not user:
                return to_login()
            return upload_page(request, session, user)
        finally:
            acc.close()

    def run_check(path: Path, code: str) -> tuple[str | None, dict | None, str | None]:
        from ingest.ledger import LedgerBusy
        from ingest.pipeline import check_file

        with check_lock:
            try:
                receipt = check_file(home, path, code, config)
            except LedgerBusy:
                return None, None, "busy"
            except Exception as exc:  # the file is landed whatever the check does; the refresh answers it
                return None, None, type(exc).__name__
        return receipt.status, receipt.as_json(), None

    async def upload(request: Request) -> Response:
        acc, session, user = load(request)
        try:
            if not user:
                return to_login()
            tmpdir = new_tmpdir(home.intake)
            try:
                received = await receive(request.headers.get("content-type", ""),
                                         request.headers.get("content-length"), request.stream(), tmpdir,
                                         lambda token: csrf_ok(session, token), limits)
            except UploadRefused as exc:
                audit(request, "upload_refused", user=user.username, code=user.code, status=exc.status,
                      reason=exc.en)
                return upload_page(request, session, user, exc.status, error=(exc.zh, exc.en))
            results = []
            try:
                for rec in received:
                    stored = land(rec, home.landing / user.code)
                    checked = tmpdir / stored  # the same bytes under the landed name, for the check
                    os.replace(rec.temp, checked)
                    status, receipt, problem = await run_in_threadpool(run_check, checked, user.code)
                    at = now_text()
                    upload_id = acc.record_upload(
                        username=user.username, code=user.code, original_name=rec.original_name,
                        stored_name=stored, sha256=rec.sha256, size=rec.size, uploaded_at=at,
                        address=address(request), check_status=status, check=receipt)
                    audit(request, "upload", user=user.username, code=user.code, file=rec.original_name,
                          stored_as=f"landing/{user.code}/{stored}", sha256=rec.sha256, size=rec.size,
                          check=status or problem, upload_id=upload_id)
                    results.append({"upload_id": upload_id, "original_name": rec.original_name,
                                    "stored_name": stored, "sha256": rec.sha256, "size_bytes": rec.size,
                                    "uploaded_shown": shown(at), "problem": problem,
                                    "check": views.decorate(receipt) if receipt else None})
            finally:
                shutil.rmtree(tmpdir, ignore_errors=True)
            return upload_page(request, session, user, results=results)
        finally:
            acc.close()

    async def receipts(request: Request) -> Response:
        acc, session, user = load(request)
        try:
            if not user:
                return to_login()
            codes = {u.code for u in acc.list() if views.may_see(user.code, u.code)}
            uploads = [views.decorate_upload(home, u) for u in acc.uploads(codes, limit=100)]
            listed = await run_in_threadpool(views.list_receipts, home, user.code)
            return page(request, "receipts.html", session=session, user=user, uploads=uploads, receipts=listed)
        finally:
            acc.close()

    def not_found(request: Request, session, user) -> HTMLResponse:
        return page(request, "error.html", 404, session=session, user=user,
                    error=("没有这份回执（或您无权查看）", "no such receipt (or it is not yours to see)"))

    async def receipt_detail(request: Request) -> Response:
        acc, session, user = load(request)
        try:
            if not user:
                return to_login()
            rec = views.receipt(home, user.code, request.path_params["code"], request.path_params["stem"])
            if rec is None:
                return not_found(request, session, user)
            return page(request, "receipt.html", session=session, user=user, receipt=rec)
        finally:
            acc.close()

    async def upload_detail(request: Request) -> Response:
        acc, session, user = load(request)
        try:
            if not user:
                return to_login()
            upload_id = request.path_params["upload_id"]
            up = acc.upload(upload_id) if upload_id < 2**63 else None  # SQLite's integers end there
            if up is None or not views.may_see(user.code, up["code"]):
                return not_found(request, session, user)
            return page(request, "upload_detail.html", session=session, user=user,
                        upload=views.decorate_upload(home, up))
        finally:
            acc.close()

    async def template(request: Request) -> Response:
        acc, session, user = load(request)
        try:
            if not user:
                return to_login()
            name = request.path_params["name"]
            kind = name[:-5] if name.endswith(".xlsx") else ""
            if kind not in reference.kinds():
                return page(request, "error.html", 404, session=session, user=user,
                            error=("没有这种报表模板", "no template of that name"))
            from intake.workbooks import template_xlsx

            data = await run_in_threadpool(template_xlsx, kind, user.code)
            return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            headers={"Content-Disposition": f'attachment; filename="{kind}.xlsx"'})
        finally:
            acc.close()

    async def unknown(request: Request, exc) -> Response:
        acc, session, user = load(request)
        try:
            if not user:
                return to_login()
            return page(request, "error.html", 404, session=session, user=user,
                        error=("没有这个页面", "no such page"))
        finally:
            acc.close()

    async def not_allowed(request: Request, exc) -> Response:
        return HTMLResponse("405 method not allowed", status_code=405)

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/upload", upload, methods=["POST"]),
        Route("/receipts", receipts, methods=["GET"]),
        Route("/receipts/upload/{upload_id:int}", upload_detail, methods=["GET"]),
        Route("/receipts/{code}/{stem}", receipt_detail, methods=["GET"]),
        Route("/templates/{name}", template, methods=["GET"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={404: unknown, 405: not_allowed})
    wrapped = WithSettings(SecurityHeaders(app, hsts=settings.secure_cookies), config)
    if settings.trusted_proxies:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        wrapped = ProxyHeadersMiddleware(wrapped, trusted_hosts=settings.trusted_proxies)
    return wrapped
