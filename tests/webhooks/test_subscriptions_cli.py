"""`calendly-elt webhooks subscribe|list|delete` against the Calendly sandbox, end to end: the CLI's own
parsing and error lines, the project's HTTP client, the sandbox's rules, and deliveries signed with the
key the subscription was made with."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest
import requests

from pipelines.cli import main
from sandbox.calendly import CalendlyAccount, CalendlySandbox

from ..sandbox.test_calendly_webhooks import landing_receiver

KEY = "whsec-cli-test-key-0001"
NOW = datetime(2025, 6, 2, 15, 0, tzinfo=timezone.utc)
ALL = "invitee.created,invitee.canceled,invitee_no_show.created,invitee_no_show.deleted,routing_form_submission.created"
INVITEE_EVENTS = "invitee.created,invitee.canceled,invitee_no_show.created,invitee_no_show.deleted"
HOOK = "https://hooks.example.com/webhooks/calendly"


@pytest.fixture
def sandbox():
    account = CalendlyAccount.generate(seed=61, events=60, now=NOW)
    with CalendlySandbox(account, rate_limit=None) as sb:
        yield sb


@pytest.fixture
def cli(sandbox, monkeypatch, capsys, tmp_path):
    """Run `calendly-elt webhooks ...` in-process as `token` ("admin" or "member"): (exit code, stdout, stderr)."""
    monkeypatch.setenv("CALENDLY_API_URL", sandbox.url)
    monkeypatch.setenv("CALENDLY_WEBHOOK_SIGNING_KEY", KEY)
    monkeypatch.setenv("WAREHOUSE_PATH", str(tmp_path / "warehouse.duckdb"))

    def run(*args: str, token: str = "admin") -> tuple[int, str, str]:
        monkeypatch.setenv("CALENDLY_ACCESS_TOKEN", sandbox.account.tokens.get(token, token))
        code = main(["webhooks", *args])
        out, err = capsys.readouterr()
        assert KEY not in out + err
        return code, out, err
    return run


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_subscribe_list_delete(cli, sandbox, caplog):
    caplog.set_level(logging.DEBUG)  # nothing logged at any level may carry the key
    code, out, _ = cli("subscribe", "--url", HOOK)
    assert code == 0 and out.startswith("subscribed: https://api.calendly.com/webhook_subscriptions/")
    uri = out.split()[1]
    assert out.split()[2:] == ["active", "organization", HOOK, ALL]
    code, listed, _ = cli("list")
    assert code == 0 and listed.split() == [uri, "active", "organization", HOOK, ALL]
    # the same again (say, our own POST retried after its answer was lost): Calendly's 409 is fine
    code, out, _ = cli("subscribe", "--url", HOOK)
    assert code == 0 and out.split()[:3] == ["already", "subscribed:", uri]
    # other events for the same URL: refuse, and say how to replace it
    code, _, err = cli("subscribe", "--url", HOOK, "--event", "invitee.canceled")
    assert code == 1 and f"calendly-elt webhooks delete {uri.rsplit('/', 1)[1]}" in one_line(err)
    assert KEY not in caplog.text and caplog.text  # dlt's client did log (the requests, not the key)
    code, out, _ = cli("delete", uri)
    assert code == 0 and uri.rsplit("/", 1)[1] in out
    assert cli("list")[1].strip() == "no organization-scope webhook subscriptions"
    code, _, err = cli("delete", uri.rsplit("/", 1)[1])
    assert code == 1 and "404" in one_line(err)
    posts = [e for e in sandbox.request_log if e["method"] == "POST"]
    assert [e["status"] for e in posts] == [201, 409, 409]


def test_deliveries_are_signed_with_the_subscribed_key(cli, sandbox, tmp_path):
    with landing_receiver(tmp_path, KEY) as (url, store):
        assert cli("subscribe", "--url", url, "--event", "invitee.canceled", "--event", "invitee.canceled")[0] == 0
        account = sandbox.account
        invitee = next(i for i in account.truth()["invitees"] if i["status"] == "active")
        account.cancel_invitee(invitee["uri"])
        account.add_booking()  # not subscribed to
        assert sandbox.webhooks.wait_idle(10)
    assert [e["status"] for e in sandbox.webhooks.delivery_log] == [200]  # the receiver verified the signature
    landed = store.pending()
    assert [row.event for row in landed] == ["invitee.canceled"]
    assert json.loads(landed[0].body)["payload"]["uri"] == invitee["uri"]


def test_missing_signing_key_fails_before_any_request(cli, sandbox, monkeypatch):
    monkeypatch.delenv("CALENDLY_WEBHOOK_SIGNING_KEY")
    code, _, err = cli("subscribe", "--url", HOOK)
    assert code == 1 and "CALENDLY_WEBHOOK_SIGNING_KEY is not set" in one_line(err)
    assert sandbox.stats()["requests"] == 0


def test_member_token_needs_user_scope(cli, sandbox):
    code, _, err = cli("subscribe", "--url", HOOK, token="member")
    line = one_line(err)
    assert code == 1 and "403" in line and "--scope user" in line and "owner or admin" in line
    code, _, err = cli("list", token="member")
    assert code == 1 and "--scope user" in one_line(err)
    code, _, err = cli("subscribe", "--url", HOOK, "--scope", "user", "--event", "routing_form_submission.created",
                       token="member")
    assert code == 1 and "organization" in one_line(err)
    code, out, _ = cli("subscribe", "--url", HOOK, "--scope", "user", token="member")
    assert code == 0 and out.split()[2:] == ["active", "user", HOOK, INVITEE_EVENTS]
    uri = out.split()[1]
    code, listed, _ = cli("list", "--scope", "user", token="member")
    assert code == 0 and listed.split()[0] == uri
    assert cli("list", token="admin")[1].strip() == "no organization-scope webhook subscriptions"
    mine = requests.get(sandbox.url + "/webhook_subscriptions/" + uri.rsplit("/", 1)[1],
                        headers={"Authorization": f"Bearer {sandbox.account.tokens['member']}"}).json()["resource"]
    assert mine["user"] == mine["creator"] == sandbox.account.users["member"]["uri"]


def test_bad_token_and_bad_uri(cli):
    code, _, err = cli("list", token="not-a-token-0123456789")
    assert code == 1 and "401" in one_line(err) and "CALENDLY_ACCESS_TOKEN" in err
    code, _, err = cli("delete", "https://api.calendly.com/webhook_subscriptions/")
    assert code == 1 and "404" in one_line(err)


def test_the_installed_command(sandbox, tmp_path):
    """The real entry point, as a user runs it: exit codes and output, the key nowhere in them."""
    env = {**os.environ, "CALENDLY_API_URL": sandbox.url, "CALENDLY_ACCESS_TOKEN": sandbox.account.tokens["admin"],
           "CALENDLY_WEBHOOK_SIGNING_KEY": KEY, "WAREHOUSE_PATH": str(tmp_path / "w.duckdb"),
           "CALENDLY_ELT_LOG_LEVEL": "DEBUG"}
    result = subprocess.run([sys.executable, "-m", "pipelines.cli", "webhooks", "subscribe", "--url", HOOK],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("subscribed: ") and KEY not in result.stdout + result.stderr
    del env["CALENDLY_WEBHOOK_SIGNING_KEY"]
    result = subprocess.run([sys.executable, "-m", "pipelines.cli", "webhooks", "subscribe", "--url", HOOK],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and one_line(result.stderr).startswith("calendly-elt webhooks: ")
