"""Two write endpoints of the Calendly sandbox, checked against Calendly's spec
(shared/specs/calendly-openapi.yaml): POST /scheduling_links (single-use links, and booking through
one in the sandbox) and POST /data_compliance/deletion/invitees (Enterprise only)."""

from __future__ import annotations

import json

import pytest
import requests
import yaml

from sandbox.calendly import CalendlySandbox
from sandbox.calendly.server import NO_ACCESS, NO_DATA_REQUESTS, NOT_ENTERPRISE
from sandbox.calendly.shapes import PROFILES, Shape

from .conftest import local, make_account, session
from .test_calendly_contract import SPEC_PATH, checker, patch_spec, served_at, walk
from .test_calendly_webhooks import Receiver

UNKNOWN_TYPE = "https://api.calendly.com/event_types/00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def spec():
    if not SPEC_PATH.exists():
        pytest.skip(f"Calendly OpenAPI description not found at {SPEC_PATH}")
    return patch_spec(yaml.safe_load(SPEC_PATH.read_text()))


def link_body(owner: str, **over) -> dict:
    return {"max_event_count": 1, "owner": owner, "owner_type": "EventType", **over}


def types_of(account) -> dict:
    """live (bookable, hosted by the member), foreign (live, not hosted by the member), inactive, deleted
    (None when the account has no deleted type)."""
    member = account.users["member"]["uri"]
    types = account.truth()["event_types"]
    live = [t for t in types if t["active"] and t["deleted_at"] is None]

    def hosts(t):
        return account.event_type_hosts(t["uri"].rsplit("/", 1)[1])
    return {"live": next(t["uri"] for t in live if member in hosts(t)),
            "foreign": next(t["uri"] for t in live if member not in hosts(t)),
            "inactive": next(t["uri"] for t in types if not t["active"] and t["deleted_at"] is None),
            "deleted": next((t["uri"] for t in types if t["deleted_at"] is not None), None)}


# ---------------------------------------------------------------------------- POST /scheduling_links
def test_scheduling_links_accepted_and_refused(spec):
    account = make_account(seed=23, events=60, shape=Shape(deleted_event_types=1))
    t = types_of(account)
    with CalendlySandbox(account, rate_limit=None) as sb:
        check, url = checker(served_at(spec, sb.url)), f"{sb.url}/scheduling_links"
        admin, member = session(account.tokens["admin"]), session(account.tokens["member"])
        made = check(admin.post(url, json=link_body(t["foreign"])), 201)["resource"]
        assert made["owner"] == t["foreign"] and made["owner_type"] == "EventType"
        slug = account.event_type(t["foreign"].rsplit("/", 1)[1])["slug"]
        assert made["booking_url"].startswith("https://calendly.com/d/") and made["booking_url"].endswith(f"/{slug}")
        again = check(member.post(url, json=link_body(t["live"], max_event_count=1.0)), 201)["resource"]
        assert again["booking_url"] != made["booking_url"]  # every call mints a new link
        # 400: each required field missing or wrong, and bodies that are not a JSON object
        for body, parameter in (
                ({"owner": t["live"], "owner_type": "EventType"}, "max_event_count"),
                (link_body(t["live"], max_event_count=2), "max_event_count"),
                (link_body(t["live"], max_event_count="1"), "max_event_count"),
                (link_body(t["live"], max_event_count=True), "max_event_count"),
                ({"max_event_count": 1, "owner_type": "EventType"}, "owner"),
                (link_body("not a uri"), "owner"),
                (link_body(account.users["owner"]["uri"]), "owner"),  # a user is not an event type
                ({"max_event_count": 1, "owner": t["live"]}, "owner_type"),
                (link_body(t["live"], owner_type="User"), "owner_type"),
                (link_body(t["inactive"]), "owner")):  # switched off: it takes no bookings
            error = check(admin.post(url, json=body), 400)
            assert error["details"][0]["parameter"] == parameter, (body, error)
        for raw in (b"{not json", b"[]", b""):
            check(admin.post(url, data=raw, headers={"Content-Type": "application/json"}), 400)
        # 404: no such event type, or a deleted one (still readable by its uri, no longer bookable)
        check(admin.post(url, json=link_body(UNKNOWN_TYPE)), 404)
        check(admin.post(url, json=link_body(t["deleted"])), 404)
        # 403: a member links only the types they host
        assert check(member.post(url, json=link_body(t["foreign"])), 403)["message"] == NO_ACCESS
        check(requests.post(url, json=link_body(t["live"])), 401)
    links = account.scheduling_links()
    assert [(x["booking_url"], x["owner"], x["used_by"]) for x in links] == [
        (made["booking_url"], t["foreign"], None), (again["booking_url"], t["live"], None)]
    assert [x["creator"] for x in links] == [account.users["owner"]["uri"], account.users["member"]["uri"]]


def test_booking_through_a_link_books_once_and_fires_a_webhook(spec):
    account = make_account(seed=24, events=60)
    t = types_of(account)
    org = account.organization_uri
    with Receiver() as receiver, CalendlySandbox(account, rate_limit=None) as sb:
        check, admin = checker(served_at(spec, sb.url)), session(account.tokens["admin"])
        check(admin.post(f"{sb.url}/webhook_subscriptions", json={
            "url": receiver.url, "events": ["invitee.created"], "organization": org, "scope": "organization"}), 201)
        booking_url = check(admin.post(f"{sb.url}/scheduling_links", json=link_body(t["live"])), 201)["resource"][
            "booking_url"]
        before = len(account.truth()["invitees"])
        uri = account.book_with_link(booking_url, email="Ada.Lovelace@example.org", name="Ada Lovelace")
        [delivery] = [json.loads(r["body"]) for r in receiver.wait_for(1)]
        assert delivery["event"] == "invitee.created" and delivery["payload"]["uri"] == uri
        assert delivery["payload"]["scheduled_event"]["event_type"] == t["live"]
        invitee = check(admin.get(local(sb, uri)), 200)["resource"]
        assert (invitee["email"], invitee["name"], invitee["status"]) == ("Ada.Lovelace@example.org", "Ada Lovelace",
                                                                          "active")
        event = check(admin.get(local(sb, invitee["event"])), 200)["resource"]
        assert event["event_type"] == t["live"] and event["status"] == "active"
        found = walk(check, admin, f"{sb.url}/scheduled_events",
                     {"organization": org, "invitee_email": "ada.lovelace@example.org"})
        assert [e["uri"] for e in found] == [event["uri"]]
        # single use: the second booking is refused and changes nothing
        with pytest.raises(ValueError, match="already been used"):
            account.book_with_link(booking_url, email="someone.else@example.org")
        assert sb.webhooks.wait_idle() and len(receiver.requests) == 1
        assert len(account.truth()["invitees"]) == before + 1
        assert account.scheduling_links()[0]["used_by"] == uri
        with pytest.raises(KeyError):
            account.book_with_link(booking_url.replace("/d/", "/d/x"), email="x@example.org")
        # a type switched off after the link was minted takes no booking; the link stays unused
        second = check(admin.post(f"{sb.url}/scheduling_links", json=link_body(t["foreign"])), 201)["resource"]
        account.set_event_type_active(t["foreign"], False)
        with pytest.raises(ValueError):
            account.book_with_link(second["booking_url"], email="late@example.org")
        assert account.scheduling_links()[1]["used_by"] is None


# ---------------------------------------------------------------------------- POST /data_compliance/deletion/invitees
def served_text(check, s, sb, account) -> str:
    """Everything the API lists (events, their invitees, routing form submissions), as one lower-case text."""
    org = account.organization_uri
    events = walk(check, s, f"{sb.url}/scheduled_events", {"organization": org, "count": 100})
    invitees = [i for e in events for i in walk(check, s, local(sb, e["uri"]) + "/invitees", {"count": 100})]
    subs = [x for f in walk(check, s, f"{sb.url}/routing_forms", {"organization": org})
            for x in walk(check, s, f"{sb.url}/routing_form_submissions", {"form": f["uri"], "count": 100})]
    return json.dumps([events, invitees, subs]).lower()


def test_invitee_deletion_accepted_and_refused(spec):
    account = make_account(seed=25, events=80, shape=Shape(data_deletion_on_plan=True))
    routed = account.add_routing_form_submission(routed=True)
    booked = account.book_from_submission(routed)
    truth = account.truth()
    shown = next(i for i in truth["invitees"] if i["no_show"])
    router = next(i for i in truth["invitees"] if i["uri"] == booked)
    emails = [shown["email"].upper(), router["email"]]  # matched without regard to case
    gone = {e.lower() for e in emails}
    erased = [i for i in truth["invitees"] if i["email"].lower() in gone]
    assert len(erased) >= 2
    with CalendlySandbox(account, rate_limit=None) as sb:
        check, url = checker(served_at(spec, sb.url)), f"{sb.url}/data_compliance/deletion/invitees"
        admin, member = session(account.tokens["admin"]), session(account.tokens["member"])
        assert all(e in served_text(check, admin, sb, account) for e in gone)
        for body in ({}, {"emails": []}, {"emails": "a@example.org"}, {"emails": ["not-an-email"]},
                     {"emails": ["a@example.org", 7]}):
            assert check(admin.post(url, json=body), 400)["details"][0]["parameter"] == "emails"
        for raw in (b"{not json", b"[]"):
            check(admin.post(url, data=raw, headers={"Content-Type": "application/json"}), 400)
        assert check(member.post(url, json={"emails": emails}), 403)["message"] == NO_DATA_REQUESTS
        check(requests.post(url, json={"emails": emails}), 401)
        assert account.deletion_requests() == []  # nothing refused was recorded
        assert check(admin.post(url, json={"emails": emails}), 202) == {}
        assert check(admin.post(url, json={"emails": ["never.booked@example.org"]}), 202) == {}
        text = served_text(check, admin, sb, account)
        assert not [e for e in gone if e in text]
        org = account.organization_uri
        for e in gone:
            assert walk(check, admin, f"{sb.url}/scheduled_events", {"organization": org, "invitee_email": e}) == []
        # the bookings stay, anonymized: name and answers deleted, email replaced
        for i in erased:
            now = check(admin.get(local(sb, i["uri"])), 200)["resource"]
            assert now["email"].endswith("@deleted.calendly.com") and now["name"] == "" and not now["first_name"]
            assert now["questions_and_answers"] == [] and now["status"] == i["status"]
        assert check(admin.get(local(sb, routed)), 200)["resource"]["questions_and_answers"] == []
        check(admin.get(local(sb, shown["no_show"]["uri"])), 200)
    assert [r["emails"] for r in account.deletion_requests()] == [sorted(gone), ["never.booked@example.org"]]
    # later activity does not bring them back
    account.apply_random_changes(seed=4, cancels=5, reschedules=5, no_shows=5, new_bookings=60)
    assert not [e for e in gone if e in json.dumps(account.truth()).lower()]


def test_invitee_deletion_needs_enterprise(spec):
    assert PROFILES["enterprise"].shape.data_deletion_on_plan and not Shape().data_deletion_on_plan
    account = make_account(seed=25, events=40)
    email = account.truth()["invitees"][0]["email"]
    with CalendlySandbox(account, rate_limit=None) as sb:
        check = checker(served_at(spec, sb.url))
        denied = check(session(account.tokens["admin"]).post(f"{sb.url}/data_compliance/deletion/invitees",
                                                             json={"emails": [email]}), 403)
        assert denied == {"title": "Permission Denied", "message": NOT_ENTERPRISE}
    assert account.deletion_requests() == [] and account.truth()["invitees"][0]["email"] == email


@pytest.mark.parametrize("status", [400, 404])
def test_the_refusal_status_is_a_knob(spec, status):
    """Calendly's reference lists 400, 403 and 404 for the endpoint: the plan's refusal under each, with
    the same body (the message names the plan). This spec copy gives 400 and 404 other titles and
    messages, so the answer is marked as the knob's (x-sandbox-knob) and held to ErrorResponse only."""
    account = make_account(seed=25, events=40, shape=Shape(data_deletion_refusal=status))
    error = spec["components"]["schemas"]["ErrorResponse"]
    with CalendlySandbox(account, rate_limit=None) as sb:
        r = session(account.tokens["admin"]).post(f"{sb.url}/data_compliance/deletion/invitees",
                                                  json={"emails": ["a@example.org"]})
        assert (r.status_code, r.headers["x-sandbox-knob"]) == (status, "data_deletion_refusal")
        assert r.json() == {"title": "Permission Denied", "message": NOT_ENTERPRISE}
        assert set(error["required"]) <= set(r.json()) and all(isinstance(v, str) for v in r.json().values())
    assert account.deletion_requests() == []
    with pytest.raises(ValueError):
        Shape(data_deletion_refusal=500)


def test_a_booking_keeps_its_spelling_and_the_tracking_given(spec):
    """`add_booking(email=…, tracking=…)`: the address as typed, UTM values as the link carried them
    (served as the spec describes); a deletion request records the addresses as sent."""
    account = make_account(seed=27, events=20, shape=Shape(data_deletion_on_plan=True))
    uri = account.add_booking(email="Ann@Example.com", tracking={"utm_source": "newsletter", "utm_medium": "Bob@x.org"})
    with CalendlySandbox(account, rate_limit=None) as sb:
        check, admin = checker(served_at(spec, sb.url)), session(account.tokens["admin"])
        served = check(admin.get(local(sb, uri)), 200)["resource"]
        assert served["email"] == "Ann@Example.com"
        assert served["tracking"]["utm_source"] == "newsletter" and served["tracking"]["utm_medium"] == "Bob@x.org"
        check(admin.post(f"{sb.url}/data_compliance/deletion/invitees",
                         json={"emails": ["ann@example.com", "Ann@Example.com"]}), 202)
    [request] = account.deletion_requests()
    assert request["emails"] == ["ann@example.com"] and request["sent"] == ["ann@example.com", "Ann@Example.com"]


def test_a_booking_names_the_guests_given(spec):
    """`add_booking(guests=…)`: the event lists them in `event_guests`, served as the spec describes."""
    account = make_account(seed=28, events=20)
    uri = account.add_booking(email="host.of.guests@example.org", guests=["guest.one@example.org"])
    with CalendlySandbox(account, rate_limit=None) as sb:
        check, admin = checker(served_at(spec, sb.url)), session(account.tokens["admin"])
        invitee = check(admin.get(local(sb, uri)), 200)["resource"]
        event = check(admin.get(local(sb, invitee["event"])), 200)["resource"]
    assert [g["email"] for g in event["event_guests"]][-1] == "guest.one@example.org"
    assert event["event_guests"][-1]["created_at"] == invitee["created_at"]


def test_held_deletion_is_carried_out_later(spec):
    """Calendly takes up to 7 days: with ``hold_deletions`` the request is accepted and pending."""
    account = make_account(seed=26, events=40, shape=Shape(data_deletion_on_plan=True))
    account.hold_deletions = True
    email = account.truth()["invitees"][0]["email"].lower()
    with CalendlySandbox(account, rate_limit=None) as sb:
        check, admin = checker(served_at(spec, sb.url)), session(account.tokens["admin"])
        check(admin.post(f"{sb.url}/data_compliance/deletion/invitees", json={"emails": [email]}), 202)
        assert email in served_text(check, admin, sb, account)
        assert [r["completed_at"] for r in account.deletion_requests()] == [None]
        assert account.complete_deletions() == 1 and account.complete_deletions() == 0
        assert email not in served_text(check, admin, sb, account)
        assert account.deletion_requests()[0]["completed_at"] is not None
