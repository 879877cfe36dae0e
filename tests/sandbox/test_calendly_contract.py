"""Contract: every kind of response the sandbox serves validates against Calendly's published
OpenAPI description (shared/specs/calendly-openapi.yaml).

Responses are checked with openapi-core (operation lookup, status, media type, body schema,
formats). Statuses the spec does not declare (429 anywhere; 502/503; 404 on a path that is not
in the spec) are checked with OAS30Validator against the error schema they use.

The copy of the spec has defects; they are patched in memory below, one by one, never by
loosening a schema. ``format: uri`` needs a package we do not install (rfc3987), so the
harness supplies its own check; every other format used here (date-time, email, uuid) is
checked by openapi-schema-validator itself.
"""

import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_schema_validator import OAS30Validator

from sandbox.calendly import CalendlySandbox
from sandbox.calendly.shapes import PROFILES, Shape

from .conftest import local, make_account, session

SPEC_PATH = Path(__file__).resolve().parents[3] / "shared/specs/calendly-openapi.yaml"
ERROR_RESPONSES = ("INVALID_ARGUMENT", "UNAUTHENTICATED", "PERMISSION_DENIED", "NOT_FOUND", "UNKNOWN",
                   "ALREADY_EXISTS")


def patch_spec(spec: dict) -> dict:
    """Fix the copy's known defects, narrowly."""
    def refine(schema):  # the object that narrows ErrorResponse in an error response
        return schema["content"]["application/json"]["schema"]["allOf"][1]["properties"]

    patched = []
    for name in ERROR_RESPONSES:
        for prop_name, prop in refine(spec["components"]["responses"][name]).items():
            # Defect 1: `value: X` is not a JSON Schema / OAS 3.0 keyword (the spec validator
            # rejects it, validators ignore it); the authors meant the single allowed value.
            if "value" in prop:
                prop["enum"] = [prop.pop("value")]
                patched.append((name, prop_name))
            # Defect 2: UNAUTHENTICATED's message has `enum: "The access token is invalid"`,
            # a string where a list is required.
            if isinstance(prop.get("enum"), str):
                prop["enum"] = [prop["enum"]]
                patched.append((name, prop_name, "enum"))
    # Defect 1 again, in the 409 of POST /webhook_subscriptions.
    hooks = spec["paths"]["/webhook_subscriptions"]
    for prop in refine(hooks["post"]["responses"]["409"]).values():
        if "value" in prop:
            prop["enum"] = [prop.pop("value")]
            patched.append(("webhook 409",))
    assert ("UNAUTHENTICATED", "message", "enum") in patched and len(patched) >= 12, patched
    # Age, not a defect: this copy predates the invitee_no_show.* webhook events (specs/README.md).
    # Added to the three event enums only: a subscription's events, the create body's, a delivery's.
    no_shows = ["invitee_no_show.created", "invitee_no_show.deleted"]
    schemas = spec["components"]["schemas"]
    for enum in (schemas["WebhookSubscription"]["properties"]["events"]["items"]["enum"],
                 hooks["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]["events"]
                 ["items"]["enum"],
                 schemas["WebhookPayload"]["properties"]["event"]["enum"]):
        assert not set(no_shows) & set(enum), enum
        enum += no_shows
    # Not patched: `enum` lists containing null next to `nullable: true` (EventType.pooling_type,
    # RoutingFormSubmission.submitter_type) are how OAS 3.0.3 says "may be null"; the validator
    # accepts null there and rejects other values, which is the intent.
    return spec


def is_uri(value) -> bool:
    if not isinstance(value, str):  # formats only constrain strings (JSON Schema rule)
        return True
    parts = urlparse(value)
    return bool(parts.scheme in ("http", "https") and parts.netloc) and " " not in value


@pytest.fixture(scope="module")
def spec():
    if not SPEC_PATH.exists():
        pytest.skip(f"Calendly OpenAPI description not found at {SPEC_PATH}: "
                    "the repository's sibling shared/ folder is missing")
    return patch_spec(yaml.safe_load(SPEC_PATH.read_text()))


def served_at(spec: dict, url: str) -> OpenAPI:
    # The spec's server is https://api.calendly.com; requests go to the sandbox's address.
    return OpenAPI.from_dict(dict(spec, servers=[{"url": url}]), config=Config(extra_format_validators={"uri": is_uri}))


def checker(openapi: OpenAPI):
    """Assert the status, validate the response against the spec, return the JSON body (None if empty)."""
    def _check(resp: requests.Response, status: int) -> dict | None:
        assert resp.status_code == status, (resp.request.method, resp.request.url, resp.status_code, resp.text[:500])
        openapi.validate_response(RequestsOpenAPIRequest(resp.request), RequestsOpenAPIResponse(resp))
        return resp.json() if resp.content else None
    return _check


@pytest.fixture(scope="module")
def openapi(spec, sandbox):
    return served_at(spec, sandbox.url)


@pytest.fixture(scope="module")
def check(openapi):
    return checker(openapi)


def error_schema(spec, response: str | None = None) -> dict:
    """ErrorResponse, or the error response ``response`` (ErrorResponse plus its narrowing)."""
    base = spec["components"]["schemas"]["ErrorResponse"]
    if response is None:
        return base
    return {"allOf": [base, spec["components"]["responses"][response]["content"]["application/json"]["schema"]["allOf"][1]]}


def walk(check, s, url, params):
    """Every item of a list endpoint, validating each page."""
    items = []
    while url:
        body = check(s.get(url, params=params), 200)
        items += body["collection"]
        url, params = body["pagination"]["next_page"], None
    return items


def served_by_uri(s, sb, uri: str) -> dict:
    return s.get(local(sb, uri)).json()["resource"]


def uuid(uri: str) -> str:
    return uri.rsplit("/", 1)[1]


# ---------------------------------------------------------------------------- users & organization
def test_users(sandbox, account, admin, member, check):
    me = check(admin.get(f"{sandbox.url}/users/me"), 200)["resource"]
    assert me == account.users["owner"]
    assert check(member.get(f"{sandbox.url}/users/me"), 200)["resource"] == account.users["member"]
    for user in account.users.values():
        assert check(admin.get(local(sandbox, user["uri"])), 200)["resource"] == user
    check(admin.get(f"{sandbox.url}/users/00000000-0000-4000-8000-000000000000"), 404)
    check(requests.get(f"{sandbox.url}/users/me"), 401)
    check(session("not-a-token").get(f"{sandbox.url}/users/{uuid(me['uri'])}"), 401)


def test_organization_memberships(sandbox, account, admin, member, check):
    url, org = f"{sandbox.url}/organization_memberships", account.organization_uri
    rows = walk(check, member, url, {"organization": org, "count": 2})
    assert {m["user"]["uri"] for m in rows} == {u["uri"] for u in account.users.values()}
    owner = account.users["owner"]
    assert [m["role"] for m in check(admin.get(url, params={"user": owner["uri"]}), 200)["collection"]] == ["owner"]
    by_email = check(admin.get(url, params={"organization": org, "email": owner["email"].upper()}), 200)
    assert [m["user"]["uri"] for m in by_email["collection"]] == [owner["uri"]]
    check(admin.get(local(sandbox, rows[0]["uri"])), 200)
    check(admin.get(f"{url}/nope"), 404)
    check(admin.get(url), 400)
    check(admin.get(url, params={"organization": org, "count": 0}), 400)
    check(admin.get(url, params={"organization": "https://api.calendly.com/organizations/other"}), 403)
    check(requests.get(url, params={"organization": org}), 401)


def test_organization_invitations(sandbox, account, admin, member, check):
    url = f"{sandbox.url}/organizations/{uuid(account.organization_uri)}/invitations"
    rows = walk(check, admin, url, {"count": 2})
    owner = account.users["owner"]
    assert {i["user"] for i in rows} == {u["uri"] for u in account.users.values()} - {owner["uri"]}
    assert {i["status"] for i in rows} == {"accepted"}
    newest_first = check(admin.get(url, params={"sort": "created_at:desc", "count": 100}), 200)["collection"]
    assert [i["uri"] for i in newest_first] == [i["uri"] for i in reversed(rows)]
    one = rows[0]
    assert [i["uri"] for i in check(admin.get(url, params={"email": one["email"].upper()}), 200)["collection"]] \
        == [one["uri"]]
    assert check(admin.get(url, params={"status": "pending"}), 200)["collection"] == []
    check(admin.get(url, params={"status": "maybe"}), 400)
    check(member.get(url), 403)
    check(admin.get(f"{sandbox.url}/organizations/other/invitations"), 403)
    check(requests.get(url), 401)


# ---------------------------------------------------------------------------- event types
def test_event_types(sandbox, account, admin, member, check):
    url, org = f"{sandbox.url}/event_types", account.organization_uri
    types = walk(check, admin, url, {"organization": org, "count": 3})
    assert len(types) == len(account.truth()["event_types"])
    assert {t["kind_description"] for t in types} == {"One-on-One", "Round Robin", "Collective", "Group"}
    assert [t["name"] for t in check(admin.get(url, params={"organization": org, "active": "false"}), 200)
            ["collection"]] == ["Legacy Consultation"]
    desc = check(admin.get(url, params={"organization": org, "sort": "name:desc", "count": 100}), 200)["collection"]
    assert [t["name"] for t in desc] == sorted((t["name"] for t in types), reverse=True)
    mine = check(member.get(url, params={"user": account.users["member"]["uri"]}), 200)["collection"]
    assert mine and len(mine) < len(types)
    for t in types:
        assert check(admin.get(local(sandbox, t["uri"])), 200)["resource"] == t
    check(admin.get(f"{url}/nope"), 404)
    check(admin.get(url, params={"organization": org, "count": 101}), 400)
    check(admin.get(url, params={"organization": org, "active": "maybe"}), 400)
    check(admin.get(url), 400)
    check(member.get(url, params={"organization": org}), 403)
    check(member.get(url, params={"user": account.users["owner"]["uri"]}), 403)
    check(admin.get(url, params={"organization": org, "user": "https://api.calendly.com/users/stranger"}), 403)
    check(admin.get(url, params={"organization": "https://api.calendly.com/organizations/other"}), 403)
    check(requests.get(url, params={"organization": org}), 401)


# ---------------------------------------------------------------------------- events & invitees
def test_every_event_and_invitee(sandbox, account, admin, check):
    """Walk the whole account through the API, validating every page."""
    events = walk(check, admin, f"{sandbox.url}/scheduled_events",
                  {"organization": account.organization_uri, "count": 100})
    assert len(events) == 300
    invitees = []
    for e in events:
        invitees += walk(check, admin, local(sandbox, e["uri"]) + "/invitees", {"count": 100})
    assert {e["status"] for e in events} == {"active", "canceled"}
    assert any("cancellation" in e for e in events)
    # every kind of invitee the history holds was among what we validated
    kinds = {
        "canceled by invitee": [i for i in invitees if i.get("cancellation", {}).get("canceler_type") == "invitee"],
        "canceled by host": [i for i in invitees if i.get("cancellation", {}).get("canceler_type") == "host"],
        "rescheduled (old)": [i for i in invitees if i["rescheduled"]],
        "rescheduled (new)": [i for i in invitees if i["old_invitee"]],
        "no-show": [i for i in invitees if i["no_show"]],
        "routed": [i for i in invitees if i["routing_form_submission"]],
        "name only": [i for i in invitees if i["first_name"] is None],
    }
    assert all(kinds.values()), {k: len(v) for k, v in kinds.items()}
    for rows in kinds.values():
        check(admin.get(local(sandbox, rows[0]["uri"])), 200)
    check(admin.get(local(sandbox, events[0]["uri"])), 200)
    canceled = next(e for e in events if e["status"] == "canceled")
    assert check(admin.get(local(sandbox, canceled["uri"])), 200)["resource"]["cancellation"]


def test_event_errors(sandbox, account, admin, member, check):
    url, org = f"{sandbox.url}/scheduled_events", account.organization_uri
    for bad in ({"count": 101}, {"count": "ten"}, {"min_start_time": "yesterday"}, {"max_start_time": "2025-13-01T00:00:00Z"},
                {"status": "done"}, {"sort": "created_at:asc"}, {"page_token": "garbage!"}, {"invitee_email": "nobody"}):
        body = check(admin.get(url, params={"organization": org, **bad}), 400)
        assert body["details"][0]["parameter"] == next(iter(bad))
    check(admin.get(url), 400)
    owner, other = account.users["owner"]["uri"], account.users["member"]["uri"]
    assert check(member.get(url, params={"organization": org}), 403)["message"] == "You do not have permission"
    assert check(member.get(url, params={"user": owner}), 403)["message"].startswith("Please also specify organization")
    check(admin.get(url, params={"organization": "https://api.calendly.com/organizations/other"}), 403)
    check(admin.get(url, params={"organization": org, "user": "https://api.calendly.com/users/stranger"}), 403)
    check(member.get(url, params={"user": other}), 200)
    check(requests.get(url, params={"organization": org}), 401)
    check(admin.get(f"{url}/nope"), 404)
    check(admin.get(f"{url}/nope/invitees"), 404)
    # an event the member does not host: the event, its invitees, one invitee
    truth = account.truth()
    foreign = next(e for e in truth["scheduled_events"]
                   if other not in [m["user"] for m in e["event_memberships"]])
    check(member.get(local(sandbox, foreign["uri"])), 403)
    check(member.get(local(sandbox, foreign["uri"]) + "/invitees"), 403)
    inv = next(i for i in truth["invitees"] if i["event"] == foreign["uri"])
    check(member.get(local(sandbox, inv["uri"])), 403)
    check(admin.get(local(sandbox, foreign["uri"]) + "/invitees/nope"), 404)
    check(admin.get(local(sandbox, foreign["uri"]) + "/invitees", params={"count": 0}), 400)
    check(admin.get(local(sandbox, foreign["uri"]) + "/invitees", params={"status": "gone"}), 400)
    check(requests.get(local(sandbox, inv["uri"])), 401)


def test_no_shows(sandbox, account, admin, member, check):
    truth = account.truth()
    hosts = {e["uri"]: [m["user"] for m in e["event_memberships"]] for e in truth["scheduled_events"]}
    shown = [i for i in truth["invitees"] if i["no_show"]]
    body = check(admin.get(local(sandbox, shown[0]["no_show"]["uri"])), 200)["resource"]
    assert body == {"uri": shown[0]["no_show"]["uri"], "invitee": shown[0]["uri"],
                    "created_at": shown[0]["no_show"]["created_at"]}
    not_hosted = next(i for i in shown if account.users["member"]["uri"] not in hosts[i["event"]])
    check(member.get(local(sandbox, not_hosted["no_show"]["uri"])), 403)
    check(admin.get(f"{sandbox.url}/invitee_no_shows/nope"), 404)
    check(requests.get(local(sandbox, shown[0]["no_show"]["uri"])), 401)


# ---------------------------------------------------------------------------- routing forms
def test_routing(sandbox, account, admin, member, check):
    url, org = f"{sandbox.url}/routing_forms", account.organization_uri
    forms = walk(check, admin, url, {"organization": org, "count": 1})
    assert len(forms) == 2
    subs = []
    for f in forms:
        assert check(admin.get(local(sandbox, f["uri"])), 200)["resource"] == f
        subs += walk(check, admin, f"{sandbox.url}/routing_form_submissions", {"form": f["uri"], "count": 100})
    kinds = {}
    for s in subs:
        kinds.setdefault((s["result"]["type"], s["submitter"] is None), s)
    assert set(kinds) >= {("event_type", False), ("event_type", True), ("custom_message", True), ("external_url", True)}
    for s in kinds.values():
        check(admin.get(local(sandbox, s["uri"])), 200)
    sub_url = f"{sandbox.url}/routing_form_submissions"
    check(admin.get(url), 400)
    check(admin.get(url, params={"organization": org, "sort": "name:asc"}), 400)
    check(admin.get(sub_url), 400)
    check(admin.get(sub_url, params={"form": forms[0]["uri"], "count": 500}), 400)
    check(member.get(url, params={"organization": org}), 403)
    check(member.get(local(sandbox, forms[0]["uri"])), 403)
    check(member.get(sub_url, params={"form": forms[0]["uri"]}), 403)
    check(member.get(local(sandbox, subs[0]["uri"])), 403)
    check(admin.get(url, params={"organization": "https://api.calendly.com/organizations/other"}), 403)
    check(admin.get(f"{url}/nope"), 404)
    check(admin.get(sub_url, params={"form": "https://api.calendly.com/routing_forms/nope"}), 404)
    check(admin.get(f"{sub_url}/nope"), 404)
    check(requests.get(url, params={"organization": org}), 401)
    check(requests.get(sub_url, params={"form": forms[0]["uri"]}), 401)


# ---------------------------------------------------------------------------- webhook subscriptions
def test_webhook_subscriptions(spec):
    """Every answer of the four webhook-subscription operations, on a sandbox of its own."""
    account = make_account(seed=13, events=60)
    org, owner = account.organization_uri, account.users["owner"]["uri"]
    me, other = account.users["member"]["uri"], account.users["member2"]["uri"]
    stranger = "https://api.calendly.com/users/00000000-0000-4000-8000-000000000000"
    with CalendlySandbox(account, rate_limit=None) as sb:
        check = checker(served_at(spec, sb.url))
        admin, member, anonymous = session(account.tokens["admin"]), session(account.tokens["member"]), session(None)
        url = f"{sb.url}/webhook_subscriptions"

        def hook(n: int, **kw) -> dict:
            return {"url": f"https://hooks.example.com/{n}", "events": ["invitee.created", "invitee_no_show.deleted"],
                    "organization": org, "scope": "organization", **kw}

        first = check(admin.post(url, json=hook(0, signing_key="secret", events=[
            "invitee.created", "invitee.canceled", "invitee_no_show.created", "invitee_no_show.deleted",
            "routing_form_submission.created"])), 201)["resource"]
        assert first["scope"] == "organization" and first["user"] is None and first["creator"] == owner
        assert first["state"] == "active" and first["retry_started_at"] is None and "signing_key" not in first
        org_hooks = [first] + [check(admin.post(url, json=hook(n)), 201)["resource"] for n in (1, 2, 3)]
        mine = check(member.post(url, json=hook(4, scope="user", user=me)), 201)["resource"]
        assert mine["user"] == mine["creator"] == me
        # the same URL again, for another user
        for_other = check(admin.post(url, json=hook(4, scope="user", user=other)), 201)["resource"]
        # listing: keyset pages, either order, each scope apart
        listed = walk(check, admin, url, {"organization": org, "scope": "organization", "count": 3})
        assert listed == org_hooks
        newest_first = walk(check, admin, url, {"organization": org, "scope": "organization", "sort": "created_at:desc",
                                                "count": 1})
        assert newest_first == org_hooks[::-1]
        assert walk(check, member, url, {"organization": org, "scope": "user", "user": me, "count": 1}) == [mine]
        assert walk(check, admin, url, {"organization": org, "scope": "user", "user": other}) == [for_other]
        assert check(admin.get(local(sb, first["uri"])), 200)["resource"] == first
        assert check(member.get(local(sb, mine["uri"])), 200)["resource"] == mine
        # 400
        for bad in (hook(5, url=None), hook(5, url="ftp://hooks.example.com/x"), hook(5, url="not a url"),
                    hook(5, events=None), hook(5, events=[]), hook(5, events=["invitee.updated"]),
                    hook(5, events=["invitee.created", "invitee.created"]), hook(5, organization=None),
                    hook(5, organization="nope"), hook(5, scope=None), hook(5, scope="team"),
                    hook(5, scope="user"), hook(5, scope="user", user=me, events=["routing_form_submission.created"]),
                    hook(5, signing_key="")):
            expected = next(k for k, v in bad.items() if v != hook(5).get(k, "absent"))
            expected = "user" if bad == hook(5, scope="user") else expected
            body = check(admin.post(url, json={k: v for k, v in bad.items() if v is not None}), 400)
            assert body["details"][0]["parameter"] == expected, (bad, body)
        for raw in (b"{not json", b"[]", b""):
            check(admin.post(url, data=raw, headers={"Content-Type": "application/json"}), 400)
        for params in ({"scope": "organization"}, {"organization": org}, {"organization": org, "scope": "team"},
                       {"organization": org, "scope": "user"},
                       {"organization": org, "scope": "organization", "count": 0},
                       {"organization": org, "scope": "organization", "sort": "name:asc"},
                       {"organization": org, "scope": "organization", "page_token": "garbage!"}):
            check(admin.get(url, params=params), 400)
        # 401
        check(anonymous.post(url, json=hook(6)), 401)
        check(anonymous.get(url, params={"organization": org, "scope": "organization"}), 401)
        check(anonymous.get(local(sb, first["uri"])), 401)
        check(anonymous.delete(local(sb, first["uri"])), 401)
        # 403
        other_org = "https://api.calendly.com/organizations/00000000-0000-4000-8000-000000000000"
        denied = check(member.post(url, json=hook(6)), 403)
        assert denied["message"] == "You do not have permission to access this resource."
        denied = check(member.post(url, json=hook(6, scope="user", user=other)), 403)
        assert denied["message"] == "You do not have permission"
        check(admin.post(url, json=hook(6, organization=other_org)), 403)
        check(admin.post(url, json=hook(6, scope="user", user=stranger)), 403)
        check(member.get(url, params={"organization": org, "scope": "organization"}), 403)
        check(member.get(url, params={"organization": org, "scope": "user", "user": other}), 403)
        check(admin.get(url, params={"organization": org, "scope": "user", "user": stranger}), 403)
        check(admin.get(url, params={"organization": other_org, "scope": "organization"}), 403)
        check(member.get(local(sb, first["uri"])), 403)
        check(member.delete(local(sb, for_other["uri"])), 403)
        # 404 and 409
        check(admin.get(f"{url}/00000000-0000-4000-8000-000000000000"), 404)
        check(admin.delete(f"{url}/00000000-0000-4000-8000-000000000000"), 404)
        conflict = check(admin.post(url, json=hook(0)), 409)
        assert conflict == {"title": "Already Exists", "message": "Hook with this url already exists"}
        check(member.post(url, json=hook(4, scope="user", user=me)), 409)
        # 204: no body at all
        gone = member.delete(local(sb, mine["uri"]))
        assert check(gone, 204) is None and gone.content == b""
        check(admin.get(local(sb, mine["uri"])), 404)
        assert check(admin.delete(local(sb, first["uri"])), 204) is None
        assert walk(check, admin, url, {"organization": org, "scope": "organization"}) == org_hooks[1:]


# ---------------------------------------------------------------------------- after mutations
def test_mutated_resources_still_conform(spec):
    """Events and invitees created or changed by the mutations have the same shapes."""
    account = make_account(seed=11)
    changes = account.apply_random_changes(seed=3)
    account.cancel_invitee(changes["added"][0], canceler_type="host", reason=None)
    added = [account.add_routing_form_submission() for _ in range(8)]
    form = account.truth()["routing_forms"][1]["uri"]
    added.append(account.add_routing_form_submission(form))
    with pytest.raises(KeyError):
        account.add_routing_form_submission(form + "x")
    routed = account.add_routing_form_submission(routed=True)
    booked = account.book_from_submission(routed)
    added.append(routed)
    with pytest.raises(ValueError):
        account.book_from_submission(routed)  # booked once
    unrouted = next(s["uri"] for s in account.truth()["routing_form_submissions"] if s["result"]["type"] != "event_type")
    with pytest.raises(ValueError):
        account.book_from_submission(unrouted)
    switched = next(t for t in account.truth()["event_types"] if t["active"] and t["deleted_at"] is None)
    account.set_event_type_active(switched["uri"], False)
    with pytest.raises(KeyError):
        account.set_event_type_active(switched["uri"] + "x", True)
    with CalendlySandbox(account, rate_limit=None) as sb:
        api = served_at(spec, sb.url)
        s = session(account.tokens["admin"])
        off = checker(api)(s.get(local(sb, switched["uri"])), 200)["resource"]
        assert off["active"] is False and off["updated_at"] > switched["updated_at"]
        listed = [x["uri"] for f in account.truth()["routing_forms"] for x in
                  walk(checker(api), s, f"{sb.url}/routing_form_submissions", {"form": f["uri"], "count": 100})]
        assert set(added) <= set(listed) and len(listed) == len(set(listed))
        assert served_by_uri(s, sb, added[-1])["routing_form"] == form
        for uri in added:
            checker(api)(s.get(local(sb, uri)), 200)
        invitee = checker(api)(s.get(local(sb, booked)), 200)["resource"]
        assert invitee["routing_form_submission"] == routed and served_by_uri(s, sb, routed)["submitter"] == booked
        touched = set(changes["canceled"] + changes["no_shows"] + changes["added"]
                      + [u for pair in changes["rescheduled"] for u in pair])
        assert len(touched) == 20 + 20 + 10 + 30
        for uri in sorted(touched):
            for url in (uri, uri.rsplit("/invitees/", 1)[0], uri.rsplit("/", 1)[0]):
                resp = s.get(local(sb, url))
                assert resp.status_code == 200
                api.validate_response(RequestsOpenAPIRequest(resp.request), RequestsOpenAPIResponse(resp))


# ---------------------------------------------------------------------------- errors the spec does not list
def test_undeclared_statuses(spec, account, check):
    s = session(account.tokens["admin"])
    with CalendlySandbox(account, rate_limit=1, rate_window_seconds=60) as sb:
        s.get(f"{sb.url}/users/me")
        resp = s.get(f"{sb.url}/users/me")
        assert resp.status_code == 429  # the spec lists no 429; Calendly answers with an ErrorResponse
        OAS30Validator(error_schema(spec)).validate(resp.json())
        assert resp.headers["X-RateLimit-Remaining"] == "0"
    with CalendlySandbox(account, rate_limit=None) as sb:
        resp = s.get(f"{sb.url}/no/such/path")  # not in the spec at all
        assert resp.status_code == 404
        OAS30Validator(error_schema(spec, "NOT_FOUND")).validate(resp.json())
        resp = s.post(f"{sb.url}/scheduled_events", json={})
        assert resp.status_code == 405
        OAS30Validator(error_schema(spec)).validate(resp.json())


def test_server_errors(spec, account, openapi):
    """Injected 500s validate as the spec's UNKNOWN response; 502/503 (not in the spec) carry
    the same body."""
    seen = set()
    with CalendlySandbox(account, rate_limit=None, fault_rate=1.0, fault_seed=5) as sb:
        s = session(account.tokens["admin"])
        served = dict(spec, servers=[{"url": sb.url}])
        api = OpenAPI.from_dict(served, config=Config(extra_format_validators={"uri": is_uri}))
        for _ in range(60):
            try:
                resp = s.get(f"{sb.url}/scheduled_events", params={"organization": account.organization_uri})
            except requests.ConnectionError:
                seen.add("reset")
                continue
            seen.add(resp.status_code)
            if resp.status_code == 500:
                api.validate_response(RequestsOpenAPIRequest(resp.request), RequestsOpenAPIResponse(resp))
            else:
                OAS30Validator(error_schema(spec, "UNKNOWN")).validate(resp.json())
    assert seen == {"reset", 500, 502, 503}


# ---------------------------------------------------------------------------- every kind of account
# Each profile (few events, so a case takes a second or two), and shapes that turn every knob:
# null timezones and undocumented fields must stay within what the spec allows.
EVERY_KNOB = Shape(hosts=8, routing_forms=3, utm=False, null_timezones=0.3, deleted_event_types=2,
                   departed_hosts=2, long_answers=True, unknown_fields=True, group_size=(101, 120))
ACCOUNTS = {
    **{name: (profile.shape, min(profile.events, 60)) for name, profile in PROFILES.items()},
    "every knob": (EVERY_KNOB, 80),
    "no churn": (Shape(cancellations="none", no_shows=False, custom_questions=False, routing_forms=1), 40),
    "all canceled": (Shape(cancellations="only", unknown_fields=True, hosts=2), 40),
}


def mutate(account) -> None:
    """A day of changes, so resources made by the mutations are checked too."""
    account.apply_random_changes(seed=2, cancels=3, reschedules=3, no_shows=3, new_bookings=5)
    if account.truth()["routing_forms"]:
        account.add_routing_form_submission()


@pytest.mark.parametrize("name", ACCOUNTS)
def test_every_kind_of_account_conforms(spec, name):
    """Every list page, and every resource by its uri, of each kind of account (mutated)."""
    shape, events = ACCOUNTS[name]
    account = make_account(seed=17, events=events, shape=shape)
    mutate(account)
    truth = account.truth()
    with CalendlySandbox(account, rate_limit=None) as sb:
        check, admin, org = checker(served_at(spec, sb.url)), session(account.tokens["admin"]), account.organization_uri
        check(admin.get(f"{sb.url}/users/me"), 200)
        for user in [*account.users.values(), *account.departed_users]:
            check(admin.get(local(sb, user["uri"])), 200)
        for m in walk(check, admin, f"{sb.url}/organization_memberships", {"organization": org, "count": 3}):
            check(admin.get(local(sb, m["uri"])), 200)
        walk(check, admin, f"{sb.url}/organizations/{uuid(org)}/invitations", {"count": 3})
        listed = walk(check, admin, f"{sb.url}/event_types", {"organization": org, "count": 3})
        assert [t for t in truth["event_types"] if t["deleted_at"] is None] == listed
        for t in truth["event_types"]:  # deleted ones too
            check(admin.get(local(sb, t["uri"])), 200)
        events = walk(check, admin, f"{sb.url}/scheduled_events", {"organization": org, "count": 100})
        assert events == truth["scheduled_events"]
        invitees = []
        for e in events:
            check(admin.get(local(sb, e["uri"])), 200)
            invitees += walk(check, admin, local(sb, e["uri"]) + "/invitees", {"count": 100})
        assert invitees == truth["invitees"]
        for i in invitees[::7]:
            check(admin.get(local(sb, i["uri"])), 200)
        for i in [i for i in invitees if i["no_show"]][:5]:
            check(admin.get(local(sb, i["no_show"]["uri"])), 200)
        forms = walk(check, admin, f"{sb.url}/routing_forms", {"organization": org, "count": 100})
        for f in forms:
            check(admin.get(local(sb, f["uri"])), 200)
            for s in walk(check, admin, f"{sb.url}/routing_form_submissions", {"form": f["uri"], "count": 100})[::5]:
                check(admin.get(local(sb, s["uri"])), 200)
        if "member" in account.tokens:  # what a plain member may see of their own
            member, me = session(account.tokens["member"]), account.users["member"]["uri"]
            walk(check, member, f"{sb.url}/event_types", {"user": me, "count": 100})
            walk(check, member, f"{sb.url}/scheduled_events", {"user": me, "count": 100})


def test_retrying_and_disabled_subscriptions_conform(spec):
    """`state` and `retry_started_at` as the spec has them, on the list and on the single resource."""
    account = make_account(seed=14, events=60)
    org = account.organization_uri
    with CalendlySandbox(account, rate_limit=None, webhook_retry_delays=(30,)) as sb:
        check = checker(served_at(spec, sb.url))
        admin = session(account.tokens["admin"])
        url = f"{sb.url}/webhook_subscriptions"

        def hook(n: int) -> dict:
            return check(admin.post(url, json={"url": f"http://127.0.0.1:9/{n}", "events": ["invitee.canceled"],
                                               "organization": org, "scope": "organization"}), 201)["resource"]
        retrying, disabled, known = hook(0), hook(1), hook(2)  # port 9: refused, so retried
        sb.webhooks.disable(uuid(disabled["uri"]))
        sb.webhooks.disable(uuid(known["uri"]), retry_started_at="2025-06-01T08:00:00.000000Z")
        account.cancel_invitee(next(i["uri"] for i in account.truth()["invitees"] if i["status"] == "active"))
        deadline = time.monotonic() + 5
        while served_by_uri(admin, sb, retrying["uri"])["retry_started_at"] is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        served = {s["uri"]: s for s in walk(check, admin, url, {"organization": org, "scope": "organization"})}
        for s in served.values():
            assert check(admin.get(local(sb, s["uri"])), 200)["resource"] == s
    assert (served[retrying["uri"]]["state"], served[disabled["uri"]]["state"]) == ("active", "disabled")
    assert served[retrying["uri"]]["retry_started_at"] > retrying["created_at"]
    assert served[disabled["uri"]]["retry_started_at"] is None
    assert served[known["uri"]]["retry_started_at"] == "2025-06-01T08:00:00.000000Z"
