"""A bad token, a wrong URL, a member without admin rights: one line that says what to fix, no secret."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sandbox.calendly import CalendlyAccount, CalendlySandbox

from .conftest import NOW


@pytest.fixture(scope="module")
def small_sandbox():
    account = CalendlyAccount.generate(seed=41, events=120, now=NOW)
    with CalendlySandbox(account, rate_limit=0) as sandbox:
        yield account, sandbox


def _extract(tmp_path, token: str, url: str, **env_extra) -> subprocess.CompletedProcess:
    env = {**os.environ, "CALENDLY_ACCESS_TOKEN": token, "CALENDLY_API_URL": url,
           "WAREHOUSE_PATH": str(tmp_path / "w.duckdb"), **env_extra}
    return subprocess.run([sys.executable, "-m", "pipelines.cli", "extract"], env=env,
                          capture_output=True, text=True, timeout=120)


def test_bad_token(tmp_path, small_sandbox):
    _, sandbox = small_sandbox
    token = "pat-this-is-not-valid-0123456789"
    result = _extract(tmp_path, token, sandbox.url)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "401" in lines[0] and "CALENDLY_ACCESS_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr and token not in result.stdout + result.stderr


def test_wrong_url_path(tmp_path, small_sandbox):
    account, sandbox = small_sandbox
    result = _extract(tmp_path, account.tokens["admin"], sandbox.url + "/api/v9")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "CALENDLY_API_URL" in lines[0], result.stderr
    assert account.tokens["admin"] not in result.stdout + result.stderr


def test_unreachable_host(tmp_path, small_sandbox):
    account, _ = small_sandbox
    result = _extract(tmp_path, account.tokens["admin"], "http://127.0.0.1:9",
                      SOURCES__CALENDLY__MAX_ATTEMPTS="2")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "could not reach" in lines[0] and "CALENDLY_API_URL" in lines[0], result.stderr


def test_member_token_loads_its_own_scope_with_one_warning(tmp_path, small_sandbox):
    import duckdb
    import requests

    account, sandbox = small_sandbox
    token = account.tokens["member"]
    me = requests.get(f"{sandbox.url}/users/me", headers={"Authorization": f"Bearer {token}"}).json()["resource"]["uri"]
    result = _extract(tmp_path, token, sandbox.url)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "admin" in warnings[0]
    truth = account.truth()
    own = {e["uri"] for e in truth["scheduled_events"] if any(m["user"] == me for m in e["event_memberships"])}
    assert own, "the member hosts events in the sandbox"
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        loaded = {r[0] for r in con.execute("select uri from calendly_raw.scheduled_events").fetchall()}
        invitee_events = {r[0] for r in con.execute("select distinct event from calendly_raw.invitees").fetchall()}
    assert loaded == own
    assert invitee_events and invitee_events <= own
