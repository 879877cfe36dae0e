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
