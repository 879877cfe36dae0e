"""Backfill of a 3,000-event account, then incremental runs: exact contents, and API cost that follows
what changed rather than the size of history."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipelines.extract import run_extract
from sandbox.calendly import CalendlySandbox

from .conftest import settings_for
from .truth import differences


def _ended_within(truth: dict, days: float, now: datetime) -> int:
    """Active events that ended within `days` of `now`: those a no-show can still be marked on."""
    lo = now - timedelta(days=days)
    ends = (datetime.fromisoformat(e["end_time"].replace("Z", "+00:00"))
            for e in truth["scheduled_events"] if e["status"] == "active")
    return sum(lo <= end <= now for end in ends)


# Listed whole (or, submissions, re-read for a lookback) every run: merged only where a row changed.
SMALL_TABLES = ("event_types", "organization_memberships", "routing_forms", "routing_form_submissions")


def _within_lookback_of_newest(truth: dict, days: float) -> dict[str, int]:
    """Per form, its submissions created within `days` of its newest one (those a run re-reads)."""
    by_form: dict[str, list[datetime]] = {}
    for sub in truth["routing_form_submissions"]:
        by_form.setdefault(sub["routing_form"], []).append(
            datetime.fromisoformat(sub["created_at"].replace("Z", "+00:00")))
    return {form: sum(t >= max(ts) - timedelta(days=days) for t in ts) for form, ts in by_form.items()}


def test_backfill_then_incremental_runs_are_exact_and_cheap(account_3000, any_warehouse):
    account, warehouse = account_3000, any_warehouse.warehouse
    with CalendlySandbox(account, rate_limit=0) as sandbox:
        settings = settings_for(account, sandbox, any_warehouse)

        first = run_extract(settings)
        assert differences(warehouse, account.truth()) == []
        events = len(account.truth()["scheduled_events"])
        assert sandbox.stats()["by_route"]["invitees"] == events  # every event read once, none twice
        assert first.rows_loaded["invitees"] == len(account.truth()["invitees"])

        # Unchanged account: invitees are re-read only for events inside the no-show window.
        sandbox.reset_stats()
        before = datetime.now(timezone.utc)
        second = run_extract(settings)
        after = datetime.now(timezone.utc)
        reads = sandbox.stats()["by_route"]["invitees"]
        truth = account.truth()
        assert _ended_within(truth, 7, before) - 2 <= reads <= _ended_within(truth, 7, after) + 2
        assert reads > 0  # the window holds events, or this test shows nothing
        # Submissions are re-read for the lookback only (their submitter can be filled in later), and like
        # the small tables listed whole, none is merged again unchanged.
        pages = sum(-(-n // 100) for n in _within_lookback_of_newest(truth, 7).values())
        assert sandbox.stats()["by_route"]["routing_form_submissions"] == pages >= 2
        assert first.rows_loaded.keys() > set(SMALL_TABLES)  # and their nested tables: none merged again
        assert [t for t in second.rows_loaded if t.split("__")[0] in SMALL_TABLES] == [], second.rows_loaded
        # Events are listed again, but an event whose fingerprint did not move is the row already loaded.
        assert second.counts["events_listed"] > 0 and second.rows_loaded.get("scheduled_events", 0) == 0
        assert differences(warehouse, truth) == []

        # The account changes between runs: everything is caught, for a cost near what changed.
        changes = account.apply_random_changes(seed=5, cancels=20, reschedules=10, no_shows=10, new_bookings=30)
        assert len(changes["canceled"]) == 20 and len(changes["no_shows"]) == 10
        sandbox.reset_stats()
        third = run_extract(settings)
        truth = account.truth()
        assert differences(warehouse, truth) == []
        changed_events = 20 + 2 * 10 + 30
        assert sandbox.stats()["by_route"]["invitees"] <= _ended_within(truth, 7, datetime.now(timezone.utc)) + changed_events + 2
        assert 0 < third.rows_loaded.get("scheduled_events", 0) <= changed_events

        # A healthy webhook subscription delivered every change since: no re-read of ended events, and
        # the run costs the listing's pages and a handful of requests (issue 16).
        sandbox.reset_stats()
        trusted = run_extract(settings, trust_webhooks=True)
        pages = -(-trusted.counts["events_listed"] // 100)
        assert sandbox.stats()["by_route"]["invitees"] == 0 and trusted.rows_loaded.get("scheduled_events", 0) == 0
        assert sandbox.stats()["requests"] <= pages + 6, sandbox.stats()["by_route"]
        assert differences(warehouse, account.truth()) == []
