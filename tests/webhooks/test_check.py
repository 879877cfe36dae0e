"""`calendly-elt webhooks check [--repair]` against the Calendly sandbox, end to end: a subscription that
Calendly disabled (deliveries failing for the configured time, or the sandbox's knob), one a 410 deleted,
one still retrying, one short of events; the repair re-creates it, and its catch-up extract brings into the
warehouse what changed while nothing was delivered – a no-show outside the default windows included."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import duckdb
import pytest
import requests

from pipelines.cli import main
from pipelines.config import Settings
from pipelines.extract import run_extract
from pipelines.extract import last_extract_at
from sandbox.calendly import CalendlyAccount, CalendlySandbox

from ..sandbox.test_calendly_webhooks import Receiver

KEY = "whsec-check-test-key-0001"
NOW = datetime.now(timezone.utc).replace(microsecond=0)
INVITEE_EVENTS = ["invitee.created", "invitee.canceled", "invitee_no_show.created", "invitee_no_show.deleted"]


@pytest.fixture
def dead_url():
    """A loopback port bound but not listening: every delivery is refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/webhooks/calendly"
    sock.close()


def start(request_, seed: int, disable_after: float = 1.0) -> CalendlySandbox:
    account = CalendlyAccount.generate(seed=seed, events=80, now=NOW)
    sb = CalendlySandbox(account, rate_limit=None, webhook_retry_delays=(0.2,) * 30,
                         webhook_disable_after=disable_after).start()
    request_.addfinalizer(sb.stop)
    return sb


def env_for(sb: CalendlySandbox, url: str, tmp_path) -> dict[str, str]:
    return {"CALENDLY_API_URL": sb.url, "CALENDLY_ACCESS_TOKEN": sb.account.tokens["admin"],
            "CALENDLY_WEBHOOK_SIGNING_KEY": KEY, "CALENDLY_WEBHOOK_URL": url,
            "WAREHOUSE_PATH": str(tmp_path / "data" / "warehouse.duckdb")}


@pytest.fixture
def cli(monkeypatch, capsys):
    """`calendly-elt webhooks check ...` in-process with `env`: (exit code, stdout, stderr)."""
    def run(env: dict, *args: str) -> tuple[int, str, str]:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        code = main(["webhooks", "check", *args])
        out, err = capsys.readouterr()
        assert KEY not in out + err and "Traceback" not in err
        return code, out, err
    return run


def in_process(env: dict, *args: str) -> subprocess.CompletedProcess:
    """The installed command, in a process of its own."""
    return subprocess.run([sys.executable, "-m", "pipelines.cli", "webhooks", "check", *args],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=180)


def subscribe(sb: CalendlySandbox, url: str, events=INVITEE_EVENTS) -> dict:
    r = requests.post(f"{sb.url}/webhook_subscriptions", json={
        "url": url, "events": events, "organization": sb.account.organization_uri, "scope": "organization",
        "signing_key": KEY}, headers={"Authorization": f"Bearer {sb.account.tokens['admin']}"}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["resource"]


def served(sb: CalendlySandbox, uri: str) -> requests.Response:
    return requests.get(uri.replace(sb.account.base_uri, sb.url),
                        headers={"Authorization": f"Bearer {sb.account.tokens['admin']}"}, timeout=10)


def wait_until(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def shown(stamp: str) -> str:
    return stamp[:19] + "Z"  # 2025-06-02T15:00:00.123456Z → 2025-06-02T15:00:00Z


def invitee_row(warehouse: str, uri: str) -> tuple:
    with duckdb.connect(warehouse, read_only=True) as con:
        return con.execute("select status, no_show__uri from calendly_raw.invitees where uri = ?", [uri]).fetchone()


def future_invitee(account: CalendlyAccount) -> str:
    truth = account.truth()
    starts = {e["uri"]: e["start_time"] for e in truth["scheduled_events"]}
    return next(i["uri"] for i in truth["invitees"]
                if i["status"] == "active" and starts[i["event"]] > NOW.strftime("%Y-%m-%dT%H:%M:%S"))


def test_disabled_by_failing_deliveries_is_reported_and_repaired_in_a_real_process(request, tmp_path, dead_url):
    sb = start(request, seed=81)
    env = env_for(sb, dead_url, tmp_path)
    missing = in_process(env)
    assert missing.returncode == 1
    assert one_line(missing.stderr) == f"calendly-elt webhooks check: missing: no webhook subscription calls {dead_url}"
    old = subscribe(sb, dead_url)
    healthy = in_process(env)
    assert healthy.returncode == 0 and one_line(healthy.stdout).startswith(f"healthy: {dead_url} is active")

    canceled = future_invitee(sb.account)
    sb.account.cancel_invitee(canceled)  # delivered to a closed port: refused, retried, disabled after 1 s
    wait_until(lambda: served(sb, old["uri"]).json()["resource"]["state"] == "disabled")
    started = served(sb, old["uri"]).json()["resource"]["retry_started_at"]
    disabled = in_process(env)
    assert disabled.returncode == 1 and KEY not in disabled.stdout + disabled.stderr
    assert one_line(disabled.stderr) == (f"calendly-elt webhooks check: disabled (deliveries failing since "
                                         f"{shown(started)}): Calendly no longer calls {dead_url}")

    repaired = in_process(env, "--repair")
    assert repaired.returncode == 0, repaired.stderr
    first, extract_line = repaired.stdout.strip().splitlines()
    assert first.startswith(f"repaired (disabled (deliveries failing since {shown(started)})")
    assert f"catching up since {shown(started)} (calendly-elt extract --lookback-days 7." in first
    assert extract_line.startswith("extract: done")
    assert served(sb, old["uri"]).status_code == 404  # deleted first: Calendly would answer 409 to the same URL
    new_uri = first.split("re-created ")[1].split(";")[0]
    new = served(sb, new_uri).json()["resource"]
    assert (new["state"], new["callback_url"], new["retry_started_at"]) == ("active", dead_url, None)
    assert set(INVITEE_EVENTS) <= set(new["events"])
    assert invitee_row(env["WAREHOUSE_PATH"], canceled)[0] == "canceled"
    assert in_process(env).returncode == 0


def test_the_catch_up_brings_a_no_show_outside_the_default_windows(request, tmp_path, dead_url, cli):
    """Disabled (the sandbox's knob) 12 days ago: a no-show marked meanwhile on an event that ended 10 days
    ago is missed by a regular extract (7-day windows), found by the repair's."""
    sb = start(request, seed=82)
    env = env_for(sb, dead_url, tmp_path)
    settings = Settings.from_env(env)
    late = sb.account.add_booking(start_time=NOW - timedelta(days=10))
    run_extract(settings)
    assert invitee_row(env["WAREHOUSE_PATH"], late) == ("active", None)

    hook = subscribe(sb, dead_url)
    twelve_days_ago = (NOW - timedelta(days=12)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    sb.webhooks.disable(hook["uri"].rsplit("/", 1)[1], retry_started_at=twelve_days_ago)
    sb.account.mark_no_show(late)
    time.sleep(0.3)
    assert sb.webhooks.delivery_log == []  # disabled: nothing delivered
    run_extract(settings)
    assert invitee_row(env["WAREHOUSE_PATH"], late) == ("active", None)  # outside the regular windows

    code, _, err = cli(env)
    assert code == 1 and one_line(err) == (f"calendly-elt webhooks check: disabled (deliveries failing since "
                                           f"{shown(twelve_days_ago)}): Calendly no longer calls {dead_url}")
    code, out, err = cli(env, "--repair")
    assert code == 0, err
    assert "(calendly-elt extract --lookback-days 19.0" in out and "--no-show-window-days 19.0" in out
    status, no_show = invitee_row(env["WAREHOUSE_PATH"], late)
    assert status == "active" and no_show is not None
    assert cli(env)[0] == 0


def test_a_410_deletes_the_subscription_and_check_reports_it_missing(request, tmp_path, cli):
    sb = start(request, seed=83)
    with Receiver(statuses=[410]) as gone:
        env = env_for(sb, gone.url, tmp_path)
        run_extract(Settings.from_env(env))
        hook = subscribe(sb, gone.url)
        sb.account.cancel_invitee(future_invitee(sb.account))
        gone.wait_for(1)
        wait_until(lambda: served(sb, hook["uri"]).status_code == 404)
        code, _, err = cli(env)
        assert code == 1
        assert one_line(err) == f"calendly-elt webhooks check: missing: no webhook subscription calls {gone.url}"
        # gone without a trace: the catch-up starts at the last extract
        last = last_extract_at(Settings.from_env(env))
        assert last is not None and NOW - timedelta(minutes=5) < last <= datetime.now(timezone.utc)
        code, out, err = cli(env, "--repair")
        assert code == 0, err
        assert out.startswith(f"repaired (missing: no webhook subscription calls {gone.url}): re-created ")
        assert f"catching up since {last.strftime('%Y-%m-%dT%H:%M:%SZ')} (calendly-elt extract" in out
        assert cli(env)[0] == 0


def test_retrying_and_missing_events_are_reported_and_retrying_is_not_re_created(request, tmp_path, dead_url, cli):
    sb = start(request, seed=84, disable_after=3600)
    env = env_for(sb, dead_url, tmp_path)
    hook = subscribe(sb, dead_url)
    sb.account.cancel_invitee(future_invitee(sb.account))
    wait_until(lambda: served(sb, hook["uri"]).json()["resource"]["retry_started_at"] is not None)
    started = served(sb, hook["uri"]).json()["resource"]["retry_started_at"]
    deadline = datetime.fromisoformat(started.replace("Z", "+00:00")) + timedelta(hours=24)
    code, _, err = cli(env)
    assert code == 1 and one_line(err) == (
        f"calendly-elt webhooks check: retrying since {shown(started)}: deliveries to {dead_url} fail; Calendly "
        f"disables the subscription at {deadline.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    code, out, err = cli(env, "--repair")
    assert code == 1 and "not repaired" in one_line(err) and out == ""
    assert served(sb, hook["uri"]).status_code == 200  # left alone: re-creating would not fix the receiver

    requests.delete(hook["uri"].replace(sb.account.base_uri, sb.url),
                    headers={"Authorization": f"Bearer {sb.account.tokens['admin']}"}, timeout=10)
    subscribe(sb, dead_url, events=["invitee.created", "invitee.canceled"])
    code, _, err = cli(env)
    assert code == 1 and one_line(err) == (
        f"calendly-elt webhooks check: missing events invitee_no_show.created, invitee_no_show.deleted: {dead_url} "
        "gets only invitee.created, invitee.canceled")


def test_check_needs_the_url_and_repair_the_key_before_any_request(request, tmp_path, dead_url, cli, monkeypatch):
    sb = start(request, seed=85)
    env = env_for(sb, dead_url, tmp_path)
    del env["CALENDLY_WEBHOOK_URL"]
    monkeypatch.delenv("CALENDLY_WEBHOOK_URL", raising=False)
    code, _, err = cli(env)
    assert code == 1 and "CALENDLY_WEBHOOK_URL is not set" in one_line(err)
    env = env_for(sb, dead_url, tmp_path)
    monkeypatch.delenv("CALENDLY_WEBHOOK_SIGNING_KEY")
    del env["CALENDLY_WEBHOOK_SIGNING_KEY"]
    code, _, err = cli(env, "--repair")
    assert code == 1 and "CALENDLY_WEBHOOK_SIGNING_KEY is not set" in one_line(err)
    assert sb.stats()["requests"] == 0
