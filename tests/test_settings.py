"""The settings: one table (ingest/reference/settings.csv), one typed object read at
the edge — the environment over the home's parkstat.toml over the defaults — and a
bad value stops with a message naming it, the value and what is expected."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from ingest import config
from ingest.config import Settings, SettingsError, active, current

ROOT = Path(__file__).resolve().parents[1]
PARKSTAT = Path(sys.executable).parent / "parkstat"


def test_the_class_is_the_table_field_for_field():
    config.check_table()
    assert len(config.SPECS) >= 28
    assert all(s.variable.startswith("PARKSTAT_") for s in config.SPECS if s.field != "home")


def test_defaults(tmp_path):
    s = Settings.load(environ={}, home=tmp_path)
    assert s.home == tmp_path.resolve()
    assert str(s.timezone) == "Asia/Shanghai" and s.now is None and s.target == "duckdb"
    assert s.settle_seconds == 30 and s.partial_grace_seconds == 3600 and s.ledger_wait_seconds == 60
    assert s.limits.max_file_bytes == 100 * 2**20 and s.limits.max_inflated_bytes == 300 * 2**20
    assert s.max_columns == 500 and s.keep_publishes == 7 and s.keep_runs_days == 400 and s.keep_ticks_days == 30
    assert s.duckdb_memory == "2GB" and s.secure_cookies is False and s.trusted_proxies == ()
    assert s.reporting_calendar is None and s.failpoint == ""
    # the home: WAREHOUSE_HOME, else ./warehouse
    assert Settings.load(environ={"WAREHOUSE_HOME": str(tmp_path / "w")}).home == (tmp_path / "w").resolve()
    assert Settings.load(environ={}).home == Path("warehouse").resolve()


def test_the_homes_parkstat_toml_is_read_and_the_environment_wins(tmp_path):
    (tmp_path / "parkstat.toml").write_text(
        'settle_seconds = 5\ntimezone = "Europe/Berlin"\ntrusted_proxies = ["10.0.0.1", "10.0.0.2"]\n'
        'secure_cookies = true\nkeep_publishes = 3\nnow = 2024-06-15T09:00:00\ntarget = "spark"\n', encoding="utf-8")
    s = Settings.load(environ={"WAREHOUSE_HOME": str(tmp_path)})
    assert s.settle_seconds == 5 and str(s.timezone) == "Europe/Berlin" and s.keep_publishes == 3
    assert s.trusted_proxies == ("10.0.0.1", "10.0.0.2") and s.secure_cookies is True and s.target == "spark"
    assert s.now == dt.datetime(2024, 6, 15, 9)
    env = {"PARKSTAT_SETTLE_SECONDS": "7", "PARKSTAT_TARGET": "duckdb", "PARKSTAT_KEEP_PUBLISHES": ""}
    s = Settings.load(environ=env, home=tmp_path)  # --home: its file
    assert s.settle_seconds == 7 and s.target == "duckdb"
    assert s.keep_publishes == 3  # an empty variable is an unset one
    # a file named outright
    other = tmp_path / "other.toml"
    other.write_text("max_columns = 9\n", encoding="utf-8")
    assert Settings.load(environ={}, config_file=other, home=tmp_path).max_columns == 9


BAD = [
    ("PARKSTAT_SETTLE_SECONDS", "abc", "expected a number of seconds ≥ 0"),
    ("PARKSTAT_SETTLE_SECONDS", "-1", "expected a number of seconds ≥ 0"),
    ("PARKSTAT_MAX_RUN_SECONDS", "30", "expected a number of seconds ≥ 60"),
    ("PARKSTAT_READER_SECONDS", "0", "expected a number of seconds > 0"),
    ("PARKSTAT_STALE_AFTER_HOURS", "nan", "expected a number of hours > 0"),
    ("PARKSTAT_MAX_FILE_MB", "0", "expected a number of megabytes > 0"),
    ("PARKSTAT_MAX_COLUMNS", "1.5", "expected a whole number ≥ 1"),
    ("PARKSTAT_UPLOAD_MAX_FILES", "ten", "expected a whole number ≥ 1"),
    ("PARKSTAT_KEEP_RUNS_DAYS", "0", "expected a whole number of days ≥ 1"),
    ("PARKSTAT_TIMEZONE", "Mars/Olympus", "expected an IANA time zone name such as Asia/Shanghai"),
    ("PARKSTAT_TIMEZONE", "../../etc/passwd", "expected an IANA time zone name such as Asia/Shanghai"),
    ("PARKSTAT_NOW", "yesterday", "expected an ISO date-time such as 2024-06-15T09:00:00"),
    ("PARKSTAT_TARGET", "postgres", "expected duckdb or spark"),
    ("PARKSTAT_DUCKDB_MEMORY", "lots", "expected a size such as 2GB or 512MB"),
    ("PARKSTAT_SECURE_COOKIES", "maybe", "expected 1, true, yes, on or 0, false, no, off"),
    ("PARKSTAT_REPORTING_CALENDAR", "/no/such/calendar.csv", "expected an existing file"),
]


@pytest.mark.parametrize("variable,value,expected", BAD, ids=[f"{v}={x}" for v, x, _ in BAD])
def test_a_bad_value_names_the_variable_the_value_and_what_is_expected(tmp_path, variable, value, expected):
    with pytest.raises(SettingsError) as err:
        Settings.load(environ={variable: value}, home=tmp_path)
    assert str(err.value) == f"{variable}={value!r}: {expected}"


def test_a_bad_value_in_the_file_names_the_key_and_the_file(tmp_path):
    path = tmp_path / "parkstat.toml"
    path.write_text('settle_seconds = "soon"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as err:
        Settings.load(environ={}, home=tmp_path)
    assert str(err.value) == f"settle_seconds='soon' (in {path}): expected a number of seconds ≥ 0"
    # the environment's good value does not excuse the file's bad one: both are read
    with pytest.raises(SettingsError):
        Settings.load(environ={"PARKSTAT_SETTLE_SECONDS": "1"}, home=tmp_path)


def test_an_unknown_key_in_the_file_is_an_error_naming_it(tmp_path):
    path = tmp_path / "parkstat.toml"
    path.write_text("settle_secs = 5\n", encoding="utf-8")
    with pytest.raises(SettingsError) as err:
        Settings.load(environ={}, home=tmp_path)
    assert str(err.value).startswith(f"{path}: unknown key 'settle_secs'; known keys: ")
    assert "settle_seconds" in str(err.value)
    path.write_text("warehouse_home = '/elsewhere'\n", encoding="utf-8")  # the file lives in the home
    with pytest.raises(SettingsError, match="unknown key 'warehouse_home'"):
        Settings.load(environ={}, home=tmp_path)
    path.write_text("settle_seconds = = 5\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=rf"^{re.escape(str(path))}: not valid TOML \("):
        Settings.load(environ={}, home=tmp_path)


def test_an_unknown_parkstat_variable_is_a_warning_not_an_error(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = Settings.load(environ={"PARKSTAT_SETTLE_SECOND": "5", "PARKSTAT_STAGED": "/x"}, home=tmp_path)
    assert s.settle_seconds == 30
    assert [str(w.message) for w in caught] == [
        "unknown setting(s) PARKSTAT_SETTLE_SECOND ignored (ingest/reference/settings.csv lists them all)"]


def test_current_follows_the_environment_unless_an_edge_made_settings_active(tmp_path, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_HOME", str(tmp_path))
    monkeypatch.setenv("PARKSTAT_SETTLE_SECONDS", "11")
    assert current().settle_seconds == 11
    monkeypatch.setenv("PARKSTAT_SETTLE_SECONDS", "12")
    assert current().settle_seconds == 12
    (tmp_path / "parkstat.toml").write_text("keep_publishes = 2\n", encoding="utf-8")
    assert current().keep_publishes == 2
    edge = Settings.load(environ={}, home=tmp_path).with_values(settle_seconds=0)
    with active(edge):
        assert current() is edge
    assert current().settle_seconds == 12
    monkeypatch.setenv("PARKSTAT_SETTLE_SECONDS", "abc")  # a library call with a bad environment: the same error
    with pytest.raises(SettingsError, match="PARKSTAT_SETTLE_SECONDS='abc'"):
        current()


def test_the_target_is_run_config_whose_default_is_the_setting(tmp_path):
    from ingest.settings import WarehouseHome
    from orchestration.definitions import build_defs

    home = WarehouseHome(tmp_path / "wh")
    spark = Settings.load(environ={"PARKSTAT_TARGET": "spark"}, home=home.root)
    assert build_defs(home, settings=spark).resources["warehouse"].target == "spark"
    assert build_defs(home, "duckdb", settings=spark).resources["warehouse"].target == "duckdb"


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PARKSTAT_", "WAREHOUSE_", "DAGSTER_"))}
    return subprocess.run([str(PARKSTAT), *args], env={**base, **env}, capture_output=True, text=True, timeout=120)


def test_the_cli_reports_a_bad_setting_in_one_line_and_exits_2(tmp_path):
    home = tmp_path / "wh"
    proc = _run(["status", "--home", str(home)], PARKSTAT_TIMEZONE="Mars/Olympus")
    assert proc.returncode == 2
    assert proc.stderr == ("parkstat: PARKSTAT_TIMEZONE='Mars/Olympus': expected an IANA time zone name such as "
                           "Asia/Shanghai\n")
    assert proc.stdout == ""
    home.mkdir()
    (home / "parkstat.toml").write_text("stale_after_hours = 0\n", encoding="utf-8")
    proc = _run(["check", str(home / "parkstat.toml"), "--as", "431300", "--home", str(home)])
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr == (f"parkstat: stale_after_hours='0' (in {(home / 'parkstat.toml').resolve()}): "
                           "expected a number of hours > 0\n")


# reading the environment for a setting, anywhere: os.environ.get("PARKSTAT_X"), os.getenv(...),
# os.environ["PARKSTAT_X"] (not an assignment), "PARKSTAT_X" in os.environ, a loop over its items
READ = re.compile(r"""environ\.get\(|getenv\(|environ\[[^\]]*\](?!\s*=[^=])|in\s+os\.environ|environ\.items\(\)""")
EDGES = {"ingest/config.py"}


def _reads(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()
            if READ.search(line) and re.search(r"PARKSTAT_|WAREHOUSE_HOME", line)]


def test_no_module_but_the_settings_reads_a_setting_from_the_environment():
    assert _reads('    name = os.environ.get("PARKSTAT_TIMEZONE", "").strip()')  # what it catches
    assert _reads('limits = {k: v for k, v in os.environ.items() if k.startswith("PARKSTAT_")}')
    assert not _reads('os.environ["PARKSTAT_WORK_DB"] = str(paths.work_db)')  # telling dbt is not reading
    found = {}
    for package in ("ingest", "orchestration", "intake", "benchmarks"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name not in EDGES and _reads(path.read_text(encoding="utf-8")):
                found[name] = _reads(path.read_text(encoding="utf-8"))
    assert found == {}


def test_the_readmes_table_of_settings_is_the_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    begin, end = "<!-- settings: generated by `python -m ingest.config` -->\n", "\n<!-- end of settings -->"
    assert begin in readme and end in readme
    assert readme.split(begin, 1)[1].split(end, 1)[0] == config.markdown_table()


MENTION = re.compile(r"`((?:PARKSTAT_|WAREHOUSE_HOME)\w*)`?(?:,| \((?:default )?)\s*(\d[\d,.]*(?: ?(?:GB|h)\b)?)")
UNITS = {" h": 3600, "h": 3600}


def _same(said: str, default: str) -> bool:
    """``said`` in the docs ("50,000", "2 GB", "4 h") is ``default`` in the table."""
    said = said.replace(",", "")
    for unit, factor in UNITS.items():
        if said.endswith(unit):
            return float(said[: -len(unit)]) * factor == float(default)
    return said.replace(" ", "") == default.replace(",", "")


def test_every_setting_the_docs_name_is_in_the_table_with_its_default():
    known = {s.variable: s for s in config.SPECS}
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "deploy").iterdir())]
    texts = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in files}
    begin, end = "<!-- settings: generated by `python -m ingest.config` -->", "<!-- end of settings -->"
    texts["README.md"] = texts["README.md"].split(begin)[0] + texts["README.md"].split(end)[1]  # the table itself
    texts = {name: " ".join(text.split()) for name, text in texts.items()}
    named = {(name, v) for name, text in texts.items() for v in re.findall(r"\b(PARKSTAT_[A-Z_]+[A-Z])\b", text)}
    assert {(name, v) for name, v in named if v not in known and v not in config.FOR_DBT} == set()
    # "`PARKSTAT_SETTLE_SECONDS` (30)", "(`PARKSTAT_LEDGER_WAIT_SECONDS`, 60)", "| `PARKSTAT_X` | `4` |"
    said = [(name, v, d) for name, text in texts.items() for v, d in MENTION.findall(text)]
    said += [(name, v, d) for name, text in texts.items()
             for v, d in re.findall(r"\| `(PARKSTAT_\w+)` \| `([^`]*)` \|", text)]
    assert len(said) >= 10
    assert [(name, v, d, known[v].default) for name, v, d in said if v in known and not _same(d, known[v].default)] == []
    assert not _same("3 h", "14400") and not _same("1 GB", "2GB")  # the comparison can fail


def test_a_commands_settings_end_with_it(tmp_path):
    from typer.testing import CliRunner

    from ingest.config import edge_settings
    from orchestration.cli import app

    res = CliRunner().invoke(app, ["status", "--home", str(tmp_path / "wh")])
    assert res.exit_code == 0, res.output
    assert edge_settings() is None  # the next command (or test) reads the environment afresh
    res = CliRunner().invoke(app, ["status", "--home", str(tmp_path / "wh")], env={"PARKSTAT_TIMEZONE": "UTC+8"})
    assert res.exit_code == 2 and edge_settings() is None
    from orchestration.cli import _home

    _home(tmp_path / "wh")  # a helper calling a command's code outside a command keeps nothing active
    assert edge_settings() is None
