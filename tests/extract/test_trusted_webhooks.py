"""Hourly runs that trust a healthy subscription (issue 16): once a subscription has delivered every change
since the previous extract, no-shows marked and unmarked reach the warehouse through the receiver with no
re-read of ended events; a young, disabled or unchecked subscription sends the run back to the safe one."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from pipelines.extract import run_extract
from pipelines.progress import Progress
from pipelines.webhooks import LandingStore, landing_path
from pipelines.webhooks.subscriptions import Subscriptions, client_for
from sandbox.calendly import CalendlyAccount, CalendlySandbox
from tests.webhooks.receiver import serving

from .conftest import NOW, settings_for
from .truth import differences

KEY = "whsec-trusted-webhooks-0001"


def _ended_active(account: CalendlyAccount, marked: bool) -> str:
    truth = account.truth()
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    ended = {e["uri"] for e in truth["scheduled_events"] if e["end_time"] < now and e["status"] == "active"}
    return next(i["uri"] for i in truth["invitees"]
                if i["event"] in ended and i["status"] == "active" and bool(i["no_show"]) == marked)


def _extract(settings, sandbox) -> tuple[int, list[str]]:
    """(invitee reads, the extract's lines about webhooks)."""
    sandbox.reset_stats()
    lines: list[str] = []
    progress = Progress("extract", stream=None)
    progress.say = lines.append  # type: ignore[method-assign]
    run_extract(settings, progress)
    return sandbox.stats()["by_route"].get("invitees", 0), [line for line in lines if "webhooks" in line]


def _wait_for(store: LandingStore, count: int) -> None:
    deadline = time.monotonic() + 15
    while store.pending_summary().count < count:
        assert time.monotonic() < deadline, f"{count} deliveries did not land"
        time.sleep(0.05)


def test_a_healthy_subscription_replaces_the_no_show_window_reads(tmp_path):
    account = CalendlyAccount.generate(seed=37, events=300, now=NOW)
    with CalendlySandbox(account, rate_limit=0) as sandbox:
        base = settings_for(account, sandbox, tmp_path / "data" / "warehouse.duckdb")
        store = LandingStore(landing_path(base))
        with serving(store, KEY) as url:
            settings = base.with_(webhook_url=url, webhook_signing_key=KEY)
            reads, lines = _extract(settings, sandbox)  # first run: all history, whatever the webhooks
            assert reads == len(account.truth()["scheduled_events"]) and "first extract" in lines[0]

            Subscriptions(client_for(settings)).subscribe(url, KEY)
            reads, lines = _extract(settings, sandbox)  # subscribed after the previous run began: not yet
            assert reads > 0 and "after the previous extract began" in lines[0]

            # The subscription has covered the whole time since that run: changes come by webhook.
            account.mark_no_show(_ended_active(account, marked=False))
            account.unmark_no_show(_ended_active(account, marked=True))
            _wait_for(store, 2)
            reads, lines = _extract(settings, sandbox)
            assert reads == 0 and "webhooks trusted" in lines[0]
            assert differences(settings.warehouse, account.truth()) == []

            # Disabled (a day of failing deliveries): the run is the safe one again, by itself.
            uuid = Subscriptions(client_for(settings)).list()[0]["uri"].rsplit("/", 1)[1]
            sandbox.webhooks.disable(uuid, retry_started_at="2026-01-01T00:00:00.000000Z")
            reads, lines = _extract(settings, sandbox)
            assert reads > 0 and "disabled" in lines[0]
            assert differences(settings.warehouse, account.truth()) == []
