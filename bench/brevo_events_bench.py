"""Booking events benchmark (not a timed test): how fast the sync sends Brevo custom events
(`POST /events`, one per booking transition) against Brevo's 10 requests/s, and how many 429s it meets.

    .venv/bin/python bench/brevo_events_bench.py [--transitions 300] [--latency-ms 0 50]

A sandbox account's first sync sends no events (history); a day of changes then gives about
`--transitions` transitions, sent by the second sync. The Brevo sandbox limits /events to 10 requests
per 1-second window per key, as the General plan does; `--latency-ms` adds that much to every answer
(a remote Brevo). Prints a markdown table; the ratio is events/s over the 10/s limit.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # as the CLI does
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.brevo.sync import run_sync  # noqa: E402
from pipelines.config import Settings  # noqa: E402
from pipelines.extract import run_extract  # noqa: E402
from pipelines.transform import run_transform  # noqa: E402
from sandbox.brevo import BrevoAccount, BrevoSandbox  # noqa: E402
from sandbox.calendly import CalendlyAccount, CalendlySandbox  # noqa: E402

LIMIT = 10  # Brevo's /events requests per second (General plan)


def one_run(transitions: int, latency_ms: float) -> tuple:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    calendly_account = CalendlyAccount.generate(seed=7, events=2000, now=now)
    brevo_account = BrevoAccount(api_key="xkeysib-bench-0001")
    with tempfile.TemporaryDirectory() as tmp, CalendlySandbox(calendly_account, rate_limit=0) as calendly, \
            BrevoSandbox(brevo_account, import_seconds=0.05, events_rate_limit_per_second=LIMIT) as brevo:
        settings = Settings(calendly_token=calendly_account.tokens["admin"], calendly_api_url=calendly.url,
                            warehouse_path=Path(tmp) / "w.duckdb", brevo_api_key=brevo_account.api_key,
                            brevo_api_url=brevo.url)
        run_extract(settings)
        run_transform(settings, as_of=now.isoformat())
        run_sync(settings)  # the first sync: contacts, and no events for history
        # cancels + no-shows + new bookings + 2 per reschedule (the old booking's and the new one's)
        n = transitions // 5
        calendly_account.apply_random_changes(seed=3, cancels=n, reschedules=n, no_shows=n, new_bookings=n)
        run_extract(settings)
        run_transform(settings, as_of=now.isoformat())
        brevo.configure(latency_ms=latency_ms)
        brevo.reset_stats()
        summary = run_sync(settings)
        stats = brevo.stats()
    events = summary.events
    return events, stats["by_route"]["event"], stats["by_status"].get(429, 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transitions", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0, 50])
    args = parser.parse_args()
    print(f"# booking events benchmark – {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs\n")
    print("| Brevo latency | events sent | /events requests | 429s | seconds | events/s | ratio to 10/s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for latency in args.latency_ms:
        events, requests, throttled = one_run(args.transitions, latency)
        rate = events.sent / events.seconds if events.seconds else 0.0
        print(f"| {latency:.0f} ms | {events.sent:,} | {requests:,} | {throttled} | {events.seconds:.1f} | "
              f"{rate:.2f} | {rate / LIMIT:.2f} |")


if __name__ == "__main__":
    main()
