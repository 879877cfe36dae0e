"""The landing store: accepted webhook deliveries, appended durably to a SQLite file beside the warehouse.

Not the warehouse itself: DuckDB has one writer and fails at once on a conflict (DESIGN.md), so the
receiver never opens it; a later stage reads `pending()` rows into the warehouse and marks them processed.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

from ..config import Settings

# How long a settled delivery (merged or set aside) stays in the store, counted from when it was settled.
# At least a day (prune() refuses less): Calendly retries a delivery for 24 hours, so a retry always finds
# its delivery still there and is answered "already landed" instead of landing, and being merged, twice.
DEFAULT_RETENTION_DAYS = 30
_PRUNE_BATCH = 2000  # rows deleted per transaction (~50 ms): a delivery waits for one batch at most
# Between two batches, the write lock is left free this long (seconds). A waiting writer retries after 1, 2,
# 5, 10, 15, 20, 25, 25… ms (SQLite's busy handler), so it lands in the pause; without the pause the pruner
# took the lock again at once, and a delivery could wait for most of the prune (tested: 0.11 s of 0.15 s).
_PRUNE_PAUSE = 0.05

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
-- Settled rows by when: what prune() looks for, without reading the bodies of the rows it keeps.
create index if not exists webhook_events_settled on webhook_events (processed_at) where processed_at is not null;
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
class PruneCounts:
    processed: int  # merged deliveries deleted
    rejected: int  # deliveries set aside, deleted
    signatures: int  # remembered signatures forgotten


def _check_retention(retention_days: float) -> float:
    if not 1 <= retention_days < float("inf"):  # `not <=` also refuses nan
        raise ValueError(f"retention_days must be at least 1 (Calendly retries for a day), not {retention_days!r}")
    return retention_days


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
    call opened its own (bench/webhook_receiver_bench.py).

    `retention_days`: how long `mark_processed` keeps settled deliveries (see `prune`)."""

    def __init__(self, path: Path | str, *, retention_days: float = DEFAULT_RETENTION_DAYS) -> None:
        self.path = Path(path)
        self.retention_days = _check_retention(retention_days)
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
            # check_same_thread off so that close() can close other threads' connections (raised before);
            # each connection is still used by its own thread only.
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
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
        """Mark deliveries merged downstream; returns how many were still pending. Then prunes what was
        settled more than `retention_days` ago: this is the extract's last write to the store, once per
        run, so pruning here costs one indexed query when nothing has expired, and no second schedule."""
        ids = list(ids)
        moment = time.time() if now is None else now
        marked = 0
        if ids:
            with self._transaction() as con:
                marked = sum(
                    con.execute("update webhook_events set processed_at = ? where id = ? and processed_at is null",
                                (_iso(moment), delivery_id)).rowcount for delivery_id in ids)
        try:
            self.prune(self.retention_days, now=moment)
        except sqlite3.OperationalError as exc:  # locked past the busy timeout: the marks stand, the next run prunes
            logging.getLogger(__name__).warning("webhook landing store: pruning postponed (%s)", exc)
        return marked

    def prune(self, retention_days: float = DEFAULT_RETENTION_DAYS, *, now: float | None = None) -> PruneCounts:
        """Delete deliveries settled more than `retention_days` before `now`, and remembered signatures
        as old. Pending deliveries are never deleted.

        Deliveries set aside are kept exactly as long as merged ones: they carry the same personal data
        (invitee names, emails, answers), and the extract names each one with its reason when it sets it
        aside, so a month is ample time for someone to look (`rejected()`).

        The newest row is always kept, whatever its age: SQLite gives a new row max(rowid) + 1, so deleting
        the newest would hand its rowid to the next delivery, and the Dagster sensor's run key
        (`landed-<newest rowid>`) would repeat one already used, a run Dagster skips.

        Rows go in batches of one transaction each, with a pause between them, so a delivery arriving
        meanwhile waits for one batch at most (the receiver's busy timeout is 30 s); it is never refused,
        and never deleted (it is pending).
        Freed pages are not returned to the file system: SQLite reuses them for the next deliveries,
        so the file stops growing at about (retention + the time between extracts) of traffic.
        bench/landing_retention_bench.py measures it, and why VACUUM is not worth it."""
        moment = time.time() if now is None else now
        before = max(moment - _check_retention(retention_days) * 86_400, 0)  # _iso() stops at year 1
        processed = self._delete_settled(_iso(before), "error is null")
        rejected = self._delete_settled(_iso(before), "error is not null")
        # The receiver already forgets signatures older than its tolerance window at every delivery; what
        # stays is the last window's, once deliveries stop. The extract does not know the receiver's
        # --tolerance-seconds, so it forgets only those older than the retention: far beyond any tolerance
        # (180 s by default), so no replay can get through that the receiver would have refused.
        with self._transaction() as con:
            signatures = con.execute("delete from webhook_signatures where t < ?", (before,)).rowcount
        return PruneCounts(processed=processed, rejected=rejected, signatures=signatures)

    def _delete_settled(self, before: str, which: str) -> int:
        deleted = 0
        while True:
            with self._transaction() as con:
                # processed_at is always _iso(): one format, so text order is time order.
                batch = con.execute(
                    "delete from webhook_events where rowid in (select rowid from webhook_events "
                    f"where processed_at is not null and processed_at < ? and {which} "
                    "and rowid < (select max(rowid) from webhook_events) limit ?)",
                    (before, _PRUNE_BATCH)).rowcount
            deleted += batch
            if batch < _PRUNE_BATCH:
                return deleted
            time.sleep(_PRUNE_PAUSE)

    def mark_rejected(self, reasons: dict[str, str], *, now: float | None = None) -> int:
        """Set aside deliveries that cannot be merged, with the reason; they stay in the store until pruned."""
        if not reasons:
            return 0
        stamp = _iso(time.time() if now is None else now)
        with self._transaction() as con:
            return sum(
                con.execute("update webhook_events set processed_at = ?, error = ? "
                            "where id = ? and processed_at is null", (stamp, reason, delivery_id)).rowcount
                for delivery_id, reason in reasons.items())

    def scrub(self, ids: Iterable[str], *, now: float | None = None) -> int:
        """Empty the bodies of these deliveries (people `calendly-elt forget` erased) and settle them.
        The row stays, without its content: its id (the SHA-256 of the body) makes a retry of the same
        delivery "already landed" instead of landing the person again, and keeping the newest row keeps
        the rowids the sensor's run keys rely on (see `prune`). Pruned like any settled delivery.
        Deleted pages are overwritten (secure_delete) and the WAL truncated, so the file holds no copy."""
        ids = list(ids)
        if not ids:
            return 0
        stamp = _iso(time.time() if now is None else now)
        with self._connect() as con:
            con.execute("pragma secure_delete = on")
        with self._transaction() as con:
            scrubbed = sum(con.execute(
                "update webhook_events set body = '{}', processed_at = coalesce(processed_at, ?), "
                "error = 'erased by calendly-elt forget' where id = ?", (stamp, delivery_id)).rowcount
                for delivery_id in ids)
        with self._connect() as con:
            con.execute("pragma wal_checkpoint(truncate)")
        return scrubbed

    def redact(self, bodies: dict[str, str]) -> int:
        """Replace the bodies of these deliveries (by id) with redacted ones – an erased person's entries
        taken out – leaving no copy of the old ones in the file (see `scrub`)."""
        if not bodies:
            return 0
        with self._connect() as con:
            con.execute("pragma secure_delete = on")
        with self._transaction() as con:
            done = sum(con.execute("update webhook_events set body = ? where id = ?", (body, delivery_id)).rowcount
                       for delivery_id, body in bodies.items())
        with self._connect() as con:
            con.execute("pragma wal_checkpoint(truncate)")
        return done

    def read(self, ids: Iterable[str]) -> list[tuple[str, bool, str]]:
        """(id, still pending, body) of these deliveries."""
        ids = list(ids)
        out: list[tuple[str, bool, str]] = []
        with self._connect() as con:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                out += [(row[0], row[1] is None, row[2]) for row in con.execute(
                    f"select id, processed_at, body from webhook_events where id in ({', '.join('?' * len(chunk))})",
                    chunk)]
        return out

    def mentioning(self, needles: Iterable[str]) -> list[str]:
        """The ids of the deliveries whose body holds one of `needles` by the erasure's rule (an address
        as a whole address: pipelines/erasure/address.py); `instr` picks the bodies worth testing."""
        from ..erasure.address import found

        needles = [n.lower() for n in needles if n]
        if not needles:
            return []
        where = " or ".join(["instr(lower(body), ?) > 0"] * len(needles))
        with self._connect() as con:
            rows = con.execute(f"select id, body from webhook_events where {where}", needles).fetchall()
        return [delivery_id for delivery_id, body in rows if found(body, needles)]

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
