"""What each contact of `marts.contacts` becomes in Brevo: attributes, lists, and why anything was left out."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..mapping import QUESTION_FIELDS, Mapping
from .settings import EVENT_TYPE_LIST, FIELD_TYPES

# The address shape Brevo accepts (local part, `@`, a dotted domain of letters, digits and hyphens).
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")

# marts.contacts column of each contact field the mapping may name
_COLUMNS = {"first_name": "first_name", "last_name": "last_name", "company": "company",
            "job_title": "job_title", "phone": "phone_e164", "event_type_name": "latest_event_type_name",
            "start_time": "latest_start_time", "booking_status": "booking_status"}


@dataclass
class BrevoContact:
    email: str
    attributes: dict[str, Any]
    lists: list[str]  # list names: the all-invitees list and one per event type booked
    notes: list[str] = field(default_factory=list)  # what was left out, for the sync log
    valid: bool = True
    release_sms: list[str] = field(default_factory=list)  # SMS attributes to blank: another contact takes the number

    @property
    def payload_hash(self) -> str:
        """Changes exactly when what Brevo would receive changes."""
        blob = json.dumps({"attributes": self.attributes, "lists": sorted(self.lists)}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


def _utc_date(value: datetime) -> str:
    """Brevo dates are YYYY-MM-DD; the meeting's date in UTC, as the marts keep it."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.date().isoformat()


def attribute_sources(mapping: Mapping) -> dict[str, str]:
    """Brevo attribute → contact field, for every attribute the sync can fill."""
    sources = {}
    for attribute, spec in mapping.field_mapping.items():
        if isinstance(spec, dict):
            if attribute in QUESTION_FIELDS:
                sources[attribute] = QUESTION_FIELDS[attribute]
        else:
            sources[attribute] = spec
    return sources


def attribute_types(mapping: Mapping) -> dict[str, str]:
    return {attribute: FIELD_TYPES.get(source, "text") for attribute, source in attribute_sources(mapping).items()}


def event_type_list(mapping: Mapping, event_type: str) -> str | dict:
    """The list of an event type: mapped (`{"list_id": n}` or a name) or "Calendly: <name>"."""
    mapped = mapping.event_mapping.get(event_type)
    if mapped and "list_id" in mapped:
        return {"list_id": int(mapped["list_id"])}
    if mapped:
        return str(mapped["list_name"])
    return EVENT_TYPE_LIST.format(name=event_type)


def _list_key(value: str | dict) -> str:
    return f"#{value['list_id']}" if isinstance(value, dict) else value


def build_contacts(rows: list[dict], event_types: dict[str, list[str]], mapping: Mapping) -> list[BrevoContact]:
    """Brevo contacts from `marts.contacts` rows (and each email's event types).

    An invalid email is kept out (`valid=False`); a phone that is not E.164 is dropped from that
    contact only; when several contacts give one phone, the contact who booked most recently keeps it
    (Brevo refuses an SMS that another contact holds)."""
    sources = attribute_sources(mapping)
    sms_attributes = [a for a, s in sources.items() if s == "phone"]
    holders: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: (r["last_booked_at"], r["email"])):
        if row.get("phone_e164"):
            holders[row["phone_e164"]] = row["email"]  # the latest booker wins
    contacts = []
    for row in rows:
        notes: list[str] = []
        release: list[str] = []
        attributes: dict[str, Any] = {}
        for attribute, source in sources.items():
            value = row.get(_COLUMNS[source])
            if source == "start_time" and value is not None:
                value = _utc_date(value)
            if value is not None:
                attributes[attribute] = value
        for attribute in sms_attributes:
            if row.get("phone") and not row.get("phone_e164"):
                notes.append(f"phone {row['phone']!r} dropped: not a valid number for its country")
            sms = attributes.get(attribute)
            if sms and not _E164.match(sms):
                attributes.pop(attribute)
                notes.append(f"phone {sms!r} dropped: not E.164")
            elif sms and holders.get(sms) != row["email"]:
                attributes.pop(attribute)
                notes.append(f"phone {sms} dropped: {holders[sms]} has it too (Brevo keeps an SMS on one contact)")
                release.append(attribute)
        lists = [mapping.all_invitees_list] + sorted(
            {_list_key(event_type_list(mapping, t)) for t in event_types.get(row["email"], [])})
        valid = bool(_EMAIL.match(row["email"]))
        if not valid:
            notes.append("not a valid email address: not sent")
        contacts.append(BrevoContact(row["email"], attributes, lists, notes, valid, release))
    return contacts
