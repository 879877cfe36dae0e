"""A flaky, rate-limited API: retries and pacing still give exact contents, without a single 429."""

from __future__ import annotations

from pipelines.extract import run_extract
from sandbox.calendly import CalendlyAccount, CalendlySandbox

from .conftest import NOW, settings_for
from .truth import differences


def test_ten_percent_faults_and_400_per_minute_end_exact(warehouse):
    # Calendly's rate (a budget per window, paced by X-RateLimit-*) on a 15 s window: three windows
    # of pacing take half a minute instead of three minutes.
    account = CalendlyAccount.generate(seed=21, events=200, now=NOW)
    with CalendlySandbox(account, rate_limit=100, rate_window_seconds=15, fault_rate=0.10,
                         fault_seed=3) as sandbox:
        run_extract(settings_for(account, sandbox, warehouse), max_attempts=10)
        stats = sandbox.stats()
    assert differences(warehouse, account.truth()) == []
    faults = sum(n for status, n in stats["by_status"].items() if int(status) >= 500) + stats["resets"]
    assert faults > 10  # faults were injected and survived
    assert stats["requests"] > 2 * 100  # more than two windows' budget was needed
    assert stats["by_status"].get(429, 0) == 0


def test_invitee_reads_are_concurrent_and_bounded(warehouse):
    """Over a 20 ms network, invitees of different events are read at once – but never by more than
    `max_workers` reads (plus the one listing request of dlt's extract thread)."""
    account = CalendlyAccount.generate(seed=22, events=200, now=NOW)
    with CalendlySandbox(account, rate_limit=0, latency_ms=20) as sandbox:
        run_extract(settings_for(account, sandbox, warehouse), max_workers=3)
        peak = sandbox.stats()["peak_in_flight"]
    assert 3 <= peak <= 4
    assert differences(warehouse, account.truth()) == []
