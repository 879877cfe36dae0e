"""Peers benchmark: the Singer tap `tap-calendly` piped into `target-duckdb`, next to calendly-elt's
extract, against one sandbox account (not a timed test). Prints a markdown report.

    .venv/bin/python bench/peers/peers_bench.py [--events 1000] [--seed 7] [--workdir DIR] [--deselect STREAM]

The first call builds the peer's own venv (bench/peers/.venv) from bench/peers/requirements.txt.
Scenario: generate an account; each tool backfills into its own DuckDB file; the sandbox applies a
day of changes (`apply_random_changes`: cancels, reschedules, no-shows, new bookings); each tool runs
again as its docs say (ours: incremental; the peer: with the state its target emitted); then each
output is compared with the sandbox's truth. Both runs of both tools are timed and their requests
counted by the sandbox. `--workdir` keeps the DuckDB files, catalog, states and logs there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # as the CLI does
sys.path.insert(0, str(ROOT))

from bench.peers.ground_truth import TRUTH_TABLES, Comparison, Output, compare  # noqa: E402
from bench.peers.singer_peer import PeerRun, SingerPeer, emitted_output, ensure_venv  # noqa: E402
from pipelines.config import Settings  # noqa: E402
from pipelines.extract import run_extract  # noqa: E402
from pipelines.progress import Progress  # noqa: E402
from sandbox.calendly import CalendlyAccount, CalendlySandbox  # noqa: E402

OURS, PEER = "calendly-elt extract (dlt)", "tap-calendly → target-duckdb"
STREAM = "↳ what the tap sent (last record per uri)"


@dataclass
class Row:
    tool: str
    run: str
    comparison: Comparison
    seconds: float | None = None
    records: int | None = None
    requests: int | None = None
    by_route: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def measured(sandbox: CalendlySandbox, fn: Callable):
    """(result, seconds, sandbox stats) of one call, with the sandbox's counters reset first."""
    sandbox.reset_stats()
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    return result, seconds, sandbox.stats()


def read_ours(warehouse: Path) -> Output:
    """Our raw tables (schema calendly_raw), one dict per row."""
    tables = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        present = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'calendly_raw'").fetchall()}
        for table in TRUTH_TABLES:
            if table in present:
                cur = con.execute(f"select * from calendly_raw.{table}")
                columns = [d[0] for d in cur.description]
                tables[table] = [dict(zip(columns, r)) for r in cur.fetchall()]
    return Output(tables=tables)


def run_ours(sandbox: CalendlySandbox, account: CalendlyAccount, warehouse: Path, name: str,
             truth: dict, before: dict | None) -> Row:
    settings = Settings(calendly_token=account.tokens["admin"], calendly_api_url=sandbox.url,
                        warehouse_path=warehouse)
    summary, seconds, stats = measured(sandbox, lambda: run_extract(settings, Progress("extract", stream=None)))
    # top-level rows only: dlt's child tables (invitees__questions_and_answers…) are not records
    records = sum(n for t, n in summary.rows_loaded.items() if "__" not in t)
    return Row(OURS, name, compare(read_ours(warehouse), truth, before), seconds, records, stats["requests"],
               stats["by_route"], status_notes(stats))


def status_notes(stats: dict) -> list[str]:
    bad = {s: n for s, n in stats["by_status"].items() if s != 200}
    return [f"answers other than 200: {bad}"] if bad else []


def run_peer(sandbox: CalendlySandbox, peer: SingerPeer, name: str, truth: dict, before: dict | None,
             state: dict | None, earlier: list[PeerRun]) -> tuple[PeerRun, list[Row]]:
    """One `tap | target` run: a row for what landed in DuckDB, and one for what the tap sent."""
    run, seconds, stats = measured(sandbox, lambda: peer.run(name, state))
    notes = status_notes(stats)
    if run.error:
        notes.append(run.error)
    landed = peer.output()
    sent = emitted_output(*earlier, run)
    for table in ("scheduled_events", "invitees"):
        n_sent, n_landed = len(sent.tables.get(table, [])), len(landed.tables.get(table, []))
        if n_landed < n_sent:
            notes.append(f"target-duckdb holds {n_landed:,} of the {n_sent:,} {table} the tap sent")
    notes += [f"{s}: {n:,} records repeated a uri already sent" for s, n in run.repeated.items()]
    rows = [
        Row(PEER, name, compare(landed, truth, before), seconds, sum(run.records.values()), stats["requests"],
            stats["by_route"], notes),
        Row(STREAM, name, compare(sent, truth, before)),
    ]
    return run, rows


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "–"


def report(rows: list[Row], header: list[str], extra: list[str]) -> str:
    out = header + [
        "| tool | run | seconds | records | records/s | requests | missing events | missing invitees "
        "| missing no-shows | stale cancellations | notes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        c = r.comparison
        timing = (f"{r.seconds:.1f} | {r.records:,} | {r.records / r.seconds:,.0f} | {r.requests:,}"
                  if r.seconds is not None else "(same run) | | | ")
        stale = "–" if c.stale is None else f"{c.stale} / {c.canceled_since}"
        if c.stale is not None and c.canceled_absent:  # absent rows are neither stale nor right
            stale += f" ({c.canceled_absent} absent)"
        notes = "; ".join(r.notes + c.notes).replace("|", "/")
        out.append(f"| {r.tool} | {r.run} | {timing} | {c.missing_events:,} | {c.missing_invitees:,} "
                   f"| {c.missing_no_shows:,} / {c.no_shows:,} | {stale} | {notes} |")
    timed = [r for r in rows if r.seconds is not None]
    routes = sorted({k for r in timed for k, v in r.by_route.items() if v})
    out += ["", "Requests by route (sandbox counts):", "",
            "| route | " + " | ".join(f"{'ours' if r.tool == OURS else 'peer'} {r.run}" for r in timed) + " |",
            "|---|" + "---:|" * len(timed)]
    out += [f"| {route} | " + " | ".join(f"{r.by_route.get(route, 0):,}" for r in timed) + " |" for route in routes]
    return "\n".join(out + [""] + extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7, help="the account's seed; the changes use seed + 1")
    parser.add_argument("--workdir", type=Path, help="keep the DuckDB files, catalog, states and logs here")
    parser.add_argument("--deselect", action="append", default=[], metavar="STREAM",
                        help="leave a peer stream out of its catalog (default: all selected)")
    args = parser.parse_args()

    python = ensure_venv()
    account = CalendlyAccount.generate(seed=args.seed, events=args.events)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = (args.workdir or Path(tmp)).resolve()
        ours_warehouse = workdir / "ours" / "warehouse.duckdb"
        ours_warehouse.parent.mkdir(parents=True, exist_ok=True)
        with CalendlySandbox(account, rate_limit=0) as sandbox:
            peer = SingerPeer(python, workdir / "peer", sandbox.url, account.tokens["admin"])
            startup = peer.startup_seconds()
            streams, discovery_s, discovery = measured(sandbox, lambda: peer.discover(tuple(args.deselect)))
            before = account.truth()

            rows = [run_ours(sandbox, account, ours_warehouse, "1 backfill", before, None)]
            peer1, peer_rows = run_peer(sandbox, peer, "1 backfill", before, None, None, [])
            rows += peer_rows

            # The tap alone on the same data, outside the measured runs: how the peer's time splits.
            tap_alone_s = peer.tap_alone()
            changes = account.apply_random_changes(args.seed + 1)
            after = account.truth()

            rows.insert(1, run_ours(sandbox, account, ours_warehouse, "2 incremental", after, before))
            peer2, peer_rows = run_peer(sandbox, peer, "2 with state", after, before, peer1.state, [peer1])
            rows += peer_rows

    ours1, ours2, peer_1, peer_2 = (r for r in rows if r.seconds is not None)
    n_no_shows = sum(1 for i in before["invitees"] if i["no_show"])
    header = [
        f"# Peers benchmark – {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, seed {args.seed}",
        "",
        f"- account: {len(before['scheduled_events']):,} events, {len(before['invitees']):,} invitees "
        f"({n_no_shows} no-shows) at the first run; sandbox without rate limit or latency",
        f"- changes between the runs (seed {args.seed + 1}): {len(changes['canceled'])} cancellations, "
        f"{len(changes['rescheduled'])} reschedules, {len(changes['no_shows'])} no-shows, "
        f"{len(changes['added'])} new bookings → {ours2.comparison.canceled_since} events/invitees went from "
        "active to canceled",
        f"- peer streams selected: {', '.join(streams)}"
        + (f" (deselected: {', '.join(args.deselect)})" if args.deselect else " (all that discovery offers)"),
        "",
    ]
    state_size = len(json.dumps(peer2.state)) if peer2.state else 0
    partitions = len((peer2.state or {}).get("bookmarks", {}).get("event_invitees", {}).get("partitions", []))
    extra = [
        f"- **ours / peer**: seconds {ratio(ours1.seconds, peer_1.seconds)} (backfill), "
        f"{ratio(ours2.seconds, peer_2.seconds)} (second run); requests {ratio(ours1.requests, peer_1.requests)} "
        f"(backfill), {ratio(ours2.requests, peer_2.requests)} (second run)",
        f"- peer discovery (once, before the runs, not counted above): {discovery_s:.1f} s, "
        f"{discovery['requests']} requests ({', '.join(f'{k} {v}' for k, v in discovery['by_route'].items() if v)})",
        f"- peer process start-up, included in its seconds: tap {startup['tap']:.1f} s (`--about`), "
        f"target {startup['target']:.1f} s (`--help`); ours runs in-process",
        f"- the tap alone, output discarded, on the first run's data: {tap_alone_s:.1f} s of the peer's "
        f"{peer_1.seconds:.1f} s backfill; the rest is target-duckdb (tap and target overlap through the pipe)",
        "- fields the API sent that the tap's schema drops: "
        + "; ".join(f"{s}: {f}" for s, f in sorted({**peer1.dropped_fields, **peer2.dropped_fields}.items())),
        f"- the peer's state after its second run: {state_size:,} bytes, {partitions:,} invitee partitions "
        "(one per event)",
    ]
    print(report(rows, header, extra))


if __name__ == "__main__":
    main()
