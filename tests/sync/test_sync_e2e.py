"""`sync` on the sandboxes: Brevo ends up holding exactly the marts, and only changes are sent."""

from __future__ import annotations

from pipelines.brevo.sync import run_sync
from pipelines.extract import run_extract
from pipelines.transform import run_transform
from pipelines.warehouse import connect
from tests.sandbox.brevo_contract import validate_brevo_request

from .conftest import NOW
from .expected import brevo_differences, expected_brevo


def test_first_sync_pushes_every_contact_then_nothing_until_something_changes(any_stack):
    stack = any_stack
    stack.refresh()
    first = run_sync(stack.settings)
    contacts = len(expected_brevo(stack.settings.warehouse))
    assert first.synced == contacts and first.failed == 0
    assert brevo_differences(stack.settings.warehouse, stack.brevo_account) == []
    # Attributes and lists were created before the first import: MEETING_DATE as a date.
    assert stack.brevo_account.attributes()["MEETING_DATE"]["type"] == "date"

    stack.brevo.reset_stats()
    again = run_sync(stack.settings)
    assert again.synced == 0 and again.skipped == contacts
    assert stack.brevo.stats()["imported_rows"] == 0

    before = expected_brevo(stack.settings.warehouse)
    stack.calendly_account.apply_random_changes(seed=4, cancels=20, reschedules=0, no_shows=10, new_bookings=30)
    stack.refresh()
    after = expected_brevo(stack.settings.warehouse)
    changed = {email for email in after if before.get(email) != after[email]}
    assert len(changed) >= 30  # the changes reach contacts
    stack.brevo.reset_stats()
    third = run_sync(stack.settings)
    assert third.synced == len(changed)
    assert third.creates == len(after.keys() - before.keys())
    assert brevo_differences(stack.settings.warehouse, stack.brevo_account) == []

    # Every request the sync sent is one the Brevo API description accepts.
    for entry in stack.brevo.request_log:
        validate_brevo_request(entry["method"], entry["path"], entry["query"], entry["body"])


def test_dry_run_counts_and_sends_nothing(stack, capsys):
    stack.refresh()
    stack.brevo.reset_stats()
    summary = run_sync(stack.settings, dry_run=True)
    assert summary.creates == len(expected_brevo(stack.settings.warehouse)) and summary.updates == 0
    # Nothing sent: the one request is the read-only key check (GET /account, issue 15).
    assert [(e["method"], e["path"], e["status"]) for e in stack.brevo.request_log] == [("GET", "/account", 200)]
    assert stack.brevo.stats()["imported_rows"] == 0
    assert stack.brevo_account.contacts() == {}


def test_every_outcome_is_logged_with_its_reason(any_stack):
    stack = any_stack
    run_extract(stack.settings)
    with connect(stack.settings.warehouse) as con:  # an address Brevo would refuse, as Calendly gave it
        email = con.execute("select min(lower(trim(email))) from calendly_raw.invitees").fetchone()[0]
        con.execute("update calendly_raw.invitees set email = 'not-an-email' where lower(trim(email)) = %s", [email])
    run_transform(stack.settings, as_of=NOW.isoformat(), unit_tests=False)
    summary = run_sync(stack.settings)
    assert summary.invalid == 1
    assert "not-an-email" not in stack.brevo_account.contacts()
    with connect(stack.settings.warehouse, read_only=True) as con:
        log = con.execute("select email, operation, result, reason from brevo_sync.sync_log").fetchall()
        state = con.execute("select count(*) from brevo_sync.contact_state where outcome = 'synced'").fetchone()[0]
    assert len(log) == summary.synced + summary.invalid
    assert ("not-an-email", "create", "invalid", "not a valid email address: not sent") in log
    assert state == summary.synced == len(stack.brevo_account.contacts())
    dropped = [reason for _, _, result, reason in log if result == "synced" and reason]
    assert any("phone" in r and "dropped" in r for r in dropped)  # unusable phones are reported
