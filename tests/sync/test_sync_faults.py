"""A flaky, rate-limited Brevo, and a sync killed midway: Brevo still ends exact, nothing lost or doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import duckdb

from pipelines.brevo.sync import run_sync

from .conftest import Stack
from .expected import brevo_differences


def test_ten_percent_faults_and_ten_requests_per_second_end_exact(tmp_path):
    stack = Stack(tmp_path, events=300, rate_limit_per_second=10, fault_rate=0.10, fault_seed=2)
    try:
        stack.refresh()
        summary = run_sync(stack.settings)
        stats = stack.brevo.stats()
        assert summary.failed == 0
        assert brevo_differences(stack.settings.warehouse, stack.brevo_account) == []
        assert stats["by_status"].get(429, 0) == 0
        assert sum(n for s, n in stats["by_status"].items() if int(s) >= 500) + stats["resets"] > 0
    finally:
        stack.stop()


def test_a_rejected_batch_stays_pending_and_the_next_run_sends_it(tmp_path):
    stack = Stack(tmp_path, events=300)
    try:
        stack.refresh()
        # Brevo refuses every import (400): a limit below the smallest body (one contact, and the envelope).
        stack.brevo_account.contact_limit_per_import_bytes = 100
        first = run_sync(stack.settings)
        assert first.failed == first.creates > 0 and first.synced == 0
        assert stack.brevo_account.contacts() == {}
        with duckdb.connect(str(stack.settings.warehouse_path), read_only=True) as con:
            failed = con.execute("select count(*) from brevo_sync.contact_state where outcome = 'failed'"
                                 " and last_error like '%400%'").fetchone()[0]
        assert failed == first.failed
        stack.brevo_account.contact_limit_per_import_bytes = 10_000_000
        second = run_sync(stack.settings)
        assert second.synced == first.failed and second.failed == 0
        assert brevo_differences(stack.settings.warehouse, stack.brevo_account) == []
    finally:
        stack.stop()


def test_killed_sync_then_rerun_is_exact_and_state_agrees(tmp_path):
    stack = Stack(tmp_path, events=600)
    stack.brevo.configure(import_seconds=0.3)  # slow imports, so the kill lands between them
    try:
        stack.refresh()
        env = {**os.environ, "WAREHOUSE_PATH": str(stack.settings.warehouse_path),
               "CALENDLY_ACCESS_TOKEN": stack.settings.calendly_token, "CALENDLY_API_URL": stack.calendly.url,
               "BREVO_API_KEY": stack.brevo_account.api_key, "BREVO_API_URL": stack.brevo.url}
        proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "sync"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while stack.brevo.stats()["by_route"]["import"] < 2:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        partial = len(stack.brevo_account.contacts())
        summary = run_sync(stack.settings)
        assert summary.failed == 0
        assert 0 < partial < summary.synced + partial  # the kill left work to do, the rerun did it
        assert brevo_differences(stack.settings.warehouse, stack.brevo_account) == []
        with duckdb.connect(str(stack.settings.warehouse_path), read_only=True) as con:
            synced = {r[0] for r in con.execute(
                "select email from brevo_sync.contact_state where outcome = 'synced'").fetchall()}
            runs = con.execute("select run_id, finished_at is not null, synced, requests from brevo_sync.runs "
                               "order by started_at").fetchall()
        assert synced == set(stack.brevo_account.contacts())
        # The runs: the killed one never finished; the rerun did, with its summary's counts.
        assert [(finished, n) for _, finished, n, _ in runs] == [(False, None), (True, summary.synced)]
        assert runs[1][0] == summary.run_id and runs[1][3] == summary.requests
    finally:
        stack.stop()
