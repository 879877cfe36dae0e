"""Hourly runs that trust a healthy subscription (issue 16): once a subscription has delivered every change
since the previous extract, no-shows marked and unmarked reach the warehouse through the receiver with no
re-read of ended events, a submission booked later gets its submitter through the booking's delivery, and a
run with nothing to do costs the event listing and five requests; a young, disabled, unchecked or too
narrow subscription sends the run back to the safe one."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pipelines.extract import ExtractSummary, run_extract
from pipelines.progress import Progress
from pipelines.warehouse import connect
from pipelines.webhooks import LandingStore, landing_path
from pipelines.webhooks.subscriptions import Subscriptions, client_for
from sandbox.calendly import CalendlyAccount, CalendlySandbox
from sandbox.calendly.shapes import Shape
from tests.webhooks.landed import wait_for_landing
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
            wait_for_landing(store, 2)
            reads, lines = _extract(settings, sandbox)
            assert reads == 0 and "webhooks trusted" in lines[0]
            assert differences(settings.warehouse, account.truth()) == []

            # Disabled (a day of failing deliveries): the run is the safe one again, by itself.
            uuid = Subscriptions(client_for(settings)).list()[0]["uri"].rsplit("/", 1)[1]
            sandbox.webhooks.disable(uuid, retry_started_at="2026-01-01T00:00:00.000000Z")
            reads, lines = _extract(settings, sandbox)
            assert reads > 0 and "disabled" in lines[0]
            assert differences(settings.warehouse, account.truth()) == []


def _run(settings, sandbox, **options) -> tuple[ExtractSummary, dict, list[str]]:
    """(the summary, the sandbox's request counts by route, the extract's lines)."""
    sandbox.reset_stats()
    lines: list[str] = []
    progress = Progress("extract", stream=None)
    progress.say = lines.append  # type: ignore[method-assign]
    summary = run_extract(settings, progress, **options)
    return summary, {r: n for r, n in sandbox.stats()["by_route"].items() if n}, lines


def _pages(summary: ExtractSummary) -> int:
    return -(-summary.counts["events_listed"] // 100)


def _submitter(settings, uri: str):
    with connect(settings.warehouse, read_only=True) as con:
        return con.execute("select submitter from calendly_raw.routing_form_submissions where uri = %s",
                           [uri]).fetchone()[0]


def test_a_trusted_run_costs_the_listing_and_five_requests_and_submitters_come_by_webhook(tmp_path):
    account = CalendlyAccount.generate(seed=41, events=300, now=NOW)
    with CalendlySandbox(account, rate_limit=0) as sandbox:
        base = settings_for(account, sandbox, tmp_path / "data" / "warehouse.duckdb")
        store = LandingStore(landing_path(base))
        with serving(store, KEY) as url:
            settings = base.with_(webhook_url=url, webhook_signing_key=KEY)
            Subscriptions(client_for(settings)).subscribe(url, KEY)  # organization scope: every event we merge
            first, _, lines = _run(settings, sandbox)
            assert "first extract" in lines[0] and first.rows_loaded["routing_form_submissions"] > 0

            # Nothing changed: the event listing, and /users/me (shared by the health check and the source),
            # the subscriptions, memberships, event types and routing forms; no submission listed (each new
            # one is delivered), nothing merged.
            summary, stats, lines = _run(settings, sandbox)
            assert "webhooks trusted" in lines[0]
            assert stats == {"scheduled_events": _pages(summary), "users_me": 1, "webhook_subscriptions": 1,
                             "organization_memberships": 1, "event_types": 1, "routing_forms": 1}
            assert sum(summary.rows_loaded.values()) == 0, summary.rows_loaded

            # Submitted (delivered, merged as it came), then booked: the booking's invitee.created names the
            # submission, which is read once, with its submitter.
            routed = account.add_routing_form_submission(routed=True)
            wait_for_landing(store, 1)
            summary, stats, _ = _run(settings, sandbox)
            assert summary.rows_loaded["routing_form_submissions"] == 1 and "routing_form_submissions" not in stats
            assert _submitter(settings, routed) is None
            booked = account.book_from_submission(routed)
            wait_for_landing(store, 1)
            summary, stats, lines = _run(settings, sandbox)
            assert "webhooks trusted" in lines[0] and stats["routing_form_submission"] == 1
            assert summary.counts["webhook_reads"] == 1 and "routing_form_submissions" not in stats
            assert _submitter(settings, routed) == booked
            assert differences(settings.warehouse, account.truth()) == []

            # The same through the webhook run (the Dagster sensor's: landed deliveries only).
            routed = account.add_routing_form_submission(routed=True)
            booked = account.book_from_submission(routed)
            wait_for_landing(store, 2)
            summary, stats, _ = _run(settings, sandbox, webhooks_only=True)
            assert stats == {"routing_form_submission": 1}
            assert _submitter(settings, routed) == booked
            assert differences(settings.warehouse, account.truth()) == []
            summary, stats, _ = _run(settings, sandbox)  # the next full run re-merges none of it
            assert not {t for t in summary.rows_loaded if t.startswith("routing_form")}, summary.rows_loaded
            assert differences(settings.warehouse, account.truth()) == []


def test_without_webhooks_a_submission_booked_later_is_read_again_within_the_lookback(tmp_path):
    account = CalendlyAccount.generate(seed=43, events=300, now=NOW)
    with CalendlySandbox(account, rate_limit=0) as sandbox:
        settings = settings_for(account, sandbox, tmp_path / "data" / "warehouse.duckdb")
        _run(settings, sandbox)
        routed = account.add_routing_form_submission(routed=True)
        summary, _, _ = _run(settings, sandbox)
        assert summary.rows_loaded["routing_form_submissions"] == 1 and _submitter(settings, routed) is None
        booked = account.book_from_submission(routed)
        summary, stats, _ = _run(settings, sandbox)
        # Re-read with the others of the lookback; merged alone, the only one that changed.
        assert stats["routing_form_submissions"] >= 2 and summary.rows_loaded["routing_form_submissions"] == 1
        assert _submitter(settings, routed) == booked
        assert differences(settings.warehouse, account.truth()) == []


@pytest.mark.parametrize("role, shape", [("member", Shape()),
                                         ("admin", Shape(routing_forms=0, routing_forms_on_plan=False))],
                         ids=["non-admin token", "no routing forms on the plan"])
def test_a_trusted_run_of_a_member_or_an_account_without_routing_forms(tmp_path, role, shape):
    account = CalendlyAccount.generate(seed=45, events=200, now=NOW, shape=shape)
    with CalendlySandbox(account, rate_limit=0) as sandbox:
        base = settings_for(account, sandbox, tmp_path / "data" / "warehouse.duckdb", role=role)
        store = LandingStore(landing_path(base))
        with serving(store, KEY) as url:
            settings = base.with_(webhook_url=url, webhook_signing_key=KEY)
            scope = "user" if role == "member" else "organization"  # a member may subscribe for themself only
            Subscriptions(client_for(settings)).subscribe(url, KEY, scope=scope)
            _run(settings, sandbox)
            summary, stats, lines = _run(settings, sandbox)
            assert "webhooks trusted" in lines[0] and not [line for line in lines if "skipped" in line], lines
            assert stats.get("invitees", 0) == 0 and sum(summary.rows_loaded.values()) == 0, summary.rows_loaded
            assert "routing_form_submissions" not in stats
            assert sum(stats.values()) <= _pages(summary) + 6, stats
            # A booking of a type the token's user alone hosts (what a member's subscription is told of).
            me = account.users[role]["uri"]
            hosted = next(t["uri"] for t in account.truth()["event_types"] if t["active"] and not t["deleted_at"]
                          and account.event_type_hosts(t["uri"].rsplit("/", 1)[1]) == [me])
            booked = account.add_booking(hosted)
            wait_for_landing(store, 1)
            summary, stats, lines = _run(settings, sandbox)
            assert "webhooks trusted" in lines[0] and summary.rows_loaded["invitees"] >= 1
            with connect(settings.warehouse, read_only=True) as con:
                found = con.execute("select count(*) from calendly_raw.invitees where uri = %s", [booked]).fetchone()[0]
            assert found == 1
            if role == "admin":
                assert differences(settings.warehouse, account.truth()) == []


def test_a_user_scope_subscription_is_not_trusted_by_an_admin_token(tmp_path):
    """An admin's extract lists the whole organization's events; a user-scope subscription is told of its
    user's only: the run stays the safe one."""
    account = CalendlyAccount.generate(seed=47, events=200, now=NOW)
    with CalendlySandbox(account, rate_limit=0) as sandbox:
        base = settings_for(account, sandbox, tmp_path / "data" / "warehouse.duckdb")
        store = LandingStore(landing_path(base))
        with serving(store, KEY) as url:
            settings = base.with_(webhook_url=url, webhook_signing_key=KEY)
            Subscriptions(client_for(settings)).subscribe(url, KEY, scope="user")
            _run(settings, sandbox)
            summary, stats, lines = _run(settings, sandbox)
            assert "user-scope subscription" in lines[0] and stats["invitees"] > 0
