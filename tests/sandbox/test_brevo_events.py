"""`POST /events` (Brevo's createEvent) in the Brevo sandbox: what it accepts and keeps, what it refuses
(and with which error), its own rate limit, faults, and the knob that makes it refuse a contact's events.
As in test_brevo_sandbox.py, every response is validated against Brevo's OpenAPI description when
the test ends, and every request the sandbox accepted against the spec too."""

import json
import time
from datetime import datetime, timezone

import pytest
import requests

from sandbox.brevo import BrevoAccount, BrevoSandbox

from .brevo_contract import validate_brevo_request, validate_brevo_response
from .test_brevo_sandbox import RATE_HEADERS, make_env  # noqa: F401  (make_env is a fixture)


def event(email="ann@example.com", **fields) -> dict:
    return {"event_name": "calendly_booked", "identifiers": {"email_id": email}, **fields}


def post(env, body, s=None):
    return (s or env.s).post(f"{env.url}/events", json=body)


@pytest.fixture
def env(make_env):  # noqa: F811
    env = make_env()
    for name, kind in (("BOOKING_STATUS", "text"), ("MEETING_DATE", "date"), ("NO_SHOWS", "float")):
        assert env.s.post(f"{env.url}/contacts/attributes/normal/{name}", json={"type": kind}).status_code == 201
    return env


def test_an_event_is_kept_with_everything_sent(env):
    r = env.s.post(f"{env.url}/contacts", json={"email": "ann@example.com", "attributes": {"FIRSTNAME": "Ann"}})
    ann = r.json()["id"]
    props = {"invitee_uri": "https://api.calendly.com/scheduled_events/E1/invitees/I1", "start_time": "2025-06-02T15:00:00Z",
             "duration": 30, "score": 0.5, "rescheduled": False, "host": {"name": "Hal", "email": "hal@example.com"},
             "questions": [{"q": "Company", "a": None}]}
    body = event("Ann@Example.com", event_date="2025-06-01T10:00:00.123456+02:00", event_properties=props,
                 contact_properties={"BOOKING_STATUS": "booked", "MEETING_DATE": "2025-06-02", "NO_SHOWS": 1,
                                     "LASTNAME": "", "NOT_AN_ATTRIBUTE": "x", "FIRSTNAME": 7})
    r = post(env, body)
    assert r.status_code == 204 and r.content == b""
    assert all(h in r.headers for h in RATE_HEADERS)
    [kept] = env.account.events()
    received = kept.pop("received_at")
    assert kept == {
        "event_name": "calendly_booked", "event_date": "2025-06-01T10:00:00.123456+02:00",
        "occurred_at": "2025-06-01T08:00:00.123Z", "identifiers": {"email_id": "Ann@Example.com"},
        "contact_properties": body["contact_properties"], "event_properties": props, "object": None,
        "email": "ann@example.com", "contact_id": ann, "contact_created": False,
        "dropped_contact_properties": {"NOT_AN_ATTRIBUTE": "unknown attribute", "FIRSTNAME": "not a string"}}
    assert abs(datetime.fromisoformat(received.replace("Z", "+00:00")) - datetime.now(timezone.utc)).total_seconds() < 5
    # contact_properties update the contact as an attribute update does; a blank value erases nothing
    assert env.account.contacts()["ann@example.com"]["attributes"] == {
        "FIRSTNAME": "Ann", "BOOKING_STATUS": "booked", "MEETING_DATE": "2025-06-02", "NO_SHOWS": 1}
    assert env.sandbox.stats()["events"] == 1 and env.sandbox.stats()["by_route"]["event"] == 1


def test_events_keep_their_order_and_attribution(env):
    bob = env.s.post(f"{env.url}/contacts", json={"email": "bob@example.com", "attributes": {"SMS": "+33612345678"}}).json()["id"]
    bodies = [
        event("new@example.com", contact_properties={"BOOKING_STATUS": "booked"}),  # unknown email: created
        event("new@example.com", event_name="calendly_cancelled"),
        {"event_name": "calendly_no_show", "identifiers": {"contact_id": bob, "email_id": "new@example.com"}},
        {"event_name": "calendly_completed", "identifiers": {"phone_id": "+33612345678"}, "object": {"type": "x"}},
    ]
    before = datetime.now(timezone.utc)
    for body in bodies:
        assert post(env, body).status_code == 204, body
    kept = env.account.events()
    assert [(e["event_name"], e["email"], e["contact_created"]) for e in kept] == [
        ("calendly_booked", "new@example.com", True), ("calendly_cancelled", "new@example.com", False),
        # contact_id takes priority over every other identifier (the spec says so)
        ("calendly_no_show", "bob@example.com", False), ("calendly_completed", "bob@example.com", False)]
    assert env.account.contacts()["new@example.com"]["attributes"] == {"BOOKING_STATUS": "booked"}
    # without event_date, the event happened when Brevo received it
    occurred = datetime.fromisoformat(kept[1]["occurred_at"].replace("Z", "+00:00"))
    assert kept[1]["event_date"] is None and before.replace(microsecond=0) <= occurred.replace(microsecond=0)
    assert [e["event_name"] for e in env.account.events(email="NEW@example.com")] == ["calendly_booked", "calendly_cancelled"]
    assert [e["email"] for e in env.account.events(name="calendly_no_show")] == ["bob@example.com"]
    assert env.sandbox.stats()["events"] == 4


def test_invalid_events_are_refused_with_brevo_errors(env):
    env.s.post(f"{env.url}/contacts", json={"email": "ann@example.com"})
    ok = event()
    cases = [
        ({"identifiers": {"email_id": "ann@example.com"}}, "missing_parameter"),
        ({"event_name": "calendly_booked"}, "missing_parameter"),
        (event(event_name="calendly booked"), "invalid_parameter"),
        (event(event_name="x" * 256), "invalid_parameter"),
        (event(event_name=""), "invalid_parameter"),
        (event(event_name=7), "invalid_parameter"),
        ({**ok, "identifiers": {}}, "invalid_parameter"),
        ({**ok, "identifiers": ["ann@example.com"]}, "invalid_parameter"),
        ({**ok, "identifiers": {"email": "ann@example.com"}}, "invalid_parameter"),  # not email_id
        (event("not-an-email"), "invalid_parameter"),
        (event("two@@example.com"), "invalid_parameter"),
        ({**ok, "identifiers": {"contact_id": "1"}}, "invalid_parameter"),
        ({**ok, "identifiers": {"contact_id": 999}}, "document_not_found"),
        ({**ok, "identifiers": {"phone_id": "+33699999999"}}, "document_not_found"),
        ({**ok, "identifiers": {"ext_id": "abc"}}, "invalid_parameter"),  # not kept by the sandbox
        (event(event_date="2025-06-01"), "invalid_parameter"),
        (event(event_date="2025-06-01T10:00:00"), "invalid_parameter"),  # no offset
        (event(event_date="2025-13-01T10:00:00Z"), "invalid_parameter"),
        (event(event_date="yesterday"), "invalid_parameter"),
        (event(event_date=None), "invalid_parameter"),
        (event(event_date=1748764800), "invalid_parameter"),
        (event(contact_properties={"FIRSTNAME": True}), "invalid_parameter"),
        (event(contact_properties={"NO_SHOWS": 1.5}), "invalid_parameter"),
        (event(contact_properties={"FIRSTNAME": None}), "invalid_parameter"),
        (event(contact_properties={"FIRSTNAME": ["a"]}), "invalid_parameter"),
        (event(contact_properties=["FIRSTNAME"]), "invalid_parameter"),
        (event(event_properties={"cancel_reason": None}), "invalid_parameter"),
        (event(event_properties={"cancel reason": "x"}), "invalid_parameter"),
        (event(event_properties={"k" * 256: "x"}), "invalid_parameter"),
        (event(event_properties={"host": {"e-mail address": "x"}}), "invalid_parameter"),  # nested keys too
        (event(event_properties="x"), "invalid_parameter"),
        (event(event_properties={"blob": "x" * 50_000}), "out_of_range"),
        (event(event_properites={"a": 1}), "invalid_parameter"),  # a misspelt field is not ignored
        (event(object="subscription"), "invalid_parameter"),
    ]
    for body, code in cases:
        r = post(env, body)
        assert r.status_code == 400 and r.json()["code"] == code and r.json()["message"], (body, r.text)
    for raw in (b"", b"[]", b"{not json", b'{"event_name": "x", "identifiers": {"email_id": "a@example.com"}, '
                                           b'"event_properties": {"n": NaN}}'):
        r = env.s.post(f"{env.url}/events", data=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["code"] == "invalid_parameter", raw
    assert env.account.events() == [] and list(env.account.contacts()) == ["ann@example.com"]
    # at the limits, accepted: 255 characters, 50,000 bytes of properties
    at_limit = event(event_name="x" * 255, event_properties={"blob": "x" * (50_000 - len('{"blob":""}'))})
    assert post(env, at_limit).status_code == 204
    assert post(env, event(event_date="2025-06-01T10:00:00+0200")).status_code == 204
    assert [e["occurred_at"] for e in env.account.events()][1] == "2025-06-01T08:00:00.000Z"
    assert env.sandbox.stats()["events"] == 2


def test_auth_and_method(env):
    for s in (env.client(None), env.client("xkeysib-wrong")):
        r = post(env, event(), s)
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    assert env.s.get(f"{env.url}/events").status_code == 405
    assert env.account.events() == []


def test_refusing_a_contacts_events(env):
    env.account.refuse_events_for("Bob@Example.com")
    r = post(env, event("bob@example.com", contact_properties={"BOOKING_STATUS": "cancelled"}))
    assert r.status_code == 400 and r.json()["code"] == "invalid_parameter" and "bob@example.com" in r.json()["message"]
    assert post(env, event("ann@example.com")).status_code == 204
    # refused before anything changes: no contact created for bob, no event kept
    assert [e["email"] for e in env.account.events()] == ["ann@example.com"]
    assert "bob@example.com" not in env.account.contacts()
    env.account.refuse_events_for()
    assert post(env, event("bob@example.com")).status_code == 204
    assert [e["email"] for e in env.account.events()] == ["ann@example.com", "bob@example.com"]


def test_events_have_their_own_rate_limit(make_env):  # noqa: F811
    env = make_env(rate_limit_per_second=2, events_rate_limit_per_second=3)
    got = [post(env, event(f"u{i}@example.com")) for i in range(4)]
    assert [r.status_code for r in got] == [204, 204, 204, 429]
    assert [r.headers["x-sib-ratelimit-remaining"] for r in got] == ["2", "1", "0", "0"]
    assert all(r.headers["x-sib-ratelimit-limit"] == "3" and r.headers["x-sib-ratelimit-reset"] == "1" for r in got)
    assert got[3].json()["code"] == "too_many_requests"
    assert len(env.account.events()) == 3
    # the contact endpoints count apart (Brevo limits each endpoint on its own)
    r = env.s.get(f"{env.url}/contacts/attributes")
    assert r.status_code == 200 and r.headers["x-sib-ratelimit-limit"] == "2" and r.headers["x-sib-ratelimit-remaining"] == "1"
    time.sleep(1.05)
    assert post(env, event("late@example.com")).headers["x-sib-ratelimit-remaining"] == "2"
    env.sandbox.configure(events_rate_limit_per_second=None)
    assert all(post(env, event(f"v{i}@example.com")).status_code == 204 for i in range(5))


def test_default_events_limit_is_brevos_general_plan():
    account = BrevoAccount(api_key="xkeysib-defaults")
    with BrevoSandbox(account, rate_limit_per_second=None) as sb:
        r = requests.post(f"{sb.url}/events", json=event(), headers={"api-key": "xkeysib-defaults"})
        assert r.status_code == 204 and r.headers["x-sib-ratelimit-limit"] == "10"


def test_a_faulted_event_is_never_kept(make_env):  # noqa: F811
    env = make_env(fault_rate=0.5, fault_seed=11)
    answered = {}
    for i in range(40):
        email = f"u{i}@example.com"
        try:
            answered[email] = post(env, event(email)).status_code
        except requests.ConnectionError:
            answered[email] = "reset"
    kept = [e["email"] for e in env.account.events()]
    assert set(answered.values()) >= {204, "reset"} and set(answered.values()) - {204, "reset"} <= {500, 502, 503}
    # exactly the events answered 204 reached Brevo, in order: a 5xx or a reset kept nothing
    assert kept == [email for email, status in answered.items() if status == 204]
    assert env.sandbox.stats()["events"] == len(kept)


def test_contract_helpers_for_events():
    good = {"event_name": "calendly_cancelled", "event_date": "2025-06-01T10:00:00Z",
            "identifiers": {"email_id": "a@example.com"}, "contact_properties": {"BOOKING_STATUS": "cancelled", "AGE": 3},
            "event_properties": {"invitee_uri": "https://x", "rescheduled": False, "duration": 30, "score": 0.5,
                                 "host": {"name": "Hal"}, "urls": ["https://a"]}}
    validate_brevo_request("POST", "/events", {}, json.dumps(good).encode())
    for bad in ({k: v for k, v in good.items() if k != "identifiers"}, {**good, "identifiers": {}},
                {k: v for k, v in good.items() if k != "event_name"},
                {**good, "contact_properties": {"OPTED_IN": True}},  # string or integer only in this copy
                {**good, "event_properties": {"cancel_reason": None}}, {**good, "identifiers": {"contact_id": "12"}}):
        with pytest.raises(Exception):
            validate_brevo_request("POST", "/events", {}, json.dumps(bad).encode())
    assert validate_brevo_response("POST", "/events", 204, b"") is None
    with pytest.raises(Exception):  # createEvent answers 204, not 200 with a body
        validate_brevo_response("POST", "/events", 200, b'{"id": 1}')
    with pytest.raises(Exception):  # errors carry code and message
        validate_brevo_response("POST", "/events", 400, b'{"message": "no code"}')
