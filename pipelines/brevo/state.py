"""Sync state and per-row sync log, in the warehouse's `brevo_sync` schema.

`contact_state` holds, per email, the hash of what Brevo last accepted, when, and the outcome; a run
sends the contacts that are new, changed, or not `synced`. `sync_log` keeps every outcome of every
run. Both are written in one transaction at the end of a run (or of each import), so a killed sync
leaves the state of the last completed write, and the next run resends the rest: imports are
upserts, so sending again never doubles a contact.
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
