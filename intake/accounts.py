"""The upload site's own state: accounts, sessions, login failures and uploads,
in one small SQLite file of its own (``<home>/intake/accounts.sqlite``), never
the ledger. Passwords are kept only as argon2id hashes (argon2-cffi); session
ids only as their SHA-256; nothing here holds a password in clear."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ingest import reference

SCHEMA = """
create table if not exists users (
    username text primary key,
    code text not null,               -- the submitter code every upload of this account lands under
    password_hash text not null,      -- argon2id, salted; never the password
    disabled integer not null default 0,
    created_at text not null,
    updated_at text not null
);
create table if not exists sessions (
    sid_hash text primary key,        -- sha256 of the cookie's value
    username text,                    -- null until logged in
    csrf text not null,
    created_at real not null,
    seen_at real not null
);
create table if not exists login_failures (key text not null, at real not null);
create index if not exists login_failures_key on login_failures (key, at);
create table if not exists uploads (
    upload_id integer primary key autoincrement,
    username text not null,
    code text not null,
    original_name text not null,      -- as the browser sent it (data, never a path)
    stored_name text not null,        -- the name inside landing/<code>/
    sha256 text not null,
    size_bytes integer not null,
    uploaded_at text not null,        -- Asia/Shanghai, with its offset
    address text not null,
    check_status text,                -- what `parkstat check` said at upload
    check_json text                   -- its receipt, as JSON
);
create index if not exists uploads_code on uploads (code, upload_id);
"""

USERNAME = re.compile(r"^[\w.@-]{1,64}$")
MIN_PASSWORD = 8
LOCK_FAILURES = 5
LOCK_SECONDS = 15 * 60
SESSION_IDLE_SECONDS = 8 * 3600
ANONYMOUS_SESSION_SECONDS = 3600

_hasher = PasswordHasher()
# verified when the user does not exist, so an unknown name costs as long as a wrong password
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(Exception):
    """A refusal worded for the operator (Chinese first)."""


@dataclass(frozen=True)
class User:
    username: str
    code: str
    disabled: bool
    created_at: str
    updated_at: str

    @property
    def division_name(self) -> str:
        div = reference.divisions().get(self.code)
        return div.name if div else ""


@dataclass(frozen=True)
class Session:
    sid: str  # the cookie value (only its hash is stored)
    username: str | None
    csrf: str


def check_code(code: str) -> str:
    """A current division code (the landing folder an account's uploads go to)."""
    div = reference.divisions().get(code)
    if not re.fullmatch(r"\d{6}", code or "") or div is None or div.valid_to is not None:
        raise AccountError(f"“{code}”不是现行的区划代码 / '{code}' is not a current division code "
                           f"(ingest/reference/divisions.csv)")
    return code


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少 {MIN_PASSWORD} 个字符 / the password must have at least {MIN_PASSWORD} characters")
    return password


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _user_key(username: str) -> str:
    """The login limit's key for a name, hashed: a name that is no account may be a
    password typed in the wrong field, and is not kept in clear."""
    return "user:" + _hash(username)


def _now_text() -> str:
    from intake.clock import now_text

    return now_text()


class Accounts:
    """One connection to the intake database; cheap to open, one per request or command."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # one request uses it at a time, from the event loop or a worker thread (argon2 runs off the loop)
        self.con = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
        self.con.execute("pragma journal_mode=wal")
        self.con.execute("pragma busy_timeout=30000")
        self.con.executescript(SCHEMA)
        try:
            path.chmod(0o600)
        except OSError:
            pass

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Accounts":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- accounts ------------------------------------------------------------
    def add(self, code: str, username: str, password: str) -> User:
        check_code(code)
        if not USERNAME.match(username or ""):
            raise AccountError("用户名只可含字母、数字、汉字和 . _ @ -（至多 64 个字符）/ a username is 1-64 letters, "
                               "digits or . _ @ -")
        check_password(password)
        now = _now_text()
        try:
            self.con.execute("insert into users values (?, ?, ?, 0, ?, ?)",
                             [username, code, _hasher.hash(password), now, now])
        except sqlite3.IntegrityError:
            raise AccountError(f"用户“{username}”已存在 / user '{username}' exists already") from None
        return self.get(username)

    def get(self, username: str) -> User | None:
        row = self.con.execute("select username, code, disabled, created_at, updated_at from users "
                               "where username = ?", [username]).fetchone()
        return User(row[0], row[1], bool(row[2]), row[3], row[4]) if row else None

    def list(self) -> list[User]:
        return [User(r[0], r[1], bool(r[2]), r[3], r[4]) for r in self.con.execute(
            "select username, code, disabled, created_at, updated_at from users order by code, username")]

    def _require(self, username: str) -> User:
        user = self.get(username)
        if user is None:
            raise AccountError(f"没有用户“{username}” / no user '{username}'")
        return user

    def disable(self, username: str) -> None:
        self._require(username)
        self.con.execute("update users set disabled = 1, updated_at = ? where username = ?", [_now_text(), username])
        self.con.execute("delete from sessions where username = ?", [username])

    def reset(self, username: str, password: str) -> None:
        """A new password; the account is enabled again, its sessions ended and its failures forgotten."""
        self._require(username)
        check_password(password)
        self.con.execute("update users set password_hash = ?, disabled = 0, updated_at = ? where username = ?",
                         [_hasher.hash(password), _now_text(), username])
        self.con.execute("delete from sessions where username = ?", [username])
        self.con.execute("delete from login_failures where key = ?", [_user_key(username)])

    def verify(self, username: str, password: str) -> User | None:
        """The user if the password is right and the account enabled; None otherwise
        (in about the same time whether or not the user exists)."""
        row = self.con.execute("select password_hash, disabled from users where username = ?",
                               [username]).fetchone()
        stored = row[0] if row else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row[1]:
            return None
        if _hasher.check_needs_rehash(stored):
            self.con.execute("update users set password_hash = ? where username = ?",
                             [_hasher.hash(password), username])
        return self.get(username)

    # -- the login limit -----------------------------------------------------
    def locked_for(self, username: str, address: str, now: float | None = None) -> float:
        """Seconds the account or the address must still wait (0: may try)."""
        now = time.time() if now is None else now
        wait = 0.0
        for key in (_user_key(username), "addr:" + address):
            rows = self.con.execute("select at from login_failures where key = ? and at > ? order by at desc",
                                    [key, now - LOCK_SECONDS]).fetchall()
            if len(rows) >= LOCK_FAILURES:
                wait = max(wait, rows[0][0] + LOCK_SECONDS - now)
        return wait

    def attempt(self, username: str, address: str) -> tuple[float, list[int]]:
        """A login attempt: (seconds the account or the address must still wait, 0 if it
        may try; the rows that count it as a failure until ``succeeded`` takes them back).
        Checked and counted in one transaction, before the password is, so attempts sent
        at once cannot all pass the limit."""
        now = time.time()
        self.con.execute("begin immediate")
        try:
            wait, ids = self.locked_for(username, address, now), []
            if wait <= 0:
                self.con.execute("delete from login_failures where at < ?", [now - LOCK_SECONDS])
                ids = [self.con.execute("insert into login_failures values (?, ?)", [key, now]).lastrowid
                       for key in (_user_key(username), "addr:" + address)]
            self.con.execute("commit")
        except BaseException:
            self.con.execute("rollback")
            raise
        return wait, ids

    def succeeded(self, username: str, attempt: list[int]) -> None:
        """The account's failures forgotten, and this attempt no failure of its address."""
        self.con.execute("delete from login_failures where key = ?", [_user_key(username)])
        self.con.executemany("delete from login_failures where rowid = ?", [[i] for i in attempt])

    # -- sessions ------------------------------------------------------------
    def new_session(self, username: str | None = None) -> Session:
        now = time.time()
        self.con.execute("delete from sessions where (username is null and created_at < ?) or seen_at < ?",
                         [now - ANONYMOUS_SESSION_SECONDS, now - SESSION_IDLE_SECONDS])
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.con.execute("insert into sessions values (?, ?, ?, ?, ?)", [_hash(sid), username, csrf, now, now])
        return Session(sid, username, csrf)

    def session(self, sid: str | None) -> Session | None:
        if not sid or len(sid) > 200:
            return None
        now = time.time()
        row = self.con.execute("select s.username, s.csrf, s.created_at, s.seen_at, u.disabled from sessions s "
                               "left join users u on u.username = s.username where s.sid_hash = ?",
                               [_hash(sid)]).fetchone()
        if row is None:
            return None
        username, csrf, created, seen, disabled = row
        limit = SESSION_IDLE_SECONDS if username else ANONYMOUS_SESSION_SECONDS
        # a logged-in session ends when its account is disabled or removed
        if (now - (seen if username else created)) > limit or (username and (disabled is None or disabled)):
            self.end_session(sid)
            return None
        if username and now - seen > 60:
            self.con.execute("update sessions set seen_at = ? where sid_hash = ?", [now, _hash(sid)])
        return Session(sid, username, csrf)

    def end_session(self, sid: str) -> None:
        self.con.execute("delete from sessions where sid_hash = ?", [_hash(sid)])

    # -- uploads ---------------------------------------------------------------
    def record_upload(self, *, username: str, code: str, original_name: str, stored_name: str, sha256: str,
                      size: int, uploaded_at: str, address: str, check_status: str | None,
                      check: dict | None) -> int:
        cur = self.con.execute(
            "insert into uploads (username, code, original_name, stored_name, sha256, size_bytes, uploaded_at, "
            "address, check_status, check_json) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [username, code, original_name, stored_name, sha256, size, uploaded_at, address, check_status,
             json.dumps(check, ensure_ascii=False) if check is not None else None])
        return int(cur.lastrowid)

    _UPLOAD_COLS = ("upload_id", "username", "code", "original_name", "stored_name", "sha256", "size_bytes",
                    "uploaded_at", "address", "check_status", "check_json")

    def _uploads(self, where: str, params: list, limit: int) -> list[dict]:
        rows = self.con.execute(f"select {', '.join(self._UPLOAD_COLS)} from uploads where {where} "
                                f"order by upload_id desc limit ?", [*params, limit]).fetchall()
        out = []
        for r in rows:
            rec = dict(zip(self._UPLOAD_COLS, r))
            check = rec.pop("check_json")
            rec["check"] = json.loads(check) if check else None
            out.append(rec)
        return out

    def uploads(self, codes: set[str], limit: int = 200) -> list[dict]:
        """Uploads under these codes, newest first."""
        if not codes:
            return []
        return self._uploads(f"code in ({', '.join('?' * len(codes))})", sorted(codes), limit)

    def upload(self, upload_id: int) -> dict | None:
        found = self._uploads("upload_id = ?", [upload_id], 1)
        return found[0] if found else None


def accounts_path(intake_dir: Path) -> Path:
    return intake_dir / "accounts.sqlite"
