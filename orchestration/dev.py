"""`make ui`: `dagster dev` on this project, on the sandboxes unless real credentials are set.

With no CALENDLY_ACCESS_TOKEN, the Calendly and Brevo sandboxes run in this process and every run
of the UI, schedule and sensors uses them. The sandboxes are generated afresh at each start, so
everything of theirs – warehouse, snapshot, report, Dagster's instance – lives in a folder of its own
(data/sandbox/), reset at each start: sandbox rows never reach a real warehouse, and history of a
previous sandbox never meets a new one. Ctrl-C stops Dagster and the sandboxes.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from pipelines.config import PROJECT_ROOT, Settings, child_environment

DAGSTER_YAML = Path(__file__).with_name("dagster.yaml")
WORKSPACE = PROJECT_ROOT / "workspace.yaml"
SANDBOX_DIR = PROJECT_ROOT / "data" / "sandbox"


def _use_sandboxes(env: dict, folder: Path, events: int, seed: int, stack: contextlib.ExitStack) -> None:
    """Start the sandboxes until `stack` closes, and point `env` at them and at `folder` (emptied first)."""
    from sandbox.stack import start_sandboxes

    shutil.rmtree(folder, ignore_errors=True)
    # No rate limit: a first backfill at Calendly's 500 requests/min would keep the UI busy for minutes.
    sandboxes = stack.enter_context(start_sandboxes(events=events, seed=seed, rate_limit=0,
                                                    brevo_api_key="xkeysib-ui-sandbox"))
    env.pop("WAREHOUSE_URL", None)  # sandbox rows go to a DuckDB file of their own, never a real warehouse
    env.update(sandboxes.env(), WAREHOUSE_PATH=str(folder / "warehouse.duckdb"),
               DAGSTER_HOME=str(folder / "dagster"))
    print(f"ui: no CALENDLY_ACCESS_TOKEN set, so runs use the sandboxes: Calendly {sandboxes.calendly.url} "
          f"({events:,} events), Brevo {sandboxes.brevo.url}; everything in {folder}", flush=True)


def _dagster_home(env: dict) -> None:
    """Dagster's instance (run history, schedules' state); the pool limit is set where it is created."""
    home = Path(env.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / "data" / "dagster")))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copyfile(DAGSTER_YAML, home / "dagster.yaml")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make ui", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--events", type=int, default=3000, help="size of the sandbox account")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sandbox-dir", type=Path, default=SANDBOX_DIR,
                        help="the sandboxes' folder, emptied at start (default data/sandbox)")
    args = parser.parse_args(argv)

    env = child_environment()
    with contextlib.ExitStack() as stack:  # stops the sandboxes, if started, once Dagster has stopped
        if not Settings.from_env(env).calendly_token:
            _use_sandboxes(env, args.sandbox_dir.resolve(), args.events, args.seed, stack)
        _dagster_home(env)
        command = [str(Path(sys.executable).parent / "dagster"), "dev", "-w", str(WORKSPACE),
                   "-h", args.host, "-p", str(args.port)]
        process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT)
        signal.signal(signal.SIGTERM, lambda *_: process.terminate())
        try:
            return process.wait()
        except KeyboardInterrupt:  # dagster dev got the same Ctrl-C and shuts down on its own
            return process.wait()


if __name__ == "__main__":
    sys.exit(main())
