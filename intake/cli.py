"""``parkstat users`` and ``parkstat serve``: the upload site's accounts and the
site itself (registered on the ``parkstat`` command by ``orchestration/cli.py``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from ingest.config import Settings, SettingsError
from ingest.settings import WarehouseHome

HomeOption = typer.Option(None, "--home", help="Warehouse home (default: $WAREHOUSE_HOME or ./warehouse).")


def load_settings(home: Optional[Path] = None) -> Settings:
    """The edge of every ``parkstat`` command: the settings (environment over the home's
    parkstat.toml), read once; one that does not fit ends the command with its one-line
    message and exit code 2."""
    try:
        return Settings.load(home=home)
    except SettingsError as exc:
        typer.echo(f"parkstat: {exc}", err=True)
        raise typer.Exit(2) from None


def _home(home: Optional[Path]) -> WarehouseHome:
    return WarehouseHome.of(load_settings(home)).ensure()


users_app = typer.Typer(no_args_is_help=True,
                        help="Accounts of the upload site (parkstat serve): one submitter code each.")


def _password(from_stdin: bool) -> str:
    """The password from standard input (one line) or typed twice at the terminal; never an argument."""
    import getpass

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("密码 / password: ")
    if getpass.getpass("再输一次 / again: ") != first:
        typer.echo("两次输入的密码不同 / the passwords differ", err=True)
        raise typer.Exit(2)
    return first


PasswordStdin = typer.Option(False, "--password-stdin", help="Read the password from standard input "
                             "(one line) instead of the terminal.")


def _accounts(home: Optional[Path]):
    from intake.accounts import Accounts, accounts_path

    return Accounts(accounts_path(_home(home).intake))


@users_app.command("add")
def users_add(code: str = typer.Argument(..., help="The submitter's 6-digit division code (its landing folder)."),
              username: str = typer.Argument(..., help="The login name."),
              password_stdin: bool = PasswordStdin, home: Optional[Path] = HomeOption) -> None:
    """Open an account for a submitter; every upload of it lands under CODE."""
    from intake.accounts import AccountError, check_code

    try:
        check_code(code)
    except AccountError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2)
    password = _password(password_stdin)
    with _accounts(home) as acc:
        try:
            user = acc.add(code, username, password)
        except AccountError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2)
    typer.echo(f"added {user.username}: {user.code} {user.division_name}")


@users_app.command("list")
def users_list(home: Optional[Path] = HomeOption) -> None:
    """Every account: username, code, division, enabled or not, last change (Beijing time)."""
    from intake.clock import shown

    with _accounts(home) as acc:
        users = acc.list()
    for u in users:
        typer.echo(f"{u.username}\t{u.code} {u.division_name}\t{'disabled' if u.disabled else 'enabled'}\t"
                   f"changed {shown(u.updated_at)}")
    if not users:
        typer.echo("no accounts yet: parkstat users add CODE USERNAME")


@users_app.command("disable")
def users_disable(username: str = typer.Argument(...), home: Optional[Path] = HomeOption) -> None:
    """Disable an account (its sessions end at once); `users reset` enables it again."""
    from intake.accounts import AccountError

    with _accounts(home) as acc:
        try:
            acc.disable(username)
        except AccountError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2)
    typer.echo(f"disabled {username}")


@users_app.command("reset")
def users_reset(username: str = typer.Argument(...), password_stdin: bool = PasswordStdin,
                home: Optional[Path] = HomeOption) -> None:
    """Set a new password: the account is enabled, its sessions end, its failed logins are forgotten."""
    from intake.accounts import AccountError

    password = _password(password_stdin)
    with _accounts(home) as acc:
        try:
            acc.reset(username, password)
        except AccountError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2)
    typer.echo(f"reset {username}: new password set, account enabled")


def serve(host: str = typer.Option("127.0.0.1", help="Address to listen on (keep 127.0.0.1 behind a proxy)."),
          port: int = typer.Option(8600, help="Port to listen on."),
          home: Optional[Path] = HomeOption,
          secure_cookies: bool = typer.Option(False, "--secure-cookies",
                                              help="Always mark the session cookie Secure (the site is only "
                                                   "reached over HTTPS); or the setting secure_cookies."),
          trusted_proxy: Optional[list[str]] = typer.Option(None, "--trusted-proxy", metavar="ADDRESS",
                                                            help="The reverse proxy's address: its X-Forwarded-For "
                                                                 "and X-Forwarded-Proto are believed (repeatable; "
                                                                 "or the setting trusted_proxies).")) -> None:
    """The upload site: submitters log in, upload files and see what `parkstat check`
    says at once; files land in landing/<the account's code>/ for the next refresh."""
    import uvicorn

    from intake.app import Settings as SiteSettings, create_app

    config = load_settings(home)
    h = WarehouseHome.of(config).ensure()
    site = create_app(SiteSettings(h, config.secure_cookies or secure_cookies,
                                   list(trusted_proxy or config.trusted_proxies), config))
    typer.echo(f"parkstat serve: http://{host}:{port}/ (home {h.root}; audit log {h.intake / 'audit.log'})")
    uvicorn.run(site, host=host, port=port, log_level="warning", access_log=False, proxy_headers=False,
                server_header=False)
