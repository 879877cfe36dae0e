"""The landing store: accepted webhook deliveries, appended durably to a SQLite file beside the warehouse.

Not the warehouse itself: DuckDB has one writer and fails at once on a conflict (DESIGN.md), so the
receiver never opens it; a later stage reads `pending()` rows into the warehouse and marks them processed.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

from ..config import Settings

_SCHEMA = """
create table if not exists webhook_events (
    id text primary key,        -- sha256 of the raw body: Calendly's retries of a delivery carry the same body
    event text not null,        -- e.g. invitee.canceled
    created_at text,            -- the delivery's own created_at
    received_at text not null,
    body text not null,         -- the raw JSON, as signed
    processed_at text,          -- set by the stage that merged the row
    error text                  -- why it could not be merged (then processed_at is set too)
);
create index if not exists webhook_events_pending on webhook_events (received_at) where processed_at is null;
-- Signed requests already accepted, kept for as long as their timestamp is within the tolerance window.
create table if not exists webhook_signatures (
    t integer not null,
    v1 text not null,
    primary key (t, v1)
) without rowid;
"""


def _insert(con: sqlite3.Connection, delivery_id: str, event: str, created_at: str | None, body: str,
            received_at: float) -> bool:
    """Land one delivery; False if one with this id already landed."""
    return con.execute(
        "insert or ignore into webhook_events (id, event, created_at, received_at, body) values (?, ?, ?, ?, ?)",
        (delivery_id, event, created_at, _iso(received_at), body)).rowcount == 1


def _remember(con: sqlite3.Connection, timestamp: int, signature: str, forget_before: float) -> bool:
    """Record a signed request; True if it was already recorded. Older ones are forgotten first."""
    con.execute("delete from webhook_signatures where t < ?", (forget_before,))
    return con.execute("insert or ignore into webhook_signatures (t, v1) values (?, ?)",
                       (timestamp, signature)).rowcount == 0


def landing_path(settings: Settings) -> Path:
    return settings.warehouse_path.parent / "landing" / "calendly_webhooks.sqlite"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class PendingSummary:
    count: int
    newest: int  # the newest pending row's rowid: a new delivery changes it (a sensor's run key)
    events: frozenset[str]


@dataclass(frozen=True)
class LandedEvent:
    id: str
    event: str
    created_at: str | None
    received_at: str
    body: str


class LandingStore:
    """One connection per thread, kept open (the app calls the store from a thread pool). Kept open because
    closing the last connection checkpoints and deletes the WAL: measured 1.3 ms of every call when each
    call opened its own (bench/webhook_receiver_bench.py)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()
        with self._connect() as con:
            con.execute("pragma journal_mode = wal")  # persistent: readers never block the receiver
            con.executescript(_SCHEMA)
            columns = {row[1] for row in con.execute("pragma table_info(webhook_events)")}
            if "error" not in columns:  # a store created before deliveries could be rejected
                con.execute("alter table webhook_events add column error text")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = getattr(self._local, "con", None)
        if con is None:
            # Autocommit (isolation_level=None): every statement, or explicit BEGIN…COMMIT, is one transaction.
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            # FULL: the WAL is fsynced at each commit, so a 200 means the delivery is on disk.
            con.execute("pragma synchronous = full")
            self._local.con = con
            with self._opened_lock:
                self._opened.append(con)
        yield con

    def close(self) -> None:
        """Close every thread's connection (the store is not used afterwards)."""
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for con in opened:
            con.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as con:
            con.execute("begin immediate")  # take the write lock now, not halfway through
            try:
                yield con
            except BaseException:
                con.execute("rollback")
                raise
            con.execute("commit")

    def append(self, delivery_id: str, event: str, created_at: str | None, body: str,
               *, received_at: float | None = None) -> bool:
        """Land one delivery; False if one with this id already landed (a retry)."""
        received = time.time() if received_at is None else received_at
        with self._connect() as con:
            return _insert(con, delivery_id, event, created_at, body, received)

    def accept(self, delivery_id: str, event: str, created_at: str | None, body: str, *, timestamp: int,
               signature: str, now: float, window_seconds: float) -> str:
        """The receiver's write, in one transaction: "replayed" if this signed request was seen within the
        window (nothing is written), else the delivery lands: "landed", or "duplicate" for a retry of
        one already landed. One lock and one commit per delivery instead of two."""
        with self._transaction() as con:
            if _remember(con, timestamp, signature, now - window_seconds):
                return "replayed"
            return "landed" if _insert(con, delivery_id, event, created_at, body, now) else "duplicate"

    def seen_signature(self, timestamp: int, signature: str, *, now: float, window_seconds: float) -> bool:
        """Remember a signed request; True if it was already seen (an exact replay). Signatures older than
        the window are forgotten: the tolerance check rejects those requests anyway."""
        with self._transaction() as con:
            return _remember(con, timestamp, signature, now - window_seconds)

    def pending(self, limit: int = 1000) -> list[LandedEvent]:
        """Landed deliveries not yet processed, oldest first."""
        with self._connect() as con:
            rows = con.execute(
                "select id, event, created_at, received_at, body from webhook_events "
                "where processed_at is null order by received_at, rowid limit ?", (limit,)).fetchall()
        return [LandedEvent(*row) for row in rows]

    def mark_processed(self, ids: Iterable[str], *, now: float | None = None) -> int:
        """Mark deliveries merged downstream; returns how many were still pending."""
        ids = list(ids)
        if not ids:
            return 0
        stamp = _iso(time.time() if now is None else now)
        with self._transaction() as con:
            return sum(
                con.execute("update webhook_events set processed_at = ? where id = ? and processed_at is null",
                            (stamp, delivery_id)).rowcount for delivery_id in ids)

    def mark_rejected(self, reasons: dict[str, str], *, now: float | None = None) -> int:
        """Set aside deliveries that cannot be merged, with the reason; they stay in the store."""
        if not reasons:
            return 0
        stamp = _iso(time.time() if now is None else now)
        with self._transaction() as con:
            return sum(
                con.execute("update webhook_events set processed_at = ?, error = ? "
                            "where id = ? and processed_at is null", (stamp, reason, delivery_id)).rowcount
                for delivery_id, reason in reasons.items())

    def pending_summary(self) -> PendingSummary:
        """How many deliveries wait, the newest one's position and their kinds: one cheap query."""
        with self._connect() as con:
            count, newest = con.execute(
                "select count(*), coalesce(max(rowid), 0) from webhook_events where processed_at is null").fetchone()
            events = frozenset(row[0] for row in con.execute(
                "select distinct event from webhook_events where processed_at is null"))
        return PendingSummary(count=count, newest=newest, events=events)

    def rejected(self) -> list[tuple[str, str, str]]:
        """(id, event, reason) of every delivery set aside."""
        with self._connect() as con:
            return con.execute("select id, event, error from webhook_events where error is not null "
                               "order by received_at").fetchall()

    def count(self) -> int:
        with self._connect() as con:
            return con.execute("select count(*) from webhook_events").fetchone()[0]
