"""Brevo custom events per booking transition, end to end through the sandboxes: each cancellation,
reschedule, no-show and new booking reaches Brevo as exactly one event, with faults, a rerun and a
`kill -9`; history is not replayed; a refused event is retried next run.

What Brevo should hold is computed from what the Calendly sandbox did (`apply_random_changes`), not
from the sync's own code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from pipelines.brevo.events import event_body
from pipelines.brevo.sync import run_sync
from pipelines.mapping import DEFAULT_MAPPING, load_mapping
from pipelines.transform import run_transform
from pipelines.warehouse import connect
from tests.sandbox.brevo_contract import validate_brevo_request

from .conftest import NOW, Stack
from .expected import expected_brevo

CHANGES = dict(cancels=4, reschedules=3, no_shows=3, new_bookings=4)


def expected_events(changes: dict) -> Counter:
    """(event name, invitee uri) → 1 for every transition `apply_random_changes` made."""
    want = Counter()
    for uri in changes["canceled"]:
        want["calendly_cancelled", uri] += 1
    for old, new in changes["rescheduled"]:
        want["calendly_rescheduled", old] += 1
        want["calendly_booked", new] += 1
    for uri in changes["no_shows"]:
        want["calendly_no_show", uri] += 1
    for uri in changes["added"]:
        want["calendly_booked", uri] += 1
    return want


def in_brevo(account) -> Counter:
    return Counter((e["event_name"], e["event_properties"]["invitee_uri"]) for e in account.events())


def calendly_time(account, event_name: str, invitee_uri: str) -> datetime:
    """When Calendly says the transition happened."""
    _, invitee = account.invitee(invitee_uri.rsplit("/", 1)[-1])
    stamp = {"calendly_booked": invitee["created_at"],
             "calendly_no_show": (invitee["no_show"] or {}).get("created_at")}.get(event_name) \
        or invitee["cancellation"]["created_at"]
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def event_state(stack) -> dict[str, tuple]:
    with connect(stack.settings.warehouse, read_only=True) as con:
        return {key: (outcome, attempts, error) for key, outcome, attempts, error in con.execute(
            "select transition_key, outcome, attempts, last_error from brevo_sync.event_state").fetchall()}


def faults(stats: dict) -> int:
    return sum(n for status, n in stats["by_status"].items() if int(status) >= 500) + stats["resets"]


def test_each_transition_reaches_brevo_once_and_history_stays_home(any_stack):
    stack = any_stack
    stack.refresh()
    first = run_sync(stack.settings)
    # The first sync of an account with history sends no event, and remembers where events start.
    assert first.events.sent == first.events.due == 0
    assert stack.brevo_account.events() == []
    assert first.events.since is not None and first.events.since > NOW

    changes = stack.calendly_account.apply_random_changes(seed=5, **CHANGES)
    stack.refresh()
    second = run_sync(stack.settings)
    want = expected_events(changes)
    assert len(want) == 4 + 3 * 2 + 3 + 4
    assert in_brevo(stack.brevo_account) == want
    assert second.events.sent == len(want) and second.events.failed == 0
    assert f"{len(want)} events sent, 0 failed" in second.line()

    contacts = expected_brevo(stack.settings.warehouse)
    for event in stack.brevo_account.events():
        name, uri = event["event_name"], event["event_properties"]["invitee_uri"]
        assert event["identifiers"] == {"email_id": event["email"]}
        # event_date is when it happened in Calendly, with its offset.
        assert datetime.fromisoformat(event["event_date"]) == calendly_time(stack.calendly_account, name, uri)
        assert event["event_date"].endswith("+00:00")
        # The contact as it is now: its current attributes, none of them empty.
        assert event["contact_properties"] == contacts[event["email"]]["attributes"]
        _, invitee = stack.calendly_account.invitee(uri.rsplit("/", 1)[-1])
        props = event["event_properties"]
        assert props["event_uri"] == invitee["event"] and props["cancel_url"] == invitee["cancel_url"]
        assert {"event_type_name", "start_time", "host", "reschedule_url"} <= set(props)
        assert None not in props.values()
        if name in ("calendly_cancelled", "calendly_rescheduled"):
            assert props["canceler"] == invitee["cancellation"]["canceled_by"]
            assert props.get("cancel_reason") == invitee["cancellation"]["reason"]
        else:
            assert "canceler" not in props and "cancel_reason" not in props
        if name == "calendly_rescheduled":
            assert props["rescheduled_to"] == invitee["new_invitee"]
            _, moved_to = stack.calendly_account.invitee(invitee["new_invitee"].rsplit("/", 1)[-1])
            new_event = stack.calendly_account.event(moved_to["event"].rsplit("/", 1)[-1])
            assert datetime.fromisoformat(props["new_start_time"]) == datetime.fromisoformat(
                new_event["start_time"].replace("Z", "+00:00"))
        else:
            assert "rescheduled_to" not in props and "new_start_time" not in props
        # A reschedule's new booking says which booking it replaces; a first booking does not.
        assert props.get("rescheduled_from") == (invitee.get("old_invitee") if name == "calendly_booked" else None)

    # A rerun sends nothing again; every request is one Brevo's API description accepts.
    stack.brevo.reset_stats()
    again = run_sync(stack.settings)
    assert again.events.sent == again.events.due == 0
    assert stack.brevo.stats()["by_route"]["event"] == 0
    assert in_brevo(stack.brevo_account) == want
    outcomes = event_state(stack)
    assert len(outcomes) == len(want) and {o for o, _, _ in outcomes.values()} == {"sent"}


def test_faults_a_kill_and_reruns_leave_one_event_per_transition(tmp_path, any_warehouse):
    stack = Stack(tmp_path, warehouse=any_warehouse, fault_rate=0.10, fault_seed=3)
    try:
        stack.refresh()
        run_sync(stack.settings)
        changes = stack.calendly_account.apply_random_changes(seed=9, cancels=10, reschedules=5, no_shows=5,
                                                              new_bookings=10)
        stack.refresh()
        want = expected_events(changes)
        env = {**os.environ, "WAREHOUSE_PATH": str(stack.settings.warehouse_path),
               "CALENDLY_ACCESS_TOKEN": stack.settings.calendly_token, "CALENDLY_API_URL": stack.calendly.url,
               "BREVO_API_KEY": stack.brevo_account.api_key, "BREVO_API_URL": stack.brevo.url}
        if stack.settings.warehouse_url:
            env["WAREHOUSE_URL"] = stack.settings.warehouse_url
        proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "sync"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while len(stack.brevo_account.events()) < 8:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # What the killed sync recorded as sent is in Brevo; at most the request in flight is not recorded.
        recorded = {k for k, (outcome, _, _) in event_state(stack).items() if outcome == "sent"}
        at_kill = len(stack.brevo_account.events())
        assert len(recorded) <= at_kill <= len(recorded) + 1 < len(want)

        killed = stack.brevo.stats()
        # A new process cannot know how much of the current 1-second window the killed one spent: it
        # starts in the next window, and from there its pacer keeps under the limit.
        time.sleep(1.0)
        stack.brevo.reset_stats()
        summary = run_sync(stack.settings)
        assert summary.events.failed == 0 and summary.events.sent == len(want) - len(recorded)
        got = in_brevo(stack.brevo_account)
        assert set(got) == set(want)
        # Exactly once, but for the one event whose answer the kill may have lost (docs/sync.md).
        assert sum(got.values()) - len(want) == at_kill - len(recorded)
        stats = stack.brevo.stats()
        assert stats["by_status"].get(429, 0) == 0
        assert faults(killed) + faults(stats) > 0  # the faults hit

        assert run_sync(stack.settings).events.sent == 0
        assert sum(in_brevo(stack.brevo_account).values()) == sum(got.values())
    finally:
        stack.stop()


def test_a_refused_event_is_recorded_and_sent_next_run_without_blocking_others(stack):
    stack.refresh()
    run_sync(stack.settings)
    changes = stack.calendly_account.apply_random_changes(seed=11, **CHANGES)
    stack.refresh()
    refused_uri = changes["canceled"][0]
    email = stack.calendly_account.invitee(refused_uri.rsplit("/", 1)[-1])[1]["email"].lower()
    want = expected_events(changes)
    refused = {k for k in want if stack.calendly_account.invitee(k[1].rsplit("/", 1)[-1])[1]["email"].lower() == email}
    stack.brevo_account.refuse_events_for(email)

    first = run_sync(stack.settings)
    assert first.events.failed == len(refused) and first.events.sent == len(want) - len(refused)
    assert set(in_brevo(stack.brevo_account)) == set(want) - refused
    failed = {k: v for k, v in event_state(stack).items() if v[0] == "failed"}
    assert set(failed) == {f"{uri}#{name.removeprefix('calendly_')}" for name, uri in refused}
    assert all(error.startswith("POST /events failed: 400 ") and "refuse_events_for" in error
               for _, _, error in failed.values())

    stack.brevo_account.refuse_events_for()
    second = run_sync(stack.settings)
    assert second.events.sent == len(refused) and second.events.failed == 0
    assert in_brevo(stack.brevo_account) == want
    assert {v[:2] for k, v in event_state(stack).items() if k in failed} == {("sent", 2)}


def test_completed_is_off_by_default_and_events_since_replays_from_a_date(stack, tmp_path):
    stack.refresh()
    later = (NOW + timedelta(days=3)).isoformat()
    run_transform(stack.settings, as_of=later, unit_tests=False)  # meetings of the next three days have ended
    since = NOW - timedelta(days=10)
    with connect(stack.settings.warehouse, read_only=True) as con:
        history = dict(con.execute(
            "select transition, count(*) from marts.booking_transitions where occurred_at >= %s group by 1",
            [since]).fetchall())
    assert history.get("completed") and history.get("booked")

    # The default mapping: from the first sync on, and no completion events.
    dry = run_sync(stack.settings, dry_run=True)
    assert dry.events.due == 0 and "0 booking events would be sent" in dry.line()
    assert run_sync(stack.settings).events.sent == 0

    # A mapping that starts ten days back and sends completions: that history goes, once.
    mapping = tmp_path / "mapping.yml"
    shipped = (stack.settings.mapping_path or DEFAULT_MAPPING).read_text()
    mapping.write_text(shipped + f"\nbooking_events:\n  completed: true\n  events_since: {since.isoformat()}\n")
    settings = stack.settings.with_(mapping_path=mapping)
    assert run_sync(settings, dry_run=True).events.due == sum(history.values())
    summary = run_sync(settings)
    assert summary.events.sent == sum(history.values())
    names = Counter(e["event_name"] for e in stack.brevo_account.events())
    assert names == Counter({f"calendly_{t}": n for t, n in history.items()})
    assert all(datetime.fromisoformat(e["event_date"]) >= since for e in stack.brevo_account.events())
    assert run_sync(settings).events.sent == 0


def test_event_body_leaves_out_nulls_and_dates_carry_their_offset():
    when = datetime(2026, 5, 1, 11, 0, tzinfo=timezone(timedelta(hours=2)))
    row = {"transition": "cancelled", "occurred_at": when, "email": "ann@x.com", "invitee_uri": "i", "event_uri": "e",
           "event_type_name": "Intro", "start_time": when, "end_time": None, "host_names": None,
           "primary_host_uri": None, "cancellation_reason": None, "canceled_by": "Ann", "canceler_type": "invitee",
           "cancel_url": None, "reschedule_url": None, "rescheduled_to": None, "new_start_time": None,
           "rescheduled_from": None, "timezone": None}
    body = event_body(row, {})
    assert body == {"event_name": "calendly_cancelled", "event_date": "2026-05-01T09:00:00+00:00",
                    "identifiers": {"email_id": "ann@x.com"},
                    "event_properties": {"invitee_uri": "i", "event_uri": "e", "event_type_name": "Intro",
                                         "start_time": "2026-05-01T09:00:00+00:00", "canceler": "Ann",
                                         "canceler_type": "invitee"}}
    validate_brevo_request("POST", "/events", {}, json.dumps(body).encode())
    assert event_body(row, {"FIRSTNAME": "Ann"})["contact_properties"] == {"FIRSTNAME": "Ann"}


@pytest.mark.parametrize("completed", [False, True])
def test_the_shipped_mapping_sends_four_transitions_and_completion_is_opt_in(completed, tmp_path):
    path = tmp_path / "m.yml"
    path.write_text(DEFAULT_MAPPING.read_text() + f"\nbooking_events:\n  completed: {str(completed).lower()}\n")
    sent = load_mapping(path).booking_events.transitions()
    assert load_mapping().booking_events.transitions() == ("booked", "cancelled", "rescheduled", "no_show")
    assert ("completed" in sent) is completed
