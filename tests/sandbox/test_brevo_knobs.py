"""The Brevo sandbox's knobs for shapes other implementations of Brevo's API give: a 2xx with a text
body, an error body that is JSON but not an object, attributes listed without `type`, rate-limit
headers of the hourly /events window (or none, or a Retry-After), and events refused for one contact
property. As in test_brevo_sandbox.py, every answer is validated against Brevo's OpenAPI description
when the test ends – except those a knob made off-spec on purpose (marked `x-sandbox-knob`), whose
requests are still validated."""

import pytest

from .test_brevo_sandbox import RATE_HEADERS, make_env  # noqa: F401  (make_env is a fixture)

EVENT = {"event_name": "calendly_booked", "identifiers": {"email_id": "ann@example.com"}}


def test_success_answers_apply_the_request_and_answer_with_text(make_env):  # noqa: F811
    env = make_env(success_answers={"event": (200, "Created"), "contact_create": (201, "Created"),
                                    "attribute_create": (201, "Created")})
    r = env.s.post(f"{env.url}/contacts/attributes/normal/PLAN", json={"type": "text"})
    assert (r.status_code, r.text, r.headers["x-sandbox-knob"]) == (201, "Created", "success_answers")
    assert r.headers["Content-Type"].startswith("text/plain") and env.account.attributes()["PLAN"]["type"] == "text"
    r = env.s.post(f"{env.url}/contacts", json={"email": "ann@example.com", "attributes": {"PLAN": "pro"}})
    assert (r.status_code, r.text) == (201, "Created")
    assert env.account.contacts()["ann@example.com"]["attributes"] == {"PLAN": "pro"}
    r = env.s.post(f"{env.url}/events", json=EVENT)
    assert (r.status_code, r.text) == (200, "Created") and len(env.account.events()) == 1
    # A refusal is Brevo's as ever; a knob changes successes only.
    r = env.s.post(f"{env.url}/events", json={"identifiers": {"email_id": "ann@example.com"}})
    assert r.status_code == 400 and r.json()["code"] == "missing_parameter" and "x-sandbox-knob" not in r.headers
    env.sandbox.configure(success_answers={"event": (202, "accepted for processing")})
    r = env.s.post(f"{env.url}/events", json=EVENT)
    assert (r.status_code, r.text) == (202, "accepted for processing") and len(env.account.events()) == 2
    env.sandbox.configure(success_answers={})
    r = env.s.post(f"{env.url}/events", json=EVENT)
    assert (r.status_code, r.content) == (204, b"") and "x-sandbox-knob" not in r.headers
    with pytest.raises(ValueError):
        env.sandbox.configure(success_answers={"events": (200, "x")})  # not a route name
    with pytest.raises(ValueError):
        env.sandbox.configure(success_answers={"event": (400, "x")})


@pytest.mark.parametrize("raw", ['["bad"]', '"x"', "null"])
def test_error_bodies_replace_the_body_of_a_refusal(make_env, raw):  # noqa: F811
    env = make_env(error_bodies={"event": raw})
    env.account.refuse_events_for("bob@example.com")
    r = env.s.post(f"{env.url}/events", json={**EVENT, "identifiers": {"email_id": "bob@example.com"}})
    assert (r.status_code, r.text, r.headers["x-sandbox-knob"]) == (400, raw, "error_bodies")
    assert r.headers["Content-Type"].startswith("application/json")
    assert env.s.post(f"{env.url}/events", json=EVENT).status_code == 204  # successes untouched
    assert [e["email"] for e in env.account.events()] == ["ann@example.com"]


def test_attributes_listed_without_type(make_env):  # noqa: F811
    env = make_env(list_attribute_types=False)
    rows = env.s.get(f"{env.url}/contacts/attributes").json()["attributes"]
    assert {r["name"] for r in rows} == {"FIRSTNAME", "LASTNAME", "SMS"}
    assert all(set(r) == {"name", "category"} for r in rows)  # all the spec requires
    r = env.s.post(f"{env.url}/contacts/attributes/normal/FIRSTNAME", json={"type": "text"})
    assert r.status_code == 400 and r.json()["code"] == "duplicate_parameter"
    env.sandbox.configure(list_attribute_types=True)
    assert all("type" in r for r in env.s.get(f"{env.url}/contacts/attributes").json()["attributes"])


def test_events_headers_of_the_hourly_window(make_env):  # noqa: F811
    env = make_env(events_rate_limit_per_second=3, rate_limit_per_second=5, events_rate_window="hour")
    got = [env.s.post(f"{env.url}/events", json=EVENT) for _ in range(4)]
    assert [r.status_code for r in got] == [204, 204, 204, 429]  # the per-second limit answers
    assert [r.headers["x-sib-ratelimit-remaining"] for r in got] == ["35999", "35998", "35997", "35996"]
    assert all(r.headers["x-sib-ratelimit-limit"] == "36000" and 3590 <= int(r.headers["x-sib-ratelimit-reset"]) <= 3600
               for r in got)
    assert "Retry-After" not in got[3].headers
    # The contact endpoints keep their own per-second headers.
    r = env.s.get(f"{env.url}/contacts/attributes")
    assert (r.headers["x-sib-ratelimit-limit"], r.headers["x-sib-ratelimit-reset"]) == ("5", "1")


def test_no_rate_headers_and_retry_after(make_env):  # noqa: F811
    env = make_env(events_rate_limit_per_second=1, rate_headers=False, retry_after=2)
    first, second = (env.s.post(f"{env.url}/events", json=EVENT) for _ in range(2))
    assert (first.status_code, second.status_code) == (204, 429)
    assert not any(h in r.headers for h in RATE_HEADERS for r in (first, second))
    assert second.headers["Retry-After"] == "2" and "Retry-After" not in first.headers


def test_refusing_events_for_one_contact_property(make_env):  # noqa: F811
    env = make_env()
    env.account.refuse_event_contact_property("SMS")
    r = env.s.post(f"{env.url}/events", json={**EVENT, "contact_properties": {"SMS": "+33612345678", "FIRSTNAME": "Ann"}})
    assert r.status_code == 400 and r.json()["code"] == "invalid_parameter" and "contact_properties.SMS" in r.json()["message"]
    assert env.account.events() == [] and env.account.contacts() == {}  # refused before anything changed
    # The same event without contact_properties, or with others, goes.
    assert env.s.post(f"{env.url}/events", json=EVENT).status_code == 204
    assert env.s.post(f"{env.url}/events", json={**EVENT, "contact_properties": {"FIRSTNAME": "Ann"}}).status_code == 204
    # One value only.
    env.account.refuse_event_contact_property("FIRSTNAME", "Bob")
    assert env.s.post(f"{env.url}/events", json={**EVENT, "contact_properties": {"FIRSTNAME": "Ann"}}).status_code == 204
    assert env.s.post(f"{env.url}/events", json={**EVENT, "contact_properties": {"FIRSTNAME": "Bob"}}).status_code == 400
    env.account.refuse_event_contact_property()
    assert env.s.post(f"{env.url}/events", json={**EVENT, "contact_properties": {"FIRSTNAME": "Bob"}}).status_code == 204
    assert len(env.account.events()) == 4

