"""Behaviour of the Calendly sandbox: auth, paging, scope rules, filters, rate limiting, faults,
the generated history, mutations and the ground truth."""

import math
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox.calendly import CalendlyAccount, CalendlySandbox

from .conftest import local, make_account, session

UNAUTHENTICATED = {"title": "Unauthenticated", "message": "The access token is invalid"}
UNKNOWN = {"title": "Internal Server Error",
           "message": "The server encountered an unexpected condition that prevented it from fulfilling the request."}
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def walk(s, url, params):
    items = []
    while url:
        r = s.get(url, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["collection"]
        url, params = body["pagination"]["next_page"], None
    return items


def served(sandbox, account) -> dict:
    """Every table as a client extracting the whole account through the API sees it."""
    s, org = session(account.tokens["admin"]), account.organization_uri
    events = walk(s, f"{sandbox.url}/scheduled_events", {"organization": org, "count": 100})
    forms = walk(s, f"{sandbox.url}/routing_forms", {"organization": org})
    subs = [x for f in forms for x in walk(s, f"{sandbox.url}/routing_form_submissions", {"form": f["uri"], "count": 100})]
    return {
        "event_types": walk(s, f"{sandbox.url}/event_types", {"organization": org}),
        "scheduled_events": events,
        "invitees": [i for e in events for i in walk(s, local(sandbox, e["uri"]) + "/invitees", {"count": 100})],
        "organization_memberships": walk(s, f"{sandbox.url}/organization_memberships", {"organization": org}),
        "routing_forms": forms,
        "routing_form_submissions": sorted(subs, key=lambda x: (x["created_at"], x["uri"].rsplit("/", 1)[1])),
    }


def by_uri(rows):
    return {r["uri"]: r for r in rows}


def changed(before, after):
    """uris of rows that differ (or are new) between two truth tables."""
    b = by_uri(before)
    return {uri for uri, row in by_uri(after).items() if b.get(uri) != row}


def latest_timestamp(truth) -> str:
    stamps = [r[k] for table in truth.values() for r in table for k in ("created_at", "updated_at")]
    return max(stamps)


# ---------------------------------------------------------------------------- auth & parameters
def test_unauthenticated(sandbox):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic YWRtaW46YWRtaW4="},
                    {"Authorization": "Bearer "}):
        r = requests.get(f"{sandbox.url}/scheduled_events", headers=headers)
        assert r.status_code == 401
        assert r.json() == UNAUTHENTICATED
        assert r.headers["Content-Type"] == "application/json; charset=utf-8"
        assert all(h in r.headers for h in RATE_HEADERS)


def test_count(sandbox, account, admin):
    url, org = f"{sandbox.url}/scheduled_events", account.organization_uri
    for bad in ("101", "0", "-3", "ten", ""):
        r = admin.get(url, params={"organization": org, "count": bad})
        assert r.status_code == 400
        body = r.json()
        assert body["title"] == "Invalid Argument" and body["message"] == "The supplied parameters are invalid."
        assert body["details"][0]["parameter"] == "count"
    assert len(admin.get(url, params={"organization": org}).json()["collection"]) == 20
    assert len(admin.get(url, params={"organization": org, "count": 100}).json()["collection"]) == 100


def test_unknown_path_and_method(sandbox, admin):
    r = admin.get(f"{sandbox.url}/activity_log_entries")  # in Calendly's API, not in the sandbox
    assert r.status_code == 404
    assert r.json() == {"title": "Resource Not Found", "message": "The server could not find the requested resource."}
    assert admin.delete(f"{sandbox.url}/scheduled_events").status_code == 405
    assert admin.post(f"{sandbox.url}/webhook_subscriptions/some-uuid", json={}).status_code == 405
    assert admin.get(f"{sandbox.url}/users/me").status_code == 200  # the connection survived both


# ---------------------------------------------------------------------------- pagination
def test_pagination_walks_every_event_once(sandbox, account, admin):
    truth = account.truth()["scheduled_events"]
    url, params, seen, pages = f"{sandbox.url}/scheduled_events", {"organization": account.organization_uri, "count": 7}, [], []
    while url:
        body = admin.get(url, params=params).json()
        pag = body["pagination"]
        assert pag["count"] == len(body["collection"])
        if pag["next_page"]:
            assert pag["next_page"].startswith(f"{sandbox.url}/scheduled_events?")
            query = parse_qs(urlsplit(pag["next_page"]).query)
            assert query["page_token"] == [pag["next_page_token"]]
            assert query["organization"] == [account.organization_uri] and query["count"] == ["7"]
        else:
            assert pag["next_page_token"] is None
        assert (pag["previous_page"] is None) == (not pages)
        seen += body["collection"]
        pages.append(body)
        url, params = pag["next_page"], None
    assert [e["uri"] for e in seen] == [e["uri"] for e in truth]
    assert len(pages) == math.ceil(len(truth) / 7)
    # and back again through previous_page
    back, url = [], pages[-1]["pagination"]["previous_page"]
    while url:
        body = admin.get(url).json()
        back = body["collection"] + back
        url = body["pagination"]["previous_page"]
    assert back + pages[-1]["collection"] == seen
    # descending order is the exact reverse
    desc = walk(admin, f"{sandbox.url}/scheduled_events",
                {"organization": account.organization_uri, "count": 100, "sort": "start_time:desc"})
    assert desc == seen[::-1]


def test_next_page_follows_the_host_header(sandbox, account, admin):
    r = admin.get(f"{sandbox.url}/scheduled_events", params={"organization": account.organization_uri},
                  headers={"Host": "calendly.example:8443"})
    assert r.json()["pagination"]["next_page"].startswith("http://calendly.example:8443/scheduled_events?")


def test_bad_page_token(sandbox, account, admin):
    for token in ("nope", "eyJmb28iOiAxfQ", "WyJhIiwgWzEsIDJdXQ"):  # junk, {"foo": 1}, ["a", [1, 2]]
        r = admin.get(f"{sandbox.url}/scheduled_events", params={"organization": account.organization_uri, "page_token": token})
        assert r.status_code == 400 and r.json()["details"][0]["parameter"] == "page_token"


def test_pages_are_keyset_not_offset():
    """A booking inserted before the cursor neither repeats nor skips a row on the next page."""
    account = make_account(seed=3)
    with CalendlySandbox(account, rate_limit=None) as sb:
        s, params = session(account.tokens["admin"]), {"organization": account.organization_uri, "count": 10}
        first = s.get(f"{sb.url}/scheduled_events", params=params).json()
        early = datetime.fromisoformat(first["collection"][0]["start_time"][:-1]) - timedelta(days=1)
        account.add_booking(start_time=early.replace(tzinfo=timezone.utc))
        second = s.get(first["pagination"]["next_page"]).json()
        keys = [e["start_time"] for e in account.truth()["scheduled_events"]]
        assert second["collection"][0]["start_time"] == keys[keys.index(first["collection"][-1]["start_time"]) + 1]


# ---------------------------------------------------------------------------- scope rules
def test_scope_rules(sandbox, account, admin, member):
    url, org = f"{sandbox.url}/scheduled_events", account.organization_uri
    me, owner = account.users["member"]["uri"], account.users["owner"]["uri"]

    def denied(r, message):
        assert r.status_code == 403 and r.json() == {"title": "Permission Denied", "message": message}

    assert admin.get(url).status_code == 400
    denied(member.get(url, params={"organization": org}), "You do not have permission")
    denied(member.get(url, params={"organization": org, "user": me}), "You do not have permission")
    denied(member.get(url, params={"user": owner}),
           "Please also specify organization when requesting events for a user within your organization.")
    denied(admin.get(url, params={"user": me}),
           "Please also specify organization when requesting events for a user within your organization.")
    denied(admin.get(url, params={"organization": "https://api.calendly.com/organizations/elsewhere"}),
           "You do not have permission to access this resource.")
    denied(admin.get(url, params={"organization": org, "user": "https://api.calendly.com/users/stranger"}),
           "This user is not in your organization")
    hosted = [e for e in account.truth()["scheduled_events"] if me in [m["user"] for m in e["event_memberships"]]]
    assert 0 < len(hosted) < 300
    assert walk(member, url, {"user": me, "count": 100}) == hosted
    assert walk(admin, url, {"organization": org, "user": me, "count": 100}) == hosted
    # the org's admin (not owner) has the same reach as the owner
    org_admin = session(account.tokens_by_user[account.users["admin"]["uri"]])
    assert len(walk(org_admin, url, {"organization": org, "count": 100})) == 300
    # invitees: hosts and admins only
    other = next(e for e in account.truth()["scheduled_events"] if e not in hosted)
    denied(member.get(local(sandbox, other["uri"]) + "/invitees"), "You are not allowed to view this event")
    assert member.get(local(sandbox, hosted[0]["uri"]) + "/invitees").status_code == 200
    # routing forms: admins only; memberships: everyone in the org
    denied(member.get(f"{sandbox.url}/routing_forms", params={"organization": org}),
           "You do not have permission to access this resource.")
    assert member.get(f"{sandbox.url}/organization_memberships", params={"organization": org}).status_code == 200
    # event types: a member sees the ones they host
    types = member.get(f"{sandbox.url}/event_types", params={"user": me}).json()["collection"]
    assert {t["name"] for t in types} == {"Intro Call", "Discovery Call", "Office Hours"}


# ---------------------------------------------------------------------------- filters
def test_time_and_status_filters(sandbox, account, admin):
    truth = account.truth()["scheduled_events"]
    url, org = f"{sandbox.url}/scheduled_events", account.organization_uri
    lo, hi = truth[100]["start_time"], truth[150]["start_time"]
    got = walk(admin, url, {"organization": org, "count": 100, "min_start_time": lo, "max_start_time": hi})
    assert got == [e for e in truth if lo <= e["start_time"] < hi]  # min inclusive, max exclusive
    assert got[0]["start_time"] == lo and all(e["start_time"] != hi for e in got)
    # the same instant written differently selects the same rows
    alt = datetime.fromisoformat(lo[:-1]).replace(tzinfo=timezone.utc).astimezone(timezone(timedelta(hours=-4)))
    again = walk(admin, url, {"organization": org, "count": 100, "min_start_time": alt.isoformat(), "max_start_time": hi})
    assert again == got
    canceled = walk(admin, url, {"organization": org, "count": 100, "status": "canceled"})
    assert canceled == [e for e in truth if e["status"] == "canceled"] and canceled
    past_active = walk(admin, url, {"organization": org, "count": 100, "status": "active", "max_start_time": "2025-06-02T15:00:00Z"})
    assert past_active == [e for e in truth if e["status"] == "active" and e["start_time"] < "2025-06-02T15:00:00"]
    for bad in ({"min_start_time": "June 1st"}, {"max_start_time": "2025-02-30T00:00:00Z"}, {"status": "cancelled"},
                {"sort": "start_time:up"}, {"sort": "name:asc"}):
        r = admin.get(url, params={"organization": org, **bad})
        assert r.status_code == 400 and r.json()["details"][0]["parameter"] == next(iter(bad))


def test_email_filters(sandbox, account, admin):
    truth = account.truth()
    invitee = next(i for i in truth["invitees"] if i["email"] != i["email"].lower())  # a case variant
    email = invitee["email"].lower()
    events = walk(admin, f"{sandbox.url}/scheduled_events",
                  {"organization": account.organization_uri, "invitee_email": email.upper(), "count": 100})
    expected = {i["event"] for i in truth["invitees"] if i["email"].lower() == email}
    assert [e["uri"] for e in events] == [e["uri"] for e in truth["scheduled_events"] if e["uri"] in expected]
    rows = admin.get(local(sandbox, invitee["event"]) + "/invitees", params={"email": email}).json()["collection"]
    assert [r["uri"] for r in rows] == [invitee["uri"]]
    group = next(e for e in truth["scheduled_events"] if e["invitees_counter"]["total"] > e["invitees_counter"]["active"] > 0)
    for status in ("active", "canceled"):
        rows = admin.get(local(sandbox, group["uri"]) + "/invitees", params={"status": status}).json()["collection"]
        assert rows and all(r["status"] == status for r in rows)
    everyone = admin.get(local(sandbox, group["uri"]) + "/invitees", params={"sort": "created_at:desc"}).json()["collection"]
    assert [r["created_at"] for r in everyone] == sorted((r["created_at"] for r in everyone), reverse=True)


# ---------------------------------------------------------------------------- rate limit & faults
def test_rate_limit_per_token_with_recovery(account):
    with CalendlySandbox(account, rate_limit=5, rate_window_seconds=2) as sb:
        s, other = session(account.tokens["admin"]), session(account.tokens["member"])
        remaining = []
        for _ in range(5):
            r = s.get(f"{sb.url}/users/me")
            assert r.status_code == 200 and r.headers["X-RateLimit-Limit"] == "5"
            assert 1 <= int(r.headers["X-RateLimit-Reset"]) <= 2
            remaining.append(int(r.headers["X-RateLimit-Remaining"]))
        assert remaining == [4, 3, 2, 1, 0]
        r = s.get(f"{sb.url}/scheduled_events")  # would be a 400: the limit answers first
        assert r.status_code == 429
        assert r.json()["title"] == "Too Many Requests" and r.json()["message"]
        assert "Retry-After" not in r.headers  # clients must pace themselves from X-RateLimit-*
        assert r.headers["X-RateLimit-Remaining"] == "0" and 1 <= int(r.headers["X-RateLimit-Reset"]) <= 2
        assert other.get(f"{sb.url}/users/me").status_code == 200  # the limit is per token
        time.sleep(int(r.headers["X-RateLimit-Reset"]) + 0.05)
        r = s.get(f"{sb.url}/users/me")
        assert r.status_code == 200 and r.headers["X-RateLimit-Remaining"] == "4"
        assert sb.stats()["by_status"] == {200: 7, 429: 1}
        sb.configure(rate_limit=None)
        assert all(s.get(f"{sb.url}/users/me").status_code == 200 for _ in range(10))
        assert int(s.get(f"{sb.url}/users/me").headers["X-RateLimit-Limit"]) >= 10**6


def _outcomes(account, n, **kw):
    out = []
    with CalendlySandbox(account, rate_limit=None, **kw) as sb:
        for _ in range(n):
            try:
                r = requests.get(f"{sb.url}/users/me", headers={"Authorization": f"Bearer {account.tokens['admin']}"})
                out.append(r.status_code)
                if r.status_code >= 500:
                    assert r.json() == UNKNOWN and all(h in r.headers for h in RATE_HEADERS)
            except requests.ConnectionError:
                out.append("reset")
        stats, log = sb.stats(), list(sb.request_log)
    return out, stats, log


def test_faults(account):
    out, stats, log = _outcomes(account, 40, fault_rate=1.0, fault_seed=9)
    assert set(out) <= {500, 502, 503, "reset"} and "reset" in out and set(out) & {500, 502, 503}
    assert stats["requests"] == 40 and stats["resets"] == out.count("reset")
    assert sum(stats["by_status"].values()) == 40 - out.count("reset")
    assert stats["by_route"]["users_me"] == 40
    assert [e["status"] if e["status"] is not None else "reset" for e in log] == out
    assert _outcomes(account, 40, fault_rate=1.0, fault_seed=9)[0] == out  # the seed replays the faults
    some, _, _ = _outcomes(account, 60, fault_rate=0.3, fault_seed=1)
    assert 200 in some and len(set(some)) > 1


def test_configure_live_and_latency(account):
    with CalendlySandbox(account, rate_limit=None) as sb:
        s = session(account.tokens["admin"])
        assert s.get(f"{sb.url}/users/me").status_code == 200
        sb.configure(fault_rate=1.0)
        assert all(_status(s, sb) in (500, 502, 503, "reset") for _ in range(10))
        sb.configure(fault_rate=0.0, latency_ms=150)
        t = time.perf_counter()
        assert s.get(f"{sb.url}/users/me").status_code == 200
        assert time.perf_counter() - t >= 0.15


def _status(s, sb):
    try:
        return s.get(f"{sb.url}/users/me").status_code
    except requests.ConnectionError:
        return "reset"


# ---------------------------------------------------------------------------- server
def test_lifecycle_keepalive_and_log(account):
    sb = CalendlySandbox(account, rate_limit=None).start()
    assert sb.url.startswith("http://127.0.0.1:") and not sb.url.endswith("/")
    s = session(account.tokens["admin"])
    t = time.perf_counter()
    for _ in range(100):  # ~40 ms each if Nagle and delayed ACKs were in play
        assert s.get(f"{sb.url}/users/me").status_code == 200
    assert time.perf_counter() - t < 2.5
    s.get(f"{sb.url}/scheduled_events", params={"organization": account.organization_uri, "count": 5})
    entry = sb.request_log[-1]
    assert entry["method"] == "GET" and entry["path"] == "/scheduled_events" and entry["route"] == "scheduled_events"
    assert entry["query"] == {"organization": account.organization_uri, "count": "5"} and entry["status"] == 200
    assert isinstance(entry["ts"], float)
    sb.reset_stats()
    assert sb.stats()["requests"] == 0 and sb.request_log == []
    t = time.perf_counter()
    sb.stop()  # with a keep-alive connection still open
    assert time.perf_counter() - t < 1.0
    with pytest.raises(requests.ConnectionError):
        s.get(f"{sb.url}/users/me", timeout=2)
    sb.stop()  # idempotent


# ---------------------------------------------------------------------------- generated history
def test_determinism():
    a, b = make_account(seed=21), make_account(seed=21)
    assert a.truth() == b.truth() and a.tokens == b.tokens and a.users == b.users
    assert make_account(seed=22).truth() != a.truth()
    fresh = CalendlyAccount.generate(events=40)
    assert fresh.now.tzinfo is not None and fresh.now.microsecond == 0
    assert abs((datetime.now(timezone.utc) - fresh.now).total_seconds()) < 60


def test_generated_history(account):
    t = account.truth()
    events, invitees = t["scheduled_events"], t["invitees"]
    now = "2025-06-02T15:00:00.000000Z"
    assert len(events) == 300 and 0.7 <= sum(e["start_time"] < now for e in events) / 300 <= 0.8
    assert len(t["event_types"]) == 7 and [x["name"] for x in t["event_types"] if not x["active"]] == ["Legacy Consultation"]
    users = {m["user"]["uri"]: m["role"] for m in t["organization_memberships"]}
    assert sorted(users.values()) == ["admin", "owner", "user", "user", "user"]
    per_event = {}
    for i in invitees:
        per_event.setdefault(i["event"], []).append(i)
        assert i["created_at"] <= i["updated_at"] <= now and i["created_at"] <= now
    for e in events:
        start = datetime.fromisoformat(e["start_time"][:-1])
        assert start.minute % 15 == 0 and start.second == 0 and start.weekday() < 5
        rows = per_event[e["uri"]]
        active = sum(r["status"] == "active" for r in rows)
        assert e["invitees_counter"]["total"] == len(rows) and e["invitees_counter"]["active"] == active
        assert (e["status"] == "canceled") == (active == 0) == ("cancellation" in e)
        assert all(r["created_at"] < e["start_time"] for r in rows)
        assert {m["user"] for m in e["event_memberships"]} <= set(users)
    # repeat bookers, email case drifting between bookings, separate name fields only sometimes
    people = {i["email"].lower() for i in invitees if not i["old_invitee"]}
    assert 2.0 <= sum(not i["old_invitee"] for i in invitees) / len(people) <= 3.2
    assert len({i["email"] for i in invitees}) > len({i["email"].lower() for i in invitees})
    assert {i["first_name"] is None for i in invitees} == {True, False}
    answers = [qa["answer"] for i in invitees for qa in i["questions_and_answers"]]
    assert any(a.startswith("+1 ") for a in answers) and any(a.startswith("(") for a in answers)
    assert any(a.startswith("020 ") for a in answers) and any(a.startswith("+44 ") for a in answers)
    assert {i["tracking"]["utm_source"] is None for i in invitees} == {True, False}
    # history: cancellations ~10%, reschedules ~5%, no-shows, routing ~10%
    share = lambda pred: sum(map(pred, invitees)) / len(invitees)  # noqa: E731
    assert 0.04 <= share(lambda i: i["status"] == "canceled" and not i["rescheduled"]) <= 0.16
    assert 0.01 <= share(lambda i: i["rescheduled"]) <= 0.1
    assert 0.05 <= share(lambda i: bool(i["routing_form_submission"])) <= 0.15
    rows = by_uri(invitees)
    for i in invitees:
        if i["rescheduled"]:
            assert i["status"] == "canceled" and rows[i["new_invitee"]]["old_invitee"] == i["uri"]
        if i["old_invitee"]:
            assert rows[i["old_invitee"]]["new_invitee"] == i["uri"]
            assert rows[i["old_invitee"]]["email"] == i["email"]
    subs = by_uri(t["routing_form_submissions"])
    for i in invitees:
        if i["routing_form_submission"]:
            assert subs[i["routing_form_submission"]]["submitter"] == i["uri"]
    for s in subs.values():
        assert (s["submitter"] is None) == (s["submitter_type"] is None)
        if s["submitter"]:
            assert rows[s["submitter"]]["routing_form_submission"] == s["uri"]
    # enough active invitees of events that ended in the last 7 days for no-show changes
    window = "2025-05-26T15:00:00.000000Z"
    ended = {e["uri"] for e in events if e["status"] == "active" and window <= e["end_time"] <= now}
    assert sum(i["event"] in ended and i["status"] == "active" and not i["no_show"] for i in invitees) >= 10
    legacy = next(x["uri"] for x in t["event_types"] if not x["active"])
    assert all(e["start_time"] < "2025-01-01" for e in events if e["event_type"] == legacy)


def test_truth_equals_what_the_api_serves(sandbox, account):
    assert served(sandbox, account) == account.truth()


# ---------------------------------------------------------------------------- mutations
@pytest.fixture()
def fresh():
    account = make_account(seed=31)
    with CalendlySandbox(account, rate_limit=None) as sb:
        yield account, sb


def _future_invitee(truth, group: bool):
    events = {e["uri"]: e for e in truth["scheduled_events"]}
    for i in truth["invitees"]:
        e = events[i["event"]]
        if i["status"] == "active" and e["start_time"] > "2025-06-03" and (e["invitees_counter"]["limit"] > 1) == group \
                and (not group or e["invitees_counter"]["active"] >= 2):
            return i, e
    raise AssertionError("no candidate")


def test_cancel_invitee(fresh):
    account, sb = fresh
    before = account.truth()
    inv, event = _future_invitee(before, group=False)
    account.cancel_invitee(inv["uri"], canceler_type="host", reason="Conflict")
    after = account.truth()
    assert changed(before["invitees"], after["invitees"]) == {inv["uri"]}
    assert changed(before["scheduled_events"], after["scheduled_events"]) == {event["uri"]}
    new_inv, new_event = by_uri(after["invitees"])[inv["uri"]], by_uri(after["scheduled_events"])[event["uri"]]
    stamp = new_inv["updated_at"]
    assert stamp > latest_timestamp(before)
    assert new_inv["status"] == "canceled" and new_inv["cancellation"] == {
        "canceled_by": event["event_memberships"][0]["user_name"], "canceler_type": "host", "reason": "Conflict",
        "created_at": stamp}
    assert new_event["status"] == "canceled" and new_event["updated_at"] == stamp
    assert new_event["invitees_counter"] == dict(event["invitees_counter"], active=0)
    assert new_event["cancellation"] == new_inv["cancellation"]
    with pytest.raises(ValueError):
        account.cancel_invitee(inv["uri"])
    # a group event loses one seat and stays on
    inv, event = _future_invitee(after, group=True)
    account.cancel_invitee(inv["uri"])
    latest = by_uri(account.truth()["scheduled_events"])[event["uri"]]
    assert latest["status"] == "active" and "cancellation" not in latest
    assert latest["invitees_counter"] == dict(event["invitees_counter"], active=event["invitees_counter"]["active"] - 1)
    assert latest["updated_at"] > event["updated_at"]
    assert served(sb, account) == account.truth()


def test_no_show_touches_only_the_invitee(fresh):
    account, sb = fresh
    before = account.truth()
    inv = next(i for i in before["invitees"] if i["status"] == "active" and not i["no_show"])
    uri = account.mark_no_show(inv["uri"])
    after = account.truth()
    assert changed(before["invitees"], after["invitees"]) == {inv["uri"]}
    assert after["scheduled_events"] == before["scheduled_events"]  # Calendly leaves the event alone
    marked = by_uri(after["invitees"])[inv["uri"]]
    assert marked["no_show"] == {"uri": uri, "created_at": marked["updated_at"]}
    assert marked["updated_at"] > latest_timestamp(before)
    s = session(account.tokens["admin"])
    assert s.get(local(sb, uri)).json()["resource"]["invitee"] == inv["uri"]
    account.unmark_no_show(inv["uri"])
    again = by_uri(account.truth()["invitees"])[inv["uri"]]
    assert again["no_show"] is None and again["updated_at"] > marked["updated_at"]
    assert s.get(local(sb, uri)).status_code == 404


def test_reschedule(fresh):
    account, sb = fresh
    before = account.truth()
    inv, event = _future_invitee(before, group=False)
    new_start = datetime(2025, 6, 20, 14, 30, tzinfo=timezone.utc)
    new_uri = account.reschedule_invitee(inv["uri"], new_start)
    after = account.truth()
    rows, events = by_uri(after["invitees"]), by_uri(after["scheduled_events"])
    old, new = rows[inv["uri"]], rows[new_uri]
    assert old["status"] == "canceled" and old["rescheduled"] and old["new_invitee"] == new_uri
    assert new["old_invitee"] == inv["uri"] and new["status"] == "active" and not new["rescheduled"]
    for field in ("email", "name", "first_name", "last_name", "questions_and_answers", "tracking", "timezone"):
        assert new[field] == inv[field]
    assert new["created_at"] == old["updated_at"] > latest_timestamp(before)
    new_event = events[new["event"]]
    assert new_event["event_type"] == event["event_type"] and new_event["start_time"] == "2025-06-20T14:30:00.000000Z"
    assert new_event["invitees_counter"] == {"total": 1, "active": 1, "limit": 1}
    assert events[event["uri"]]["status"] == "canceled" and events[event["uri"]]["cancellation"]["canceler_type"] == "invitee"
    assert changed(before["scheduled_events"], after["scheduled_events"]) == {event["uri"], new_event["uri"]}
    assert changed(before["invitees"], after["invitees"]) == {inv["uri"], new_uri}
    # into an existing group event at that time: joins it instead of creating one
    g_inv, g_event = _future_invitee(after, group=True)
    target = next(e for e in after["scheduled_events"] if e["event_type"] == g_event["event_type"]
                  and e["uri"] != g_event["uri"] and e["status"] == "active" and e["start_time"] > "2025-06-03"
                  and e["invitees_counter"]["active"] < e["invitees_counter"]["limit"])
    joined = account.reschedule_invitee(g_inv["uri"], target["start_time"])
    latest = account.truth()
    assert len(latest["scheduled_events"]) == len(after["scheduled_events"])
    assert by_uri(latest["invitees"])[joined]["event"] == target["uri"]
    counter = by_uri(latest["scheduled_events"])[target["uri"]]["invitees_counter"]
    assert counter == dict(target["invitees_counter"], total=target["invitees_counter"]["total"] + 1,
                           active=target["invitees_counter"]["active"] + 1)
    assert served(sb, account) == latest


def test_add_booking(fresh):
    account, sb = fresh
    before = account.truth()
    uri = account.add_booking()
    after = account.truth()
    inv = by_uri(after["invitees"])[uri]
    event = by_uri(after["scheduled_events"])[inv["event"]]
    assert inv["created_at"] > latest_timestamp(before) and event["start_time"] > inv["created_at"]
    assert changed(before["invitees"], after["invitees"]) == {uri}
    # a returning booker, typing their email in capitals
    person = before["invitees"][0]
    uri = account.add_booking(email=person["email"].upper())
    assert by_uri(account.truth()["invitees"])[uri]["name"] == person["name"]
    # a group event with room gets one more invitee
    types = {t["name"]: t["uri"] for t in before["event_types"]}
    group = next(e for e in before["scheduled_events"] if e["event_type"] == types["Office Hours"]
                 and e["status"] == "active" and e["start_time"] > "2025-06-03"
                 and e["invitees_counter"]["active"] < e["invitees_counter"]["limit"])
    n_events = len(account.truth()["scheduled_events"])
    uri = account.add_booking(event_type_uri=types["Office Hours"], start_time=group["start_time"])
    latest = account.truth()
    assert len(latest["scheduled_events"]) == n_events
    grown = by_uri(latest["scheduled_events"])[group["uri"]]
    assert grown["invitees_counter"]["total"] == group["invitees_counter"]["total"] + 1
    assert grown["updated_at"] == by_uri(latest["invitees"])[uri]["created_at"]
    with pytest.raises(ValueError):
        account.add_booking(event_type_uri=types["Legacy Consultation"])
    assert served(sb, account) == latest


def test_apply_random_changes(fresh):
    account, sb = fresh
    before = account.truth()
    result = account.apply_random_changes(seed=5)
    after = account.truth()
    assert [len(result[k]) for k in ("canceled", "rescheduled", "no_shows", "added")] == [20, 10, 10, 30]
    old_rows, old_events = by_uri(before["invitees"]), by_uri(before["scheduled_events"])
    for uri in result["canceled"] + [old for old, _ in result["rescheduled"]]:
        assert old_rows[uri]["status"] == "active" and old_events[old_rows[uri]["event"]]["start_time"] > "2025-06-02T15"
    for uri in result["no_shows"]:
        end = old_events[old_rows[uri]["event"]]["end_time"]
        assert "2025-05-26T15" <= end <= "2025-06-02T15:00:00.000000Z"
    expected = set(result["canceled"] + result["no_shows"] + result["added"]
                   + [u for pair in result["rescheduled"] for u in pair])
    assert changed(before["invitees"], after["invitees"]) == expected
    # same seed on an identical account picks the same rows and mints the same ids
    twin = make_account(seed=31)
    assert twin.apply_random_changes(seed=5) == result
    assert served(sb, account) == after


def test_mutations_while_serving(fresh):
    """Clients keep getting consistent pages while changes land."""
    account, sb = fresh
    errors, stop = [], threading.Event()

    def reader():
        s = session(account.tokens["admin"])
        while not stop.is_set():
            for e in s.get(f"{sb.url}/scheduled_events", params={"organization": account.organization_uri,
                                                                 "count": 100}).json()["collection"]:
                r = s.get(local(sb, e["uri"]) + "/invitees")
                if r.status_code != 200:
                    errors.append(r.status_code)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for seed in range(3):
        account.apply_random_changes(seed=seed, cancels=5, reschedules=5, no_shows=2, new_bookings=10)
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert served(sb, account) == account.truth()
