"""Forgetting ann.lee@example.com takes Ann and no one else, end to end through both sandboxes, on each
warehouse (test_lookalikes_on_*.py):
- joann.lee@example.com, jo.ann.lee@example.com and ann.lee@example.com.au are other people: their rows,
  Brevo contacts and webhook deliveries stay;
- Bob, whose booking link carried Ann's address as its UTM source, keeps his booking without it, and so
  does his cancellation, delivered after the erasure with that UTM source and a reason naming her;
- Ann's name as who cancelled her one-on-one goes;
- Calendly's deletion names each spelling of her address (Enterprise, the DuckDB leg), or is refused in
  one line when the plan lacks it, whatever the refusal's status (404, the PostgreSQL leg);
- Brevo (DuckDB leg): a wrong BREVO_API_URL, a 404 without Brevo's error body and a 202 are each said
  for what they are."""

from __future__ import annotations

from pipelines import cli
from pipelines.webhooks import LandingStore, landing_path
from sandbox.calendly.shapes import Shape
from tests.forget.everywhere import holding, nowhere, warehouse_text
from tests.forget.scenario import SIGNING_KEY, _bodies, _env, _full_run, _subscribe
from tests.sync.conftest import Stack
from tests.webhooks.landed import wait_for_landing
from tests.webhooks.receiver import serving

# Longer than 15 bytes: DuckDB's indexes store a key in 15-byte pieces, so ann@example.com would be in
# the file's bytes as the first piece of ann@example.com.au's key (everywhere.files_holding reads bytes).
ANN = "ann.lee@example.com"
OTHERS = ("joann.lee@example.com", "jo.ann.lee@example.com", "ann.lee@example.com.au")


def _bob(warehouse, uri: str) -> list[tuple]:
    return warehouse.query("select status, tracking__utm_source, cancellation__reason from calendly_raw.invitees "
                           "where uri = %s", [uri])


def _canceled_by(warehouse, invitee_uri: str) -> list[tuple]:
    return warehouse.query("select cancellation__canceler_type, cancellation__canceled_by "
                           "from calendly_raw.scheduled_events where uri = %s", [invitee_uri.split("/invitees/")[0]])


def _forget(args: list[str], capsys) -> tuple[int, str, str]:
    status = cli.main(["forget", *args])
    out, err = capsys.readouterr()
    return status, out, err


def lookalikes_end_to_end(tmp_path, warehouse, monkeypatch, capsys):
    enterprise = warehouse.kind == "duckdb"
    stack = Stack(tmp_path, events=30, seed=67, warehouse=warehouse,
                  shape=Shape(data_deletion_on_plan=enterprise, data_deletion_refusal=404))
    account = stack.calendly_account
    store = LandingStore(landing_path(stack.settings))
    try:
        with serving(store, SIGNING_KEY) as url:
            _subscribe(stack, url)
            one_on_one = next(t["uri"] for t in account.truth()["event_types"]
                              if t["kind"] == "solo" and t["pooling_type"] is None and t["active"])
            mine = account.add_booking(one_on_one, email="Ann.Lee@Example.com")  # as she typed it
            account.add_booking(email=ANN)
            for email in OTHERS:
                account.add_booking(email=email)
            bob = account.add_booking(email="bob@example.org", tracking={"utm_source": "Ann.Lee@Example.com"})
            account.cancel_invitee(mine)  # her one-on-one's event names her as who cancelled
            wait_for_landing(store, 7)
            _full_run(stack)
            before = warehouse_text(stack.settings)
            landed = {email: sum(email in body for body in _bodies(store)) for email in OTHERS}
            assert all(landed.values()) and all(holding(before, email) for email in OTHERS)
            assert _bob(warehouse, bob) == [("active", "Ann.Lee@Example.com", None)]
            name = _canceled_by(warehouse, mine)[0][1]
            assert name and _canceled_by(warehouse, mine) == [("invitee", name)]

            _env(stack, monkeypatch)
            status, out, err = _forget([ANN, "--calendly"], capsys)
            if enterprise:
                assert status == 0, err
                assert [r["sent"] for r in account.deletion_requests()] == [[ANN, "Ann.Lee@Example.com"]]
            else:
                assert status == 1 and len(err.strip().splitlines()) == 1, err
                assert "needs an Enterprise plan (404: Permission Denied: Please upgrade" in err, err
            assert "Brevo: deleted" in out, out
            nowhere(stack.settings, stack.brevo_account, ANN, kept=OTHERS)
            after = warehouse_text(stack.settings)
            contacts = {c.lower() for c in stack.brevo_account.contacts()}
            for email in OTHERS:
                assert holding(after, email) == holding(before, email), email
                assert email in contacts
                assert sum(email in body for body in _bodies(store)) == landed[email], email
            assert _bob(warehouse, bob) == [("active", None, None)]  # his booking, without her address
            assert _canceled_by(warehouse, mine) == [("invitee", None)]

            # Bob cancels: Calendly delivers his invitee with her address as UTM source and in his reason
            account.cancel_invitee(bob, reason="Ask ann.lee@example.com.")
            wait_for_landing(store, 1)
            _full_run(stack)
            nowhere(stack.settings, stack.brevo_account, ANN, kept=OTHERS)
            assert _bob(warehouse, bob) == [("canceled", None, None)]  # merged, not dropped as hers
            assert _canceled_by(warehouse, mine) == [("invitee", None)]
            assert all(holding(warehouse_text(stack.settings), email) for email in OTHERS)
        if enterprise:
            _brevo_answers(stack, monkeypatch, capsys)
    finally:
        store.close()
        stack.stop()


def _brevo_answers(stack: Stack, monkeypatch, capsys) -> None:
    """Brevo's deletion, said for what it is."""
    someone = OTHERS[1]
    url = stack.settings.brevo_api_url
    # a wrong BREVO_API_URL (every path 404): checked once with GET /account, nobody reported deleted
    monkeypatch.setenv("BREVO_API_URL", url.rsplit("/v3", 1)[0])
    status, _, err = _forget([someone], capsys)
    assert status == 1 and len(err.strip().splitlines()) == 1 and "check BREVO_API_URL" in err, err
    assert someone in {c.lower() for c in stack.brevo_account.contacts()}
    monkeypatch.setenv("BREVO_API_URL", url)
    # a 404 whose body is not Brevo's error object is not "no such contact"
    stack.brevo.configure(error_bodies={"contact_delete": '["bad"]'})
    status, _, err = _forget(["never.synced@example.org"], capsys)
    assert status == 1 and "404 without Brevo's error body" in err and len(err.strip().splitlines()) == 1, err
    # any 2xx is a deletion
    stack.brevo.configure(error_bodies={}, success_answers={"contact_delete": (202, "Accepted")})
    status, out, err = _forget([someone], capsys)
    assert status == 0 and "Brevo: deleted" in out, err
    assert someone not in {c.lower() for c in stack.brevo_account.contacts()}
