"""Webhook receiver benchmark (not a timed test): requests/second and p50/p99 latency of signed Calendly
deliveries against `calendly-elt webhooks serve`, on loopback, against `GET /healthz` of the same process
measured in the same run. Prints a markdown report.

    .venv/bin/python bench/webhook_receiver_bench.py [--requests 1000] [--concurrency 1 8] [--json out.json]

The receiver is started as a user starts it: its own process, `calendly-elt webhooks serve --port 0` with
CALENDLY_WEBHOOK_SIGNING_KEY set and WAREHOUSE_PATH in a temporary folder, so the landing store (SQLite, WAL,
synchronous=FULL) is a file of its own. The load comes from this process: one thread per concurrent client,
each with its own keep-alive HTTP/1.1 connection (http.client), sending distinct invitee.canceled deliveries of
about 2.5 KB, each signed with the current time just before it is sent.

- baseline: `GET /healthz` at each concurrency – uvicorn, Starlette and HTTP on loopback, with no signature
  and no write.
- receiver: new deliveries at each concurrency; every one must be answered 200 `{"landed": true}`.
- retries: deliveries that already landed, sent again with a fresh signature (as Calendly retries), which
  must be answered 200 `{"landed": false}`.
- in-process: the landing store's own calls timed alone, without HTTP, to show where a delivery's time goes.

Afterwards the SQLite file must hold every delivery exactly once. Any other answer, error or missing row
makes the benchmark exit non-zero.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import platform
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.webhooks import LandingStore, sign  # noqa: E402

BIN = Path(sys.executable).parent
KEY = "whsec-bench-signing-key-0001"  # a throwaway key for a throwaway receiver
PATH = "/webhooks/calendly"
WARMUP = 200  # requests of each kind before anything is measured

_FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim"]
_LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Lee"]
_REASONS = ["Something came up at work, sorry – can we find another slot next week?",
            "Double-booked with a customer call.", "Feeling unwell today.", ""]


def _uuid(rng: random.Random) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(16))


def delivery(n: int, rng: random.Random) -> bytes:
    """An invitee.canceled delivery shaped like Calendly's, unique by `n` (its invitee URI and email)."""
    api = "https://api.calendly.com"
    created = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc) + timedelta(minutes=7 * n)
    start = created + timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 8))
    iso = lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "000Z"  # noqa: E731 – Calendly's format
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    event_uuid, invitee_uuid, user_uuid = _uuid(rng), f"{n:08d}{_uuid(rng)[:8]}", _uuid(rng)
    event_uri = f"{api}/scheduled_events/{event_uuid}"
    canceled = created + timedelta(hours=rng.randint(1, 48))
    payload = {
        "cancel_url": f"https://calendly.com/cancellations/{invitee_uuid}",
        "created_at": iso(created),
        "email": f"{first.lower()}.{last.lower()}.{n}@example.com",
        "event": event_uri,
        "first_name": first,
        "last_name": last,
        "name": f"{first} {last}",
        "new_invitee": None,
        "old_invitee": None,
        "questions_and_answers": [
            {"answer": "A demo of the scheduling integration for our sales team.", "position": 0,
             "question": "What would you like to discuss?"},
            {"answer": rng.choice(["1-10", "11-50", "51-200", "201-1000"]), "position": 1,
             "question": "How large is your team?"},
        ],
        "reschedule_url": f"https://calendly.com/reschedulings/{invitee_uuid}",
        "rescheduled": False,
        "routing_form_submission": None,
        "status": "canceled",
        "text_reminder_number": None,
        "timezone": rng.choice(["Europe/Berlin", "America/New_York", "Asia/Tokyo"]),
        "tracking": {"utm_campaign": "autumn-launch", "utm_source": "newsletter", "utm_medium": "email",
                     "utm_content": None, "utm_term": None, "salesforce_uuid": None},
        "updated_at": iso(canceled),
        "uri": f"{event_uri}/invitees/{invitee_uuid}",
        "cancellation": {"canceled_by": f"{first} {last}", "reason": rng.choice(_REASONS),
                         "canceler_type": "invitee", "created_at": iso(canceled)},
        "payment": None,
        "no_show": None,
        "reconfirmation": None,
        "scheduling_method": None,
        "invitee_scheduled_by": None,
        "scheduled_event": {
            "uri": event_uri,
            "name": "30 Minute Product Demo",
            "meeting_notes_plain": "Please have your current booking flow at hand.",
            "meeting_notes_html": "<p>Please have your current booking flow at hand.</p>",
            "status": "canceled",
            "start_time": iso(start),
            "end_time": iso(start + timedelta(minutes=30)),
            "event_type": f"{api}/event_types/{_uuid(rng)}",
            "location": {"type": "google_conference", "status": "pushed",
                         "join_url": f"https://meet.google.com/{_uuid(rng).lower()[:10]}"},
            "invitees_counter": {"total": 1, "active": 0, "limit": 1},
            "created_at": iso(created),
            "updated_at": iso(canceled),
            "event_memberships": [{"user": f"{api}/users/{user_uuid}", "user_email": "host@example.com",
                                   "user_name": "Host Person", "buffered_start_time": iso(start),
                                   "buffered_end_time": iso(start + timedelta(minutes=30))}],
            "event_guests": [],
            "cancellation": {"canceled_by": f"{first} {last}", "reason": "", "canceler_type": "invitee",
                             "created_at": iso(canceled)},
        },
    }
    return json.dumps({"event": "invitee.canceled", "created_at": iso(canceled),
                       "created_by": f"{api}/users/{user_uuid}", "payload": payload}).encode()


@dataclass
class Delivery:
    body: bytes
    first_t: int | None = None  # the timestamp it was first signed with (a retry must not reuse it)


@dataclass
class Phase:
    name: str
    concurrency: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, one per answered request
    answers: list[tuple[int, bytes]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        lat = sorted(self.latencies)
        if not lat:  # every request failed: reported as problems, and the benchmark exits non-zero
            return {"run": self.name, "concurrency": self.concurrency, "requests": 0, "seconds": 0.0,
                    "req_per_s": 0.0, "p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
        pct = lambda p: lat[min(len(lat) - 1, max(0, round(p / 100 * len(lat)) - 1))] * 1e3  # noqa: E731 – nearest rank
        return {"run": self.name, "concurrency": self.concurrency, "requests": len(lat),
                "seconds": round(self.seconds, 3), "req_per_s": round(len(lat) / self.seconds, 1),
                "p50_ms": round(pct(50), 2), "p99_ms": round(pct(99), 2), "max_ms": round(lat[-1] * 1e3, 2)}


def _client(host: str, port: int, work: list, request, phase: Phase, lock: threading.Lock,
            start: threading.Barrier) -> None:
    """One client: a keep-alive connection, `work` sent one after another."""
    connection = http.client.HTTPConnection(host, port, timeout=30)
    latencies, answers = [], []
    start.wait()
    try:
        for item in work:
            method, headers, body = request(item)
            began = time.perf_counter()
            connection.request(method, PATH if body is not None else "/healthz", body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            latencies.append(time.perf_counter() - began)
            answers.append((response.status, answer))
    except Exception as exc:  # noqa: BLE001 – any failure fails the benchmark, after the others finish
        with lock:
            phase.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()
    with lock:
        phase.latencies.extend(latencies)
        phase.answers.extend(answers)


def run_phase(name: str, host: str, port: int, items: list, request, concurrency: int) -> Phase:
    phase = Phase(name, concurrency)
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)
    threads = [threading.Thread(target=_client, args=(host, port, items[i::concurrency], request, phase, lock, start))
               for i in range(concurrency)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - began
    return phase


def healthz_request(_item) -> tuple[str, dict, None]:
    return "GET", {}, None


def delivery_request(item: Delivery) -> tuple[str, dict, bytes]:
    t = int(time.time())
    if item.first_t is None:
        item.first_t = t
    elif t == item.first_t:  # a retry in the same second would be the same signed request: a replay (401)
        t -= 1
    return "POST", {"Calendly-Webhook-Signature": sign(item.body, KEY, t),
                    "Content-Type": "application/json"}, item.body


def check(phase: Phase, expected: dict) -> list[str]:
    """What went wrong in `phase`: errors, and answers other than 200 with `expected`."""
    problems = [f"{phase.name} c={phase.concurrency}: {e}" for e in phase.errors[:5]]
    def as_expected(status: int, body: bytes) -> bool:
        try:
            return status == 200 and json.loads(body) == expected
        except ValueError:  # not JSON, e.g. a plain-text 500
            return False

    wrong = [(status, body[:200]) for status, body in phase.answers if not as_expected(status, body)]
    if wrong:
        problems.append(f"{phase.name} c={phase.concurrency}: {len(wrong)} unexpected answers, e.g. {wrong[:3]}")
    return problems


def start_receiver(tmp: Path) -> tuple[subprocess.Popen, str, int, Path]:
    warehouse = tmp / "data" / "warehouse.duckdb"
    env = dict(os.environ, CALENDLY_WEBHOOK_SIGNING_KEY=KEY, WAREHOUSE_PATH=str(warehouse))
    log = tmp / "serve.log"
    with open(log, "w") as output:  # a file, not a pipe nobody drains
        process = subprocess.Popen([str(BIN / "calendly-elt"), "webhooks", "serve", "--host", "127.0.0.1",
                                    "--port", "0"], env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not (match := re.search(r"POST http://([\d.]+):(\d+)/webhooks/calendly", log.read_text())):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            sys.exit(f"the receiver did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.05)
    host, port = match.group(1), int(match.group(2))
    while True:  # bound before that line is printed, answering once uvicorn has started
        try:
            connection = http.client.HTTPConnection(host, port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                connection.close()
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            sys.exit(f"the receiver did not answer /healthz:\n{log.read_text()[-2000:]}")
        time.sleep(0.05)
    return process, host, port, warehouse.parent / "landing" / "calendly_webhooks.sqlite"


def stop_receiver(process: subprocess.Popen) -> int | None:
    process.send_signal(signal.SIGINT)  # Ctrl-C, as a user stops it
    try:
        return process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None


def _per_call_ms(call, n: int) -> float:
    began = time.perf_counter()
    for i in range(n):
        call(i)
    return (time.perf_counter() - began) / n * 1e3


def concurrent_deliveries(tmp: Path, body: bytes, threads: int, n: int) -> dict:
    """What the receiver's thread pool does for each new delivery (seen_signature, then append), from
    `threads` threads at once, without HTTP: ms per delivery, SQLite's lock waits included."""
    store = LandingStore(tmp / "concurrent" / "landing.sqlite")
    text = body.decode()
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        mine = []
        for i in range(k, n, threads):
            began = time.perf_counter()
            now = time.time()
            store.seen_signature(int(now), f"{i:064x}", now=now, window_seconds=180)
            store.append(f"concurrent-{i}", "invitee.canceled", None, text, received_at=now)
            mine.append(time.perf_counter() - began)
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    began = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - began
    latencies.sort()
    pct = lambda p: round(latencies[min(n - 1, max(0, round(p / 100 * n) - 1))] * 1e3, 2)  # noqa: E731
    return {"threads": threads, "deliveries": n, "per_s": round(n / seconds, 1), "p50_ms": pct(50),
            "p99_ms": pct(99), "max_ms": round(latencies[-1] * 1e3, 1)}


def lock_wake_delays(tmp: Path, holds_ms: tuple[float, ...] = (5, 20, 60)) -> dict[str, float]:
    """How late a writer waiting for SQLite's write lock (the store's timeout=30) gets it after it is
    released, in ms, for locks held `holds_ms`: the busy handler polls with growing sleeps rather than
    waking on release."""
    path = tmp / "lock" / "lock.sqlite"
    path.parent.mkdir()
    with closing(sqlite3.connect(path, isolation_level=None)) as con:
        con.execute("pragma journal_mode = wal")
        con.execute("create table t (x)")
    late = {}
    for hold in holds_ms:
        with closing(sqlite3.connect(path, isolation_level=None, timeout=30)) as holder, \
                closing(sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)) as waiter:
            holder.execute("begin immediate")
            got: list[float] = []

            def wait() -> None:
                waiter.execute("begin immediate")
                got.append(time.perf_counter())
                waiter.execute("commit")

            thread = threading.Thread(target=wait)
            thread.start()
            time.sleep(hold / 1e3)
            holder.execute("commit")
            released = time.perf_counter()
            thread.join()
        late[f"held {hold:g} ms"] = round((got[0] - released) * 1e3, 1)
    return late


def in_process(tmp: Path, body: bytes, n: int) -> list[tuple[str, float]]:
    """The landing store's calls alone (no HTTP, one thread), ms per call, on the same disk."""
    store = LandingStore(tmp / "inproc" / "landing.sqlite")
    text = body.decode()
    now = time.time()
    rows = [
        ("LandingStore.seen_signature (new signature; a transaction, fsync)",
         _per_call_ms(lambda i: store.seen_signature(int(now), f"{i:064x}", now=now, window_seconds=180), n)),
        ("LandingStore.append (new delivery; fsync)",
         _per_call_ms(lambda i: store.append(f"new-{i}", "invitee.canceled", None, text), n)),
        ("LandingStore.append (already landed: insert or ignore)",
         _per_call_ms(lambda i: store.append(f"new-{i}", "invitee.canceled", None, text), n)),
    ]
    # The store opens and closes a connection per call. When that connection is the database's last one,
    # SQLite checkpoints the WAL into the database file and deletes it on close; with another connection
    # held open, the close is cheap.
    with sqlite3.connect(store.path) as held:
        held.execute("select count(*) from webhook_events").fetchone()
        rows.append(("LandingStore.append (new; another connection held open)",
                     _per_call_ms(lambda i: store.append(f"held-{i}", "invitee.canceled", None, text), n)))
    with sqlite3.connect(store.path, isolation_level=None) as con:
        con.execute("pragma synchronous = full")
        rows.append(("same insert on one open connection (synchronous=FULL)",
                     _per_call_ms(lambda i: con.execute(
                         "insert or ignore into webhook_events (id, event, created_at, received_at, body) "
                         "values (?, ?, ?, ?, ?)", (f"open-{i}", "invitee.canceled", None, "x", text)), n)))
    fd = os.open(tmp / "inproc" / "fsync.bin", os.O_WRONLY | os.O_CREAT)
    try:
        rows.append(("os.write 2.5 KB + os.fsync", _per_call_ms(lambda i: (os.write(fd, body), os.fsync(fd)), n)))
    finally:
        os.close(fd)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per run and concurrency (default 1000)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8],
                        help="concurrent clients, each level measured in turn (default 1 8)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    args = parser.parse_args()
    if args.requests < 1 or min(args.concurrency) < 1:
        parser.error("--requests and --concurrency must be positive")

    rng = random.Random(6)
    levels = args.concurrency
    fresh = [Delivery(delivery(n, rng)) for n in range(WARMUP + args.requests * len(levels))]
    sizes = sorted(len(d.body) for d in fresh)
    assert len({hashlib.sha256(d.body).digest() for d in fresh}) == len(fresh), "deliveries must be distinct"

    phases: list[Phase] = []
    problems: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="webhook-bench-") as tmp_name:
        tmp = Path(tmp_name)
        process, host, port, landing = start_receiver(tmp)
        try:
            warm = max(levels)
            problems += check(run_phase("warm-up", host, port, [None] * WARMUP, healthz_request, warm), {"ok": True})
            problems += check(run_phase("warm-up", host, port, fresh[:WARMUP], delivery_request, warm),
                              {"landed": True})
            landed = WARMUP
            for c in levels:
                batch = fresh[landed:landed + args.requests]
                runs = [("baseline: GET /healthz", [None] * args.requests, healthz_request, {"ok": True}),
                        ("receiver: new deliveries", batch, delivery_request, {"landed": True}),
                        ("receiver: retries of landed deliveries", batch, delivery_request, {"landed": False})]
                for name, items, request, expected in runs:
                    phase = run_phase(name, host, port, items, request, c)
                    problems += check(phase, expected)
                    phases.append(phase)
                landed += len(batch)
        finally:
            code = stop_receiver(process)
            server_log = (tmp / "serve.log").read_text()
        if code != 0:
            problems.append(f"the receiver exited with {code} after Ctrl-C: {server_log[-1000:]}")
        with sqlite3.connect(landing) as con:
            ids = [row[0] for row in con.execute("select id from webhook_events")]
        expected_ids = {hashlib.sha256(d.body).hexdigest() for d in fresh[:landed]}
        stored_ok = len(ids) == len(expected_ids) and set(ids) == expected_ids
        if not stored_ok:
            problems.append(f"landing store holds {len(ids)} rows ({len(set(ids) & expected_ids)} of the "
                            f"{len(expected_ids)} deliveries sent); expected each exactly once")
        load_seconds = time.perf_counter() - started
        inproc = in_process(tmp, fresh[0].body, 300)
        concurrent = concurrent_deliveries(tmp, fresh[0].body, max(levels), 800)
        lock_late = lock_wake_delays(tmp)

    results = [p.summary() for p in phases]
    by = {(r["run"], r["concurrency"]): r for r in results}
    ratios = []
    for c in levels:
        base, new = by[("baseline: GET /healthz", c)], by[("receiver: new deliveries", c)]
        retry = by[("receiver: retries of landed deliveries", c)]
        ratios.append({"concurrency": c, "req_per_s": round(new["req_per_s"] / (base["req_per_s"] or float("nan")), 3),
                       "p50": round(new["p50_ms"] / base["p50_ms"], 2),
                       "retry_req_per_s": round(retry["req_per_s"] / (base["req_per_s"] or float("nan")), 3),
                       "retry_p50": round(retry["p50_ms"] / base["p50_ms"], 2)})

    print(f"# webhook receiver benchmark – {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, Python "
          f"{platform.python_version()}, {os.cpu_count()} cores, loopback, client and server on this machine\n")
    print(f"{args.requests:,} requests per run (after {WARMUP} warm-up requests of each kind); deliveries "
          f"{sizes[0]:,}–{sizes[-1]:,} bytes; {landed:,} deliveries sent, {len(ids):,} rows in the landing store"
          f"{', each delivery exactly once' if stored_ok else ' – NOT each delivery exactly once'}; "
          f"load phase {load_seconds:.1f} s.\n")
    print("| concurrency | run | requests | req/s | p50 ms | p99 ms | max ms |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['concurrency']} | {r['run']} | {r['requests']:,} | {r['req_per_s']:,.0f} | {r['p50_ms']:.2f} "
              f"| {r['p99_ms']:.2f} | {r['max_ms']:.1f} |")
    print("\n| concurrency | req/s: new / baseline | p50: new / baseline | req/s: retries / baseline "
          "| p50: retries / baseline |")
    print("|---:|---:|---:|---:|---:|")
    for r in ratios:
        print(f"| {r['concurrency']} | {r['req_per_s']:.2f}× | {r['p50']:.2f}× | {r['retry_req_per_s']:.2f}× "
              f"| {r['retry_p50']:.2f}× |")
    print("\nIn-process, one thread, no HTTP (ms per call, 300 calls each):\n")
    print("| call | ms |")
    print("|---|---:|")
    for name, ms in inproc:
        print(f"| {name} | {ms:.2f} |")
    print(f"\nIn-process, no HTTP, {concurrent['threads']} threads at once, each delivery seen_signature + append "
          f"(what the receiver's thread pool does): {concurrent['per_s']:,.0f} deliveries/s, p50 "
          f"{concurrent['p50_ms']:.2f} ms, p99 {concurrent['p99_ms']:.1f} ms, max {concurrent['max_ms']:.0f} ms.")
    print("A writer waiting for SQLite's write lock gets it this long after its release (busy handler, timeout=30): "
          + ", ".join(f"{k}: +{v:.1f} ms" for k, v in lock_late.items()) + ".")

    if args.json:
        args.json.write_text(json.dumps({
            "when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "python": platform.python_version(),
            "cores": os.cpu_count(), "requests": args.requests, "concurrency": levels, "warmup": WARMUP,
            "delivery_bytes": [sizes[0], sizes[-1]], "landed": landed, "results": results, "ratios": ratios,
            "in_process_ms": dict(inproc), "in_process_concurrent": concurrent,
            "lock_wake_delay_ms": lock_late, "problems": problems}, indent=2) + "\n")
    if problems:
        print("\nFAILED:\n" + "\n".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
