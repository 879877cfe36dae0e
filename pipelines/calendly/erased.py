"""People erased by `calendly-elt forget`, kept out of later loads (docs/erasure.md).

Calendly goes on listing an erased person's old bookings (its own deletion only anonymizes them and
keeps their URIs), and webhooks may deliver them again. Each extract therefore drops, before the load,
what the erasure removed from the warehouse, by the same rule:
- a row that is an erased person's own is dropped whole, with its nested lists: it names one of their
  invitees (`uri`, `submitter`, `invitee`: by the invitee's uuid), one of its identity fields (`email`,
  `…_email`, nested objects included: one row in the warehouse) is their address, or it is a routing form
  submission answered with it;
- an entry of a nested list (a child table's row: an event's guest, an answer) that holds an erased
  address is removed alone;
- a field of any other row that holds it, alone (someone else's UTM source) or inside a longer text
  (their cancellation reason), is set to None;
- an erased invitee's event that they cancelled (canceler_type `invitee`) loses `canceled_by`, their
  name (in a group event it may be the name of whoever cancelled last: it goes too).
An address is found by the rule of pipelines/erasure/address.py (a whole address: not joann@… for ann@…).
Only what was created before the erasure goes: a person who books again afterwards comes back. An
entry's `created_at` decides, else its row's.

No email is kept: a salted SHA-256 of each (the salt lives in the warehouse, `erasure.salt`), so the
check per string is a hash and a set lookup per address the rule finds in it, and only for strings that
hold an `@`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping, Optional

from ..erasure.address import candidates, is_identity
from .helpers import parse_time, uuid_from_uri

# Fields of a row that name an invitee by URI.
_INVITEE_FIELDS = ("uri", "submitter", "invitee")


def normalize_email(email: str) -> str:
    """How an address is matched everywhere: trimmed, lower-cased."""
    return email.strip().lower()


def email_hash(salt: str, email: str) -> str:
    """The salted SHA-256 of a normalized address: what `erasure.requests` keeps instead of it."""
    return hashlib.sha256(f"{salt}:{normalize_email(email)}".encode()).hexdigest()


def _created(value: Any, fallback: Optional[datetime]) -> Optional[datetime]:
    if isinstance(value, str):
        try:
            return parse_time(value)
        except ValueError:
            return fallback
    return value if isinstance(value, datetime) else fallback


@dataclass(frozen=True)
class ErasedPeople:
    salt: str
    emails: Mapping[str, datetime] = field(default_factory=dict)  # salted hash → when erased (the latest)
    invitees: Mapping[str, datetime] = field(default_factory=dict)  # invitee uuid → when erased
    events: Mapping[str, datetime] = field(default_factory=dict)  # their invitees' event uuids → when erased

    def __bool__(self) -> bool:
        return bool(self.emails or self.invitees)

    # ------------------------------------------------------------------ the two steps of a resource
    def keeps(self, row: Any) -> bool:
        """False for a row that is an erased person's own (a filter step): it names one of their
        invitees, one of its identity fields is their address, or it is a routing form submission
        answered with it."""
        if not isinstance(row, dict):
            return True
        for name in _INVITEE_FIELDS:
            value = row.get(name)
            if isinstance(value, str) and "/invitees/" in value and uuid_from_uri(value) in self.invitees:
                return False
        if not self.emails:
            return True
        created = _created(row.get("created_at"), None)
        if self._is_theirs(row, created):
            return False
        answers = row.get("questions_and_answers") if "routing_form" in row else None
        return not (isinstance(answers, list) and any(
            isinstance(a, dict) and isinstance(a.get("answer"), str) and self._is_address(a["answer"], created)
            for a in answers))

    def scrub(self, row: Any) -> Any:
        """A kept row without what mentions an erased address (a map step): a nested-list entry (a child
        table's row: a guest, an answer) that holds it goes; a field of the row that holds it (someone
        else's UTM source, their cancellation reason) is set to None."""
        if not isinstance(row, dict):
            return row
        created = _created(row.get("created_at"), None)
        return self._without_canceler(self._scrub_dict(row, created) if self.emails else row, created)

    # ------------------------------------------------------------------ deliveries
    def drops_payload(self, payload: Mapping[str, Any]) -> bool:
        """A webhook payload (an invitee, or a submission) whose resource the extract would drop."""
        return isinstance(payload, dict) and not self.keeps(payload)

    # ------------------------------------------------------------------ internals
    def _without_canceler(self, row: dict, created: Optional[datetime]) -> dict:
        """An erased invitee's event that they cancelled, without their name as `canceled_by`."""
        cancellation, uri = row.get("cancellation"), row.get("uri")
        if not (self.events and isinstance(cancellation, dict) and cancellation.get("canceler_type") == "invitee"
                and cancellation.get("canceled_by") and isinstance(uri, str) and "/scheduled_events/" in uri
                and "/invitees/" not in uri):
            return row
        when = self.events.get(uuid_from_uri(uri))
        if when is None or (created is not None and created > when):
            return row
        return {**row, "cancellation": {**cancellation, "canceled_by": None}}

    def _when(self, email: str) -> Optional[datetime]:
        return self.emails.get(email_hash(self.salt, email))

    def _is_address(self, text: str, created: Optional[datetime]) -> bool:
        """`text` is an erased address (trimmed, any case), erased after `created`."""
        if "@" not in text:
            return False
        when = self._when(text)
        return when is not None and (created is None or created <= when)

    def _mentions(self, text: str, created: Optional[datetime]) -> bool:
        """`text` holds an erased address, erased after `created`."""
        if "@" not in text:
            return False
        for address in candidates(text):
            when = self._when(address)
            if when is not None and (created is None or created <= when):
                return True
        return False

    def _is_theirs(self, row: Mapping[str, Any], created: Optional[datetime]) -> bool:
        """One of the row's identity fields (nested objects included: one row in the warehouse) is an
        erased address."""
        return self._any_field(row, created, self._is_address, identity=True)

    def _own_fields_mention(self, row: Mapping[str, Any], created: Optional[datetime]) -> bool:
        """One of the row's own fields (nested objects included) holds an erased address in its text."""
        return self._any_field(row, created, self._mentions)

    def _any_field(self, row: Mapping[str, Any], created: Optional[datetime],
                   test: Callable[[str, Optional[datetime]], bool], identity: bool = False) -> bool:
        for key, value in row.items():
            if isinstance(value, str):
                if (not identity or is_identity(str(key))) and test(value, created):
                    return True
            elif isinstance(value, dict) and self._any_field(value, created, test, identity):
                return True
        return False

    def _scrub_dict(self, row: dict, created: Optional[datetime]) -> dict:
        changed: Optional[dict] = None
        for key, value in row.items():
            if isinstance(value, list):
                kept: Any = self._scrub_list(value, created)
            elif isinstance(value, dict):
                kept = self._scrub_dict(value, created)
            elif isinstance(value, str) and self._mentions(value, created):
                kept = None
            else:
                continue
            if kept is not value:
                changed = changed if changed is not None else dict(row)
                changed[key] = kept
        return row if changed is None else changed

    def _scrub_list(self, items: list, created: Optional[datetime]) -> list:
        kept = []
        for item in items:
            if isinstance(item, dict):
                own = _created(item.get("created_at"), created)
                if self._own_fields_mention(item, own):
                    continue
                item = self._scrub_dict(item, own)
            elif isinstance(item, str) and self._mentions(item, created):
                continue
            kept.append(item)
        return items if len(kept) == len(items) and all(a is b for a, b in zip(kept, items)) else kept
