"""Rows follow what changed (issue 16): the small tables an extract lists whole every run (event types,
memberships, routing forms) and the submissions it re-reads merge only the rows whose content changed, with
their nested tables – on every kind of account the sandbox makes (null time zones, no UTM, undocumented
and drifting fields, deleted types, departed hosts, no routing forms, an empty account)."""

from __future__ import annotations

import pytest

from pipelines.extract import run_extract
from pipelines.warehouse import connect
from sandbox.calendly import CalendlyAccount, CalendlySandbox
from sandbox.calendly.shapes import PROFILES

from .conftest import NOW, settings_for
from .truth import differences

SMALL_TABLES = ("event_types", "organization_memberships", "routing_forms", "routing_form_submissions")
EVENTS = {"empty": 0, "solo": 120, "team": 200, "enterprise": 120, "messy": 150}


def _small(rows_loaded: dict) -> dict:
    """Rows merged into the small tables and their nested tables."""
    return {t: n for t, n in rows_loaded.items() if t.split("__")[0] in SMALL_TABLES}


def _questions(settings, event_type_uri: str) -> int:
    with connect(settings.warehouse, read_only=True) as con:
        return con.execute("""
            select count(*) from calendly_raw.event_types__custom_questions q
            join calendly_raw.event_types t on q._dlt_parent_id = t._dlt_id where t.uri = %s""",
                           [event_type_uri]).fetchone()[0]


@pytest.mark.parametrize("profile", list(EVENTS))
def test_unchanged_rows_are_not_merged_again_and_changed_ones_are(tmp_path, profile):
    account = CalendlyAccount.generate(seed=7, events=EVENTS[profile], now=NOW, shape=PROFILES[profile].shape)
    with CalendlySandbox(account, rate_limit=0) as sandbox:
        settings = settings_for(account, sandbox, tmp_path / "data" / "warehouse.duckdb")
        first = run_extract(settings)
        assert first.rows_loaded.get("event_types", 0) > 0 and first.rows_loaded["organization_memberships"] > 0

        for options in ({}, {"trust_webhooks": True}, {"trust_webhooks": True, "webhooks_deliver_submissions": True}):
            sandbox.reset_stats()
            again = run_extract(settings, **options)
            assert _small(again.rows_loaded) == {}, (options, again.rows_loaded)
            assert again.rows_loaded.get("scheduled_events", 0) == 0
            if options:
                by_route = sandbox.stats()["by_route"]
                assert by_route["scheduled_events"] == max(1, -(-again.counts["events_listed"] // 100))
                forms = len(account.truth()["routing_forms"]) if "webhooks_deliver_submissions" not in options else 0
                # /users/me, memberships, event types, routing forms (admins), a page of submissions per form
                assert sandbox.stats()["requests"] - by_route["scheduled_events"] <= 4 + forms, by_route

        # One event type switched off, a submission booked after it was loaded, the day's bookings and
        # cancellations: exactly the changed rows of the small tables are merged, children with them.
        routed = None
        if account.truth()["routing_forms"]:
            routed = account.add_routing_form_submission(routed=True)
            run_extract(settings)
            account.book_from_submission(routed)
        if EVENTS[profile]:
            account.apply_random_changes(seed=3, cancels=3, reschedules=2, no_shows=2, new_bookings=3)
        switched = next(t for t in account.truth()["event_types"] if t["active"] and not t["deleted_at"])
        account.set_event_type_active(switched["uri"], False)
        changed = run_extract(settings)
        merged = _small(changed.rows_loaded)
        assert merged.get("event_types") == 1 and "organization_memberships" not in merged, merged
        assert "routing_forms" not in merged
        assert merged.get("routing_form_submissions", 0) == (1 if routed else 0), merged
        questions = len(switched["custom_questions"])
        assert merged.get("event_types__custom_questions", 0) == questions
        assert _questions(settings, switched["uri"]) == questions
        assert differences(settings.warehouse, account.truth()) == []
