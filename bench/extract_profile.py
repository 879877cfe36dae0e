"""Where the extract's time goes, at 0 ms latency (not a timed test). Prints three measurements:

    .venv/bin/python bench/extract_profile.py

1. Per request: dlt's RESTClient.paginate (our client: paced adapter, retries, compiled selector)
   against a plain `requests.Session`, over the same 500 invitee listings.
2. Per step of one 3,000-event backfill, from dlt's trace: extract, normalize, load.
3. The backfill with 1, 2, 4 and 8 invitee workers.
4. At 50 ms latency and no rate limit (1,000 events): 1 worker against 8, to show that concurrent
   invitee reads keep a backfill over a slow network from being latency-bound.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import requests

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # as the CLI does
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.calendly.client import calendly_client  # noqa: E402
from pipelines.pacing import RateLimitPacer  # noqa: E402
from pipelines.config import Settings  # noqa: E402
from pipelines.extract import calendly_pipeline, run_extract  # noqa: E402
from sandbox.calendly import CalendlyAccount, CalendlySandbox  # noqa: E402


def per_request(account: CalendlyAccount, sandbox: CalendlySandbox) -> None:
    uuids = [e["uri"].rsplit("/", 1)[1] for e in account.truth()["scheduled_events"]][:500]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {account.tokens['admin']}"
    t0 = time.perf_counter()
    for uuid in uuids:
        session.get(f"{sandbox.url}/scheduled_events/{uuid}/invitees", params={"count": 100}).json()
    plain = (time.perf_counter() - t0) / len(uuids) * 1000
    client = calendly_client(sandbox.url, account.tokens["admin"], RateLimitPacer(), max_workers=8, max_attempts=8)
    t0 = time.perf_counter()
    for uuid in uuids:
        [row for page in client.paginate(f"/scheduled_events/{uuid}/invitees", params={"count": 100}) for row in page]
    ours = (time.perf_counter() - t0) / len(uuids) * 1000
    print(f"per request: plain requests {plain:.2f} ms, RESTClient.paginate {ours:.2f} ms")


def backfill(account: CalendlyAccount, sandbox: CalendlySandbox, workers: int, steps: bool = False) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "w.duckdb"
        t0 = time.perf_counter()
        settings = Settings(calendly_token=account.tokens["admin"], calendly_api_url=sandbox.url,
                            warehouse_path=warehouse)
        run_extract(settings, max_workers=workers)
        seconds = time.perf_counter() - t0
        if steps:
            trace = calendly_pipeline(settings).last_trace
            print("steps: " + ", ".join(f"{s.step} {(s.finished_at - s.started_at).total_seconds():.1f} s"
                                        for s in trace.steps if s.step != "run"))
    return seconds


def main() -> None:
    account = CalendlyAccount.generate(seed=7, events=3000)
    with CalendlySandbox(account, rate_limit=0) as sandbox:
        per_request(account, sandbox)
        print(f"backfill: {backfill(account, sandbox, 8, steps=True):.1f} s")
        for workers in (1, 2, 4, 8):
            print(f"backfill with {workers} invitee workers: {backfill(account, sandbox, workers):.1f} s")
    small = CalendlyAccount.generate(seed=7, events=1000)
    with CalendlySandbox(small, rate_limit=0, latency_ms=50) as sandbox:
        for workers in (1, 8):
            print(f"50 ms latency, 1,000 events, {workers} invitee workers: "
                  f"{backfill(small, sandbox, workers):.1f} s")


if __name__ == "__main__":
    main()
