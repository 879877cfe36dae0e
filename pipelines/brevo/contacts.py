"""The contacts to send, as dbt built them: `marts.brevo_contacts` holds the whole Brevo payload (one
column per attribute, the lists, the SMS rules, the email check, the notes and the hash; see
dbt_project/models/marts/brevo_contacts.sql). Here it is only read, never recomputed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ConfigError
from ..mapping import PAYLOAD_COLUMNS, Mapping
from ..warehouse import Connection
from .settings import FIELD_TYPES

TABLE = "marts.brevo_contacts"


@dataclass
class BrevoContact:
    email: str
    attributes: dict[str, Any]  # the attributes that have a value: Brevo leaves the others as they are
    lists: list[str]  # list keys: names, or `#<id>` for a list the mapping gives by id
    payload_hash: str  # changes exactly when what Brevo would receive changes
    notes: list[str] = field(default_factory=list)  # what was left out, for the sync log
    valid: bool = True
    # Attributes to blank in Brevo before the push (an import leaves out what it is not given): an SMS
    # another contact takes, a re-booking link whose episode ended (rebook_links.attach).
    blank: list[str] = field(default_factory=list)


def attribute_types(mapping: Mapping) -> dict[str, str]:
    """Brevo attribute → the type it needs (MEETING_DATE is a date; the re-booking link is text)."""
    types = {attribute: FIELD_TYPES.get(source, "text") for attribute, source in mapping.attribute_sources().items()}
    if mapping.rebooking_links.enabled:
        types[mapping.rebooking_links.attribute] = "text"
    return types


def read_contacts(con: Connection, mapping: Mapping) -> list[BrevoContact]:
    """Every row of marts.brevo_contacts, by email. The model must have been built with this mapping's
    attributes (a transform after the mapping changed): its columns are the attributes it sends."""
    cursor = con.execute(f"select * from {TABLE} order by email")
    columns = [d[0] for d in cursor.description]
    attributes = [c for c in columns if c not in PAYLOAD_COLUMNS]
    wanted = mapping.brevo_attributes()
    if set(attributes) != set(wanted):
        raise ConfigError(f"{TABLE} has the attributes {', '.join(attributes) or 'none'}, the mapping "
                          f"{', '.join(wanted) or 'none'}: run `calendly-elt transform` after changing the mapping")
    sms = [attribute for attribute, column in wanted.items() if column == "phone_e164"]
    contacts = []
    for values in cursor.fetchall():
        row = dict(zip(columns, values))
        contacts.append(BrevoContact(
            email=row["email"],
            attributes={a: row[a] for a in wanted if row[a] is not None},
            lists=json.loads(row["lists"]),
            payload_hash=row["payload_hash"],
            notes=[row["notes"]] if row["notes"] else [],
            valid=bool(row["email_is_valid"]),
            blank=list(sms) if row["sms_kept_by"] else [],
        ))
    return contacts
