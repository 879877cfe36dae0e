"""Webhook deliveries in the landing store are merged into calendly_raw by the next extract: alone
(`webhooks_only`, no API listing) or with a full run; late and out-of-order ones never regress a row."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime, timezone

import duckdb
import pytest

from pipelines.extract import run_extract
from sandbox.calendly import CalendlyAccount, CalendlySandbox
from pipelines.webhooks import LandingStore, landing_path

from .conftest import NOW, settings_for
from .truth import differences


@pytest.fixture
def account() -> CalendlyAccount:
    return CalendlyAccount.generate(seed=23, events=300, now=NOW)


def _invitee_state(account: CalendlyAccount, invitee_uri: str) -> dict:
    """The invitee as the API serves it now, with its event under `scheduled_event` (Calendly's payload)."""
    truth = account.truth()
    invitee = next(i for i in truth["invitees"] if i["uri"] == invitee_uri)
    event = next(e for e in truth["scheduled_events"] if e["uri"] == invitee["event"])
    return dict(invitee, scheduled_event=event)


def land(store: LandingStore, event: str, payload: dict, created_at: str | None = None) -> str:
    body = json.dumps({"event": event, "created_at": created_at or payload.get("updated_at"),
                       "created_by": "https://api.calendly.com/users/X", "payload": payload}).encode()
    delivery_id = hashlib.sha256(body).hexdigest()
    assert store.append(delivery_id, event, created_at, body.decode())
    return delivery_id


def _raw(warehouse, sql: str, *args):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(args)).fetchall()


def _future_active(account: CalendlyAccount, n: int) -> list[str]:
    truth = account.truth()
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    future = {e["uri"] for e in truth["scheduled_events"] if e["start_time"] > now and e["status"] == "active"}
    return [i["uri"] for i in truth["invitees"] if i["event"] in future and i["status"] == "active"][:n]


def _ended_unmarked(account: CalendlyAccount) -> dict:
    """An active invitee of a meeting that has ended, not marked as a no-show: one a host can mark."""
    truth = account.truth()
    ended = {e["uri"] for e in truth["scheduled_events"] if e["end_time"] < NOW.strftime("%Y-%m-%dT%H:%M:%S")}
    return next(i for i in truth["invitees"] if i["status"] == "active" and not i["no_show"] and i["event"] in ended)


def test_webhooks_only_run_merges_every_change_without_listing(account, warehouse):
    with CalendlySandbox(account, rate_limit=0) as sandbox:
        settings = settings_for(account, sandbox, warehouse)
        run_extract(settings)
        store = LandingStore(landing_path(settings))
        changes = account.apply_random_changes(seed=4, cancels=5, reschedules=3, no_shows=4, new_bookings=6)
        touched = changes["canceled"] + changes["no_shows"] + changes["added"] + \
            [uri for pair in changes["rescheduled"] for uri in pair]
        for uri in touched:
            state = _invitee_state(account, uri)
            land(store, "invitee.canceled" if state["status"] == "canceled" else "invitee.created", state)
        # A reschedule into an existing group event changed that event too; its own invitee carries it.
        sandbox.reset_stats()
        summary = run_extract(settings, webhooks_only=True)
        assert sandbox.stats()["requests"] == 0, sandbox.stats()  # the payloads carried everything
        assert summary.webhooks == {"deliveries": len(touched), "rejected": 0, "stale": 0}
        assert differences(warehouse, account.truth()) == []
        assert store.pending() == []

        # Nothing pending: a webhooks-only run loads nothing and reads nothing.
        again = run_extract(settings, webhooks_only=True)
        assert again.rows_loaded == {} and sandbox.stats()["requests"] == 0


def test_deleted_no_show_removes_the_mark_and_late_deliveries_never_regress(account, warehouse):
    with CalendlySandbox(account, rate_limit=0) as sandbox:
        settings = settings_for(account, sandbox, warehouse)
        run_extract(settings)
        store = LandingStore(landing_path(settings))
        past = _ended_unmarked(account)
        account.mark_no_show(past["uri"])
        marked = _invitee_state(account, past["uri"])
        account.unmark_no_show(past["uri"])
        unmarked = _invitee_state(account, past["uri"])
        # Out of order within one batch: the deletion landed first. The newer state (unmarked) wins.
        land(store, "invitee_no_show.deleted", unmarked)
        land(store, "invitee_no_show.created", marked)
        run_extract(settings, webhooks_only=True)
        assert _raw(warehouse, "select no_show__uri from calendly_raw.invitees where uri = ?", past["uri"]) == [(None,)]

        account.mark_no_show(past["uri"])
        land(store, "invitee_no_show.created", _invitee_state(account, past["uri"]))
        run_extract(settings, webhooks_only=True)
        [(mark,)] = _raw(warehouse, "select no_show__uri from calendly_raw.invitees where uri = ?", past["uri"])
        assert mark == _invitee_state(account, past["uri"])["no_show"]["uri"]

        # A cancellation merged, then Calendly's late retry of the booking's invitee.created arrives.
        [uri] = _future_active(account, 1)
        booked = _invitee_state(account, uri)
        account.cancel_invitee(uri, canceler_type="invitee", reason="late test")
        land(store, "invitee.canceled", _invitee_state(account, uri))
        run_extract(settings, webhooks_only=True)
        land(store, "invitee.created", booked)
        late = run_extract(settings, webhooks_only=True)
        assert late.webhooks["stale"] == 2  # the invitee and its event, both older than the warehouse's
        assert _raw(warehouse, "select status from calendly_raw.invitees where uri = ?", uri) == [("canceled",)]
        assert store.pending() == []
        assert differences(warehouse, account.truth()) == []


def test_partial_payloads_are_read_and_unusable_ones_set_aside(account, warehouse):
    with CalendlySandbox(account, rate_limit=0) as sandbox:
        settings = settings_for(account, sandbox, warehouse)
        run_extract(settings)
        store = LandingStore(landing_path(settings))
        first, second = _future_active(account, 2)
        account.cancel_invitee(first)
        without_event = _invitee_state(account, first)
        del without_event["scheduled_event"]  # an older payload format: the event is read from the API
        land(store, "invitee.canceled", without_event)
        ended = _ended_unmarked(account)
        no_show = account.mark_no_show(ended["uri"])
        # A bare no-show object names the invitee only: the invitee is read from the API.
        land(store, "invitee_no_show.created", {"uri": no_show, "invitee": ended["uri"],
                                                "created_at": "2026-01-01T00:00:00.000000Z"})
        broken = land(store, "invitee.created", {"email": "someone@example.com"})
        sandbox.reset_stats()
        summary = run_extract(settings, webhooks_only=True)
        by_route = {route: n for route, n in sandbox.stats()["by_route"].items() if n}
        assert by_route == {"scheduled_event": 1, "invitee": 1}, by_route
        assert summary.webhooks["rejected"] == 1
        assert store.rejected() == [(broken, "invitee.created", "invitee payload without uri, email, status or event")]
        assert _raw(warehouse, "select status from calendly_raw.invitees where uri = ?", first) == [("canceled",)]
        assert _raw(warehouse, "select no_show__uri from calendly_raw.invitees where uri = ?",
                    ended["uri"]) == [(no_show,)]
        assert store.pending() == []
        assert second  # untouched, still what the first run loaded
        assert differences(warehouse, account.truth()) == []


def test_full_run_merges_pending_deliveries_and_the_newest_row_wins(account, warehouse):
    with CalendlySandbox(account, rate_limit=0) as sandbox:
        settings = settings_for(account, sandbox, warehouse)
        run_extract(settings)
        store = LandingStore(landing_path(settings))
        [uri] = _future_active(account, 1)
        booked = _invitee_state(account, uri)
        account.cancel_invitee(uri)
        # A stale invitee.created landed (not yet merged) while the invitee was canceled: the full run
        # re-reads the event's invitees and loads both rows in one load; the newer (API) row is kept.
        land(store, "invitee.created", copy.deepcopy(booked))
        # And a routing form submission that only a webhook told us about, before the next listing.
        subs = account.truth()["routing_form_submissions"]
        submission = dict(subs[-1], uri=subs[-1]["uri"][:-4] + "WEBH",
                          updated_at="2030-01-01T00:00:00.000000Z")
        land(store, "routing_form_submission.created", submission)
        summary = run_extract(settings)
        assert summary.webhooks["deliveries"] == 2
        assert _raw(warehouse, "select status from calendly_raw.invitees where uri = ?", uri) == [("canceled",)]
        # The dropped duplicate took its nested rows with it: the answers are there once.
        answers = _raw(warehouse, """select count(*) from calendly_raw.invitees__questions_and_answers q
                                     join calendly_raw.invitees i on q._dlt_root_id = i._dlt_id where i.uri = ?""", uri)
        assert answers == [(len(booked["questions_and_answers"]),)] and booked["questions_and_answers"]
        assert _raw(warehouse, """select count(*) from calendly_raw.invitees__questions_and_answers
                                  where _dlt_root_id not in (select _dlt_id from calendly_raw.invitees)""") == [(0,)]
        assert _raw(warehouse, "select count(*) from calendly_raw.routing_form_submissions where uri = ?",
                    submission["uri"]) == [(1,)]
        assert store.pending() == []


def test_cli_extract_webhooks_only(account, warehouse, monkeypatch, capsys):
    from pipelines.cli import main

    with CalendlySandbox(account, rate_limit=0) as sandbox:
        settings = settings_for(account, sandbox, warehouse)
        monkeypatch.setenv("CALENDLY_ACCESS_TOKEN", settings.calendly_token)
        monkeypatch.setenv("CALENDLY_API_URL", sandbox.url)
        monkeypatch.setenv("WAREHOUSE_PATH", str(warehouse))
        run_extract(settings)
        [uri] = _future_active(account, 1)
        account.cancel_invitee(uri)
        land(LandingStore(landing_path(settings)), "invitee.canceled", _invitee_state(account, uri))
        sandbox.reset_stats()
        assert main(["extract", "--webhooks-only"]) == 0
        out = capsys.readouterr().out
        assert "1 webhook deliveries merged (0 set aside, 0 older than the warehouse)" in out, out
        assert sandbox.stats()["requests"] == 0
        assert _raw(warehouse, "select status from calendly_raw.invitees where uri = ?", uri) == [("canceled",)]


def test_a_booking_reads_its_routing_form_submission_unless_the_warehouse_has_its_submitter(account, warehouse):
    """No webhook event says a submission got its submitter: the booking's invitee.created names the
    submission, which is read then – not when the warehouse already holds it booked by that invitee."""
    with CalendlySandbox(account, rate_limit=0) as sandbox:
        settings = settings_for(account, sandbox, warehouse)
        run_extract(settings)
        routed = account.add_routing_form_submission(routed=True)
        run_extract(settings)
        assert _raw(warehouse, "select submitter from calendly_raw.routing_form_submissions where uri = ?",
                    routed) == [(None,)]
        store = LandingStore(landing_path(settings))
        booked = account.book_from_submission(routed)
        land(store, "invitee.created", _invitee_state(account, booked))
        loaded = next(i for i in account.truth()["invitees"] if i["routing_form_submission"] and i["uri"] != booked)
        land(store, "invitee.created", _invitee_state(account, loaded["uri"]))  # its submitter is in the warehouse
        sandbox.reset_stats()
        summary = run_extract(settings, webhooks_only=True)
        assert sandbox.stats()["by_route"]["routing_form_submission"] == 1 and summary.counts["webhook_reads"] == 1
        assert _raw(warehouse, "select submitter from calendly_raw.routing_form_submissions where uri = ?",
                    routed) == [(booked,)]
        assert differences(warehouse, account.truth()) == []
