"""The README's analyst path, as written: after the demo, its commands, copied verbatim from the README
and run from the repository's folder, answer a query; `calendly-elt sql` opens the snapshot read-only
(and never blocks a run), and on PostgreSQL runs a query against the snapshot schema."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from pipelines.config import PROJECT_ROOT

from .warehouses import provide

README = (PROJECT_ROOT / "README.md").read_text()
DEMO = PROJECT_ROOT / "data" / "demo"


def readme_block(after: str) -> list[str]:
    """The command lines of the first ```sh block after the sentence `after` in the README."""
    block = re.search(r"```sh\n(.*?)```", README[README.index(after):], re.DOTALL).group(1)
    return [line for line in block.splitlines() if line.strip()]


def shell(line: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", line], cwd=PROJECT_ROOT, input=stdin, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})


@pytest.fixture(scope="module")
def demo():
    """`make demo`'s command (a small account), into the demo's own folder as a user would run it."""
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "demo", "--profile", "solo"], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_demo_prints_the_command_that_opens_its_snapshot(demo):
    assert (DEMO / "analytics.duckdb").exists()
    hint = demo.strip().splitlines()[-1].strip()
    assert hint.startswith(".venv/bin/duckdb -readonly data/demo/analytics.duckdb -c ")
    done = shell(hint)
    assert done.returncode == 0 and "booked" in done.stdout, done.stderr


def test_the_readme_commands_after_the_demo_answer_a_query(demo):
    lines = readme_block("After\n`make demo`")
    assert len(lines) >= 2
    for line in lines:  # the interactive shell reads its query from stdin here
        done = shell(line, stdin="select count(*) as contacts from marts.contacts;\n")
        assert done.returncode == 0, f"{line}\n{done.stderr}"
        assert re.search(r"\b\d+\b", done.stdout), f"{line}\n{done.stdout}"
    own = readme_block("On your own account's data")
    for line in own:
        done = shell(line, stdin="select count(*) from marts.bookings;\n",
                     WAREHOUSE_PATH=str(DEMO / "warehouse.duckdb"))
        assert done.returncode == 0 and re.search(r"\b\d+\b", done.stdout), f"{line}\n{done.stderr}"


def test_an_open_sql_session_does_not_block_a_run(demo):
    """The shell holds the snapshot, not the warehouse: a writer opens the warehouse meanwhile."""
    env = {**os.environ, "WAREHOUSE_PATH": str(DEMO / "warehouse.duckdb")}
    session = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "sql"], cwd=PROJECT_ROOT, env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        session.stdin.write("select 'ready';\n")
        session.stdin.flush()
        assert "ready" in session.stdout.readline() + session.stdout.readline() + session.stdout.readline()
        import duckdb

        duckdb.connect(str(DEMO / "warehouse.duckdb")).close()  # a writer: would fail if the shell held it
    finally:
        session.stdin.close()
        session.wait(timeout=30)


def test_no_snapshot_yet_says_how_to_get_one(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "sql"], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "WAREHOUSE_PATH": str(tmp_path / "w.duckdb")})
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("calendly-elt sql: no snapshot at ") and "calendly-elt run" in lines[0]


def test_sql_on_postgresql_queries_the_snapshot_schema(tmp_path):
    with provide("postgres", tmp_path) as warehouse:
        with warehouse.connect() as con:
            con.execute("create schema analytics")
            con.execute("create table analytics.bookings as select 'cancelled' as booking_status")
        env = {**os.environ, "WAREHOUSE_URL": warehouse.url, "WAREHOUSE_PATH": str(warehouse.path)}
        done = subprocess.run([sys.executable, "-m", "pipelines.cli", "sql", "select booking_status from bookings"],
                              cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0 and "cancelled" in done.stdout, done.stderr
        password = warehouse.url.split("@")[0].rsplit(":", 1)[-1]
        done = subprocess.run([sys.executable, "-m", "pipelines.cli", "sql"], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, timeout=60, env=env)
        assert done.returncode == 1 and "psql" in done.stderr and len(done.stderr.strip().splitlines()) == 1
        assert not password or password not in done.stderr + done.stdout


def test_lead_times_do_not_move_with_the_machines_time_zone(demo, tmp_path):
    """dbt-duckdb's datediff works in the session's zone, DuckDB's default being the machine's: a build
    on a machine in Paris must give the same hours across a DST change as one in UTC."""
    import shutil

    import duckdb

    shutil.copyfile(DEMO / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    env = {**os.environ, "TZ": "Europe/Paris", "WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb")}
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "transform", "--select", "bookings"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        off, across_dst = con.sql(
            "select count(*) filter (where abs(lead_time_hours - (epoch(start_time) - epoch(booked_at)) / 3600) > 0.5),"
            " count(*) filter (where timezone('Europe/Paris', start_time) - timezone('Europe/Paris', booked_at)"
            "  <> start_time - booked_at) from marts.bookings").fetchone()
    assert across_dst > 0  # the account has bookings made before a DST change for a meeting after it
    assert off == 0
