"""Brevo answers in the shapes other implementations of its API give, end to end through the sandboxes:
a 2xx whose body is text (a 200/201 "Created", a 202 with text) is a success wherever the sync does
not need the body (attributes, single contacts, events), and an error body that is JSON but not an
object is recorded as the refusal it is, without stopping the sync."""

from __future__ import annotations

from collections import Counter

from pipelines.brevo.sync import run_sync

from .conftest import Stack
from .test_booking_events import event_state, expected_events, in_brevo

# Few enough changes that the contacts they touch go one by one by POST /contacts (DIRECT_MAX_CONTACTS).
SMALL = dict(cancels=2, reschedules=1, no_shows=1, new_bookings=2)


def test_a_2xx_with_text_is_a_success_and_nothing_is_sent_again(tmp_path):
    stack = Stack(tmp_path, events=60, success_answers={
        "event": (200, "Created"), "contact_create": (201, "Created"), "attribute_create": (201, "Created")})
    try:
        stack.refresh()
        first = run_sync(stack.settings)  # creates the mapping's attributes: each answered 201 "Created"
        assert first.failed == 0 and first.synced > 0
        assert {"COMPANY", "BOOKING_STATUS", "MEETING_DATE"} <= set(stack.brevo_account.attributes())

        # Events answered 200 "Created", then 202 with text: one day of changes each, on the same stack.
        for n, event_answer in enumerate([(200, "Created"), (202, "accepted for processing")]):
            stack.brevo.configure(success_answers={"event": event_answer, "contact_create": (201, "Created")})
            before = Counter(in_brevo(stack.brevo_account))
            changes = stack.calendly_account.apply_random_changes(seed=13 + n, **SMALL)
            stack.refresh()
            stack.brevo.reset_stats()
            second = run_sync(stack.settings)
            want = expected_events(changes)
            assert stack.brevo.stats()["by_route"]["contact_create"] == second.synced > 0  # the direct path
            assert second.failed == 0
            assert second.events.sent == len(want) and second.events.failed == 0
            assert {outcome for outcome, _, _ in event_state(stack).values()} == {"sent"}

            stack.brevo.reset_stats()
            third = run_sync(stack.settings)
            assert third.events.due == third.events.sent == 0 and stack.brevo.stats()["by_route"]["event"] == 0
            assert Counter(in_brevo(stack.brevo_account)) - before == want  # each once
    finally:
        stack.stop()


def test_an_error_body_that_is_not_an_object_is_recorded_and_the_sync_goes_on(tmp_path):
    stack = Stack(tmp_path, events=60)
    try:
        stack.refresh()
        run_sync(stack.settings)
        changes = stack.calendly_account.apply_random_changes(seed=17, **SMALL)
        stack.refresh()
        want = expected_events(changes)
        name, uri = sorted(want)[0]
        email = stack.calendly_account.invitee(uri.rsplit("/", 1)[-1])[1]["email"].lower()
        refused = {k for k in want
                   if stack.calendly_account.invitee(k[1].rsplit("/", 1)[-1])[1]["email"].lower() == email}
        stack.brevo_account.refuse_events_for(email)
        for n, raw in enumerate(['["bad"]', '"x"', "null"]):
            stack.brevo.configure(error_bodies={"event": raw})
            summary = run_sync(stack.settings)
            assert summary.events.failed == len(refused)
            assert summary.events.sent == (len(want) - len(refused) if n == 0 else 0)
            errors = {v[2] for v in event_state(stack).values() if v[0] == "failed"}
            assert errors == {f"POST /events failed: 400 {raw}"}
        assert set(in_brevo(stack.brevo_account)) == set(want) - refused

        stack.brevo_account.refuse_events_for()
        assert run_sync(stack.settings).events.sent == len(refused)
        assert in_brevo(stack.brevo_account) == want
    finally:
        stack.stop()
