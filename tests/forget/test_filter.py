"""The extract's filter (pipelines/calendly/erased.py), row by row: what an erasure removed stays out of
later loads, whether Calendly lists it or a webhook delivers it; what was created after it comes back."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from pipelines.calendly.erased import ErasedPeople, email_hash
from pipelines.calendly.landed import rows_from_deliveries
from pipelines.webhooks.landing import LandedEvent

SALT = "0" * 64
ERASED_AT = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
BEFORE, AFTER = "2026-05-01T10:00:00.000000Z", "2026-06-02T10:00:00.000000Z"
API = "https://api.calendly.com"
OLD = f"{API}/scheduled_events/ev1/invitees/inv-old"
PEOPLE = ErasedPeople(SALT, {email_hash(SALT, "ada@example.org"): ERASED_AT}, {"inv-old": ERASED_AT})


def invitee(uri: str, email: str, created_at: str, **more) -> dict:
    return {"uri": uri, "email": email, "created_at": created_at, "status": "active",
            "event": f"{API}/scheduled_events/ev1", "questions_and_answers": [], **more}


def test_the_erased_invitees_stay_out_anonymized_or_not():
    assert not PEOPLE.keeps(invitee(OLD, "3f2a9c0d1b2e4f@deleted.calendly.com", BEFORE))
    assert not PEOPLE.keeps(invitee(f"{API}/scheduled_events/ev2/invitees/inv-2", " Ada@Example.org", BEFORE))
    assert not PEOPLE.keeps({"uri": f"{API}/invitee_no_shows/ns1", "invitee": OLD, "created_at": AFTER})
    assert PEOPLE.keeps(invitee(f"{API}/scheduled_events/ev2/invitees/inv-3", "bob@example.org", BEFORE))


def test_a_booking_after_the_erasure_comes_back():
    row = invitee(f"{API}/scheduled_events/ev3/invitees/inv-new", "ada@example.org", AFTER)
    assert PEOPLE.keeps(row) and PEOPLE.scrub(row) is row


def test_nested_entries_go_alone_and_by_their_own_date():
    event = {"uri": f"{API}/scheduled_events/ev9", "created_at": BEFORE, "event_guests": [
        {"email": "ADA@example.org", "created_at": BEFORE}, {"email": "bob@example.org", "created_at": BEFORE},
        {"email": "ada@example.org", "created_at": AFTER}]}
    assert PEOPLE.keeps(event)
    scrubbed = PEOPLE.scrub(event)
    assert [g["email"] for g in scrubbed["event_guests"]] == ["bob@example.org", "ada@example.org"]
    assert len(event["event_guests"]) == 3  # the listed row itself is not changed
    answers = invitee(f"{API}/scheduled_events/ev2/invitees/inv-4", "bob@example.org", BEFORE,
                      questions_and_answers=[{"question": "Who referred you?", "answer": "Ada (ada@example.org)."},
                                             {"question": "Company", "answer": "Acme"}])
    assert [a["answer"] for a in PEOPLE.scrub(answers)["questions_and_answers"]] == ["Acme"]


def test_a_mention_in_someone_elses_field_clears_that_field_only():
    row = invitee(f"{API}/scheduled_events/ev2/invitees/inv-8", "bob@example.org", BEFORE, status="canceled",
                  cancellation={"canceler_type": "invitee", "reason": "Ada (ada@example.org) goes instead"})
    assert PEOPLE.keeps(row)
    scrubbed = PEOPLE.scrub(row)
    assert scrubbed["cancellation"] == {"canceler_type": "invitee", "reason": None}
    assert scrubbed["email"] == "bob@example.org" and row["cancellation"]["reason"].startswith("Ada")


def test_submissions_go_with_their_submitter_or_their_answers():
    form = f"{API}/routing_forms/f1"
    by_submitter = {"uri": f"{API}/routing_form_submissions/s1", "routing_form": form, "created_at": BEFORE,
                    "submitter": "https://calendly.com/scheduled_events/ev1/invitees/inv-old",
                    "questions_and_answers": []}
    answered = {"uri": f"{API}/routing_form_submissions/s2", "routing_form": form, "created_at": BEFORE,
                "submitter": None, "questions_and_answers": [{"question": "Email", "answer": "ada@example.org"}]}
    referred = {**answered, "uri": f"{API}/routing_form_submissions/s3",
                "questions_and_answers": [{"question": "Email", "answer": "bob@example.org"},
                                          {"question": "Referred by", "answer": "ada@example.org, my colleague"}]}
    assert not PEOPLE.keeps(by_submitter)
    assert not PEOPLE.keeps(answered)  # answered with the address: hers
    assert PEOPLE.keeps(referred)  # another person's, which mentions her: the answer goes alone
    assert [a["answer"] for a in PEOPLE.scrub(referred)["questions_and_answers"]] == ["bob@example.org"]


def test_landed_deliveries_about_them_are_set_apart_for_scrubbing():
    def delivery(n: int, event: str, payload: dict) -> LandedEvent:
        return LandedEvent(f"d{n}", event, BEFORE, BEFORE, json.dumps({"event": event, "payload": payload}))

    batch = rows_from_deliveries([
        delivery(1, "invitee.canceled", invitee(OLD, "ada@example.org", BEFORE)),
        delivery(2, "invitee_no_show.created", {"uri": f"{API}/invitee_no_shows/n", "invitee": OLD}),
        delivery(3, "invitee.created", invitee(f"{API}/scheduled_events/ev1/invitees/inv-5", "bob@example.org", BEFORE)),
    ], PEOPLE)
    assert batch.erased == ["d1", "d2"] and list(batch.invitees) == [f"{API}/scheduled_events/ev1/invitees/inv-5"]
    assert not batch.invitees_to_read


def test_no_erasure_no_filter():
    assert not ErasedPeople(SALT)


def test_a_delivery_that_only_mentions_them_is_merged_without_them_and_redacted():
    guest_of = {**invitee(f"{API}/scheduled_events/ev7/invitees/inv-7", "bob@example.org", BEFORE,
                          event=f"{API}/scheduled_events/ev7"),
                "scheduled_event": {"uri": f"{API}/scheduled_events/ev7", "created_at": BEFORE, "event_guests": [
                    {"email": "ada@example.org", "created_at": BEFORE}]}}
    body = json.dumps({"event": "invitee.canceled", "created_at": BEFORE, "payload": guest_of})
    batch = rows_from_deliveries([LandedEvent("d7", "invitee.canceled", BEFORE, BEFORE, body)], PEOPLE)
    assert batch.erased == [] and list(batch.invitees) == [guest_of["uri"]]
    assert batch.scheduled_events[f"{API}/scheduled_events/ev7"]["event_guests"] == []
    assert "ada@" not in batch.redacted["d7"] and json.loads(batch.redacted["d7"])["event"] == "invitee.canceled"


def test_only_the_whole_address_is_theirs_and_only_in_an_identity_field():
    """joann@…, jo.ann@… and ada@….au are other people; Bob's invitee whose UTM source is Ada's address
    is Bob's: kept, with that field cleared."""
    for n, email in enumerate(["joada@example.org", "jo.ada@example.org", "ada@example.org.au", "ada@example.organic"]):
        row = invitee(f"{API}/scheduled_events/ev2/invitees/inv-l{n}", email, BEFORE,
                      cancellation={"canceler_type": "invitee", "reason": f"{email} cannot come"})
        assert PEOPLE.keeps(row) and PEOPLE.scrub(row) is row, email
    bob = invitee(f"{API}/scheduled_events/ev2/invitees/inv-b", "bob@example.org", BEFORE,
                  tracking={"utm_source": "Ada@Example.org", "utm_medium": "email"},
                  cancellation={"canceler_type": "invitee", "reason": "see (ada@example.org)."})
    assert PEOPLE.keeps(bob)
    scrubbed = PEOPLE.scrub(bob)
    assert scrubbed["tracking"] == {"utm_source": None, "utm_medium": "email"}
    assert scrubbed["cancellation"]["reason"] is None and scrubbed["email"] == "bob@example.org"
    assert not PEOPLE.keeps({**bob, "invitee": {"email": "ADA@example.org"}})  # a nested identity field is one


def test_their_name_as_who_cancelled_their_event_goes():
    people = ErasedPeople(SALT, PEOPLE.emails, PEOPLE.invitees, {"ev1": ERASED_AT})
    event = {"uri": f"{API}/scheduled_events/ev1", "created_at": BEFORE, "status": "canceled",
             "cancellation": {"canceled_by": "Ada Lovelace", "canceler_type": "invitee", "reason": "ill"}}
    assert people.keeps(event)
    assert people.scrub(event)["cancellation"] == {"canceled_by": None, "canceler_type": "invitee", "reason": "ill"}
    by_host = {**event, "cancellation": {**event["cancellation"], "canceler_type": "host", "canceled_by": "Hal"}}
    other = {**event, "uri": f"{API}/scheduled_events/ev2"}
    later = {**event, "created_at": AFTER}
    assert people.scrub(by_host) is by_host and people.scrub(other) is other and people.scrub(later) is later
