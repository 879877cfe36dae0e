"""Orchestration benchmark (not a timed test): wall time of a scheduled Dagster run of the whole graph
on a 3,000-event account, then of a run with nothing changed, against the same stages run by
`calendly-elt run` (no Dagster) in the same session. Prints a markdown report.

    .venv/bin/python bench/orchestration_bench.py [--events 3000]

Each run is a fresh process, as a scheduled run is (the daemon starts a run worker that loads the
code location, then executes the job in-process): `dagster job execute` for Dagster, the CLI for the
baseline. The sandboxes run in this process with no rate limit and no latency, so the figures are the
pipeline's own cost; both sides use their own warehouse.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # as the CLI does
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.brevo import BrevoAccount, BrevoSandbox  # noqa: E402
from sandbox.calendly import CalendlyAccount, CalendlySandbox  # noqa: E402

BIN = Path(sys.executable).parent


def _timed(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command[:3])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds


def _step_seconds(dagster_home: Path) -> dict[str, float]:
    """Per-step durations of the latest run, from the instance's event log."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(dagster_home)
    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        stats = instance.get_run_step_stats(run.run_id)
        run_stats = instance.get_run_stats(run.run_id)
    steps = {s.step_key: (s.end_time or 0) - (s.start_time or 0) for s in stats}
    steps["(run start to end)"] = (run_stats.end_time or 0) - (run_stats.start_time or 0)
    return steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3000)
    args = parser.parse_args()
    account = CalendlyAccount.generate(seed=7, events=args.events)
    brevo_account = BrevoAccount(api_key="xkeysib-bench-0001")
    rows = []
    steps = {}
    with tempfile.TemporaryDirectory() as tmp, CalendlySandbox(account, rate_limit=0) as calendly, \
            BrevoSandbox(brevo_account, import_seconds=0.05) as brevo:
        env = dict(os.environ, CALENDLY_ACCESS_TOKEN=account.tokens["admin"], CALENDLY_API_URL=calendly.url,
                   BREVO_API_KEY=brevo_account.api_key, BREVO_API_URL=brevo.url)
        home = Path(tmp) / "dagster"
        home.mkdir()
        shutil.copyfile(ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
        cli = dict(env, WAREHOUSE_PATH=str(Path(tmp) / "cli" / "warehouse.duckdb"))
        dagster = dict(env, WAREHOUSE_PATH=str(Path(tmp) / "dagster" / "data" / "warehouse.duckdb"),
                       DAGSTER_HOME=str(home))
        run_cli = [str(BIN / "calendly-elt"), "run"]
        run_dagster = [str(BIN / "dagster"), "job", "execute", "-m", "orchestration.definitions", "-j", "calendly_elt"]
        for name in ("full (3,000-event backfill)" if args.events == 3000 else f"full ({args.events:,} events)",
                     "incremental, nothing changed"):
            baseline = _timed(run_cli, cli)
            with_dagster = _timed(run_dagster, dagster)
            steps[name] = _step_seconds(home)
            rows.append((name, with_dagster, baseline))
    print(f"# orchestration benchmark – {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, Python "
          f"{platform.python_version()}, {os.cpu_count()} cores, {args.events:,} events\n")
    print("| run | Dagster job (s) | `calendly-elt run` (s) | ratio |")
    print("|---|---:|---:|---:|")
    for name, with_dagster, baseline in rows:
        print(f"| {name} | {with_dagster:.1f} | {baseline:.1f} | {with_dagster / baseline:.2f}× |")
    print("\nSteps of the Dagster runs (seconds, from the run's event log):\n")
    names = list(steps)
    keys = sorted({k for s in steps.values() for k in s}, key=lambda k: (k.startswith("("), k))
    print("| step | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for key in keys:
        print(f"| {key} | " + " | ".join(f"{steps[n].get(key, 0):.1f}" for n in names) + " |")


if __name__ == "__main__":
    main()
