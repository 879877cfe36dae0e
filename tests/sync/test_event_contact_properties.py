"""An event Brevo refuses for its contact_properties (a value it will not take there) goes once more
without them, end to end through the sandboxes: it is delivered, recorded `sent` with the refusal, and
not sent again; an event refused for something else stays `failed`."""

from __future__ import annotations

from pipelines.brevo.sync import run_sync

from .conftest import Stack
from .test_booking_events import event_state, expected_events, in_brevo


def test_an_event_refused_for_its_contact_properties_goes_without_them(tmp_path, any_warehouse):
    stack = Stack(tmp_path, events=60, warehouse=any_warehouse)
    try:
        stack.refresh()
        run_sync(stack.settings)
        changes = stack.calendly_account.apply_random_changes(seed=19, cancels=3, reschedules=2, no_shows=1,
                                                              new_bookings=2)
        stack.refresh()
        want = expected_events(changes)
        # Brevo refuses a value of the contact's properties: every event of a contact now cancelled.
        stack.brevo_account.refuse_event_contact_property("BOOKING_STATUS", "cancelled")
        # And every event of one other contact, whatever it carries: that one stays failed.
        booked = sorted(uri for name, uri in want if name == "calendly_booked")[0]
        other = stack.calendly_account.invitee(booked.rsplit("/", 1)[-1])[1]["email"].lower()
        stack.brevo_account.refuse_events_for(other)

        summary = run_sync(stack.settings)
        got = stack.brevo_account.events()
        bare = [e for e in got if e["contact_properties"] is None]
        # Those of contacts now cancelled (any of their events: contact_properties are the contact as it is now).
        contacts = stack.brevo_account.contacts()
        assert bare and all(contacts[e["email"]]["attributes"]["BOOKING_STATUS"] == "cancelled" for e in bare)
        assert all(e["contact_properties"]["BOOKING_STATUS"] != "cancelled" for e in got if e not in bare)
        blocked = {k for k in want if stack.calendly_account.invitee(k[1].rsplit("/", 1)[-1])[1]["email"].lower() == other}
        assert set(in_brevo(stack.brevo_account)) == set(want) - blocked
        assert summary.events.sent == len(want) - len(blocked) and summary.events.failed == len(blocked) > 0
        assert summary.events.without_properties == len(bare)
        assert f"{len(bare)} sent without the contact properties Brevo refused" in summary.line()

        state = event_state(stack)
        notes = [error for outcome, _, error in state.values() if outcome == "sent" and error]
        assert len(notes) == len(bare)
        assert all(n.startswith("sent without contact_properties: POST /events failed: 400 invalid_parameter: "
                                "contact_properties.BOOKING_STATUS") for n in notes)
        failed = [error for outcome, _, error in state.values() if outcome == "failed"]
        assert len(failed) == len(blocked) and all("refuse_events_for" in e for e in failed)

        # Delivered ones are not sent again; the contact itself went by the contacts step.
        stack.brevo.reset_stats()
        again = run_sync(stack.settings)
        assert again.events.sent == 0 and again.events.failed == len(blocked)
        assert stack.brevo_account.contacts()[bare[0]["email"]]["attributes"]["BOOKING_STATUS"] == "cancelled"
    finally:
        stack.stop()
