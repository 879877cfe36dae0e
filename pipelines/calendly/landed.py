"""Webhook deliveries from the landing store, as rows of the raw tables they describe.

Calendly's invitee payloads (`invitee.created`, `invitee.canceled`, `invitee_no_show.created`,
`invitee_no_show.deleted`) are the invitee resource as the API serves it, plus the scheduled event
under `scheduled_event`; a no-show deletion is the invitee with `no_show` null, so merging the row
removes the mark. `routing_form_submission.created` carries the submission resource – as it was when
submitted: its `submitter` is filled in when the person books, which fires no submission event but an
`invitee.created` whose invitee names the submission (`routing_form_submission`), so that submission is
read again (`submissions_to_read`).

Deliveries arrive late and out of order (Calendly retries for a day), so a row only replaces what the
warehouse holds when it is at least as new (`updated_at`); rows older than the stored one are dropped
(see `LandedBatch.newer_than`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from .erased import ErasedPeople
from .helpers import parse_time, uuid_from_uri

# The webhook events merged into the warehouse: the receiver lands these, `webhooks subscribe` asks for them.
INVITEE_EVENTS = ("invitee.created", "invitee.canceled", "invitee_no_show.created", "invitee_no_show.deleted")
SUBMISSION_EVENTS = ("routing_form_submission.created",)
WEBHOOK_EVENTS = INVITEE_EVENTS + SUBMISSION_EVENTS
LANDED_TABLES = ("scheduled_events", "invitees", "routing_form_submissions")


@dataclass
class LandedBatch:
    """Rows from one batch of deliveries, newest per `uri`, and what could not be used."""

    ids: list[str] = field(default_factory=list)  # every delivery read, rejected ones included
    invitees: dict[str, dict] = field(default_factory=dict)  # by uri
    scheduled_events: dict[str, dict] = field(default_factory=dict)
    routing_form_submissions: dict[str, dict] = field(default_factory=dict)
    # Payloads that name a resource without carrying it (a bare no-show object, an invitee without its
    # event): read from the API, which is current by definition.
    invitees_to_read: set[str] = field(default_factory=set)
    events_to_read: set[str] = field(default_factory=set)
    # Submission uri → the new invitee that names it: the submission now has that submitter.
    submissions_to_read: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)  # delivery id → why
    erased: list[str] = field(default_factory=list)  # deliveries about people `forget` erased: scrubbed, not merged
    # Deliveries merged without an erased person's entries (a guest, an answer): their bodies, redacted,
    # replace the stored ones once the load committed.
    redacted: dict[str, str] = field(default_factory=dict)
    stale: int = 0  # rows older than the warehouse's, dropped

    def __bool__(self) -> bool:
        return bool(self.ids)

    @property
    def tables(self) -> set[str]:
        """The raw tables this batch may change."""
        tables: set[str] = set()
        if self.invitees or self.invitees_to_read:
            tables.add("invitees")
        if self.scheduled_events or self.events_to_read:
            tables.add("scheduled_events")
        if self.routing_form_submissions or self.submissions_to_read:
            tables.add("routing_form_submissions")
        return tables

    def newer_than(self, stored: Callable[[str, Sequence[str]], Mapping[str, datetime]]) -> "LandedBatch":
        """Drop rows older than the row the warehouse holds. `stored(table, uris)` gives the stored
        `updated_at` by uri. An equal one is kept: re-applying the same state is harmless."""
        for table in ("invitees", "scheduled_events", "routing_form_submissions"):
            rows: dict[str, dict] = getattr(self, table)
            if not rows:
                continue
            current = stored(table, list(rows))
            for uri in list(rows):
                have, got = current.get(uri), _updated_at(rows[uri])
                if have is not None and got is not None and got < have:
                    del rows[uri]
                    self.stale += 1
        return self


    def submitters_known(self, stored: Callable[[Sequence[str]], Mapping[str, Any]]) -> "LandedBatch":
        """Drop the submissions to read whose row in the warehouse names their invitee already (a listing
        read it after the booking). `stored(uris)` gives the stored `submitter` by uri. Compared by the
        invitee's uuid: Calendly documents `submitter` on another host than the API's."""
        if self.submissions_to_read:
            current = stored(list(self.submissions_to_read))
            for uri, invitee in list(self.submissions_to_read.items()):
                submitter = current.get(uri)
                if isinstance(submitter, str) and uuid_from_uri(submitter) == uuid_from_uri(invitee):
                    del self.submissions_to_read[uri]
        return self


def _updated_at(row: Mapping[str, Any]) -> Optional[datetime]:
    value = row.get("updated_at")
    try:
        return parse_time(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _is_uri(value: Any, kind: str) -> bool:
    return isinstance(value, str) and f"/{kind}/" in value


def _keep_newest(rows: dict[str, dict], row: dict, order: dict[str, tuple], key: tuple) -> None:
    """Keep `row` unless a newer one of the same uri is already kept. Ordered by the resource's own
    `updated_at`, then by when the change happened (the delivery's `created_at`), then by arrival."""
    uri = row["uri"]
    stamp = _updated_at(row)
    rank = (stamp.isoformat() if stamp else "", *key)
    if uri not in order or rank >= order[uri]:
        rows[uri], order[uri] = row, rank


def rows_from_deliveries(deliveries: Iterable[Any], erased: Optional[ErasedPeople] = None) -> LandedBatch:
    """Parse landed deliveries (`pipelines.webhooks.landing.LandedEvent`, oldest first) into rows. A
    delivery the receiver accepted can still carry a payload we cannot use; it is rejected with a reason,
    not dropped silently. One about a person `forget` erased (`erased`, see erased.py) is not merged: it
    is listed in `erased`, for the store to scrub; one that only mentions them (a guest of the event, an
    answer) is merged without those entries, its body so redacted listed in `redacted`."""
    batch = LandedBatch()
    order: dict[str, tuple] = {}
    for delivery in deliveries:
        batch.ids.append(delivery.id)
        key = (delivery.created_at or "", delivery.received_at)
        try:
            payload = json.loads(delivery.body).get("payload")
        except (ValueError, AttributeError):
            batch.rejected[delivery.id] = "body is not a JSON object"
            continue
        if not isinstance(payload, dict):
            batch.rejected[delivery.id] = "payload is not an object"
            continue
        if erased:
            if erased.drops_payload(payload):
                batch.erased.append(delivery.id)
                continue
            clean = erased.scrub(payload)
            if clean is not payload:
                batch.redacted[delivery.id] = redacted_body(delivery.body, clean)
                payload = clean
        if delivery.event in INVITEE_EVENTS:
            reason = _invitee_rows(batch, payload, order, key)
            # Kept whether or not the invitee row is stale: the submission is read as it is now.
            if reason is None and delivery.event == "invitee.created" \
                    and _is_uri(payload.get("routing_form_submission"), "routing_form_submissions"):
                batch.submissions_to_read[payload["routing_form_submission"]] = payload["uri"]
        elif delivery.event in SUBMISSION_EVENTS:
            reason = None
            if _is_uri(payload.get("uri"), "routing_form_submissions") and isinstance(payload.get("routing_form"), str):
                _keep_newest(batch.routing_form_submissions, payload, order, key)
            else:
                reason = "routing form submission payload without uri or routing_form"
        else:
            reason = f"event {delivery.event!r} is not merged"
        if reason:
            batch.rejected[delivery.id] = reason
    return batch


def redacted_body(body: str, payload: dict) -> str:
    """A delivery's body with `payload` in place of its own (the rest of the envelope kept)."""
    envelope = json.loads(body)
    envelope["payload"] = payload
    return json.dumps(envelope)


def _invitee_rows(batch: LandedBatch, payload: dict, order: dict, key: tuple) -> Optional[str]:
    if _is_uri(payload.get("uri"), "invitees") and isinstance(payload.get("email"), str) \
            and isinstance(payload.get("status"), str) and _is_uri(payload.get("event"), "scheduled_events"):
        invitee = {k: v for k, v in payload.items() if k != "scheduled_event"}
        _keep_newest(batch.invitees, invitee, order, key)
        event = payload.get("scheduled_event")
        if isinstance(event, dict) and event.get("uri") == payload["event"]:
            _keep_newest(batch.scheduled_events, event, order, key)
        else:
            batch.events_to_read.add(payload["event"])
        return None
    if _is_uri(payload.get("invitee"), "invitees"):  # a no-show object: {uri, invitee, created_at}
        batch.invitees_to_read.add(payload["invitee"])
        return None
    return "invitee payload without uri, email, status or event"
