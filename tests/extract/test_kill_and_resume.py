"""`kill -9` of the extract midway, then a rerun: exact contents, no duplicates, nothing missing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from pipelines.extract import run_extract
from sandbox.calendly import CalendlyAccount, CalendlySandbox

from .conftest import NOW, settings_for
from .truth import differences


def _start_extract(account, sandbox, warehouse, *args: str) -> subprocess.Popen:
    env = {**os.environ, "CALENDLY_ACCESS_TOKEN": account.tokens["admin"],
           "CALENDLY_API_URL": sandbox.url, "WAREHOUSE_PATH": str(warehouse)}
    return subprocess.Popen([sys.executable, "-m", "pipelines.cli", "extract", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill_when(proc: subprocess.Popen, condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, "the extract finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _normalized_package_waiting(warehouse):
    """True while dlt holds a normalized package that is not loaded yet: the run is in its load step."""
    normalized = warehouse.parent / ".dlt" / warehouse.stem / "calendly" / "load" / "normalized"
    return lambda: normalized.is_dir() and any(normalized.iterdir())


@pytest.mark.parametrize("moment", ["while-reading-invitees", "while-loading"])
def test_killed_extract_then_rerun_is_exact(warehouse, moment):
    account = CalendlyAccount.generate(seed=31, events=600, now=NOW)
    with CalendlySandbox(account, rate_limit=0, latency_ms=2) as sandbox:
        settings = settings_for(account, sandbox, warehouse)
        # A complete first run, so the kill interrupts a run that has state to protect.
        run_extract(settings)
        account.apply_random_changes(seed=8, cancels=20, reschedules=10, no_shows=10, new_bookings=30)
        sandbox.reset_stats()
        if moment == "while-reading-invitees":
            # Re-list and re-read every past event (long windows), killed part of the way through.
            proc = _start_extract(account, sandbox, warehouse, "--lookback-days", "400", "--no-show-window-days", "400")
            _kill_when(proc, lambda: sandbox.stats()["by_route"].get("invitees", 0) >= 200)
        else:
            proc = _start_extract(account, sandbox, warehouse)
            _kill_when(proc, _normalized_package_waiting(warehouse))
        rerun = run_extract(settings)
    # Killed while loading, the rerun must first load the package the killed run left behind.
    assert rerun.resumed_pending == (moment == "while-loading")
    assert differences(warehouse, account.truth()) == []


_DIE_AFTER_NORMALIZE_COMMIT = """
import os, sys
from dlt.common.storages.load_storage import LoadStorage
commit = LoadStorage.commit_new_load_package
def commit_then_die(self, load_id, *args, **kwargs):
    commit(self, load_id, *args, **kwargs)
    os._exit(137)  # what `kill -9` does, at the one instant dlt cannot protect (dlt-hub/dlt#4446)
LoadStorage.commit_new_load_package = commit_then_die
from pipelines.cli import main
sys.exit(main(["extract"]))
"""


def test_killed_between_normalize_commit_and_cleanup_then_rerun_is_exact(warehouse):
    account = CalendlyAccount.generate(seed=32, events=300, now=NOW)
    with CalendlySandbox(account, rate_limit=0) as sandbox:
        settings = settings_for(account, sandbox, warehouse)
        run_extract(settings)
        account.apply_random_changes(seed=9, cancels=20, reschedules=10, no_shows=10, new_bookings=30)
        env = {**os.environ, "CALENDLY_ACCESS_TOKEN": account.tokens["admin"],
               "CALENDLY_API_URL": sandbox.url, "WAREHOUSE_PATH": str(warehouse)}
        died = subprocess.run([sys.executable, "-c", _DIE_AFTER_NORMALIZE_COMMIT], env=env,
                              capture_output=True, text=True, timeout=120)
        assert died.returncode == 137, died.stderr
        rerun = run_extract(settings)
        again = run_extract(settings)  # and the pipeline is healthy afterwards
    assert rerun.resumed_pending and not again.resumed_pending
    assert differences(warehouse, account.truth()) == []
