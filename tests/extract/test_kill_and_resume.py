"""`kill -9` of the extract midway, then a rerun: exact contents, no duplicates, nothing missing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from pipelines.extract import run_extract
from pipelines.sandbox.calendly import CalendlyAccount, CalendlySandbox

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


class _Quiet:
    """True once the sandbox has seen requests and then none for `seconds`: the run is past HTTP."""

    def __init__(self, sandbox, seconds: float) -> None:
        self.sandbox, self.seconds, self.last, self.since = sandbox, seconds, 0, time.monotonic()

    def __call__(self) -> bool:
        n = self.sandbox.stats()["requests"]
        if n != self.last:
            self.last, self.since = n, time.monotonic()
        return n > 0 and time.monotonic() - self.since >= self.seconds


@pytest.mark.parametrize("moment", ["while-reading-invitees", "after-the-last-request"])
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
            _kill_when(proc, _Quiet(sandbox, 0.15))
        run_extract(settings)
    assert differences(warehouse, account.truth()) == []
