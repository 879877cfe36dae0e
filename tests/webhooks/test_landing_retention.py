"""Landing store hygiene: settled deliveries and remembered signatures are pruned after the retention;
pending deliveries never are; the file stops growing under steady traffic; a writer is never lost."""

import hashlib
import json
import sqlite3
import threading
import time

import pytest

from pipelines.webhooks import landing
from pipelines.webhooks.landing import DEFAULT_RETENTION_DAYS, LandingStore, PruneCounts

DAY = 86_400
T0 = 1_800_000_000  # the simulated clock's start


def body(n: int, size: int = 0) -> str:
    return json.dumps({"event": "invitee.canceled", "payload": {"uri": f"https://api.calendly.com/invitees/{n}",
                                                                 "pad": "x" * size}})


def land(store: LandingStore, n: int, at: float, size: int = 0) -> str:
    text = body(n, size)
    delivery_id = hashlib.sha256(text.encode()).hexdigest()
    assert store.append(delivery_id, "invitee.canceled", None, text, received_at=at)
    return delivery_id


def land_many(store: LandingStore, numbers: range, at: float, size: int) -> list[str]:
    """As `land`, in one transaction: thousands of fsyncs would make the simulated week slow."""
    ids = []
    with store._transaction() as con:
        for n in numbers:
            text = body(n, size)
            ids.append(hashlib.sha256(text.encode()).hexdigest())
            assert landing._insert(con, ids[-1], "invitee.canceled", None, text, at)
    return ids


def ids(store: LandingStore) -> set[str]:
    with store._connect() as con:
        return {row[0] for row in con.execute("select id from webhook_events")}


def signatures(store: LandingStore) -> list[int]:
    with store._connect() as con:
        return [row[0] for row in con.execute("select t from webhook_signatures order by t")]


def on_disk(store: LandingStore) -> int:
    wal = store.path.with_name(store.path.name + "-wal")
    return store.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def test_settled_deliveries_older_than_the_retention_go_newer_and_pending_ones_stay(store):
    old_merged, old_rejected, old_pending = land(store, 1, T0), land(store, 2, T0), land(store, 3, T0)
    on_the_day, recent = land(store, 4, T0), land(store, 5, T0 + 10 * DAY)
    store.mark_processed([old_merged], now=T0)
    store.mark_rejected({old_rejected: "payload is not an object"}, now=T0)
    store.mark_processed([on_the_day], now=T0 + DAY)
    store.mark_processed([recent], now=T0 + 10 * DAY)
    newest = land(store, 6, T0 + 30 * DAY)  # pending

    assert DEFAULT_RETENTION_DAYS == 30
    # Counted from when each was settled: exactly 30 days is not yet older than the retention.
    assert store.prune(now=T0 + 30 * DAY) == PruneCounts(processed=0, rejected=0, signatures=0)
    assert store.prune(now=T0 + 30 * DAY + 1) == PruneCounts(processed=1, rejected=1, signatures=0)
    assert ids(store) == {old_pending, on_the_day, recent, newest}
    assert store.rejected() == []
    assert [e.id for e in store.pending()] == [old_pending, newest]

    assert store.prune(now=T0 + 1000 * DAY) == PruneCounts(processed=2, rejected=0, signatures=0)
    assert ids(store) == {old_pending, newest}  # pending: never pruned, however old


def test_mark_processed_prunes_with_the_stores_retention(tmp_path):
    store = LandingStore(tmp_path / "landing.sqlite", retention_days=2)
    first = land(store, 1, T0)
    store.mark_processed([first], now=T0)
    second = land(store, 2, T0 + 2 * DAY)
    store.mark_processed([second], now=T0 + 2 * DAY)  # exactly two days: kept
    assert ids(store) == {first, second}
    store.mark_processed([], now=T0 + 3 * DAY)  # an extract that merged nothing still prunes
    assert ids(store) == {second}


def test_remembered_signatures_are_forgotten_after_the_retention(store):
    # The receiver forgets signatures older than its window whenever a delivery comes; those of the last
    # window stay once deliveries stop. prune() forgets them after the retention.
    for n, t in enumerate([T0, T0 + 1, T0 + 200]):
        assert store.accept(f"d{n}", "invitee.created", None, body(n), timestamp=t, signature=f"s{n}",
                            now=t, window_seconds=180) == "landed"
    assert signatures(store) == [T0 + 200]  # the receiver forgot the other two itself
    assert store.prune(now=T0 + 30 * DAY + 200).signatures == 0
    assert store.prune(now=T0 + 30 * DAY + 201).signatures == 1
    assert signatures(store) == []


def test_the_newest_row_stays_so_that_rowids_and_the_sensors_run_keys_never_repeat(store):
    delivered = [land(store, n, T0) for n in range(3)]
    store.mark_processed(delivered, now=T0)
    newest_before = store.pending_summary().newest
    assert newest_before == 0  # nothing pending
    with store._connect() as con:
        highest = con.execute("select max(rowid) from webhook_events").fetchone()[0]

    assert store.prune(now=T0 + 100 * DAY).processed == 2
    assert ids(store) == {delivered[-1]}
    # Without the kept row, SQLite would give the next delivery rowid 1 again: the Dagster sensor asks for
    # run key landed-1, already used, and Dagster skips the run.
    land(store, 99, T0 + 100 * DAY)
    assert store.pending_summary().newest == highest + 1


def test_a_delivery_arriving_again_after_its_row_was_pruned_lands_again(store):
    # Calendly retries a delivery for 24 hours and the retention is at least a day, so a retry of a pruned
    # delivery cannot come from Calendly; only an exact copy with a fresh signature could (the signing
    # key's holder). It then lands as new and pending, and the next extract merges it again: harmless,
    # since a row older than the warehouse's is dropped (LandedBatch.newer_than).
    text = body(1)
    delivery_id = hashlib.sha256(text.encode()).hexdigest()

    def deliver(t: int) -> str:
        return store.accept(delivery_id, "invitee.canceled", None, text, timestamp=t, signature=f"sig-{t}",
                            now=t, window_seconds=180)

    assert deliver(T0) == "landed"
    store.mark_processed([delivery_id], now=T0 + 60)
    assert deliver(T0 + DAY) == "duplicate"  # Calendly's last retry, a day later: still known
    later = land(store, 2, T0 + DAY)  # a later delivery: the newest row, which prune keeps
    store.prune(now=T0 + 31 * DAY)
    assert delivery_id not in ids(store)
    assert deliver(T0 + 31 * DAY) == "landed"
    assert [e.id for e in store.pending()] == [later, delivery_id]


@pytest.mark.parametrize("days", [0, 0.5, -1, float("nan"), float("inf")])
def test_a_retention_shorter_than_calendlys_retries_is_refused(store, tmp_path, days):
    with pytest.raises(ValueError, match="at least 1"):
        store.prune(days, now=T0)
    with pytest.raises(ValueError, match="at least 1"):
        LandingStore(tmp_path / "other.sqlite", retention_days=days)


def test_the_file_stops_growing_under_a_week_of_traffic(tmp_path):
    """2,000 deliveries of ~2.6 KB a simulated day, merged once a day, 1-day retention: from the third day
    on, rows and file size stay where they are (SQLite reuses the freed pages)."""
    per_day, size = 2000, 2500
    store = LandingStore(tmp_path / "landing.sqlite", retention_days=1)
    rows, sizes = [], []
    for day in range(7):
        delivered = land_many(store, range(day * per_day, (day + 1) * per_day), T0 + day * DAY, size)
        store.mark_processed(delivered, now=T0 + (day + 1) * DAY)
        rows.append(store.count())
        sizes.append(on_disk(store))
    # Kept: the deliveries merged at the last two extracts (the older one exactly a day old).
    assert rows == [per_day, 2 * per_day] + [2 * per_day] * 5
    assert max(sizes[3:]) <= sizes[2] * 1.02, sizes
    # About three days of traffic (two kept, one arriving) and the WAL, where seven days would have been
    # without pruning: one day adds ~8.5 MB to the file here (a ~2.6 KB row fills a 4 KB page).
    a_day = sizes[1] - sizes[0]
    assert sizes[-1] < sizes[0] + 2.5 * a_day, sizes
    with store._connect() as con:
        assert con.execute("pragma integrity_check").fetchone() == ("ok",)


def test_a_delivery_landing_while_prune_runs_is_not_lost(store, monkeypatch):
    """The receiver writes from its own threads (another process in production) while the extract prunes:
    every delivery it lands while batches are being deleted is still there, pending, afterwards."""
    monkeypatch.setattr(landing, "_PRUNE_BATCH", 500)  # many transactions for the writer to come between
    old = land_many(store, range(10_000), T0, 100)
    store.mark_processed(old, now=T0)
    landed = [land(store, -1, T0 + 2 * DAY)]  # pending and the newest row, so every old row can go
    spans: list[tuple[float, float]] = []  # when each of the writer's deliveries started and landed
    errors: list[Exception] = []
    stop = threading.Event()

    def receiver():
        n = 0
        try:
            while not stop.is_set():
                began = time.monotonic()
                landed.append(land(store, n, T0 + 2 * DAY))
                spans.append((began, time.monotonic()))
                n += 1
                time.sleep(0.001)  # a few hundred deliveries a second, like a busy receiver
        except Exception as exc:  # "database is locked": the receiver would answer 500
            errors.append(exc)

    writer = threading.Thread(target=receiver)
    writer.start()
    time.sleep(0.02)
    started = time.monotonic()
    counts = store.prune(1, now=T0 + 2 * DAY)
    ended = time.monotonic()
    time.sleep(0.02)
    stop.set()
    writer.join(30)
    assert not writer.is_alive() and errors == []
    assert counts.processed == 10_000
    during = [span for span in spans if started < span[0] and span[1] < ended]
    # The pruner leaves the lock free between batches: deliveries keep landing all along, none waits for
    # the whole prune (before the pause between batches: none or few landed, one waited 0.1 s of 0.15 s).
    assert len(during) >= 10, f"{len(during)} of {len(spans)} deliveries within the {ended - started:.3f} s prune"
    assert max(done - began for began, done in during) < (ended - started) / 2
    assert {e.id for e in store.pending(limit=100_000)} == set(landed) == ids(store)
    assert len(set(landed)) == len(landed)


def test_close_closes_the_connections_of_other_threads(store):
    thread = threading.Thread(target=lambda: land(store, 1, T0))
    thread.start()
    thread.join()
    land(store, 2, T0)
    store.close()  # raised sqlite3.ProgrammingError for the other thread's connection
    with pytest.raises(sqlite3.ProgrammingError):
        store._local.con.execute("select 1")
