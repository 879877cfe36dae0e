"""`calendly-elt run` on every sandbox profile at its default size, on DuckDB and on PostgreSQL.

For each profile and warehouse: the exit code, the seconds of the whole run (extract, transform, snapshot,
report, sync), and whether the raw tables, the marts and Brevo equal the sandbox's truth. The ratio is
PostgreSQL's time over DuckDB's, measured in the same run. PostgreSQL comes from
`tests/with_postgres.sh` (or CALENDLY_ELT_TEST_POSTGRES_URL):

    tests/with_postgres.sh .venv/bin/python bench/profiles_bench.py [PROFILE ...]
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
import uuid
from contextlib import redirect_stderr, redirect_stdout
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

import psycopg2  # noqa: E402

from pipelines.cli import main  # noqa: E402
from sandbox.brevo import BrevoAccount, BrevoSandbox  # noqa: E402
from sandbox.calendly import CalendlyAccount, CalendlySandbox  # noqa: E402
from sandbox.calendly.shapes import PROFILES  # noqa: E402
from tests.extract.truth import differences  # noqa: E402
from tests.sync.expected import brevo_differences  # noqa: E402
from tests.transform.test_marts_match_truth import expected_statuses  # noqa: E402
from tests.warehouses import TestWarehouse  # noqa: E402


def _database(server: str) -> str:
    name = f"calendly_elt_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(server)
    admin.autocommit = True
    admin.cursor().execute(f'create database "{name}"')
    admin.close()
    return server.rsplit("/", 1)[0] + "/" + name


def run_profile(name: str, warehouse: TestWarehouse) -> tuple[int, float, bool, int, int]:
    account = CalendlyAccount.generate(seed=7, events=PROFILES[name].events, shape=PROFILES[name].shape)
    brevo_account = BrevoAccount(api_key="xkeysib-profiles-bench")
    with CalendlySandbox(account, rate_limit=0) as calendly, BrevoSandbox(brevo_account, import_seconds=0.05) as brevo:
        env = {"CALENDLY_ACCESS_TOKEN": account.tokens["admin"], "CALENDLY_API_URL": calendly.url,
               "BREVO_API_KEY": brevo_account.api_key, "BREVO_API_URL": brevo.url,
               "WAREHOUSE_PATH": str(warehouse.path)}
        with mock.patch.dict(os.environ, env):
            os.environ.pop("WAREHOUSE_URL", None)
            if warehouse.url:
                os.environ["WAREHOUSE_URL"] = warehouse.url
            said = io.StringIO()
            started = time.monotonic()
            with redirect_stdout(said), redirect_stderr(said):  # the table stays readable
                status = main(["run"])
            seconds = time.monotonic() - started
    if status:
        print(said.getvalue(), file=sys.stderr)
    truth = account.truth()
    by_invitee, by_email = expected_statuses(truth, datetime.now(timezone.utc))
    brevo_status = {email: c["attributes"].get("BOOKING_STATUS") for email, c in brevo_account.contacts().items()}
    exact = (differences(warehouse.warehouse, truth) == []
             and dict(warehouse.query("select invitee_uri, booking_status from marts.bookings")) == by_invitee
             and dict(warehouse.query("select email, booking_status from marts.contacts")) == by_email
             and brevo_differences(warehouse.warehouse, brevo_account) == [] and brevo_status == by_email)
    return status, seconds, exact, len(truth["scheduled_events"]), len(truth["invitees"])


def main_bench(profiles: list[str]) -> int:
    server = os.environ.get("CALENDLY_ELT_TEST_POSTGRES_URL")
    print("| profile | events | invitees | DuckDB s | PostgreSQL s | PostgreSQL / DuckDB | exit codes | equal to the truth |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    failed = 0
    with tempfile.TemporaryDirectory(prefix="calendly-elt-profiles-") as folder:
        for name in profiles:
            results = {}
            for kind in ("duckdb", "postgres"):
                if kind == "postgres" and not server:
                    continue
                path = Path(folder) / f"{name}-{kind}" / "warehouse.duckdb"
                path.parent.mkdir(parents=True)
                results[kind] = run_profile(name, TestWarehouse(kind, path, _database(server) if kind == "postgres" else None))
            duck, pg = results["duckdb"], results.get("postgres")
            exits = "/".join(str(r[0]) for r in results.values())
            exact = all(r[2] for r in results.values())
            failed += not exact or any(r[0] for r in results.values())
            print(f"| {name} | {duck[3]:,} | {duck[4]:,} | {duck[1]:.1f} | {pg[1]:.1f} | {pg[1] / duck[1]:.2f}× | {exits} | "
                  f"{'yes' if exact else 'NO'} |" if pg else
                  f"| {name} | {duck[3]:,} | {duck[4]:,} | {duck[1]:.1f} | – | – | {exits} | {'yes' if exact else 'NO'} |",
                  flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main_bench(sys.argv[1:] or list(PROFILES)))
