"""Re-booking links benchmark (not a timed test): links minted per run, and links/s, against Calendly's
rate limits, with a baseline measured in the same run.

    .venv/bin/python bench/rebook_links_bench.py [--events 1500] [--cancels 300] [--latency-ms 50]

A sandbox account with about `--cancels` more cancelled contacts is extracted, transformed and synced
once with links off (the contacts are in Brevo); then, per plan (Calendly's 500 requests a minute on
paid plans, 50 on Free), a copy of that warehouse is synced with links on until every episode has its
link: the links each run mints, the 429s met, and the minting's links/s. The baseline is the same
endpoint asked by a bare `requests` loop (no pacing, no warehouse record), at the same latency: the
ratio says what our per-link record and pacing cost. `--latency-ms` is added to every Calendly answer.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # as the CLI does
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
import yaml  # noqa: E402

from pipelines.brevo.sync import run_sync  # noqa: E402
from pipelines.config import Settings  # noqa: E402
from pipelines.extract import run_extract  # noqa: E402
from pipelines.mapping import DEFAULT_MAPPING  # noqa: E402
from pipelines.transform import run_transform  # noqa: E402
from sandbox.brevo import BrevoAccount, BrevoSandbox  # noqa: E402
from sandbox.calendly import CalendlyAccount, CalendlySandbox  # noqa: E402

PLANS = (("paid", 500), ("Free", 50))  # Calendly's requests per user per minute


def baseline(url: str, token: str, owner: str, n: int) -> float:
    """Links/s of a bare loop of POST /scheduling_links: no pacing, nothing recorded."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    started = time.monotonic()
    for _ in range(n):
        response = session.post(f"{url}/scheduling_links",
                                json={"max_event_count": 1, "owner": owner, "owner_type": "EventType"})
        response.raise_for_status()
    return n / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1500)
    parser.add_argument("--cancels", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=50)
    args = parser.parse_args()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    calendly_account = CalendlyAccount.generate(seed=7, events=args.events, now=now)
    calendly_account.apply_random_changes(seed=3, cancels=args.cancels, reschedules=0, no_shows=0, new_bookings=0)
    print(f"# re-booking links benchmark – {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs, Calendly latency {args.latency_ms:.0f} ms\n")
    with tempfile.TemporaryDirectory() as tmp, CalendlySandbox(calendly_account, rate_limit=0) as calendly:
        tmp = Path(tmp)
        off = yaml.safe_load(DEFAULT_MAPPING.read_text())
        off["rebooking_links"] = {"enabled": False}
        (tmp / "off.yml").write_text(yaml.safe_dump(off))
        base = tmp / "base.duckdb"
        brevo_account = BrevoAccount(api_key="xkeysib-bench-0001")
        with BrevoSandbox(brevo_account, import_seconds=0.05) as brevo:
            settings = Settings(calendly_token=calendly_account.tokens["admin"], calendly_api_url=calendly.url,
                                warehouse_path=base, brevo_api_key=brevo_account.api_key, brevo_api_url=brevo.url)
            run_extract(settings)
            run_transform(settings, as_of=now.isoformat())
            run_sync(settings.with_(mapping_path=tmp / "off.yml"))  # the contacts, no links
        calendly.configure(latency_ms=args.latency_ms)
        rows, rates = [], []
        for plan, limit in PLANS:
            calendly.configure(rate_limit=limit, rate_window_seconds=60)
            warehouse = tmp / f"{plan}.duckdb"
            shutil.copyfile(base, warehouse)
            brevo_account = BrevoAccount(api_key="xkeysib-bench-0002")
            with BrevoSandbox(brevo_account, import_seconds=0.05) as brevo:
                settings = Settings(calendly_token=calendly_account.tokens["admin"], calendly_api_url=calendly.url,
                                    warehouse_path=warehouse, brevo_api_key=brevo_account.api_key,
                                    brevo_api_url=brevo.url)
                minted = seconds = 0.0
                for run in range(1, 30):
                    calendly.reset_stats()
                    summary = run_sync(settings)
                    links = summary.links
                    throttled = calendly.stats()["by_status"].get(429, 0)
                    rows.append((plan, limit, run, links.due - links.skipped, links.minted, links.left, throttled,
                                 links.seconds))
                    minted += links.minted
                    seconds += links.seconds
                    if links.left == 0 and links.failed == 0:
                        break
                    # The next run comes when the window has room again (hourly in production).
                    calendly.configure(rate_limit=limit, rate_window_seconds=60)
            owner = next(t["uri"] for t in calendly_account.truth()["event_types"]
                         if t["active"] and t["deleted_at"] is None)
            calendly.configure(rate_limit=0)
            bare = baseline(calendly.url, calendly_account.tokens["admin"], owner, 100)
            rates.append((plan, minted / seconds if seconds else 0.0, bare))
    print("| plan (requests/min) | run | episodes due | links minted | left for later runs | 429s | minting seconds |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for plan, limit, run, due, minted, left, throttled, secs in rows:
        print(f"| {plan} ({limit}) | {run} | {due:,} | {minted:,} | {left:,} | {throttled} | {secs:.1f} |")
    print("\n| plan | links/s (sync) | links/s (bare loop, baseline) | ratio |")
    print("|---|---:|---:|---:|")
    for plan, ours, bare in rates:
        print(f"| {plan} | {ours:.1f} | {bare:.1f} | {ours / bare:.2f} |")


if __name__ == "__main__":
    main()
