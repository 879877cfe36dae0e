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

from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_schema_validator import OAS30Validator

from pipelines.sandbox.calendly import CalendlySandbox

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
    # Defect 1 again, in the 409 of POST /webhook_subscriptions (not served; the spec must load).
    for prop in refine(spec["paths"]["/webhook_subscriptions"]["post"]["responses"]["409"]).values():
        if "value" in prop:
            prop["enum"] = [prop.pop("value")]
            patched.append(("webhook 409",))
    assert ("UNAUTHENTICATED", "message", "enum") in patched and len(patched) >= 12, patched
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


@pytest.fixture(scope="module")
def openapi(spec, sandbox):
    # The spec's server is https://api.calendly.com; requests go to the sandbox's address.
    served = dict(spec, servers=[{"url": sandbox.url}])
    return OpenAPI.from_dict(served, config=Config(extra_format_validators={"uri": is_uri}))


@pytest.fixture(scope="module")
def check(openapi):
    """Assert the status, validate the response against the spec, return the JSON body."""
    def _check(resp: requests.Response, status: int) -> dict:
        assert resp.status_code == status, (resp.request.url, resp.status_code, resp.text[:500])
        openapi.validate_response(RequestsOpenAPIRequest(resp.request), RequestsOpenAPIResponse(resp))
        return resp.json()
    return _check


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


# ---------------------------------------------------------------------------- after mutations
def test_mutated_resources_still_conform(spec, check):
    """Events and invitees created or changed by the mutations have the same shapes."""
    account = make_account(seed=11)
    changes = account.apply_random_changes(seed=3)
    account.cancel_invitee(changes["added"][0], canceler_type="host", reason=None)
    with CalendlySandbox(account, rate_limit=None) as sb:
        served = dict(spec, servers=[{"url": sb.url}])
        api = OpenAPI.from_dict(served, config=Config(extra_format_validators={"uri": is_uri}))
        s = session(account.tokens["admin"])
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
