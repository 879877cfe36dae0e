"""Sync benchmark (not a timed test): Brevo requests and wall time to push 10,000 changed contacts, and a
run with nothing changed. Prints a markdown report.

    .venv/bin/python bench/sync_bench.py [--events 26000]

A 26,000-event sandbox account gives about 10,000 contacts (people book 2–3 times). The Brevo sandbox
limits to 10 requests/second, as Brevo's contact endpoints do, and applies each import 0.5 s after
accepting it.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # as the CLI does
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.brevo.sync import run_sync  # noqa: E402
from pipelines.config import Settings  # noqa: E402
from pipelines.extract import run_extract  # noqa: E402
from sandbox.brevo import BrevoAccount, BrevoSandbox  # noqa: E402
from sandbox.calendly import CalendlyAccount, CalendlySandbox  # noqa: E402
from pipelines.transform import run_transform  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=26000)
    args = parser.parse_args()
    calendly_account = CalendlyAccount.generate(seed=7, events=args.events)
    brevo_account = BrevoAccount(api_key="xkeysib-bench-0001")
    with tempfile.TemporaryDirectory() as tmp, CalendlySandbox(calendly_account, rate_limit=0) as calendly, \
            BrevoSandbox(brevo_account, rate_limit_per_second=10, import_seconds=0.5) as brevo:
        settings = Settings(calendly_token=calendly_account.tokens["admin"], calendly_api_url=calendly.url,
                            warehouse_path=Path(tmp) / "w.duckdb", brevo_api_key=brevo_account.api_key,
                            brevo_api_url=brevo.url)
        run_extract(settings)
        run_transform(settings)
        brevo.reset_stats()
        t0 = time.perf_counter()
        first = run_sync(settings)
        first_s, first_stats = time.perf_counter() - t0, brevo.stats()
        brevo.reset_stats()
        t0 = time.perf_counter()
        again = run_sync(settings)
        again_s, again_stats = time.perf_counter() - t0, brevo.stats()
    routes = first_stats["by_route"]
    print(f"# sync benchmark – {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
          f"{args.events:,} events → {first.synced + first.failed:,} contacts\n")
    print("| run | contacts sent | imports | process polls | other requests | all requests | seconds |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, summary, stats, seconds in (("all new", first, first_stats, first_s),
                                          ("nothing changed", again, again_stats, again_s)):
        r = stats["by_route"]
        other = stats["requests"] - r.get("import", 0) - r.get("process", 0)
        print(f"| {name} | {summary.synced:,} | {r.get('import', 0)} | {r.get('process', 0)} | {other} | "
              f"{stats['requests']} | {seconds:.1f} |")
    print(f"\nImport rows sent in the first run: {first_stats['imported_rows']:,} (a contact goes in one import per "
          f"event type it booked). Other requests: attributes, folders, lists. 429s: "
          f"{first_stats['by_status'].get(429, 0) + again_stats['by_status'].get(429, 0)}. Routes: {routes}")


if __name__ == "__main__":
    main()
