"""The receiver through Starlette's TestClient, with the clock in the test's hands."""

import hashlib
import json
import sqlite3

from pipelines.config import Settings
from pipelines.webhooks import landing_path

from .conftest import KEY, NOW, delivery, signed


def test_a_valid_delivery_lands_once(client, store):
    body = delivery()
    response = client.post("/webhooks/calendly", content=body, headers=signed(body))
    assert response.status_code == 200 and response.json() == {"landed": True}
    [row] = store.pending()
    assert row.id == hashlib.sha256(body).hexdigest()
    assert (row.event, row.created_at, row.body) == ("invitee.created", "2023-11-14T22:13:20.000000Z", body.decode())
    assert row.received_at == "2023-11-14T22:13:20.000000+00:00"  # the injected clock's NOW
    assert KEY not in response.text


def test_calendly_retrying_a_delivery_is_idempotent(client, store, clock):
    body = delivery("invitee.canceled")
    assert client.post("/webhooks/calendly", content=body, headers=signed(body)).json() == {"landed": True}
    clock.now += 60  # Calendly retries later, signing the same body anew
    retry = client.post("/webhooks/calendly", content=body, headers=signed(body, NOW + 60))
    assert retry.status_code == 200 and retry.json() == {"landed": False}
    assert store.count() == 1


def test_an_exact_replay_is_rejected(client, store, clock):
    body = delivery()
    headers = signed(body)
    assert client.post("/webhooks/calendly", content=body, headers=headers).status_code == 200
    clock.now += 30  # still inside the tolerance window
    replay = client.post("/webhooks/calendly", content=body, headers=headers)
    assert replay.status_code == 401 and replay.json() == {"error": "invalid signature", "reason": "replayed"}
    assert store.count() == 1
    # A malformed request (a 400) is refused before anything is written, its replay too: nothing lands.
    bad = b'{"event": "invitee.created"}'
    assert client.post("/webhooks/calendly", content=bad, headers=signed(bad, NOW + 30)).status_code == 400
    assert client.post("/webhooks/calendly", content=bad, headers=signed(bad, NOW + 30)).status_code == 400
    assert store.count() == 1


def test_seen_signatures_are_forgotten_once_stale(store):
    assert not store.seen_signature(NOW, "a" * 64, now=NOW, window_seconds=180)
    assert store.seen_signature(NOW, "a" * 64, now=NOW + 180, window_seconds=180)
    assert not store.seen_signature(NOW + 500, "b" * 64, now=NOW + 500, window_seconds=180)  # prunes NOW's
    with sqlite3.connect(store.path) as con:
        assert con.execute("select t from webhook_signatures").fetchall() == [(NOW + 500,)]


def test_a_stale_delivery_is_rejected(client, store, clock):
    body = delivery()
    clock.now = NOW + 181
    response = client.post("/webhooks/calendly", content=body, headers=signed(body))
    assert response.status_code == 401 and response.json()["reason"] == "stale"
    clock.now = NOW - 181  # from the future: as suspect
    assert client.post("/webhooks/calendly", content=body, headers=signed(body)).json()["reason"] == "stale"
    clock.now = NOW + 180  # the edge is inside
    assert client.post("/webhooks/calendly", content=body, headers=signed(body)).json() == {"landed": True}


def test_unsigned_or_badly_signed_deliveries_are_rejected(client, store):
    body = delivery()
    for headers, reason in [({}, "missing"), ({"Calendly-Webhook-Signature": "t=1,v1=xyz"}, "malformed"),
                            (signed(body, key="whsec-someone-else"), "mismatch"),
                            (signed(delivery(email="eve@example.com")), "mismatch")]:
        response = client.post("/webhooks/calendly", content=body, headers=headers)
        assert response.status_code == 401 and response.json() == {"error": "invalid signature", "reason": reason}
    assert store.count() == 0


def test_an_oversized_body_is_refused(client, store):
    big = json.dumps({"event": "invitee.created", "payload": {"pad": "x" * 20_000}}).encode()
    response = client.post("/webhooks/calendly", content=big, headers=signed(big))
    assert response.status_code == 413
    # Chunked, with no Content-Length: the cap applies to what is read.
    chunks = iter([big[:5_000], big[5_000:]])
    response = client.post("/webhooks/calendly", content=chunks, headers=signed(big))
    assert response.status_code == 413
    # A Content-Length that lies about a large body does not get it in either.
    response = client.post("/webhooks/calendly", content=big, headers=signed(big) | {"Content-Length": "10"})
    assert response.status_code in (400, 413)
    assert store.count() == 0


def test_a_signed_body_that_is_not_a_delivery_is_a_400(client, store, clock):
    for i, body in enumerate([b"{not json", b"", b"[1, 2]", b'{"event": 1, "payload": {}}',
                              b'{"event": "invitee.created", "payload": []}', b'{"event": "invitee.created"}',
                              b'{"event": "invitee.created", "payload": {"x": NaN}}', b"\xff\xfe{}",
                              b"[" * 4_500 + b"]" * 4_500]):  # deeper than Python's recursion limit
        clock.now = NOW + i  # fresh signed requests, so none is a replay
        response = client.post("/webhooks/calendly", content=body, headers=signed(body, NOW + i))
        assert response.status_code == 400, body[:50]
    assert store.count() == 0


def test_other_events_are_acknowledged_but_not_landed(client, store):
    body = delivery("event_type.updated")
    response = client.post("/webhooks/calendly", content=body, headers=signed(body))
    assert response.status_code == 200 and response.json() == {"landed": False, "ignored": "event_type.updated"}
    body = b'{"event": "\\ud800", "payload": {}}'  # valid JSON that UTF-8 cannot carry back
    response = client.post("/webhooks/calendly", content=body, headers=signed(body))
    assert response.status_code == 200 and response.json()["landed"] is False
    assert store.count() == 0


def test_each_supported_event_lands(client, store):
    events = ["invitee.created", "invitee.canceled", "invitee_no_show.created", "invitee_no_show.deleted",
              "routing_form_submission.created"]
    for event in events:
        body = delivery(event)
        assert client.post("/webhooks/calendly", content=body, headers=signed(body)).json() == {"landed": True}
    assert sorted(row.event for row in store.pending()) == sorted(events)


def test_pending_and_processed(store):
    assert store.append("a", "invitee.created", None, "{}", received_at=NOW)
    assert store.append("b", "invitee.canceled", None, "{}", received_at=NOW + 1)
    assert not store.append("a", "invitee.created", None, "{}", received_at=NOW + 2)
    assert [row.id for row in store.pending()] == ["a", "b"]
    assert store.mark_processed(["a", "zzz"]) == 1
    assert [row.id for row in store.pending()] == ["b"] and store.count() == 2
    assert store.mark_processed(["a"]) == 0


def test_health_and_methods(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/webhooks/calendly").status_code == 405


def test_the_landing_store_sits_beside_the_warehouse(tmp_path):
    settings = Settings.from_env({"WAREHOUSE_PATH": str(tmp_path / "data" / "warehouse.duckdb")})
    assert landing_path(settings) == tmp_path / "data" / "landing" / "calendly_webhooks.sqlite"
