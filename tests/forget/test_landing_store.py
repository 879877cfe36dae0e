"""The landing store forgets a person's deliveries: bodies emptied (no copy left in the file), the rows
kept as tombstones – a retry of the same delivery is "already landed", and the newest rowid stays (the
sensor's run keys) – and every other delivery untouched."""

from __future__ import annotations

import json

from pipelines.webhooks import LandingStore


def body(email: str, n: int) -> str:
    return json.dumps({"event": "invitee.created", "payload": {"uri": f"https://api.calendly.com/x/invitees/i{n}",
                                                               "email": email, "name": "Ada Lovelace"}})


def test_scrubbed_deliveries_leave_no_copy_and_stay_settled(tmp_path):
    store = LandingStore(tmp_path / "landing.sqlite")
    try:
        for n, email in enumerate(["Ada@Example.org", "bob@example.org", "ada@example.org"]):
            store.append(f"id{n}", "invitee.created", None, body(email, n))
        store.mark_processed(["id1"])
        newest = store.pending_summary().newest
        found = store.mentioning(["ada@example.org"])
        assert sorted(found) == ["id0", "id2"]
        assert store.scrub(found) == 2
        assert store.mentioning(["ada@example.org"]) == [] and store.count() == 3
        assert store.pending_summary().count == 0  # scrubbed deliveries are settled, not merged
        assert [r[0] for r in store.rejected()] == ["id0", "id2"]
        assert store.append("id2", "invitee.created", None, body("ada@example.org", 2)) is False  # a retry
        assert store.mentioning(["bob@example.org"]) == ["id1"]
        store.append("id3", "invitee.created", None, body("cy@example.org", 3))
        assert store.pending_summary().newest == newest + 1
    finally:
        store.close()
    for path in tmp_path.iterdir():
        assert b"ada@example.org" not in path.read_bytes().lower(), path


def test_forget_scrubs_their_deliveries_and_redacts_pending_ones_of_others(tmp_path):
    from datetime import datetime, timezone

    from pipelines.calendly.erased import ErasedPeople, email_hash
    from pipelines.erasure.landing import forget_deliveries

    salt, at = "1" * 64, datetime.now(timezone.utc)
    erased = ErasedPeople(salt, {email_hash(salt, "ada@example.org"): at}, {"i0": at})
    other = json.dumps({"event": "invitee.canceled", "payload": {
        "uri": "https://api.calendly.com/scheduled_events/e1/invitees/i9", "email": "bob@example.org",
        "created_at": "2026-01-01T00:00:00Z", "scheduled_event": {"uri": "https://api.calendly.com/scheduled_events/e1",
                                                                 "event_guests": [{"email": "Ada@example.org"}]}}})
    store = LandingStore(tmp_path / "landing.sqlite")
    try:
        store.append("mine", "invitee.created", None, body("ada@example.org", 0))
        store.append("theirs", "invitee.canceled", None, other)
        assert forget_deliveries(store, erased, ["ada@example.org", "/invitees/i0"]) == 2
        [(_, _, kept)] = [row for row in store.read(["theirs"])]
        assert store.pending_summary().count == 1 and "bob@example.org" in kept and "ada@" not in kept.lower()
        assert [row[0] for row in store.rejected()] == ["mine"]
    finally:
        store.close()
    for path in tmp_path.iterdir():
        assert b"ada@example.org" not in path.read_bytes().lower(), path


def test_only_deliveries_with_the_whole_address_are_found(tmp_path):
    store = LandingStore(tmp_path / "landing.sqlite")
    try:
        for n, email in enumerate(["joann@example.com", "jo.ann@example.com", "ann@example.com.au",
                                   "Ann@Example.com", "x\nann@example.com", "ann@example.com."]):
            store.append(f"id{n}", "invitee.created", None, body(email, n))
        assert sorted(store.mentioning(["ann@example.com"])) == ["id3", "id4", "id5"]
    finally:
        store.close()
