"""Brevo custom events, one per booking transition (`POST /events`), exactly once.

What happened is dbt's: `marts.booking_transitions` has one row per booking and status it entered,
with when (dbt_project/models/marts/booking_transitions.sql). Here: which of those are due, the event
body, and the record of each one sent.

Exactly once: a transition is recorded in `brevo_sync.event_state` as `sent` only after Brevo's 2xx,
in its own statement (autocommit), before the next event goes. So a rerun sends nothing again, and a
sync killed at any point sends again at most the one event whose answer it had not yet recorded.
dlt's retrying session retries 5xx, 429 and dropped connections: the sandbox applies nothing it
answers with a fault, but Brevo has no idempotency key on /events, so an answer lost after Brevo
applied the event means it is sent twice (docs/sync.md). A 4xx for one event (Brevo refuses it) is
recorded as `failed` with Brevo's reason and sent again next run; the others go on. An event refused
(400/422) while it carried contact_properties is sent once more without them: a value Brevo will not
take there (an SMS another contact holds, an attribute it lacks) would refuse it every run, and the
contact went through the contacts step already; it is recorded `sent` with the refusal. Anything else
(Brevo down past the retries, the key refused) stops the events of this run: the rest stay due.

History is not replayed: only transitions at or after `events_since` go, the mapping's
`booking_events.events_since` or else the time of the first sync that sent events (kept in
`brevo_sync.events_since`).

One event at a time: Brevo allows 10 /events requests a second (General plan), which the client's
pacer keeps to from the `x-sib-ratelimit-*` headers (bench/brevo_events_bench.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import requests

from ..exceptions import ConfigError
from ..mapping import Mapping
from ..progress import Progress
from ..warehouse import Connection
from .client import BrevoClient, refusal
from .state import SCHEMA, record_event, store_events_since, stored_events_since

TABLE = "marts.booking_transitions"
EVENT_PREFIX = "calendly_"  # calendly_booked, calendly_cancelled, calendly_rescheduled, calendly_no_show, …
# Statuses that are this event's own fault: recorded as failed, the run goes on. 429 is not one of them
# (dlt's session retried it already: Brevo is still throttling), nor 401/403 (the key, for every event).
_REFUSED = {400, 404, 409, 413, 422}
# Refusals that may be the contact_properties' fault (a value, not the event): resent without them once.
_BAD_VALUE = {400, 422}
_COLUMNS = ("transition_key", "invitee_uri", "event_uri", "transition", "occurred_at", "email", "timezone",
            "event_type_name", "start_time", "end_time", "host_names", "primary_host_uri", "cancel_url",
            "reschedule_url", "canceler_type", "canceled_by", "cancellation_reason", "rescheduled_to",
            "new_start_time", "rescheduled_from")
# event_properties key → marts.booking_transitions column (NULLs are left out: the spec allows none).
_PROPERTIES = {"invitee_uri": "invitee_uri", "event_uri": "event_uri", "event_type_name": "event_type_name",
               "start_time": "start_time", "end_time": "end_time", "host": "host_names",
               "host_uri": "primary_host_uri", "cancel_reason": "cancellation_reason", "canceler": "canceled_by",
               "canceler_type": "canceler_type", "cancel_url": "cancel_url", "reschedule_url": "reschedule_url",
               "rescheduled_to": "rescheduled_to", "new_start_time": "new_start_time",
               "rescheduled_from": "rescheduled_from", "invitee_timezone": "timezone"}


@dataclass
class EventsSummary:
    due: int = 0
    sent: int = 0
    failed: int = 0
    invalid: int = 0  # an address Brevo refuses (marts.brevo_contacts.email_is_valid): never sent
    without_properties: int = 0  # sent without contact_properties, which Brevo refused (among `sent`)
    left: int = 0  # not tried: Brevo stopped answering, so they wait for the next run
    requests: int = 0
    throttled: int = 0  # 429s received
    seconds: float = 0.0
    since: datetime | None = None

    def line(self) -> str:
        extra = "".join(f", {n:,} {what}" for n, what in (
            (self.without_properties, "sent without the contact properties Brevo refused"),
            (self.invalid, "invalid emails not sent"), (self.left, "left for the next run")) if n)
        return f"{self.sent:,} events sent, {self.failed:,} failed (retried next run){extra}"


def _iso(value: datetime) -> str:
    """An instant as ISO 8601 with its offset, in UTC (Brevo wants the offset)."""
    return value.astimezone(timezone.utc).isoformat()


def event_body(row: dict[str, Any], contact_properties: dict[str, Any]) -> dict[str, Any]:
    """The `POST /events` body of one transition: no key with a NULL (Brevo takes none)."""
    properties = {}
    for key, column in _PROPERTIES.items():
        value = row[column]
        if value is not None:
            properties[key] = _iso(value) if isinstance(value, datetime) else value
    body = {"event_name": EVENT_PREFIX + row["transition"], "event_date": _iso(row["occurred_at"]),
            "identifiers": {"email_id": row["email"]}, "event_properties": properties}
    if contact_properties:
        body["contact_properties"] = contact_properties
    return body


def _status(exc: Exception) -> int | None:
    """The HTTP status of a refusal (None: no answer, or not an HTTP error)."""
    return getattr(exc.response, "status_code", None) if isinstance(exc, requests.HTTPError) else None


def _send(client: BrevoClient, body: dict[str, Any]) -> str | None:
    """POST one event; if Brevo refuses it with contact_properties, once more without them. Returns
    None, or why the event went without them; raises the last refusal."""
    try:
        client.post("/events", body)
        return None
    except requests.HTTPError as exc:
        if _status(exc) not in _BAD_VALUE or "contact_properties" not in body:
            raise
        why = refusal("POST /events", exc)
    client.post("/events", {k: v for k, v in body.items() if k != "contact_properties"})
    return f"sent without contact_properties: {why}"[:500]


def check_model(con: Connection) -> None:
    if not con.has_table(*TABLE.split(".")):
        raise ConfigError(f"the warehouse has no {TABLE}: run `calendly-elt transform` first")


def events_since(con: Connection, mapping: Mapping, run_id: str, now: datetime, *, remember: bool) -> datetime:
    """Where events start: the mapping's `events_since`, else the first events sync's time, which the
    first sync remembers (`remember`), so that it stays the start when the mapping's value is removed."""
    stored = stored_events_since(con) if con.has_table(SCHEMA, "events_since") else None
    if stored is None and remember:
        store_events_since(con, mapping.booking_events.events_since or now, run_id)
    return mapping.booking_events.events_since or stored or now


def due_transitions(con: Connection, mapping: Mapping, since: datetime) -> list[dict[str, Any]]:
    """The transitions to send, oldest first: sent ones and invalid addresses are not due again."""
    transitions = mapping.booking_events.transitions()
    if not transitions:
        return []
    has_state = con.has_table(SCHEMA, "event_state")
    state_join = f"left join {SCHEMA}.event_state as state on state.transition_key = t.transition_key" \
        if has_state else ""
    not_done = "and (state.outcome is null or state.outcome = 'failed')" if has_state else ""
    cursor = con.execute(
        f"""select {", ".join(f"t.{c}" for c in _COLUMNS)}, coalesce(c.email_is_valid, true) as email_is_valid
            from {TABLE} as t
            left join marts.brevo_contacts as c on c.email = t.email
            {state_join}
            where t.transition in ({", ".join(["%s"] * len(transitions))}) and t.occurred_at >= %s {not_done}
            order by t.occurred_at, t.transition_key""",
        [*transitions, since])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values)) for values in cursor.fetchall()]


def send_events(con: Connection, client: BrevoClient, mapping: Mapping, run_id: str,
                attributes: dict[str, dict[str, Any]], progress: Progress) -> EventsSummary:
    """Send every due transition, one at a time, each recorded the moment Brevo has answered.
    `attributes`: email → the contact's attributes with a value (marts.brevo_contacts)."""
    started = time.monotonic()
    summary = EventsSummary()
    if not mapping.booking_events.transitions():
        return summary
    summary.since = events_since(con, mapping, run_id, datetime.now(timezone.utc), remember=True)
    due = due_transitions(con, mapping, summary.since)
    summary.due = len(due)
    for n, row in enumerate(due):
        key = (run_id, row["transition_key"], row["invitee_uri"], row["transition"], row["occurred_at"])
        if not row["email_is_valid"]:
            record_event(con, *key, "invalid", "not a valid email address: not sent")
            summary.invalid += 1
            continue
        try:
            note = _send(client, event_body(row, attributes.get(row["email"], {})))
        except Exception as exc:  # noqa: BLE001 – recorded; the run goes on, or stops for Brevo's sake
            record_event(con, *key, "failed", refusal("POST /events", exc))
            summary.failed += 1
            progress.add(events_failed=1)
            if _status(exc) not in _REFUSED:
                summary.left = len(due) - n - 1  # Brevo down or the key refused: the others wait
                break
            continue
        record_event(con, *key, "sent", note)
        summary.sent += 1
        summary.without_properties += note is not None
        progress.add(events_sent=1)
    summary.requests = client.requests_sent
    summary.throttled = client.pacer.throttled
    summary.seconds = time.monotonic() - started
    return summary
