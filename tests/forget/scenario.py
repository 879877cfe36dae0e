"""Issue 17, item 3, end to end through both sandboxes, on each warehouse: after `calendly-elt forget`, no
column of any table in the warehouse or the snapshot holds the address, Brevo has no such contact, and
the next run leaves it so – even with Calendly still listing the old bookings and a webhook about one
of them landing afterwards; a booking made after the erasure comes back (with the next extract).

The person is a guest of someone else's event too; a second person booked through a routing form, whose
booking landed by webhook. The DuckDB leg asks Calendly's deletion on an Enterprise plan (accepted,
and its anonymized rows stay out); the PostgreSQL leg on another plan (a clear refusal, exit 1, the
local erasure done all the same)."""

from __future__ import annotations

from collections import Counter

import pytest
import requests

from pipelines import cli
from pipelines.brevo.sync import run_sync
from pipelines.extract import run_extract
from pipelines.snapshot import publish
from pipelines.transform import run_transform
from pipelines.webhooks import LandingStore, landing_path
from sandbox.calendly.shapes import Shape
from tests.forget.everywhere import holding, nowhere, snapshot_text, warehouse_text
from tests.sync.conftest import NOW, Stack
from tests.webhooks.landed import wait_for_landing
from tests.webhooks.receiver import serving

SIGNING_KEY = "whsec-forget-test"
EVENTS = ["invitee.created", "invitee.canceled", "invitee_no_show.created", "invitee_no_show.deleted",
          "routing_form_submission.created"]


def _subscribe(stack: Stack, url: str) -> None:
    account = stack.calendly_account
    response = requests.post(f"{stack.calendly.url}/webhook_subscriptions", json={
        "url": url, "scope": "organization", "organization": account.organization_uri, "events": EVENTS,
        "signing_key": SIGNING_KEY}, headers={"Authorization": f"Bearer {account.tokens['admin']}"}, timeout=10)
    assert response.status_code == 201, response.text


def _full_run(stack: Stack) -> None:
    run_extract(stack.settings)
    run_transform(stack.settings, as_of=NOW.isoformat(), unit_tests=False)
    run_sync(stack.settings)
    publish(stack.settings)


def _env(stack: Stack, monkeypatch) -> None:
    s = stack.settings
    for name, value in {"CALENDLY_ACCESS_TOKEN": s.calendly_token, "CALENDLY_API_URL": s.calendly_api_url,
                        "BREVO_API_KEY": s.brevo_api_key, "BREVO_API_URL": s.brevo_api_url,
                        "WAREHOUSE_PATH": str(s.warehouse_path)}.items():
        monkeypatch.setenv(name, value)
    if s.warehouse_url:
        monkeypatch.setenv("WAREHOUSE_URL", s.warehouse_url)
    else:
        monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("CALENDLY_WEBHOOK_URL", raising=False)


def forget_end_to_end(tmp_path, any_warehouse, monkeypatch, capsys):
    """The scenario, on one warehouse (test_on_duckdb.py, test_on_postgres.py: one file each, so that
    `make test`'s two workers run them side by side)."""
    enterprise = any_warehouse.kind == "duckdb"
    stack = Stack(tmp_path, events=60, seed=61, warehouse=any_warehouse,
                  shape=Shape(data_deletion_on_plan=enterprise))
    account = stack.calendly_account
    store = LandingStore(landing_path(stack.settings))
    try:
        # The person books most, and someone else's booking names them as a guest (made here: the
        # generated account moves with the clock, NOW, and gives few events a guest).
        booked = Counter(i["email"].lower() for i in account.truth()["invitees"])
        guest = max(sorted(booked), key=booked.get)
        account.add_booking(email="books.with.a.guest@example.org", guests=[guest])
        truth = account.truth()
        with serving(store, SIGNING_KEY) as url:
            _subscribe(stack, url)
            router_invitee = account.book_from_submission(account.add_routing_form_submission(routed=True))
            wait_for_landing(store, 2)  # the submission, then the booking: merged by the extract below
            router = next(i["email"] for i in account.truth()["invitees"] if i["uri"] == router_invitee).lower()
            assert router != guest
            _full_run(stack)
            before = warehouse_text(stack.settings)
            for email in (guest, router):
                assert holding(before, email) and holding(snapshot_text(stack.settings), email)
                assert email in {c.lower() for c in stack.brevo_account.contacts()}
            assert any(guest in text for table, text in before.items() if "event_guests" in table)
            assert "calendly_raw.routing_form_submissions__questions_and_answers" in holding(before, router)
            assert _submitted_by(any_warehouse, router_invitee) == 1
            assert [1 for body in _bodies(store) if router in body]
            erased_uris = {i["uri"] for i in truth["invitees"] if i["email"].lower() == guest} | {router_invitee}

            _env(stack, monkeypatch)
            status = cli.main(["forget", guest.upper(), f"  {router} ", "--calendly"])
            out, err = capsys.readouterr()
            assert "2 people erased" in out and "Brevo: deleted" in out, out + err
            if enterprise:
                assert status == 0, err
                assert [r["emails"] for r in account.deletion_requests()] == [sorted([guest, router])]
            else:
                assert status == 1 and len(err.strip().splitlines()) == 1 and "Enterprise" in err, err
                assert account.deletion_requests() == []
            for email in (guest, router):
                nowhere(stack.settings, stack.brevo_account, email)
            assert _submitted_by(any_warehouse, router_invitee) == 0  # the submission went with its submitter

            # Calendly still lists the old bookings (anonymized on Enterprise), and one of them is
            # cancelled now: its delivery lands with the person's (or the anonymized) address.
            still = next(i for i in account.truth()["invitees"]
                         if i["uri"] in erased_uris and i["status"] == "active")
            account.cancel_invitee(still["uri"])
            wait_for_landing(store, 1)
            _full_run(stack)
            for email in (guest, router):
                nowhere(stack.settings, stack.brevo_account, email)
            raw = {row[0] for row in any_warehouse.query("select uri from calendly_raw.invitees")}
            assert not raw & erased_uris  # anonymized or not, the old bookings stay out

            # a booking after the erasure comes back
            again = account.add_booking(email=guest)
            wait_for_landing(store, 1)
            run_extract(stack.settings)
            assert any_warehouse.query("select uri from calendly_raw.invitees where lower(email) = %s", [guest]) \
                == [(again,)]
        # the audit: a salted hash per person, never the address; `--check` answers from it
        audit = any_warehouse.query("select email_hash, rows_removed, invitees, brevo from erasure.requests")
        assert len(audit) == 2 and all(len(h) == 64 and b == "deleted" for h, _, _, b in audit)
        assert not [r for r in audit if guest in str(r) or router in str(r)]
        assert cli.main(["forget", "--check", router]) == 0
        assert "erased" in capsys.readouterr().out
        assert cli.main(["forget", "--check", "never.seen@example.org"]) == 1
        capsys.readouterr()
        if enterprise:
            # Someone the sync sent to Brevo, forgotten without BREVO_API_KEY: erased here, but the
            # command fails in one line naming the key (their Brevo contact is still there).
            third = sorted(set(map(str.lower, stack.brevo_account.contacts())) - {guest, router})[0]
            monkeypatch.delenv("BREVO_API_KEY")
            assert cli.main(["forget", third]) == 1
            err = capsys.readouterr().err
            assert len(err.strip().splitlines()) == 1 and "BREVO_API_KEY is not set" in err, err
            assert holding(warehouse_text(stack.settings), third) == []
    finally:
        store.close()
        stack.stop()


def _submitted_by(warehouse, invitee_uri: str) -> int:
    uuid = invitee_uri.rsplit("/", 1)[-1]
    return sum(1 for (submitter,) in warehouse.query("select submitter from calendly_raw.routing_form_submissions")
               if submitter and submitter.endswith(uuid))


def _bodies(store: LandingStore) -> list[str]:
    with store._connect() as con:
        return [row[0].lower() for row in con.execute("select body from webhook_events")]
