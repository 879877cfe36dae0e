"""The webhook landing store (SQLite): the deliveries that name an erased person.

A delivery about the person (their invitee, their submission, a no-show of theirs) is scrubbed: its
body emptied, the row kept settled as a tombstone (pipelines/webhooks/landing.py `scrub`). A delivery
still waiting to be merged that only mentions them – another invitee's, whose event lists them as a
guest, or whose answer names them – is redacted instead: the entries naming them taken out, the rest
left for the next extract to merge, so that person's change is not lost.
"""

from __future__ import annotations

import json
from typing import Sequence

from ..calendly.erased import ErasedPeople
from ..calendly.landed import redacted_body
from ..webhooks.landing import LandingStore
from .address import found as holds


def forget_deliveries(store: LandingStore, erased: ErasedPeople, needles: Sequence[str]) -> int:
    """Scrub or redact the deliveries holding one of `needles`; how many."""
    scrub: list[str] = []
    redact: dict[str, str] = {}
    for delivery_id, pending, body in store.read(store.mentioning(needles)):
        if pending:
            try:
                payload = json.loads(body).get("payload")
            except (ValueError, AttributeError):
                payload = None
            if isinstance(payload, dict) and not erased.drops_payload(payload):
                clean = redacted_body(body, erased.scrub(payload))
                if not holds(clean, needles):
                    redact[delivery_id] = clean
                    continue
        scrub.append(delivery_id)
    return store.scrub(scrub) + store.redact(redact)
