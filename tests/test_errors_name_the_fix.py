"""A wrong setting, a wrong flag, an unreachable host or a warehouse held by another session: in a real
process, the command exits non-zero with one line on stderr that names what to fix, with no traceback
and no secret, and an unreachable host fails within 10 s."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.config import PROJECT_ROOT

TOKEN = "pat-secret-token-for-errors-0001"
PASSWORD = "pg-secret-password-0001"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once it is closed


def calendly_elt(*args: str, **env: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "CALENDLY_ACCESS_TOKEN": TOKEN, "BREVO_API_KEY": "xkeysib-secret-0001",
                               **env})
    return done, time.monotonic() - started


def the_one_line(done: subprocess.CompletedProcess, command: str) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"calendly-elt {command}: ")
    assert "Traceback" not in done.stderr + done.stdout
    for secret in (TOKEN, TOKEN[:10], TOKEN[10:], PASSWORD, "xkeysib-secret-0001"):
        assert secret not in done.stderr + done.stdout
    return lines[0]


@pytest.mark.parametrize("variable, value, says", [
    ("WAREHOUSE_PATH", "{file}/warehouse.duckdb", "cannot create the folder"),  # a file where a folder should be
    ("WAREHOUSE_PATH", "/proc/calendly-elt/warehouse.duckdb", "cannot create the folder"),  # not even root writes /proc
    ("WAREHOUSE_URL", f"postgresql://analyst:{PASSWORD}@127.0.0.1:{{port}}/warehouse", "cannot reach"),
    ("WAREHOUSE_URL", "mysql://somewhere/db", "postgresql://"),
    ("CALENDLY_API_URL", "htp:/typo", "not an http(s) URL"),
    ("CALENDLY_API_URL", "http://127.0.0.1:{port}", "connection refused"),
    ("CALENDLY_API_URL", "http://no-such-host.invalid", "does not resolve"),
    ("WAREHOUSE_PATH", "{file}", "is not a DuckDB database"),  # some other file
    ("WAREHOUSE_PATH", "{folder}", "is a folder"),
    ("CALENDLY_ACCESS_TOKEN", f"{TOKEN[:10]}\n{TOKEN[10:]}", "line breaks"),  # a paste gone wrong: never shown
    ("CALENDLY_ELT_LOG_LEVEL", "loud", "not one of DEBUG"),
])
def test_a_wrong_setting_is_named_in_one_line(tmp_path, variable, value, says):
    # (A token pasted with a trailing line break is simply stripped: tests/test_settings.py.)
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    env = {"WAREHOUSE_PATH": str(tmp_path / "data" / "warehouse.duckdb"), "CALENDLY_API_URL": "http://127.0.0.1:9",
           variable: value.format(file=a_file, folder=tmp_path, port=closed_port())}
    done, seconds = calendly_elt("extract", **env)
    assert done.returncode == 1
    line = the_one_line(done, "extract")
    assert variable in line and says in line, line
    assert seconds < 10, f"{seconds:.1f} s to fail: {line}"


@pytest.mark.parametrize("args, flag", [
    (["extract", "--start-date", "yesterday"], "--start-date"),
    (["extract", "--lookback-days", "-5"], "--lookback-days"),
    (["extract", "--no-show-window-days", "-1"], "--no-show-window-days"),
    (["extract", "--max-workers", "0"], "--max-workers"),
    (["transform", "--as-of", "next tuesday"], "--as-of"),
    (["transform", "--as-of", "2025-01-01' or 1=1 --"], "--as-of"),  # it reaches SQL: only ISO passes
    (["sandbox", "--fault-rate", "2"], "--fault-rate"),
    (["report", "--out", "{file}"], "--out"),  # a file where the report's folder should be
    (["webhooks", "subscribe", "--url", "hooks.example.com"], "--url"),
])
def test_a_wrong_flag_is_named_in_one_line_before_anything_runs(tmp_path, args, flag):
    (tmp_path / "a-file").write_text("")
    done, _ = calendly_elt(*(arg.format(file=tmp_path / "a-file") for arg in args),
                           WAREHOUSE_PATH=str(tmp_path / "w.duckdb"), CALENDLY_WEBHOOK_SIGNING_KEY="whsec-0001")
    assert done.returncode == 2
    assert flag in the_one_line(done, args[0])
    assert not (tmp_path / "w.duckdb").exists()


@pytest.fixture
def held_warehouse(tmp_path):
    """A DuckDB warehouse file held open for writing by another process (a notebook, say)."""
    path = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); time.sleep(600)", str(path)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "open"
    yield path, holder.pid
    holder.kill()
    holder.wait()


@pytest.mark.parametrize("command", ["extract", "transform", "sync", "run"])
def test_a_held_warehouse_says_which_file_who_holds_it_and_what_to_do(held_warehouse, command):
    path, pid = held_warehouse
    done, _ = calendly_elt(command, WAREHOUSE_PATH=str(path), CALENDLY_API_URL="http://127.0.0.1:9")
    assert done.returncode == 1
    line = the_one_line(done, command)
    assert str(path) in line and f"PID {pid}" in line and "another process" in line, line
    assert "close that session" in line and "analytics.duckdb" in line
    assert "read-only mode" not in line  # DuckDB's advice, wrong for a writer
    dbt_log = Path(path.parent / ".dbt")
    if command == "transform":  # dbt's own account of it went to its log file, not the terminal
        assert "Could not set lock" in next(dbt_log.rglob("dbt.log")).read_text()
