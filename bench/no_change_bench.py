"""What an hourly run costs when nothing changed (issue 16): requests made and rows loaded by a no-change
extract, the safe way (no-show window re-read) against one that trusts a healthy webhook subscription,
measured in the same run on the same account. Prints a markdown table (not a timed test).

    .venv/bin/python bench/no_change_bench.py [--events 3000 100000]

The trusted run is the one an extract decides on by itself: CALENDLY_WEBHOOK_URL is served by the project's
receiver (landing beside the warehouse), whose organization-scope subscription was created before the
previous extract; its health check (`/users/me`, shared with the source, and the subscription list) is
among the requests counted. Every request the sandbox receives is counted.
"""

from __future__ import annotations

import argparse
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
from pipelines.progress import Progress  # noqa: E402
from pipelines.webhooks import LandingStore, landing_path  # noqa: E402
from pipelines.webhooks.subscriptions import Subscriptions, client_for  # noqa: E402
from sandbox.calendly import CalendlyAccount, CalendlySandbox  # noqa: E402
from tests.webhooks.receiver import serving  # noqa: E402 – the receiver under uvicorn, on a thread

NOW = "2026-12-01T12:00:00Z"  # pinned: the same account on every machine
KEY = "whsec-no-change-bench-0001"
SMALL_TABLES = ("event_types", "organization_memberships", "routing_forms", "routing_form_submissions")


def measure(events: int) -> dict:
    account = CalendlyAccount.generate(seed=7, events=events, now=NOW)
    with CalendlySandbox(account, rate_limit=0) as sandbox, tempfile.TemporaryDirectory() as folder:
        settings = Settings(calendly_token=account.tokens["admin"], calendly_api_url=sandbox.url,
                            warehouse_path=Path(folder) / "warehouse.duckdb")
        store = LandingStore(landing_path(settings))
        with serving(store, KEY) as url:
            hooked = settings.with_(webhook_url=url, webhook_signing_key=KEY)
            Subscriptions(client_for(hooked)).subscribe(url, KEY)  # before the backfill: it covers the gap since
            started = time.monotonic()
            run_extract(settings)
            backfill = time.monotonic() - started
            out = {"events": events, "backfill_s": backfill}
            for name, run_settings in (("safe", settings), ("trusted", hooked)):
                sandbox.reset_stats()
                lines: list[str] = []
                progress = Progress("extract", stream=None)
                progress.say = lines.append  # type: ignore[method-assign]
                summary = run_extract(run_settings, progress)
                assert (name == "trusted") == any("webhooks trusted" in line for line in lines), lines
                stats = sandbox.stats()
                pages = stats["by_route"].get("scheduled_events", 0)
                reads = stats["by_route"].get("invitees", 0)
                out[name] = {"requests": stats["requests"], "invitee_reads": reads, "pages": pages,
                             "other": stats["requests"] - pages - reads,
                             "rows": sum(summary.rows_loaded.values()),
                             "event_rows": summary.rows_loaded.get("scheduled_events", 0),
                             "small_rows": sum(n for t, n in summary.rows_loaded.items()
                                               if t.split("__")[0] in SMALL_TABLES),
                             "seconds": summary.seconds}
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[3000, 100_000])
    args = parser.parse_args()
    print("| events | run | requests | listing pages | invitee reads | other requests | rows loaded | of them events "
          "| of them small tables | seconds |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for events in args.events:
        result = measure(events)
        for name in ("safe", "trusted"):
            r = result[name]
            print(f"| {events:,} | {name} | {r['requests']:,} | {r['pages']:,} | {r['invitee_reads']:,} | "
                  f"{r['other']:,} | {r['rows']:,} | {r['event_rows']:,} | {r['small_rows']:,} | {r['seconds']:.1f} |")
        safe, trusted = result["safe"], result["trusted"]
        print(f"| {events:,} | trusted / safe | {trusted['requests'] / safe['requests']:.2f}× | | | | "
              f"{trusted['rows'] / max(safe['rows'], 1):.2f}× | | | {trusted['seconds'] / safe['seconds']:.2f}× |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
