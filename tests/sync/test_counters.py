"""Progress counters count what their names say (issue 15): under faults and retries, the sync's
`contacts pushed` is the number of distinct contacts Brevo accepted, and the extract's counters are
the events, invitees and requests there were – not the imports, batches or attempts behind them."""

from __future__ import annotations

import json
from collections import Counter

from pipelines.brevo.sync import run_sync
from pipelines.config import Settings
from pipelines.extract import run_extract
from pipelines.progress import Progress
from pipelines.warehouse import connect
from sandbox.calendly import CalendlyAccount, CalendlySandbox

from .conftest import NOW, Stack
from .expected import brevo_differences


def _sent_emails(request_log: list[dict]) -> Counter:
    """email → how many import rows named it, over every import the sandbox accepted."""
    sent: Counter = Counter()
    for entry in request_log:
        if entry["route"] == "import" and entry["status"] == 202:
            sent.update(row["email"] for row in json.loads(entry["body"])["jsonBody"])
    return sent


def test_contacts_pushed_counts_the_distinct_contacts_brevo_accepted(tmp_path):
    """One warehouse, two runs: every import refused (nothing pushed, every contact failed once),
    then the resend on a flaky Brevo (5xx and resets, retried): each contact pushed exactly once."""
    stack = Stack(tmp_path, events=300)
    try:
        stack.refresh()
        with connect(stack.settings.warehouse, read_only=True) as con:
            marts = {row[0] for row in con.execute(
                "select distinct email from marts.brevo_contacts where email_is_valid").fetchall()}

        stack.brevo_account.contact_limit_per_import_bytes = 100  # every import refused (400)
        refused = Progress("sync", stream=None)
        first = run_sync(stack.settings, refused)
        assert first.failed == len(marts) and first.synced == 0
        assert refused.get("contacts_pushed") == 0 and refused.get("contacts_failed") == len(marts)

        stack.brevo_account.contact_limit_per_import_bytes = 10_000_000
        stack.brevo.configure(fault_rate=0.10)
        stack.brevo.reset_stats()
        progress = Progress("sync", stream=None)
        summary = run_sync(stack.settings, progress)
        assert summary.failed == 0
        assert brevo_differences(stack.settings.warehouse, stack.brevo_account) == []
        stats = stack.brevo.stats()
        assert sum(n for s, n in stats["by_status"].items() if int(s) >= 500) + stats["resets"] > 0  # faults hit

        sent = _sent_emails(stack.brevo.request_log)
        # The case that overshot: a contact booked on several event types goes in several imports.
        assert max(sent.values()) >= 2 and sum(sent.values()) > len(sent)
        assert set(sent) == marts == set(stack.brevo_account.contacts())
        assert progress.get("contacts_pushed") == len(marts) == summary.synced
        assert progress.get("contacts_failed") == 0
    finally:
        stack.stop()


def test_extract_counters_are_the_events_invitees_and_requests_under_faults(tmp_path):
    """A retried page or invitee read is one more request, never one more event or invitee."""
    account = CalendlyAccount.generate(seed=61, events=150, now=NOW)
    with CalendlySandbox(account, rate_limit=0, fault_rate=0.10, fault_seed=3) as calendly:
        settings = Settings(calendly_token=account.tokens["admin"], calendly_api_url=calendly.url,
                            warehouse_path=tmp_path / "warehouse.duckdb")
        progress = Progress("extract", stream=None)
        summary = run_extract(settings, progress)
        stats = calendly.stats()
    truth = account.truth()
    assert sum(n for s, n in stats["by_status"].items() if int(s) >= 500) + stats["resets"] > 0  # faults hit
    counts = summary.counts
    assert counts["events_listed"] == len(truth["scheduled_events"])
    assert counts["invitee_reads"] == len(truth["scheduled_events"]) and counts["events_skipped"] == 0
    assert counts["invitees"] == len(truth["invitees"]) == summary.rows_loaded["invitees"]
    assert counts["requests"] == stats["requests"]  # every attempt is a request: the retries included
