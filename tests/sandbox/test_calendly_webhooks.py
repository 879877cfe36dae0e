"""Webhook subscriptions of the Calendly sandbox and the signed deliveries it makes when its account
changes: received by real HTTP endpoints, verified with the receiver's own signature check, compared
with what the API serves, and validated against the spec's WebhookPayload."""

from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from jsonschema import FormatChecker
from openapi_schema_validator import OAS30Validator

from sandbox.calendly import CalendlySandbox
from pipelines.webhooks import LandingStore, verify
from tests.webhooks.receiver import serving

from .conftest import local, make_account, session
from .test_calendly_contract import SPEC_PATH, is_uri, patch_spec

KEY = "whsec-sandbox-test-0001"
ALL_EVENTS = ["invitee.created", "invitee.canceled", "invitee_no_show.created", "invitee_no_show.deleted",
              "routing_form_submission.created"]
NOW = "2025-06-02T15:00:00.000000Z"  # the accounts' reference instant (conftest.NOW)


class Receiver:
    """A webhook endpoint that records every request and answers from a script (then 200).

    ``statuses``: answers to the first requests; ``delays``: seconds to wait before each of the
    first answers."""

    def __init__(self, statuses=(), delays=()):
        self.statuses, self.delays = list(statuses), list(delays)
        self.requests: list[dict] = []
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._cond:
                    receiver.requests.append({"headers": dict(self.headers), "body": body, "at": time.monotonic(),
                                              "path": self.path})
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    delay = receiver.delays.pop(0) if receiver.delays else 0
                    receiver._cond.notify_all()
                time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/hooks"

    def wait_for(self, n: int, timeout: float = 5) -> list[dict]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.requests) >= n, timeout), (n, len(self.requests))
            return list(self.requests)

    def deliveries(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def spec():
    if not SPEC_PATH.exists():
        pytest.skip(f"Calendly OpenAPI description not found at {SPEC_PATH}")
    return patch_spec(yaml.safe_load(SPEC_PATH.read_text()))


@pytest.fixture(scope="module")
def payload_schema(spec):
    """The spec's WebhookPayload (with the no-show events), formats checked, `uri` included."""
    formats = FormatChecker()
    formats.checkers = {**OAS30Validator.FORMAT_CHECKER.checkers, "uri": (is_uri, ())}
    return OAS30Validator({"$ref": "#/components/schemas/WebhookPayload", "components": spec["components"]},
                          format_checker=formats)


def subscribe(sb, token: str, url: str, events=ALL_EVENTS, scope="organization", user=None, key=KEY) -> dict:
    body = {"url": url, "events": events, "organization": sb.account.organization_uri, "scope": scope}
    if user:
        body["user"] = user
    if key:
        body["signing_key"] = key
    r = session(token).post(f"{sb.url}/webhook_subscriptions", json=body)
    assert r.status_code == 201, r.text
    return r.json()["resource"]


def served(sb, uri: str) -> dict:
    r = session(sb.account.tokens["admin"]).get(local(sb, uri))
    assert r.status_code == 200, r.text
    return r.json()["resource"]


def invitee_payload(sb, invitee_uri: str) -> dict:
    """The invitee as the API serves it now, with its scheduled event, as Calendly's payloads carry it."""
    invitee = served(sb, invitee_uri)
    return {**invitee, "scheduled_event": served(sb, invitee["event"])}


def future_invitees(account, host: str | None = None, not_host: str | None = None) -> list[str]:
    """Active invitees of one-on-one events still to come (optionally hosted, or not, by a user)."""
    truth = account.truth()
    events = {e["uri"]: e for e in truth["scheduled_events"]}
    out = []
    for i in truth["invitees"]:
        e = events[i["event"]]
        hosts = {m["user"] for m in e["event_memberships"]}
        if i["status"] == "active" and e["start_time"] > NOW and e["invitees_counter"]["limit"] == 1 \
                and (host is None or host in hosts) and (not_host is None or not_host not in hosts):
            out.append(i["uri"])
    return out


def group_invitees(account) -> list[str]:
    """Two active invitees of one group event still to come."""
    truth = account.truth()
    by_event: dict[str, list] = {}
    for i in truth["invitees"]:
        if i["status"] == "active":
            by_event.setdefault(i["event"], []).append(i["uri"])
    return next(by_event[e["uri"]][:2] for e in truth["scheduled_events"]
                if e["start_time"] > NOW and len(by_event.get(e["uri"], ())) >= 2)


def check_signed(requests_: list[dict], key: str = KEY) -> None:
    for r in requests_:
        assert r["headers"]["Content-Type"].startswith("application/json")
        verify(r["headers"]["Calendly-Webhook-Signature"], r["body"], key, now=time.time(), tolerance_seconds=60)


# ---------------------------------------------------------------------------- subscriptions
def test_subscriptions_crud_and_permissions():
    account = make_account(seed=51, events=60)
    org, owner, admin_user = account.organization_uri, account.users["owner"]["uri"], account.users["admin"]["uri"]
    me, other = account.users["member"]["uri"], account.users["member2"]["uri"]
    with CalendlySandbox(account, rate_limit=None) as sb:
        admin, member = session(account.tokens["admin"]), session(account.tokens["member"])
        url = f"{sb.url}/webhook_subscriptions"
        org_hook = subscribe(sb, account.tokens["admin"], "https://a.example/hook")
        # the same URL may be subscribed once per scope (and user)
        mine = subscribe(sb, account.tokens["member"], "https://a.example/hook", ALL_EVENTS[:4], "user", me)
        theirs = subscribe(sb, account.tokens["admin"], "https://a.example/hook", ALL_EVENTS[:2], "user", other)
        assert theirs["creator"] == owner and theirs["user"] == other
        assert org_hook["uri"].startswith("https://api.calendly.com/webhook_subscriptions/")
        assert org_hook["created_at"] == org_hook["updated_at"] and org_hook["created_at"] > NOW
        assert set(org_hook) == {"uri", "callback_url", "created_at", "updated_at", "retry_started_at", "state",
                                 "events", "scope", "organization", "user", "creator"}
        r = admin.post(url, json={"url": "https://a.example/hook", "events": ["invitee.created"], "organization": org,
                                  "scope": "organization"})
        assert r.status_code == 409 and r.json()["message"] == "Hook with this url already exists"
        # listing is per scope; a member sees only their own user-scope ones
        def listed(s, **params):
            r = s.get(url, params={"organization": org, **params})
            return r.status_code, [x["uri"] for x in r.json().get("collection", [])]
        assert listed(admin, scope="organization") == (200, [org_hook["uri"]])
        assert listed(admin, scope="user", user=other) == (200, [theirs["uri"]])
        assert listed(member, scope="user", user=me) == (200, [mine["uri"]])
        assert listed(member, scope="user", user=other)[0] == 403
        assert listed(member, scope="organization")[0] == 403
        # an admin may read and delete anyone's; a member only their own
        assert member.get(local(sb, org_hook["uri"])).status_code == 403
        assert member.get(local(sb, theirs["uri"])).status_code == 403
        assert member.delete(local(sb, theirs["uri"])).status_code == 403
        assert session(account.tokens_by_user[admin_user]).get(local(sb, mine["uri"])).json()["resource"] == mine
        assert member.delete(local(sb, mine["uri"])).status_code == 204
        assert member.delete(local(sb, mine["uri"])).status_code == 404
        assert admin.delete(local(sb, theirs["uri"])).status_code == 204
        assert listed(admin, scope="user", user=other) == (200, [])
        # a deleted subscription's URL may be subscribed again
        again = subscribe(sb, account.tokens["member"], "https://a.example/hook", ALL_EVENTS[:1], "user", me)
        assert again["uri"] != mine["uri"]
        # neither the given nor a generated signing key is ever served
        assert "signing_key" not in admin.get(local(sb, org_hook["uri"])).text
        assert sb.stats()["by_route"]["webhook_subscriptions"] >= 9


# ---------------------------------------------------------------------------- deliveries
def test_each_mutation_is_delivered_signed_as_served(payload_schema):
    account = make_account(seed=52, events=120)
    owner = account.users["owner"]["uri"]
    # the first answer is slow, so later changes land while earlier deliveries wait: they must
    # still carry the resource as it was at their own change
    with Receiver(delays=[0.3]) as rx, CalendlySandbox(account, rate_limit=None) as sb:
        subscribe(sb, account.tokens["admin"], rx.url)
        canceled, moved = future_invitees(account)[:2]
        expected = []  # (event, created_at, payload as the API served it right after the change)

        account.cancel_invitee(canceled, canceler_type="host", reason="Conflict")
        p = invitee_payload(sb, canceled)
        expected.append(("invitee.canceled", p["cancellation"]["created_at"], p))

        for uri in group_invitees(account):  # the second changes the event the first one's payload carries
            account.cancel_invitee(uri)
            p = invitee_payload(sb, uri)
            expected.append(("invitee.canceled", p["cancellation"]["created_at"], p))
        assert expected[-2][2]["scheduled_event"] != expected[-1][2]["scheduled_event"]

        new = account.reschedule_invitee(moved, "2025-06-25T14:00:00Z")
        p_new, p_old = invitee_payload(sb, new), invitee_payload(sb, moved)
        assert p_old["rescheduled"] and p_old["new_invitee"] == new
        expected += [("invitee.created", p_new["created_at"], p_new),
                     ("invitee.canceled", p_old["cancellation"]["created_at"], p_old)]

        booked = account.add_booking()
        p = invitee_payload(sb, booked)
        expected.append(("invitee.created", p["created_at"], p))

        account.mark_no_show(booked)
        p = invitee_payload(sb, booked)
        assert p["no_show"]
        expected.append(("invitee_no_show.created", p["no_show"]["created_at"], p))
        account.unmark_no_show(booked)
        p = invitee_payload(sb, booked)
        assert p["no_show"] is None
        expected.append(("invitee_no_show.deleted", p["updated_at"], p))

        submission = account.add_routing_form_submission()
        p = served(sb, submission)
        expected.append(("routing_form_submission.created", p["created_at"], p))

        # Routed to a booking page, booked later: the invitee names the submission, whose submitter is
        # filled in with no delivery of its own.
        routed = account.add_routing_form_submission(routed=True)
        p = served(sb, routed)
        assert p["result"]["type"] == "event_type" and p["submitter"] is None
        expected.append(("routing_form_submission.created", p["created_at"], p))
        booked = account.book_from_submission(routed)
        p = invitee_payload(sb, booked)
        assert p["routing_form_submission"] == routed
        expected.append(("invitee.created", p["created_at"], p))
        assert served(sb, routed)["submitter"] == booked and served(sb, routed)["updated_at"] == p["created_at"]

        assert sb.webhooks.wait_idle(10)
        got = rx.wait_for(len(expected))
    assert len(got) == len(expected)
    check_signed(got)
    deliveries = rx.deliveries()
    for delivery, (event, created_at, payload) in zip(deliveries, expected):
        payload_schema.validate(delivery)
        assert delivery == {"event": event, "created_at": created_at, "created_by": owner, "payload": payload}
    assert [r["path"] for r in got] == ["/hooks"] * len(expected)
    assert sb.stats()["webhook_deliveries"] == len(expected) and sb.stats()["webhook_failures"] == 0
    log = sb.webhooks.delivery_log
    assert [(e["event"], e["attempt"], e["status"]) for e in log] == [(x[0], 1, 200) for x in expected]


def test_random_changes_emit_one_delivery_per_change(payload_schema):
    account = make_account(seed=53, events=200)
    with Receiver() as rx, CalendlySandbox(account, rate_limit=None) as sb:
        subscribe(sb, account.tokens["admin"], rx.url, ALL_EVENTS[:4])
        result = account.apply_random_changes(seed=4, cancels=3, reschedules=2, no_shows=2, new_bookings=3)
        assert sb.webhooks.wait_idle(10)
    deliveries = rx.deliveries()
    for d in deliveries:
        payload_schema.validate(d)
    by_event: dict[str, set] = {}
    for d in deliveries:
        by_event.setdefault(d["event"], set()).add(d["payload"]["uri"])
    assert by_event == {
        "invitee.canceled": set(result["canceled"]) | {old for old, _ in result["rescheduled"]},
        "invitee.created": set(result["added"]) | {new for _, new in result["rescheduled"]},
        "invitee_no_show.created": set(result["no_shows"]),
    }
    assert len(deliveries) == 3 + 2 * 2 + 2 + 3


def test_user_scope_gets_only_the_events_its_user_hosts(payload_schema):
    account = make_account(seed=54, events=200)
    me = account.users["member"]["uri"]
    with Receiver() as org_rx, Receiver() as user_rx, CalendlySandbox(account, rate_limit=None) as sb:
        subscribe(sb, account.tokens["admin"], org_rx.url)
        subscribe(sb, account.tokens["member"], user_rx.url, ALL_EVENTS[:4], "user", me)
        hosted, foreign = future_invitees(account, host=me)[0], future_invitees(account, not_host=me)[0]
        account.cancel_invitee(hosted)
        account.cancel_invitee(foreign)
        account.mark_no_show(future_invitees(account, host=me)[0])
        account.add_routing_form_submission()
        assert sb.webhooks.wait_idle(10)
    to_user = user_rx.deliveries()
    assert [(d["event"], d["payload"]["uri"]) for d in to_user[:1]] == [("invitee.canceled", hosted)]
    assert [d["event"] for d in to_user] == ["invitee.canceled", "invitee_no_show.created"]
    assert all(me in {m["user"] for m in d["payload"]["scheduled_event"]["event_memberships"]} for d in to_user)
    assert all(d["created_by"] == me for d in to_user)
    assert [d["event"] for d in org_rx.deliveries()] == ["invitee.canceled", "invitee.canceled",
                                                        "invitee_no_show.created", "routing_form_submission.created"]
    for d in to_user + org_rx.deliveries():
        payload_schema.validate(d)


def test_failed_delivery_is_retried_with_the_same_body_and_a_fresh_signature():
    account = make_account(seed=55, events=120)
    # 1.1 s before the first retry: a signature's timestamp is in whole seconds
    with Receiver(statuses=[500]) as failing, Receiver() as healthy, \
            CalendlySandbox(account, rate_limit=None, webhook_retry_delays=(1.1, 0.1, 0.1)) as sb:
        admin = session(account.tokens["admin"])
        bad = subscribe(sb, account.tokens["admin"], failing.url)
        good = subscribe(sb, account.tokens["admin"], healthy.url)
        dead = socket.socket()
        dead.bind(("127.0.0.1", 0))  # bound, never listening: connection refused
        unreachable = subscribe(sb, account.tokens["admin"], f"http://127.0.0.1:{dead.getsockname()[1]}/hooks")
        assert bad["retry_started_at"] is None
        started = time.monotonic()
        account.cancel_invitee(future_invitees(account)[0])
        first = failing.wait_for(1)[0]
        # the healthy receiver is not held up by the failing one
        assert healthy.wait_for(1)[0]["at"] - started < 1.0
        time.sleep(0.2)
        retrying = admin.get(local(sb, bad["uri"])).json()["resource"]["retry_started_at"]
        assert retrying is not None and retrying > bad["created_at"]
        assert admin.get(local(sb, good["uri"])).json()["resource"]["retry_started_at"] is None
        assert sb.webhooks.wait_idle(10)
        attempts = failing.wait_for(2)
        after = admin.get(local(sb, bad["uri"])).json()["resource"]
        dead.close()
    assert len(attempts) == 2 and attempts[1]["at"] - first["at"] >= 1.0
    assert attempts[0]["body"] == attempts[1]["body"]
    signatures = [a["headers"]["Calendly-Webhook-Signature"] for a in attempts]
    assert signatures[0] != signatures[1]
    stamps = [int(s.split(",")[0][2:]) for s in signatures]
    assert stamps[1] > stamps[0]
    check_signed(attempts)
    assert after["retry_started_at"] is None  # cleared by the successful retry
    log = [(e["subscription"], e["attempt"], e["status"]) for e in sb.webhooks.delivery_log]
    assert [x for x in log if x[0] == bad["uri"]] == [(bad["uri"], 1, 500), (bad["uri"], 2, 200)]
    assert [x for x in log if x[0] == good["uri"]] == [(good["uri"], 1, 200)]
    refused = [e for e in sb.webhooks.delivery_log if e["subscription"] == unreachable["uri"]]
    assert [e["attempt"] for e in refused] == [1, 2, 3, 4]  # the first try and three retries, then it gives up
    assert all(e["status"] is None and "Connection" in e["error"] for e in refused)
    assert sb.stats()["webhook_deliveries"] == 2 and sb.stats()["webhook_failures"] == 1 + 4


def test_deleted_subscription_receives_nothing_more():
    account = make_account(seed=56, events=120)
    with Receiver(statuses=[500] * 100) as rx, \
            CalendlySandbox(account, rate_limit=None, webhook_retry_delays=(0.3,) * 5) as sb:
        hook = subscribe(sb, account.tokens["admin"], rx.url)
        account.cancel_invitee(future_invitees(account)[0])
        rx.wait_for(1)
        assert session(account.tokens["admin"]).delete(local(sb, hook["uri"])).status_code == 204
        account.add_booking()
        assert sb.webhooks.wait_idle(5)
        time.sleep(0.5)  # past the retry that was due
    assert len(rx.requests) == 1
    assert [(e["attempt"], e["status"]) for e in sb.webhooks.delivery_log] == [(1, 500)]


def test_deliveries_leave_the_lock_and_the_caller_alone():
    """The POST runs on the delivery thread, with no lock held: a receiver that takes its time
    slows neither the mutation nor the API, and may itself call the API while it answers."""
    account = make_account(seed=57, events=120)
    with Receiver(delays=[1.0]) as rx, CalendlySandbox(account, rate_limit=None) as sb:
        subscribe(sb, account.tokens["admin"], rx.url)
        t = time.monotonic()
        account.add_booking()
        assert time.monotonic() - t < 0.5
        rx.wait_for(1)  # the receiver is now holding its answer
        t = time.monotonic()
        account.add_booking()
        r = session(account.tokens["admin"]).get(f"{sb.url}/users/me")
        assert r.status_code == 200 and time.monotonic() - t < 0.5
        assert sb.webhooks.wait_idle(5)
    assert len(rx.requests) == 2


def test_stop_ends_the_delivery_thread_and_drops_pending_retries():
    account = make_account(seed=58, events=120)
    with Receiver(statuses=[500]) as rx:
        before = set(threading.enumerate())  # other tests' sandboxes may be running
        sb = CalendlySandbox(account, rate_limit=None, webhook_retry_delays=(30,)).start()
        assert [th.name for th in set(threading.enumerate()) - before if th.name == "calendly-sandbox-webhooks"]
        subscribe(sb, account.tokens["admin"], rx.url)
        account.add_booking()
        rx.wait_for(1)
        t = time.monotonic()
        sb.stop()
        assert time.monotonic() - t < 1.0
        assert not [th for th in set(threading.enumerate()) - before if th.name == "calendly-sandbox-webhooks"]
        assert sb.webhooks.wait_idle(0.1)  # the pending retry is gone
        account.add_booking()  # not served, so not delivered
        time.sleep(0.2)
        assert len(rx.requests) == 1
        sb.start()  # subscriptions survive a restart, and deliveries resume
        account.add_booking()
        assert sb.webhooks.wait_idle(5)
        sb.stop()
    assert len(rx.requests) == 2


# ---------------------------------------------------------------------------- the project's own receiver
@contextmanager
def landing_receiver(tmp_path, key: str):
    """The project's receiver, landing into a store in tmp_path: yields (url, store)."""
    store = LandingStore(tmp_path / "landing" / "calendly_webhooks.sqlite")
    with serving(store, key) as url:
        yield url, store


def test_the_project_receiver_lands_every_delivery(tmp_path):
    account = make_account(seed=59, events=120)
    with landing_receiver(tmp_path, KEY) as (url, store), CalendlySandbox(account, rate_limit=None) as sb:
        subscribe(sb, account.tokens["admin"], url)
        first, second = future_invitees(account)[:2]
        account.cancel_invitee(first)
        account.reschedule_invitee(second, "2025-06-26T15:00:00Z")
        account.add_routing_form_submission()
        assert sb.webhooks.wait_idle(10)
        canceled = invitee_payload(sb, first)
    assert [e["status"] for e in sb.webhooks.delivery_log] == [200] * 4
    landed = store.pending()
    assert [row.event for row in landed] == ["invitee.canceled", "invitee.created", "invitee.canceled",
                                             "routing_form_submission.created"]
    assert json.loads(landed[0].body)["payload"] == canceled


# ---------------------------------------------------------------------------- a receiver that keeps failing
def test_a_subscription_failing_for_the_configured_time_is_disabled_and_gets_nothing_more():
    """Calendly retries for 24 hours, then disables the subscription without an alert; the sandbox
    does it after `webhook_disable_after` seconds of failing."""
    account = make_account(seed=60, events=120)
    with Receiver(statuses=[500] * 100) as failing, Receiver() as healthy, \
            CalendlySandbox(account, rate_limit=None, webhook_retry_delays=(0.2,) * 20,
                            webhook_disable_after=0.7) as sb:
        admin = session(account.tokens["admin"])
        bad = subscribe(sb, account.tokens["admin"], failing.url)
        good = subscribe(sb, account.tokens["admin"], healthy.url)
        started = time.monotonic()
        account.cancel_invitee(future_invitees(account)[0])
        failing.wait_for(1)
        time.sleep(0.1)
        retrying = admin.get(local(sb, bad["uri"])).json()["resource"]
        assert retrying["state"] == "active" and retrying["retry_started_at"] > bad["created_at"]
        assert sb.webhooks.wait_idle(10)  # disabled: its retries are dropped
        disabled = admin.get(local(sb, bad["uri"])).json()["resource"]
        tries = len(failing.requests)
        account.add_booking()
        assert sb.webhooks.wait_idle(5)
        time.sleep(0.3)
        listed = admin.get(f"{sb.url}/webhook_subscriptions",
                           params={"organization": account.organization_uri, "scope": "organization"}).json()
        good_now = admin.get(local(sb, good["uri"])).json()["resource"]
    assert time.monotonic() - started >= 0.7
    assert disabled["state"] == "disabled" and disabled["retry_started_at"] == retrying["retry_started_at"]
    assert disabled["updated_at"] > disabled["retry_started_at"]
    assert 3 <= tries <= 6 and len(failing.requests) == tries  # nothing more after it was disabled
    assert {s["uri"]: s["state"] for s in listed["collection"]} == {bad["uri"]: "disabled", good["uri"]: "active"}
    assert good_now["state"] == "active" and good_now["retry_started_at"] is None
    assert len(healthy.requests) == 2


def test_a_success_clears_retry_started_at_and_restarts_the_clock():
    account = make_account(seed=61, events=120)
    # fails for 0.4 s, then answers: not disabled; failing again later starts a new count
    with Receiver(statuses=[500, 500, 500]) as rx, \
            CalendlySandbox(account, rate_limit=None, webhook_retry_delays=(0.2,) * 5,
                            webhook_disable_after=1.0) as sb:
        hook = subscribe(sb, account.tokens["admin"], rx.url)
        account.cancel_invitee(future_invitees(account)[0])
        assert sb.webhooks.wait_idle(10)
        first = served(sb, hook["uri"])
        rx.statuses = [500, 500, 500]
        account.add_booking()
        assert sb.webhooks.wait_idle(10)
        second = served(sb, hook["uri"])
    assert first["state"] == second["state"] == "active"
    assert first["retry_started_at"] is None and second["retry_started_at"] is None
    assert [e["status"] for e in sb.webhooks.delivery_log] == [500, 500, 500, 200] * 2


def test_a_410_answer_deletes_the_subscription():
    account = make_account(seed=62, events=120)
    with Receiver(statuses=[410]) as rx, CalendlySandbox(account, rate_limit=None) as sb:
        hook = subscribe(sb, account.tokens["admin"], rx.url)
        account.cancel_invitee(future_invitees(account)[0])
        assert sb.webhooks.wait_idle(10)
        gone = session(account.tokens["admin"]).get(local(sb, hook["uri"]))
        account.add_booking()
        assert sb.webhooks.wait_idle(5)
    assert gone.status_code == 404
    assert len(rx.requests) == 1 and [e["status"] for e in sb.webhooks.delivery_log] == [410]


def test_the_disable_knob():
    account = make_account(seed=63, events=120)
    with Receiver() as rx, CalendlySandbox(account, rate_limit=None) as sb:
        hook = subscribe(sb, account.tokens["admin"], rx.url)
        uuid = hook["uri"].rsplit("/", 1)[1]
        resource = sb.webhooks.disable(uuid, retry_started_at="2025-05-30T10:00:00.000000Z")
        account.cancel_invitee(future_invitees(account)[0])
        assert sb.webhooks.wait_idle(5)
        time.sleep(0.2)
        now_served = served(sb, hook["uri"])
    assert resource == now_served
    assert now_served["state"] == "disabled" and now_served["retry_started_at"] == "2025-05-30T10:00:00.000000Z"
    assert rx.requests == []
