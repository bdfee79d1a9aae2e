"""The wheel is a whole program: built with ``uv build``, installed into a fresh
virtual environment (no checkout beside it), it carries the dbt project and the
reference data and runs ``parkstat demo`` to a publish."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def test_an_installed_wheel_runs_the_demo(tmp_path):
    uv = shutil.which("uv")
    assert uv, "uv is needed on PATH to build the wheel (README: the two commands)"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARKSTAT_", "DAGSTER_", "WAREHOUSE_",
                                                                    "VIRTUAL_ENV"))}
    env.update(DO_NOT_TRACK="1")
    subprocess.run([uv, "build", "--wheel", "-o", str(tmp_path / "dist"), str(ROOT)], check=True, env=env,
                   capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("parkstat-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "orchestration/dbt_project/dbt_project.yml" in names
    assert not [n for n in names if "/target/" in n or n.startswith("tests/")]
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "-q", "-p", "3.11", str(venv)], check=True, env=env)
    subprocess.run([uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), str(wheel)], check=True,
                   env=env)
    away = tmp_path / "elsewhere"  # no checkout in sight: the installed package only
    away.mkdir()
    out = subprocess.run([str(venv / "bin" / "parkstat"), "demo", "--home", str(away / "wh")], cwd=away, env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "refresh succeeded" in out.stdout
    assert (venv / "lib" / "python3.11" / "site-packages" / "orchestration" / "dbt_project" / "models").is_dir()
    con = duckdb.connect(str(away / "wh" / "published" / "warehouse.duckdb"), read_only=True)
    try:
        share = con.execute("""select round(park_share_pct, 1) from marts.park_share_comparison
                               where city_code = '431300' and period = '2020-12' and indicator = 'gdp'""").fetchone()
    finally:
        con.close()
    assert share == (32.3,)
