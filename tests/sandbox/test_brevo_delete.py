"""`DELETE /contacts/{identifier}` (Brevo's deleteContact) in the Brevo sandbox: what a deletion takes
with it (lists, SMS, kept events), which identifiers it accepts, its 404/400/405 answers, the contact
rate limit and faults. As in test_brevo_sandbox.py, every response is validated against Brevo's
OpenAPI description when the test ends, and every request the sandbox accepted against the spec too."""

import json
import time

import pytest
import requests

from sandbox.brevo.account import OWNER_EMAIL

from .brevo_contract import validate_brevo_request, validate_brevo_response
from .test_brevo_sandbox import RATE_HEADERS, make_env  # noqa: F401  (make_env is a fixture)


@pytest.fixture
def env(make_env):  # noqa: F811
    return make_env()


def create(env, email, **attributes) -> int:
    r = env.s.post(f"{env.url}/contacts", json={"email": email, "attributes": attributes})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def delete(env, identifier, s=None, **query):
    return (s or env.s).delete(f"{env.url}/contacts/{identifier}", params=query)


def assert_error(r, status, code):
    assert r.status_code == status and r.json()["code"] == code and r.json()["message"], r.text
    assert all(h in r.headers for h in RATE_HEADERS)


def test_delete_by_email_takes_lists_sms_and_events_with_it(env):
    lid = env.folder_and_list()
    ann = create(env, "ann@example.com", FIRSTNAME="Ann", SMS="+33611111111")
    bob = create(env, "bob@example.com")
    assert env.s.post(f"{env.url}/contacts/lists/{lid}/contacts/add",
                      json={"emails": ["ann@example.com", "bob@example.com"]}).status_code == 201
    for email in ("ann@example.com", "bob@example.com", "ann@example.com"):
        r = env.s.post(f"{env.url}/events", json={"event_name": "calendly_booked", "identifiers": {"email_id": email}})
        assert r.status_code == 204

    r = delete(env, "Ann%40Example.com")  # any case, url-encoded, as GET takes it
    assert r.status_code == 204 and r.content == b""
    assert all(h in r.headers for h in RATE_HEADERS)
    assert env.sandbox.stats()["by_route"]["contact_delete"] == 1

    for identifier in ("ann%40example.com", str(ann), "%2B33611111111"):
        assert_error(env.s.get(f"{env.url}/contacts/{identifier}"), 404, "document_not_found")
    assert list(env.account.contacts()) == ["bob@example.com"]
    assert env.s.get(f"{env.url}/contacts/lists/{lid}").json()["totalSubscribers"] == 1
    assert [row["uniqueSubscribers"] for row in env.s.get(f"{env.url}/contacts/folders").json()["folders"]] == [1]
    # Brevo deletes a contact's history with it: its events go, bob's stay
    assert [(e["email"], e["contact_id"]) for e in env.account.events()] == [("bob@example.com", bob)]
    # the SMS is free again, and the email names a new contact
    carl = create(env, "carl@example.com", SMS="+33611111111")
    assert env.account.contacts()["carl@example.com"]["sms"] == "+33611111111"
    again = create(env, "ann@example.com")
    assert again not in (ann, bob, carl) and env.account.contacts()["ann@example.com"]["attributes"] == {}
    assert env.account.events(email="ann@example.com") == []


def test_delete_by_id_and_by_identifier_type(env):
    ids = {email: create(env, email, SMS=sms) for email, sms in (
        ("a@example.com", "+33600000001"), ("b@example.com", "+33600000002"), ("c@example.com", "+33600000003"),
        ("d@example.com", "+33600000004"))}
    assert delete(env, ids["a@example.com"]).status_code == 204
    assert delete(env, ids["b@example.com"], identifierType="contact_id").status_code == 204
    assert delete(env, "C%40example.com", identifierType="email_id").status_code == 204
    # an SMS designates a contact only with identifierType=phone_id (the spec's "Option 2")
    assert delete(env, "%2B33600000004", identifierType="phone_id").status_code == 204
    assert env.account.contacts() == {}


def test_unknown_contact_is_404_and_deletes_nothing(env):
    cid = create(env, "ann@example.com", SMS="+33611111111")
    cases = [("nobody%40example.com", {}), (str(cid + 1), {}), (str(cid + 1), {"identifierType": "contact_id"}),
             ("nobody%40example.com", {"identifierType": "email_id"}),
             ("%2B33699999999", {"identifierType": "phone_id"})]
    for identifier, query in cases:
        assert_error(delete(env, identifier, **query), 404, "document_not_found")
    assert list(env.account.contacts()) == ["ann@example.com"]
    assert delete(env, "ann%40example.com").status_code == 204
    assert_error(delete(env, "ann%40example.com"), 404, "document_not_found")  # a second delete: gone
    assert_error(delete(env, str(cid)), 404, "document_not_found")


def test_bad_identifier_is_400_and_deletes_nothing(env):
    create(env, "ann@example.com", SMS="+33611111111")
    cases = [
        ("%2B33611111111", {}),  # an SMS without identifierType=phone_id (Option 1: email or id only)
        ("ann", {}),
        ("ann%40example", {}),  # no domain: not an email
        ("ann%40%40example.com", {}),
        ("ann%40example.com", {"identifierType": "email"}),  # not one of the spec's identifier types
        ("ann%40example.com", {"identifierType": ""}),
        ("ann%40example.com", {"identifierType": "contact_id"}),  # an email is not an id
        ("abc", {"identifierType": "phone_id"}),
        ("ann%40example.com", {"identifierType": "ext_id"}),  # the sandbox keeps no EXT_ID
        ("x", {"identifierType": "whatsapp_id"}),
        ("x", {"identifierType": "landline_number_id"}),
    ]
    for identifier, query in cases:
        r = delete(env, identifier, **query)
        assert r.status_code == 400 and r.json()["code"] == "invalid_parameter", (identifier, query, r.text)
    assert list(env.account.contacts()) == ["ann@example.com"]


def test_the_registered_email_cannot_be_deleted(env):
    owner = create(env, OWNER_EMAIL)
    assert env.s.get(f"{env.url}/account").json()["email"] == OWNER_EMAIL
    for identifier in (OWNER_EMAIL.replace("@", "%40"), str(owner)):
        assert_error(delete(env, identifier), 405, "method_not_allowed")
    assert list(env.account.contacts()) == [OWNER_EMAIL]


def test_routes_next_to_a_contact_are_not_deletions(env):
    create(env, "ann@example.com")
    for name in ("lists", "attributes", "folders", "import"):  # collections, never a contact identifier
        assert_error(delete(env, name), 405, "method_not_allowed")
    assert_error(env.s.delete(f"{env.url}/contacts"), 405, "method_not_allowed")
    for s in (env.client(None), env.client("xkeysib-wrong")):
        assert_error(delete(env, "ann%40example.com", s), 401, "unauthorized")
    assert list(env.account.contacts()) == ["ann@example.com"]


def test_deletes_count_against_the_contact_rate_limit(make_env):  # noqa: F811
    env = make_env()
    for i in range(3):
        create(env, f"u{i}@example.com")
    env.sandbox.configure(rate_limit_per_second=3)  # a fresh window for the deletes alone
    got = [delete(env, f"u{i}%40example.com") for i in range(3)] + [delete(env, "nobody%40example.com")]
    assert [r.status_code for r in got] == [204, 204, 204, 429]
    assert [r.headers["x-sib-ratelimit-remaining"] for r in got] == ["2", "1", "0", "0"]
    assert all(r.headers["x-sib-ratelimit-limit"] == "3" and r.headers["x-sib-ratelimit-reset"] == "1" for r in got)
    assert got[3].json()["code"] == "too_many_requests"
    env.sandbox.configure(rate_limit_per_second=None)
    create(env, "late@example.com")
    env.sandbox.configure(rate_limit_per_second=1)
    assert delete(env, "late%40example.com").status_code == 204
    r = delete(env, "late%40example.com")  # refused by the limit, not answered 404
    assert r.status_code == 429 and r.headers["x-sib-ratelimit-remaining"] == "0"
    time.sleep(1.05)
    assert_error(delete(env, "late%40example.com"), 404, "document_not_found")


def test_a_faulted_delete_keeps_the_contact(make_env):  # noqa: F811
    env = make_env()
    emails = [f"u{i}@example.com" for i in range(30)]
    for email in emails:
        create(env, email)
    env.sandbox.configure(fault_rate=0.5)
    answered = {}
    for email in emails:
        try:
            answered[email] = delete(env, email.replace("@", "%40")).status_code
        except requests.ConnectionError:
            answered[email] = "reset"
    assert set(answered.values()) >= {204, "reset"} and set(answered.values()) - {204, "reset"} <= {500, 502, 503}
    # exactly the contacts answered 204 are gone: a 5xx or a reset deleted nothing
    assert sorted(env.account.contacts()) == sorted(e for e, status in answered.items() if status != 204)
    env.sandbox.configure(fault_rate=0.0)
    for email in env.account.contacts():  # the retry of a faulted delete succeeds
        assert delete(env, email.replace("@", "%40")).status_code == 204
    assert env.account.contacts() == {}


def test_contract_helpers_for_delete():
    validate_brevo_request("DELETE", "/contacts/ann%40example.com", {}, None)
    validate_brevo_request("DELETE", "/contacts/12", {"identifierType": "contact_id"}, None)
    with pytest.raises(Exception):  # not one of the spec's identifier types
        validate_brevo_request("DELETE", "/contacts/12", {"identifierType": "id"}, None)
    assert validate_brevo_response("DELETE", "/contacts/12", 204, b"") is None
    for status in (400, 404, 405):
        body = json.dumps({"code": "document_not_found" if status == 404 else "invalid_parameter", "message": "x"})
        assert validate_brevo_response("DELETE", "/contacts/12", status, body.encode())["message"] == "x"
    with pytest.raises(Exception):  # deleteContact answers 204, not 200 with a body
        validate_brevo_response("DELETE", "/contacts/12", 200, b'{"id": 12}')
    for status, body in ((400, b'{"message": "x"}'), (404, b'{"code": "document_not_found"}')):
        with pytest.raises(Exception):  # the spec's 400 requires code and message, its 404 a message
            validate_brevo_response("DELETE", "/contacts/12", status, body)
