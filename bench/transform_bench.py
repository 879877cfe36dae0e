"""Transform benchmark (not a timed test): `calendly-elt transform` (dbt build: every model and test)
on warehouses extracted from 3,000- and 30,000-event sandbox accounts. Prints a markdown table.

    .venv/bin/python bench/transform_bench.py [--sizes 3000 30000]
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

import duckdb

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # as the CLI does
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.config import Settings  # noqa: E402
from pipelines.extract import run_extract  # noqa: E402
from sandbox.calendly import CalendlyAccount, CalendlySandbox  # noqa: E402
from pipelines.transform import run_transform  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[3000, 30000])
    args = parser.parse_args()
    print(f"# transform benchmark – {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}\n")
    print("| events | invitees | contacts | extract s | transform s (first) | transform s (again) | models + tests |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        account = CalendlyAccount.generate(seed=7, events=size)
        with tempfile.TemporaryDirectory() as tmp, CalendlySandbox(account, rate_limit=0) as sandbox:
            settings = Settings(calendly_token=account.tokens["admin"], calendly_api_url=sandbox.url,
                                warehouse_path=Path(tmp) / "w.duckdb")
            t0 = time.perf_counter()
            run_extract(settings)
            extract_s = time.perf_counter() - t0
            first = run_transform(settings)
            again = run_transform(settings)
            with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
                invitees = con.execute("select count(*) from marts.bookings").fetchone()[0]
                contacts = con.execute("select count(*) from marts.contacts").fetchone()[0]
        print(f"| {size:,} | {invitees:,} | {contacts:,} | {extract_s:.1f} | {first.seconds:.1f} | "
              f"{again.seconds:.1f} | {first.passed} |", flush=True)


if __name__ == "__main__":
    main()
