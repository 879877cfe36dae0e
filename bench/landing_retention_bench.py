"""Landing store retention benchmark (not a timed test): rows and file size of the webhook landing store
after a simulated week of traffic, with and without pruning, measured in the same run. Prints markdown.

    .venv/bin/python bench/landing_retention_bench.py [--days 7] [--per-day 3000] [--retention-days 1]

Each simulated day, `--per-day` distinct invitee.canceled deliveries of ~2.6 KB (bench/webhook_receiver_bench.py's)
land one by one as the receiver lands them (`LandingStore.accept`: one transaction each, the signature
remembered), spread over the day on an injected clock. At the end of each day an extract settles them as
`settle_landed` does: 1% set aside (`mark_rejected`), the rest `mark_processed`, which prunes.

- no pruning (baseline): a 100-year retention, so nothing is ever old enough.
- pruning: the store as shipped, `--retention-days`.
- pruning + incremental vacuum: the same, on a file created with `auto_vacuum=incremental`, and
  `pragma incremental_vacuum` after each extract (gives freed pages back to the file system).
- pruning + VACUUM: the same, and a full VACUUM after each extract.

The store runs with synchronous=NORMAL here: the same pages and WAL, without an fsync per delivery
(which would make the run take minutes). "file" is the database plus its WAL. "peak" is the largest
file seen just before an extract (a day of deliveries waiting); "after" is after the last extract.
"settle ms" is the slowest extract's mark_rejected + mark_processed (+ vacuum), during which the
receiver waits for the lock between batches.
Exits non-zero if a delivery is missing or a pending one was pruned.
"""

from __future__ import annotations

import argparse
import platform
import random
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pipelines.webhooks.landing import LandingStore  # noqa: E402
from webhook_receiver_bench import delivery  # noqa: E402

DAY = 86_400
T0 = 1_800_000_000  # the simulated clock's start
VARIANTS = ("no pruning (baseline)", "pruning", "pruning + incremental vacuum", "pruning + VACUUM")


@dataclass
class Result:
    variant: str
    rows: list[int] = field(default_factory=list)  # after each day's extract
    peaks: list[int] = field(default_factory=list)  # bytes, before each day's extract
    afters: list[int] = field(default_factory=list)  # bytes, after each day's extract
    wal: int = 0  # bytes of WAL in the last `afters`
    settle_ms: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def on_disk(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def simulate(variant: str, bodies: list[str], days: int, per_day: int, retention_days: float, tmp: Path) -> Result:
    path = tmp / variant.split()[0].replace("(", "") / f"{len(variant)}.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    if "incremental" in variant:  # only a new file (or a VACUUM) takes the setting
        with sqlite3.connect(path) as con:
            con.execute("pragma auto_vacuum = incremental")
            con.execute("create table _created (x)")
            con.execute("drop table _created")
    store = LandingStore(path, retention_days=36_500 if variant.startswith("no pruning") else retention_days)
    with store._connect() as con:  # no fsync per commit (2.5 ms each on this disk); the same pages are written
        con.execute("pragma synchronous = normal")
    result = Result(variant)
    for day in range(days):
        for k in range(per_day):
            n = day * per_day + k
            now = T0 + day * DAY + k * (DAY - 60) / per_day
            outcome = store.accept(f"{n:064x}", "invitee.canceled", None, bodies[n], timestamp=int(now),
                                   signature=f"sig-{n}", now=now, window_seconds=180)
            if outcome != "landed":
                result.problems.append(f"day {day}: delivery {n} {outcome}")
        result.peaks.append(on_disk(path))
        pending = store.pending(limit=per_day * days)
        if len(pending) != per_day:
            result.problems.append(f"day {day}: {len(pending)} pending, expected {per_day}")
        extract_at = T0 + (day + 1) * DAY
        started = time.perf_counter()
        rejected = {e.id: "bench: set aside" for e in pending[::100]}
        store.mark_rejected(rejected, now=extract_at)
        store.mark_processed((e.id for e in pending if e.id not in rejected), now=extract_at)
        with store._connect() as con:
            if "incremental" in variant:
                con.executescript("pragma incremental_vacuum")  # execute() would free only one page
            elif "VACUUM" in variant:
                con.execute("vacuum")
        result.settle_ms.append((time.perf_counter() - started) * 1000)
        result.rows.append(store.count())
        result.afters.append(on_disk(path))
        result.wal = on_disk(path) - path.stat().st_size
    store.close()
    return result


def mb(size: int) -> str:
    return f"{size / 1e6:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--per-day", type=int, default=3000)
    parser.add_argument("--retention-days", type=float, default=1)
    args = parser.parse_args()

    rng = random.Random(16)
    bodies = [delivery(n, rng).decode() for n in range(args.days * args.per_day)]
    average = sum(map(len, bodies)) / len(bodies)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="landing-retention-") as tmp:
        results = [simulate(v, bodies, args.days, args.per_day, args.retention_days, Path(tmp)) for v in VARIANTS]
    seconds = time.perf_counter() - started

    print(f"# Landing store retention, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC\n")
    print(f"{args.days} simulated days × {args.per_day:,} deliveries (avg {average:,.0f} B), one extract a day, "
          f"retention {args.retention_days:g} day(s); SQLite {sqlite3.sqlite_version}, Python "
          f"{platform.python_version()}; {seconds:.0f} s.\n")
    base = results[0]
    print("| variant | rows after | file after, MB (WAL) | peak file, MB | slowest settle, ms | rows / baseline "
          "| file after / baseline | peak / baseline |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r.variant} | {r.rows[-1]:,} | {mb(r.afters[-1])} ({mb(r.wal)}) | {mb(max(r.peaks))} "
              f"| {max(r.settle_ms):.0f} "
              f"| {r.rows[-1] / base.rows[-1]:.2f}× | {r.afters[-1] / base.afters[-1]:.2f}× "
              f"| {max(r.peaks) / max(base.peaks):.2f}× |")
    print("\nDay by day: rows after the extract, and file (MB) before → after it:\n")
    print("| day | " + " | ".join(r.variant for r in results) + " |")
    print("|---:|" + "---|" * len(results))
    for day in range(args.days):
        print(f"| {day + 1} | " + " | ".join(
            f"{r.rows[day]:,} rows, {mb(r.peaks[day])} → {mb(r.afters[day])}" for r in results) + " |")
    problems = [f"{r.variant}: {p}" for r in results for p in r.problems]
    for problem in problems:
        print(f"PROBLEM {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
