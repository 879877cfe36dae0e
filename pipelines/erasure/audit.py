"""The `erasure` schema: what an auditor reads to tell that someone was erased, and what later extracts
read to keep them out. It never holds an address: a salted SHA-256 of it (`email_hash`).

- `erasure.salt`: one random salt for the installation, made by the first erasure. The same person
  always hashes the same way here, so a later extract recognises them, and `forget --check` answers
  "was X erased?"; without the salt (kept out of the analysts' snapshot) the hashes cannot be tested
  against guessed addresses.
- `erasure.requests`: one row per person per erasure – hash, when, the run, rows removed per table
  (JSON), and what Brevo and Calendly answered.
- `erasure.invitees`: the erased invitee URIs (not personal data by themselves), with the hash and when:
  Calendly keeps listing those bookings, anonymized or not.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Optional

from ..calendly.erased import ErasedPeople, email_hash
from ..calendly.helpers import uuid_from_uri
from ..warehouse import Connection, Warehouse, connect

SCHEMA = "erasure"

_DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.salt (
    salt varchar not null,
    created_at timestamp with time zone not null
);
create table if not exists {SCHEMA}.requests (
    email_hash varchar not null,
    erased_at timestamp with time zone not null,
    run_id varchar not null,
    rows_removed varchar not null,    -- JSON: schema.table → rows
    invitees integer not null,        -- invitee URIs now kept out of later loads
    brevo varchar,                    -- deleted | absent | skipped: … | failed: …
    calendly varchar                  -- requested | not requested | refused: … | failed: …
);
create table if not exists {SCHEMA}.invitees (
    invitee_uri varchar not null,
    email_hash varchar not null,
    erased_at timestamp with time zone not null
);
"""


def ensure_tables(con: Connection) -> None:
    con.execute(_DDL)


def salt(con: Connection) -> str:
    """The installation's salt, made on first use."""
    row = con.execute(f"select salt from {SCHEMA}.salt order by created_at limit 1").fetchone()
    if row:
        return row[0]
    made = secrets.token_hex(32)
    con.execute(f"insert into {SCHEMA}.salt values (%s, %s)", [made, datetime.now(timezone.utc)])
    return made


@dataclass(frozen=True)
class Request:
    email_hash: str
    erased_at: datetime
    run_id: str
    rows_removed: dict[str, int]
    invitee_uris: tuple[str, ...]


def record(con: Connection, request: Request) -> None:
    """The person's request row and erased invitees (inside the caller's transaction)."""
    con.execute(f"insert into {SCHEMA}.requests values (%s, %s, %s, %s, %s, null, null)",
                [request.email_hash, request.erased_at, request.run_id,
                 json.dumps(request.rows_removed, sort_keys=True), len(request.invitee_uris)])
    known = {row[0] for row in con.execute(f"select invitee_uri from {SCHEMA}.invitees").fetchall()}
    rows = [(uri, request.email_hash, request.erased_at) for uri in request.invitee_uris if uri not in known]
    if rows:
        con.executemany(f"insert into {SCHEMA}.invitees values (%s, %s, %s)", rows)


def record_outcome(con: Connection, run_id: str, hashed: str, *, brevo: Optional[str] = None,
                   calendly: Optional[str] = None) -> None:
    con.execute(f"update {SCHEMA}.requests set brevo = coalesce(%s, brevo), calendly = coalesce(%s, calendly) "
                "where run_id = %s and email_hash = %s", [brevo, calendly, run_id, hashed])


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def erased_people(warehouse: Warehouse) -> Optional[ErasedPeople]:
    """Who was erased, for the extract's filter; None before the first erasure (or the first load)."""
    if warehouse.absent:
        return None
    with connect(warehouse) as con:
        if not con.has_table(SCHEMA, "requests"):
            return None
        found = con.execute(f"select salt from {SCHEMA}.salt order by created_at limit 1").fetchone()
        if not found:
            return None
        emails = {h: _aware(at) for h, at in con.execute(
            f"select email_hash, max(erased_at) from {SCHEMA}.requests group by email_hash").fetchall()}
        uris = con.execute(f"select invitee_uri, max(erased_at) from {SCHEMA}.invitees group by invitee_uri").fetchall()
    invitees = {uuid_from_uri(uri): _aware(at) for uri, at in uris}
    events: dict = {}
    for uri, at in uris:  # …/scheduled_events/<event uuid>/invitees/<uuid>
        event = uuid_from_uri(uri.rsplit("/invitees/", 1)[0]) if "/invitees/" in uri else None
        if event:
            events[event] = max(events.get(event, _aware(at)), _aware(at))
    people = ErasedPeople(salt=found[0], emails=emails, invitees=invitees, events=events)
    return people or None


@dataclass(frozen=True)
class Check:
    """`forget --check`: whether and when an address was erased, and what the erasure reported."""
    email: str
    requests: list[tuple]  # (erased_at, run_id, rows_removed JSON, invitees, brevo, calendly)

    def line(self) -> str:
        if not self.requests:
            return f"{self.email}: no erasure recorded"
        at, run_id, rows, invitees, brevo, calendly = self.requests[-1]
        removed = sum(json.loads(rows).values())
        return (f"{self.email}: erased {_aware(at).astimezone(timezone.utc):%Y-%m-%d %H:%M:%S}Z (run {run_id}; {removed:,} rows, "
                f"{invitees} invitees kept out of later loads; Brevo: {brevo or 'unknown'}; Calendly: "
                f"{calendly or 'unknown'})" + (f"; {len(self.requests)} erasures in all" if len(self.requests) > 1 else ""))


def checks(warehouse: Warehouse, emails: Iterable[str]) -> list[Check]:
    with connect(warehouse, read_only=True) as con:
        if not con.has_table(SCHEMA, "requests"):
            return [Check(email, []) for email in emails]
        row = con.execute(f"select salt from {SCHEMA}.salt order by created_at limit 1").fetchone()
        out = []
        for email in emails:
            found = [] if not row else con.execute(
                f"select erased_at, run_id, rows_removed, invitees, brevo, calendly from {SCHEMA}.requests "
                "where email_hash = %s order by erased_at", [email_hash(row[0], email)]).fetchall()
            out.append(Check(email, found))
        return out
