"""What an hourly run costs when nothing changed (issue 16): requests made and rows loaded by a no-change
extract, the safe way (no-show window re-read) against one that trusts a healthy webhook subscription,
measured in the same run on the same account. Prints a markdown table (not a timed test).

    .venv/bin/python bench/no_change_bench.py [--events 3000 100000]

The trusted run is `run_extract(trust_webhooks=True)`, what an extract decides by itself when
CALENDLY_WEBHOOK_URL's subscription has been healthy since the previous extract; the check itself adds
one or two requests (`/users/me`, the subscription list), counted apart below.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # as the CLI does
sys.path.insert(0, str(ROOT))

from pipelines.config import Settings  # noqa: E402
from pipelines.extract import run_extract  # noqa: E402
from sandbox.calendly import CalendlyAccount, CalendlySandbox  # noqa: E402

NOW = "2026-12-01T12:00:00Z"  # pinned: the same account on every machine


def measure(events: int) -> dict:
    account = CalendlyAccount.generate(seed=7, events=events, now=NOW)
    with CalendlySandbox(account, rate_limit=0) as sandbox, tempfile.TemporaryDirectory() as folder:
        settings = Settings(calendly_token=account.tokens["admin"], calendly_api_url=sandbox.url,
                            warehouse_path=Path(folder) / "warehouse.duckdb")
        started = time.monotonic()
        run_extract(settings)
        backfill = time.monotonic() - started
        out = {"events": events, "backfill_s": backfill}
        for name, options in (("safe", {}), ("trusted", {"trust_webhooks": True})):
            sandbox.reset_stats()
            summary = run_extract(settings, **options)
            stats = sandbox.stats()
            out[name] = {"requests": stats["requests"], "invitee_reads": stats["by_route"].get("invitees", 0),
                         "pages": math.ceil(summary.counts.get("events_listed", 0) / 100),
                         "rows": sum(summary.rows_loaded.values()),
                         "event_rows": summary.rows_loaded.get("scheduled_events", 0),
                         "seconds": summary.seconds}
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[3000, 100_000])
    args = parser.parse_args()
    print("| events | run | requests | listing pages | invitee reads | rows loaded | of them events | seconds |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for events in args.events:
        result = measure(events)
        for name in ("safe", "trusted"):
            r = result[name]
            print(f"| {events:,} | {name} | {r['requests']:,} | {r['pages']:,} | {r['invitee_reads']:,} | "
                  f"{r['rows']:,} | {r['event_rows']:,} | {r['seconds']:.1f} |")
        safe, trusted = result["safe"], result["trusted"]
        print(f"| {events:,} | trusted / safe | {trusted['requests'] / safe['requests']:.2f}× | | | "
              f"{trusted['rows'] / max(safe['rows'], 1):.2f}× | | {trusted['seconds'] / safe['seconds']:.2f}× |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
