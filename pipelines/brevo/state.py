"""Sync state and per-row sync log, in the warehouse's `brevo_sync` schema.

`contact_state` holds, per email, the hash of what Brevo last accepted, when, and the outcome; a run
sends the contacts that are new, changed, or not `synced`. `sync_log` keeps every outcome of every
run. Both are written in one transaction at the end of a run (or of each import), so a killed sync
leaves the state of the last completed write, and the next run resends the rest: imports are
upserts, so sending again never doubles a contact.

`event_state` holds, per booking transition (marts.booking_transitions' key), whether its Brevo custom
event was sent: written one event at a time, right after Brevo's answer, so a killed sync sends again
at most the event whose answer it had not recorded (pipelines/brevo/events.py). `events_since` keeps
the instant events start from, set by the first sync that sends events.

`rebook_links` holds, per re-booking episode (the invitee URI of a cancelled or no-show latest booking),
the single-use scheduling link minted for it, or why there is none (refused by Calendly, or failed and
tried again next run): written one link at a time, right after Calendly's answer
(pipelines/brevo/rebook_links.py). Its person columns are `email` and `invitee_uri`, as in the other
tables, so an erasure finds them.

`runs` has one row per sync that changed anything (not dry runs): written when it starts and completed
when it ends, so a row whose `finished_at` is NULL is a sync that died; its counts are the summary line's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from ..warehouse import Connection

SCHEMA = "brevo_sync"

_DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.contact_state (
    email varchar primary key,
    payload_hash varchar not null,
    outcome varchar not null,          -- synced | failed | invalid
    synced_at timestamp with time zone,
    last_run_id varchar,
    last_error varchar
);
create table if not exists {SCHEMA}.sync_log (
    run_id varchar not null,
    email varchar not null,
    operation varchar not null,        -- create | update
    result varchar not null,           -- synced | failed | invalid
    reason varchar,
    logged_at timestamp with time zone not null
);
create table if not exists {SCHEMA}.event_state (
    transition_key varchar primary key,
    invitee_uri varchar not null,
    transition varchar not null,
    occurred_at timestamp with time zone not null,
    outcome varchar not null,          -- sent | failed | invalid
    attempts integer not null,
    sent_at timestamp with time zone,
    last_run_id varchar,
    last_error varchar
);
create table if not exists {SCHEMA}.events_since (
    events_since timestamp with time zone not null,
    recorded_at timestamp with time zone not null,
    run_id varchar not null
);
create table if not exists {SCHEMA}.rebook_links (
    invitee_uri varchar primary key,   -- the episode: the cancelled or no-show booking
    email varchar not null,
    event_type_uri varchar not null,   -- the link's owner
    booking_url varchar,               -- the link, when minted
    outcome varchar not null,          -- minted | refused | failed
    attempts integer not null,
    minted_at timestamp with time zone,
    last_run_id varchar,
    last_error varchar,
    cleared_at timestamp with time zone  -- the episode ended and Brevo's attribute was blanked
);
-- when Calendly was last asked for the episode's link (a refusal is asked again a while after it)
alter table {SCHEMA}.rebook_links add column if not exists tried_at timestamp with time zone;
create table if not exists {SCHEMA}.runs (
    run_id varchar primary key,
    started_at timestamp with time zone not null,
    finished_at timestamp with time zone,
    sent integer,
    synced integer,
    failed integer,
    invalid integer,
    skipped integer,
    imports integer,
    requests integer
);
alter table {SCHEMA}.runs add column if not exists events_sent integer;
alter table {SCHEMA}.runs add column if not exists events_failed integer;
alter table {SCHEMA}.runs add column if not exists links_minted integer;
"""


@dataclass(frozen=True)
class Outcome:
    email: str
    operation: str  # create | update
    result: str  # synced | failed | invalid
    payload_hash: str
    reason: str | None = None


def ensure_tables(con: Connection) -> None:
    con.execute(_DDL)


def load_state(con: Connection) -> dict[str, tuple[str, str]]:
    """email → (payload_hash, outcome)."""
    return {email: (h, outcome) for email, h, outcome in
            con.execute(f"select email, payload_hash, outcome from {SCHEMA}.contact_state").fetchall()}


def record(con: Connection, run_id: str, outcomes: list[Outcome]) -> None:
    """Write outcomes to the state and the log, all or nothing."""
    if not outcomes:
        return
    now = datetime.now(timezone.utc)
    with con.transaction():
        con.executemany(
            f"""insert into {SCHEMA}.contact_state values (%s, %s, %s, %s, %s, %s)
                on conflict (email) do update set payload_hash = excluded.payload_hash,
                    outcome = excluded.outcome, synced_at = coalesce(excluded.synced_at, contact_state.synced_at),
                    last_run_id = excluded.last_run_id, last_error = excluded.last_error""",
            [(o.email, o.payload_hash if o.result != "failed" else "", o.result,
              now if o.result == "synced" else None, run_id, o.reason if o.result != "synced" else None)
             for o in outcomes])
        con.executemany(f"insert into {SCHEMA}.sync_log values (%s, %s, %s, %s, %s, %s)",
                        [(run_id, o.email, o.operation, o.result, o.reason, now) for o in outcomes])


def record_event(con: Connection, run_id: str, transition_key: str, invitee_uri: str, transition: str,
                 occurred_at: datetime, outcome: str, reason: str | None = None) -> None:
    """One event's outcome (sent | failed | invalid), committed at once: the exactly-once record."""
    now = datetime.now(timezone.utc)
    con.execute(
        f"""insert into {SCHEMA}.event_state values (%s, %s, %s, %s, %s, 1, %s, %s, %s)
            on conflict (transition_key) do update set outcome = excluded.outcome,
                attempts = event_state.attempts + 1, sent_at = excluded.sent_at,
                last_run_id = excluded.last_run_id, last_error = excluded.last_error""",
        [transition_key, invitee_uri, transition, occurred_at, outcome, now if outcome == "sent" else None,
         run_id, reason])


def start_run(con: Connection, run_id: str) -> None:
    con.execute(f"insert into {SCHEMA}.runs (run_id, started_at) values (%s, %s)",
                [run_id, datetime.now(timezone.utc)])


def finish_run(con: Connection, run_id: str, counts: dict[str, int]) -> None:
    """The run's counts, by `runs` column (sent, synced, failed, invalid, skipped, imports, requests,
    events_sent, events_failed, links_minted)."""
    names = sorted(counts)
    con.execute(f"update {SCHEMA}.runs set finished_at = %s, {', '.join(f'{n} = %s' for n in names)} "
                "where run_id = %s", [datetime.now(timezone.utc), *(counts[n] for n in names), run_id])


def stored_events_since(con: Connection) -> datetime | None:
    row = con.execute(f"select min(events_since) from {SCHEMA}.events_since").fetchone()
    return row[0] if row else None


def store_events_since(con: Connection, since: datetime, run_id: str) -> None:
    con.execute(f"insert into {SCHEMA}.events_since values (%s, %s, %s)",
                [since, datetime.now(timezone.utc), run_id])
