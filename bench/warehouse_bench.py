"""The same pipeline on DuckDB (the baseline) and on PostgreSQL, in one run (not a timed test).

    tests/with_postgres.sh .venv/bin/python bench/warehouse_bench.py [--events 3000]

with_postgres.sh starts a throwaway PostgreSQL on loopback (CALENDLY_ELT_TEST_POSTGRES_URL); the
bench creates a database in it. For each warehouse, against the same sandbox account: a backfill
extract, `dbt build`, a first Brevo sync, the snapshot, then the account changes and an incremental
extract, transform and sync. Prints seconds per stage and the PostgreSQL / DuckDB ratio. Each
warehouse runs twice, alternating, and the faster run of each stage counts: the first run in the
process also pays for imports (dbt, the sync), which would otherwise be charged to whichever goes first.
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
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # as the CLI does
sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402

from pipelines.brevo.sync import run_sync  # noqa: E402
from pipelines.config import Settings  # noqa: E402
from pipelines.extract import run_extract  # noqa: E402
from sandbox.brevo import BrevoAccount, BrevoSandbox  # noqa: E402
from sandbox.calendly import CalendlyAccount, CalendlySandbox  # noqa: E402
from pipelines.snapshot import publish  # noqa: E402
from pipelines.transform import run_transform  # noqa: E402

STAGES = ("extract (backfill)", "transform", "sync (all contacts)", "snapshot",
          "extract (incremental)", "transform (again)", "sync (changes)")


def _database(server: str, name: str) -> str:
    admin = psycopg2.connect(server)
    admin.autocommit = True
    admin.cursor().execute(f'drop database if exists "{name}" with (force)')
    admin.cursor().execute(f'create database "{name}"')
    admin.close()
    return urlsplit(server)._replace(path=f"/{name}").geturl()


def measure(events: int, folder: Path, warehouse_url: str | None) -> dict[str, float]:
    account = CalendlyAccount.generate(seed=7, events=events)
    brevo_account = BrevoAccount(api_key="xkeysib-bench")
    seconds: dict[str, float] = {}
    with CalendlySandbox(account, rate_limit=0) as calendly, \
            BrevoSandbox(brevo_account, import_seconds=0.05) as brevo:
        settings = Settings(calendly_token=account.tokens["admin"], calendly_api_url=calendly.url,
                            warehouse_path=folder / "warehouse.duckdb", warehouse_url=warehouse_url,
                            brevo_api_key=brevo_account.api_key, brevo_api_url=brevo.url)
        as_of = datetime.now(timezone.utc).isoformat()
        steps = [lambda: run_extract(settings), lambda: run_transform(settings, as_of=as_of),
                 lambda: run_sync(settings), lambda: publish(settings),
                 lambda: run_extract(settings), lambda: run_transform(settings, as_of=as_of),
                 lambda: run_sync(settings)]
        for stage, step in zip(STAGES, steps):
            if stage == "extract (incremental)":
                account.apply_random_changes(seed=5, cancels=20, reschedules=10, no_shows=10, new_bookings=30)
            started = time.perf_counter()
            step()
            seconds[stage] = time.perf_counter() - started
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3000)
    args = parser.parse_args()
    server = os.environ.get("CALENDLY_ELT_TEST_POSTGRES_URL")
    if not server:
        sys.exit("no PostgreSQL: run as `tests/with_postgres.sh .venv/bin/python bench/warehouse_bench.py`")
    runs: dict[str, list[dict[str, float]]] = {"duckdb": [], "postgres": []}
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(2):
            runs["duckdb"].append(measure(args.events, Path(tmp) / f"duckdb{attempt}", None))
            runs["postgres"].append(measure(args.events, Path(tmp) / f"postgres{attempt}",
                                            _database(server, f"calendly_elt_bench{attempt}")))
    duck, pg = ({stage: min(run[stage] for run in runs[kind]) for stage in STAGES} for kind in ("duckdb", "postgres"))
    print(f"# warehouse benchmark – {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, Python "
          f"{platform.python_version()}, {os.cpu_count()} cores, {args.events:,} events\n")
    print("| stage | DuckDB s | PostgreSQL s | PostgreSQL / DuckDB |")
    print("|---|---:|---:|---:|")
    for stage in STAGES:
        print(f"| {stage} | {duck[stage]:.1f} | {pg[stage]:.1f} | {pg[stage] / duck[stage]:.2f}× |")
    total_duck, total_pg = sum(duck.values()), sum(pg.values())
    print(f"| **all** | {total_duck:.1f} | {total_pg:.1f} | {total_pg / total_duck:.2f}× |")


if __name__ == "__main__":
    main()
