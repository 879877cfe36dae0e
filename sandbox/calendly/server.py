"""The HTTP face of the sandbox: Calendly API v2's routes, parameters, scope rules, keyset
pagination, errors, rate limiting and injected faults, over the standard library's
``ThreadingHTTPServer``.

The :class:`Api` part maps (caller, method, path, query, body) to (status, JSON body) and knows
nothing of sockets; :class:`CalendlySandbox` runs it over HTTP/1.1 keep-alive, keeps statistics,
and runs the webhook deliveries (:mod:`.webhooks`).
"""

from __future__ import annotations

import base64
import json
import re
import sys
import time
import traceback
from bisect import bisect_left
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlencode, urlsplit

from . import generate as g
from .account import CalendlyAccount, keyset_page
from .oauth import ROUTE_NAMES as OAUTH_ROUTE_NAMES, ROUTES as OAUTH_ROUTES, SandboxOAuth
from .webhooks import (DEFAULT_DISABLE_AFTER, DEFAULT_RETRY_DELAYS, EVENTS as WEBHOOK_EVENTS, INVITEE_EVENTS,
                       WebhookHub)
from ..faults import RESET, FaultInjector
from ..http import JsonHandler, Sandbox
from ..ratelimit import FixedWindowLimiter

UNAUTHENTICATED = {"title": "Unauthenticated", "message": "The access token is invalid"}
EXPIRED = {"title": "Unauthenticated", "message": "The access token expired"}
UNKNOWN = {"title": "Internal Server Error",
           "message": "The server encountered an unexpected condition that prevented it from fulfilling the request."}
TOO_MANY = {"title": "Too Many Requests",
            "message": "You have exceeded the rate limit. Please wait for the limit to reset."}
NO_ACCESS = "You do not have permission to access this resource."
NO_ROLE = "You do not have permission"
NOT_IN_ORG = "This user is not in your organization"
OTHER_USER = "Please also specify organization when requesting events for a user within your organization."
NOT_YOUR_EVENT = "You are not allowed to view this event"
HOOK_EXISTS = {"title": "Already Exists", "message": "Hook with this url already exists"}
# 403 messages of the webhook endpoints, as the spec lists them: (other organization, organization
# scope without an admin role, user outside the organization, someone else's user scope)
CREATE_HOOK_DENIALS = (NO_ACCESS, NO_ACCESS, NO_ACCESS, NO_ROLE)
LIST_HOOK_DENIALS = (NO_ROLE, NO_ACCESS, "Unauthorized", "Unauthorized")
STATUS_BY_METHOD = {"POST": 201, "DELETE": 204}
STATUS_BY_ROUTE = {("POST", "data_compliance_deletion_invitees"): 202}  # accepted, carried out later
# the 403 examples of POST /data_compliance/deletion/invitees in the spec
NOT_ENTERPRISE = "Please upgrade your Calendly account to Enterprise."
NO_DATA_REQUESTS = ("You must be an admin/owner with the data requests permission enabled to use this resource. "
                    "Contact Calendly support and ask them to grant you data requests permission.")
ADMIN_ROLES = ("owner", "admin")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


KNOB_HEADER = "x-sandbox-knob"  # an answer a knob made off this spec copy on purpose


class ApiError(Exception):
    def __init__(self, status: int, title: str, message: str, details: list | None = None,
                 knob: str | None = None):
        super().__init__(message)
        self.status = status
        self.knob = knob  # the shape knob that made this answer off-spec (sent as KNOB_HEADER)
        self.body = {"title": title, "message": message}
        if details:
            self.body["details"] = details


def invalid(parameter: str, message: str) -> ApiError:
    return ApiError(400, "Invalid Argument", "The supplied parameters are invalid.",
                    [{"parameter": parameter, "message": message}])


def denied(message: str = NO_ACCESS) -> ApiError:
    return ApiError(403, "Permission Denied", message)


def not_found() -> ApiError:
    return ApiError(404, "Resource Not Found", "The server could not find the requested resource.")


def _uuid_of(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


class Request:
    """What a handler needs to know about one call."""

    def __init__(self, caller: dict, role: str, path: str, pairs: list, origin: str, body: bytes | None = None):
        self.caller, self.role, self.path, self.pairs, self.origin = caller, role, path, pairs, origin
        self.q = dict(pairs)
        self.body = body

    @property
    def admin(self) -> bool:
        return self.role in ADMIN_ROLES

    def json(self) -> dict:
        """The body as a JSON object, else a 400."""
        try:
            value = json.loads(self.body or b"")
        except ValueError:  # also UnicodeDecodeError
            value = None
        if not isinstance(value, dict):
            raise invalid("body", "must be a JSON object")
        return value


class Api:
    """Calendly's endpoints over a :class:`CalendlyAccount` and its webhook subscriptions.
    Call with the account lock held."""

    ROUTES = [(re.compile(p), name) for p, name in (
        (r"^/users/me$", "users_me"),
        (r"^/users/([^/]+)$", "user"),
        (r"^/event_types$", "event_types"),
        (r"^/event_types/([^/]+)$", "event_type"),
        (r"^/scheduled_events$", "scheduled_events"),
        (r"^/scheduled_events/([^/]+)$", "scheduled_event"),
        (r"^/scheduled_events/([^/]+)/invitees$", "invitees"),
        (r"^/scheduled_events/([^/]+)/invitees/([^/]+)$", "invitee"),
        (r"^/organization_memberships$", "organization_memberships"),
        (r"^/organization_memberships/([^/]+)$", "organization_membership"),
        (r"^/organizations/([^/]+)/invitations$", "organization_invitations"),
        (r"^/routing_forms$", "routing_forms"),
        (r"^/routing_forms/([^/]+)$", "routing_form"),
        (r"^/routing_form_submissions$", "routing_form_submissions"),
        (r"^/routing_form_submissions/([^/]+)$", "routing_form_submission"),
        (r"^/invitee_no_shows/([^/]+)$", "invitee_no_show"),
        (r"^/webhook_subscriptions$", "webhook_subscriptions"),
        (r"^/webhook_subscriptions/([^/]+)$", "webhook_subscription"),
        (r"^/scheduling_links$", "scheduling_links"),
        (r"^/data_compliance/deletion/invitees$", "data_compliance_deletion_invitees"),
    )]
    ROUTE_NAMES = [name for _, name in ROUTES]

    def __init__(self, account: CalendlyAccount, hooks: WebhookHub):
        self.a = account
        self.hooks = hooks
        self.base = account.base_uri

    def route(self, path: str) -> tuple:
        """(route name, path arguments); ("unknown", ()) when nothing matches."""
        for pattern, name in self.ROUTES:
            m = pattern.match(path)
            if m:
                return name, m.groups()
        return "unknown", ()

    def call(self, name: str, args: tuple, req: Request, method: str = "GET") -> tuple:
        """(status, body); body None: no content. Handlers are named <method>_<route>."""
        if name == "unknown":
            raise not_found()
        handler = getattr(self, f"{method.lower()}_{name}", None)
        if handler is None:
            raise ApiError(405, "Method Not Allowed", f"{method} is not supported on this path by the sandbox.")
        status = STATUS_BY_ROUTE.get((method, name)) or STATUS_BY_METHOD.get(method, 200)
        return status, handler(req, *args)

    # ------------------------------------------------------------------ parameters
    def _count(self, req) -> int:
        raw = req.q.get("count")
        if raw is None:
            return 20
        try:
            n = int(raw)
        except ValueError:
            raise invalid("count", "must be an integer") from None
        if not 1 <= n <= 100:
            raise invalid("count", "must be between 1 and 100")
        return n

    def _desc(self, req, field: str) -> bool:
        raw = req.q.get("sort")
        if raw is None or raw in (field, f"{field}:asc"):
            return False
        if raw == f"{field}:desc":
            return True
        raise invalid("sort", f"must be {field}:asc or {field}:desc")

    @staticmethod
    def _cursor(req):
        raw = req.q.get("page_token")
        if raw is None:
            return None
        try:
            d, key = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
            if d not in ("a", "b") or not isinstance(key, list) or not all(isinstance(k, str) for k in key):
                raise ValueError
        except ValueError:  # also binascii.Error and JSON errors, both ValueError subclasses
            raise invalid("page_token", "is invalid") from None
        return ("after" if d == "a" else "before", tuple(key))

    @staticmethod
    def _token(direction: str, key: tuple) -> str:
        return base64.urlsafe_b64encode(json.dumps([direction, list(key)]).encode()).decode().rstrip("=")

    @staticmethod
    def _enum(req, name: str, allowed: tuple):
        raw = req.q.get(name)
        if raw is not None and raw not in allowed:
            raise invalid(name, f"must be one of {', '.join(allowed)}")
        return raw

    @staticmethod
    def _bool(req, name: str):
        raw = req.q.get(name)
        if raw is None:
            return None
        if raw.lower() not in ("true", "false"):
            raise invalid(name, "must be true or false")
        return raw.lower() == "true"

    @staticmethod
    def _email(req, name: str):
        raw = req.q.get(name)
        if raw is not None and not EMAIL.match(raw):
            raise invalid(name, "must be a valid email")
        return raw

    @staticmethod
    def _time(req, name: str):
        raw = req.q.get(name)
        if raw is None:
            return None
        try:  # a "+" left unencoded in the query arrives as a space
            dt = datetime.fromisoformat(raw.strip().replace(" ", "+").replace("Z", "+00:00"))
        except ValueError:
            raise invalid(name, "must be a valid ISO 8601 timestamp") from None
        if dt.tzinfo is not None:
            dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
        return g.ts(dt)

    def _uri(self, req, name: str, kind: str, required: bool = False):
        return self._valid_uri(req.q.get(name) or None, name, kind, required)

    def _valid_uri(self, raw, name: str, kind: str, required: bool = False):
        if raw is None:
            if required:
                raise invalid(name, "is required")
            return None
        if not isinstance(raw, str) or not raw.startswith(f"{self.base}/{kind}/") \
                or len(raw) == len(self.base) + len(kind) + 2:
            raise invalid(name, "must be a valid URI")
        return raw

    def _page(self, req, keys, get, *, desc, pred=None, lo=0, hi=None) -> dict:
        count, cursor = self._count(req), self._cursor(req)
        try:
            got, has_prev, has_next = keyset_page(keys, get, desc=desc, cursor=cursor, count=count,
                                                  pred=pred, lo=lo, hi=hi)
        except TypeError:  # a token minted by another list
            raise invalid("page_token", "is invalid") from None
        nxt = self._token("a", got[-1][0]) if has_next else None
        prv = self._token("b", got[0][0]) if has_prev else None
        return {"collection": [item for _, item in got],
                "pagination": {"count": len(got), "next_page": self._link(req, nxt),
                               "previous_page": self._link(req, prv),
                               "next_page_token": nxt, "previous_page_token": prv}}

    @staticmethod
    def _link(req, token):
        """Full URL of another page: same host as the request, same query, new page_token."""
        if token is None:
            return None
        pairs = [(k, v) for k, v in req.pairs if k != "page_token"] + [("page_token", token)]
        return f"{req.origin}{req.path}?{urlencode(pairs)}"

    def _scope(self, req, other_user_message: str):
        """Calendly's organization/user rules. Returns a user uri to restrict to, or None."""
        org = self._uri(req, "organization", "organizations")
        user = self._uri(req, "user", "users")
        if org is None and user is None:
            raise invalid("organization", "organization or user is required")
        if org is not None:
            if org != self.a.organization_uri:
                raise denied(NO_ACCESS)
            if not req.admin:
                raise denied(NO_ROLE)
            if user is not None and self.a.role_of(user) is None:
                raise denied(NOT_IN_ORG)
            return user
        if user == req.caller["uri"]:
            return user
        raise denied(other_user_message if self.a.role_of(user) else NOT_IN_ORG)

    def _may_view_event(self, req, event: dict) -> bool:
        return req.admin or req.caller["uri"] in self.a.event_hosts(event)

    # ------------------------------------------------------------------ users & organization
    def get_users_me(self, req):
        return {"resource": req.caller}

    def get_user(self, req, uuid):
        user = req.caller if uuid == "me" else self.a.user(uuid)
        if user is None:
            raise not_found()
        return {"resource": user}

    def get_organization_memberships(self, req):
        self._count(req), self._cursor(req)
        email = self._email(req, "email")
        org = self._uri(req, "organization", "organizations")
        user = self._uri(req, "user", "users")
        if org is None and user is None:
            raise invalid("organization", "organization or user is required")
        if org is not None and org != self.a.organization_uri:
            raise denied(NO_ACCESS)
        if user is not None and self.a.role_of(user) is None:
            raise denied(NOT_IN_ORG)
        email = email and email.lower()

        def pred(m):
            return (user is None or m["user"]["uri"] == user) and (email is None or m["user"]["email"].lower() == email)
        return self._page(req, self.a.membership_keys(), lambda k: self.a.membership(k[1]), desc=False, pred=pred)

    def get_organization_membership(self, req, uuid):
        m = self.a.membership(uuid)
        if m is None:
            raise not_found()
        return {"resource": m}

    def get_organization_invitations(self, req, uuid):
        """Every member but the owner joined through an invitation they accepted (the sandbox keeps
        no pending or declined ones): one per membership, from the membership's own dates."""
        self._count(req), self._cursor(req)
        if f"{self.base}/organizations/{uuid}" != self.a.organization_uri or not req.admin:
            raise denied(NO_ACCESS)  # the only message the spec allows on this 403
        desc = self._desc(req, "created_at")
        email = self._email(req, "email")
        status = self._enum(req, "status", ("pending", "accepted", "declined"))
        org = self.a.organization_uri

        def invitation(key):
            m = self.a.membership(key[1])
            return {"uri": f"{org}/invitations/{key[1]}", "organization": org, "email": m["user"]["email"],
                    "status": "accepted", "created_at": m["created_at"], "updated_at": m["created_at"],
                    "last_sent_at": m["created_at"], "user": m["user"]["uri"]}

        def pred(i):
            owner = self.a.membership(_uuid_of(i["uri"]))["role"] == "owner"
            return not owner and status in (None, "accepted") and (email is None or i["email"].lower() == email.lower())
        return self._page(req, self.a.membership_keys(), invitation, desc=desc, pred=pred)

    # ------------------------------------------------------------------ event types
    def get_event_types(self, req):
        desc = self._desc(req, "name")
        self._count(req), self._cursor(req)
        active, managed = self._bool(req, "active"), self._bool(req, "admin_managed")
        # a member may list only their own types (the spec has no "also specify" message here)
        user = self._scope(req, NO_ROLE)

        def pred(t):  # a deleted type is still served by its uri, but no longer listed
            return (t["deleted_at"] is None
                    and (active is None or t["active"] == active) and (managed is None or t["admin_managed"] == managed)
                    and (user is None or user in self.a.event_type_hosts(_uuid_of(t["uri"]))))
        return self._page(req, self.a.event_type_keys(), lambda k: self.a.event_type(k[1]), desc=desc, pred=pred)

    def get_event_type(self, req, uuid):
        t = self.a.event_type(uuid)
        if t is None:
            raise not_found()
        return {"resource": t}

    # ------------------------------------------------------------------ scheduled events
    def get_scheduled_events(self, req):
        desc = self._desc(req, "start_time")
        self._count(req), self._cursor(req)
        status = self._enum(req, "status", ("active", "canceled"))
        lo_s, hi_s = self._time(req, "min_start_time"), self._time(req, "max_start_time")
        email = self._email(req, "invitee_email")
        user = self._scope(req, OTHER_USER)
        keys = self.a.event_keys() if email is None else self.a.event_keys_for_email(email)
        lo = bisect_left(keys, (lo_s,)) if lo_s else 0  # min_start_time is inclusive
        hi = bisect_left(keys, (hi_s,)) if hi_s else len(keys)  # max_start_time is exclusive
        def pred(e):
            return ((status is None or e["status"] == status)
                    and (user is None or any(m["user"] == user for m in e["event_memberships"])))
        return self._page(req, keys, lambda k: self.a.event(k[1]), desc=desc,
                          pred=pred if status or user else None, lo=lo, hi=max(lo, hi))

    def get_scheduled_event(self, req, uuid):
        event = self.a.event(uuid)
        if event is None:
            raise not_found()
        if not self._may_view_event(req, event):
            raise denied(NOT_YOUR_EVENT)
        return {"resource": event}

    def get_invitees(self, req, uuid):
        desc = self._desc(req, "created_at")
        self._count(req), self._cursor(req)
        status = self._enum(req, "status", ("active", "canceled"))
        email = self._email(req, "email")
        event = self.a.event(uuid)
        if event is None:
            raise not_found()
        if not self._may_view_event(req, event):
            raise denied(NOT_YOUR_EVENT)
        rows = {_uuid_of(i["uri"]): i for i in self.a.invitees_of(uuid)}
        keys = sorted((i["created_at"], u) for u, i in rows.items())
        email = email and email.lower()

        def pred(i):
            return (status is None or i["status"] == status) and (email is None or i["email"].lower() == email)
        return self._page(req, keys, lambda k: rows[k[1]], desc=desc, pred=pred)

    def get_invitee(self, req, event_uuid, invitee_uuid):
        event, found = self.a.event(event_uuid), self.a.invitee(invitee_uuid)
        if event is None or found is None or found[0] != event_uuid:
            raise not_found()
        if not self._may_view_event(req, event):
            raise denied("You do not have permission to view this event")
        return {"resource": found[1]}

    def get_invitee_no_show(self, req, uuid):
        ns = self.a.no_show(uuid)
        if ns is None:
            raise not_found()
        event = self.a.event(self.a.invitee(_uuid_of(ns["invitee"]))[0])
        if not self._may_view_event(req, event):
            raise denied()
        return {"resource": ns}

    # ------------------------------------------------------------------ routing forms (admins only)
    def get_routing_forms(self, req):
        desc = self._desc(req, "created_at")
        self._count(req), self._cursor(req)
        org = self._uri(req, "organization", "organizations", required=True)
        if not self.a.shape.routing_forms_on_plan:
            raise denied("Routing forms are not available on your plan.")
        if not req.admin or org != self.a.organization_uri:
            raise denied()
        return self._page(req, self.a.form_keys(), lambda k: self.a.form(k[1]), desc=desc)

    def get_routing_form(self, req, uuid):
        form = self.a.form(uuid)
        if form is None:
            raise not_found()
        if not req.admin:
            raise denied()
        return {"resource": form}

    def get_routing_form_submissions(self, req):
        desc = self._desc(req, "created_at")
        self._count(req), self._cursor(req)
        form = self._uri(req, "form", "routing_forms", required=True)
        if not req.admin:
            raise denied()
        if self.a.form(_uuid_of(form)) is None:
            raise not_found()
        return self._page(req, self.a.submission_keys(), lambda k: self.a.submission(k[1]), desc=desc,
                          pred=lambda s: s["routing_form"] == form)

    def get_routing_form_submission(self, req, uuid):
        sub = self.a.submission(uuid)
        if sub is None:
            raise not_found()
        if not req.admin:
            raise denied()
        return {"resource": sub}

    # ------------------------------------------------------------------ scheduling links
    def post_scheduling_links(self, req):
        if self.a.lacks_scope(req.caller["uri"], "scheduling_links:write"):
            raise denied()
        body = req.json()
        count = body.get("max_event_count")
        if count is None:
            raise invalid("max_event_count", "is required")
        # the spec's enum is [1] (a JSON number: 1.0 is 1); a boolean is not a number
        if isinstance(count, bool) or not isinstance(count, (int, float)) or count != 1:
            raise invalid("max_event_count", "must be 1")
        owner = self._valid_uri(body.get("owner"), "owner", "event_types", required=True)
        owner_type = body.get("owner_type")
        if owner_type is None:
            raise invalid("owner_type", "is required")
        if owner_type != "EventType":
            raise invalid("owner_type", "must be EventType")
        t = self.a.event_type(_uuid_of(owner))
        if t is None or t["uri"] != owner or t["deleted_at"] is not None:
            raise not_found()  # a deleted type is still readable, but nothing can be booked on it
        # owners and admins link any type of the organization; a member only the types they host
        if not req.admin and req.caller["uri"] not in self.a.event_type_hosts(_uuid_of(owner)):
            raise denied(NO_ACCESS)
        if not t["active"]:  # switched off: its booking page takes no bookings, a link could not either
            raise invalid("owner", "event type is inactive")
        return {"resource": self.a.create_scheduling_link(owner, creator=req.caller["uri"])}

    # ------------------------------------------------------------------ data compliance
    def post_data_compliance_deletion_invitees(self, req):
        if not self.a.shape.data_deletion_on_plan:
            status = self.a.shape.data_deletion_refusal  # 400 and 404 carry other titles in this spec copy
            raise ApiError(status, "Permission Denied", NOT_ENTERPRISE,
                           knob=None if status == 403 else "data_deletion_refusal")
        if not req.admin:
            raise denied(NO_DATA_REQUESTS)
        body = req.json()
        emails = body.get("emails")
        if emails is None:
            raise invalid("emails", "is required")
        if not isinstance(emails, list) or not emails:
            raise invalid("emails", "must be a non-empty list")
        if not all(isinstance(e, str) and EMAIL.match(e) for e in emails):
            raise invalid("emails", "must be valid emails")
        # 202 whatever the emails match: the answer says nothing of who was an invitee
        self.a.request_invitee_deletion(emails, requested_by=req.caller["uri"])
        return {}

    # ------------------------------------------------------------------ webhook subscriptions
    def _hook_access(self, req, org: str, scope: str, user: str | None, denials: tuple) -> None:
        """Organization scope: owners and admins; user scope: that user, or an owner or admin."""
        other_org, not_admin, stranger, other_user = denials
        if org != self.a.organization_uri:
            raise denied(other_org)
        if scope == "organization":
            if not req.admin:
                raise denied(not_admin)
        elif self.a.role_of(user) is None:
            raise denied(stranger)
        elif user != req.caller["uri"] and not req.admin:
            raise denied(other_user)

    def post_webhook_subscriptions(self, req):
        body = req.json()
        url = body.get("url")
        if url is None:
            raise invalid("url", "is required")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
            raise invalid("url", "must be an http or https URL")
        events = body.get("events")
        if events is None:
            raise invalid("events", "is required")
        if not isinstance(events, list) or not events:
            raise invalid("events", "must be a non-empty list")
        unknown = [e for e in events if e not in WEBHOOK_EVENTS]
        if unknown:
            raise invalid("events", f"{unknown[0]!r} is not one of {', '.join(WEBHOOK_EVENTS)}")
        if len(set(events)) != len(events):
            raise invalid("events", "must not repeat an event")
        org = self._valid_uri(body.get("organization"), "organization", "organizations", required=True)
        scope = body.get("scope")
        if scope is None:
            raise invalid("scope", "is required")
        if scope not in ("organization", "user"):
            raise invalid("scope", "must be one of organization, user")
        key = body.get("signing_key")
        if key is not None and (not isinstance(key, str) or not key):
            raise invalid("signing_key", "must be a non-empty string")
        user = None
        if scope == "user":
            user = self._valid_uri(body.get("user"), "user", "users", required=True)
            if not set(events) <= set(INVITEE_EVENTS):
                raise invalid("events", "routing_form_submission.created needs the organization scope")
        self._hook_access(req, org, scope, user, CREATE_HOOK_DENIALS)
        if self.hooks.find(url, scope, user) is not None:
            raise ApiError(409, HOOK_EXISTS["title"], HOOK_EXISTS["message"])
        return {"resource": self.hooks.add(url=url, events=events, scope=scope, organization=org, user=user,
                                           creator=req.caller["uri"], signing_key=key)}

    def get_webhook_subscriptions(self, req):
        desc = self._desc(req, "created_at")
        self._count(req), self._cursor(req)
        org = self._uri(req, "organization", "organizations", required=True)
        if req.q.get("scope") is None:
            raise invalid("scope", "is required")
        scope = self._enum(req, "scope", ("organization", "user"))
        user = self._uri(req, "user", "users", required=True) if scope == "user" else None
        self._hook_access(req, org, scope, user, LIST_HOOK_DENIALS)

        def pred(s):
            return s is not None and s["scope"] == scope and (user is None or s["user"] == user)
        return self._page(req, self.hooks.keys(), lambda k: self.hooks.get(k[1]), desc=desc, pred=pred)

    def _visible_hook(self, req, uuid) -> dict:
        sub = self.hooks.get(uuid)
        if sub is None:
            raise not_found()
        if not req.admin and sub["user"] != req.caller["uri"]:
            raise denied()
        return sub

    def get_webhook_subscription(self, req, uuid):
        return {"resource": self._visible_hook(req, uuid)}

    def delete_webhook_subscription(self, req, uuid):
        self._visible_hook(req, uuid)
        self.hooks.remove(uuid)
        return None


# ---------------------------------------------------------------------- HTTP
_KEEP = object()


class CalendlySandbox(Sandbox):
    """Serve ``account`` as the Calendly API on ``host:port`` (0 = any free port).

    ``rate_limit`` requests per token per ``rate_window_seconds`` (None/0 = unlimited);
    ``fault_rate`` of requests fail (half 500/502/503, half connection resets) from an RNG
    seeded by ``fault_seed``; ``latency_ms`` is added before every answer.
    ``oauth`` serves /oauth/authorize and /oauth/token on the same port (Calendly's are on
    auth.calendly.com) and its access tokens on the API; default: one public client,
    ``SANDBOX_CLIENT_ID``, consenting as the owner.
    ``webhooks`` (a :class:`WebhookHub`) holds the webhook subscriptions and delivers to them while
    the sandbox runs; ``webhook_retry_delays``, ``webhook_timeout`` and ``webhook_disable_after``
    (seconds of failing before a subscription is disabled; Calendly's 24 hours by default) configure
    the default one, and ``webhooks.disable(uuid)`` disables one directly.
    ``stats()`` counts ``webhook_deliveries`` (attempts answered 2xx) and ``webhook_failures``.
    ``links_origin``: the origin of the ``pagination.next_page`` links (default: the request's own);
    ``"https://api.calendly.com"`` serves them as Calendly does to a client behind a proxy or gateway.
    """

    name, product = "calendly-sandbox", "CalendlySandbox/1.0"
    route_names = Api.ROUTE_NAMES + OAUTH_ROUTE_NAMES
    counter_names = ("webhook_deliveries", "webhook_failures")

    def __init__(self, account: CalendlyAccount, host: str = "127.0.0.1", port: int = 0,
                 rate_limit: int | None = 500, rate_window_seconds: float = 60, fault_rate: float = 0.0,
                 fault_seed: int = 0, latency_ms: float = 0, oauth: SandboxOAuth | None = None,
                 webhook_retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS, webhook_timeout: float = 10.0,
                 webhook_disable_after: float = DEFAULT_DISABLE_AFTER, links_origin: str | None = None):
        self.account = account
        self._links_origin = links_origin
        self.oauth = oauth or SandboxOAuth(account)
        self.webhooks = WebhookHub(account, retry_delays=webhook_retry_delays, timeout=webhook_timeout,
                                   disable_after=webhook_disable_after, on_attempt=self._count_delivery)
        self._rate = (rate_limit, rate_window_seconds)
        self._limiter = FixedWindowLimiter(rate_limit, rate_window_seconds)
        self._faults = FaultInjector(fault_rate, fault_seed)
        self._latency_ms = latency_ms
        self._rate_limit_headers = True
        self._api = Api(account, self.webhooks)
        self._init_sandbox(host, port)

    def _started(self) -> None:
        self.webhooks.start()

    def _stopped(self) -> None:
        self.webhooks.stop()

    def _count_delivery(self, ok: bool) -> None:
        self._count("webhook_deliveries" if ok else "webhook_failures", 1)

    def configure(self, rate_limit=_KEEP, rate_window_seconds=_KEEP, fault_rate=_KEEP, latency_ms=_KEEP,
                  rate_limit_headers=_KEEP) -> None:
        """Change any subset live. A new rate limit or window starts every token afresh.
        ``rate_limit_headers=False``: answers carry no X-RateLimit-* headers (the limit still applies)."""
        if rate_limit_headers is not _KEEP:
            self._rate_limit_headers = bool(rate_limit_headers)
        if rate_limit is not _KEEP or rate_window_seconds is not _KEEP:
            limit = self._rate[0] if rate_limit is _KEEP else rate_limit
            window = self._rate[1] if rate_window_seconds is _KEEP else rate_window_seconds
            self._rate = (limit, window)
            self._limiter = FixedWindowLimiter(limit, window)
        if fault_rate is not _KEEP:
            self._faults.rate = fault_rate
        if latency_ms is not _KEEP:
            self._latency_ms = latency_ms

    # ------------------------------------------------------------------ one request
    def _serve_one(self, h: JsonHandler) -> None:
        split = urlsplit(h.path)
        path, pairs = split.path, parse_qsl(split.query, keep_blank_values=True)
        # the body: the token endpoint reads it; elsewhere reading it keeps the connection usable
        request_body = h.read_body() if h.command != "GET" else None
        oauth_route = OAUTH_ROUTES.get(path)
        route, args = (oauth_route, ()) if oauth_route else self._api.route(path)
        fault = self._faults.draw()  # drawn first, for every request, so a seed replays exactly
        if self._latency_ms:
            time.sleep(self._latency_ms / 1000)
        if oauth_route:  # the authorization server: no bearer token, and not the API's rate limit
            self._serve_oauth(h, path, route, dict(pairs), request_body, fault)
            return
        auth = h.headers.get("Authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        verdict = self._limiter.hit(token or "-anonymous-")
        query = dict(pairs)
        # Each request is recorded before it is answered, so a client that has its answer
        # (or its reset) always finds it in stats() and request_log, in order.
        if fault == RESET:
            self._record(h.command, path, route, query, None)
            h.reset()
            return
        payload, knob = None, None
        if fault is not None:
            status, body = fault, UNKNOWN
        elif not verdict.allowed:
            status, body = 429, TOO_MANY
        else:
            caller, expired = self._caller(token)
            if caller is None:
                status, body = 401, EXPIRED if expired else UNAUTHENTICATED
            else:
                host = h.headers.get("Host") or f"{self.url.split('//', 1)[1]}"
                req = Request(caller, self.account.role_of(caller["uri"]), path, pairs,
                              self._links_origin or f"http://{host}",
                              request_body)
                try:
                    with self.account.lock:  # serialise while the live resources can't change
                        status, body = self._api.call(route, args, req, h.command)
                        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
                except ApiError as e:
                    status, body, knob = e.status, e.body, e.knob
                except Exception:  # a sandbox bug: answer like Calendly would, and say why
                    traceback.print_exc(file=sys.stderr)
                    status, body = 500, UNKNOWN
        if payload is None:
            payload = json.dumps(body, separators=(",", ":")).encode()
        self._record(h.command, path, route, query, status)
        headers = verdict.headers() if self._rate_limit_headers else {}
        h.send_json(status, payload, {**headers, KNOB_HEADER: knob} if knob else headers)

    def _caller(self, token: str | None) -> tuple[dict | None, bool]:
        """(user, False) for a personal or OAuth access token; (None, expired?) otherwise."""
        caller = self.account.user_for_token(token)
        if caller is not None or not token:
            return caller, False
        user_uri, expired = self.oauth.bearer(token)
        return (self.account.user(_uuid_of(user_uri)) if user_uri else None), expired

    def _serve_oauth(self, h: JsonHandler, path: str, route: str, query: dict, body: bytes | None, fault) -> None:
        if fault == RESET:
            self._record(h.command, path, route, query, None)
            h.reset()
            return
        if fault is not None:
            status, payload, headers = fault, json.dumps(UNKNOWN, separators=(",", ":")).encode(), {}
        else:
            try:
                status, payload, headers = self.oauth.handle(route, h.command, query, body, h.headers)
            except Exception:  # a sandbox bug: answer like Calendly would, and say why
                traceback.print_exc(file=sys.stderr)
                status, payload, headers = 500, json.dumps(UNKNOWN, separators=(",", ":")).encode(), {}
        self._record(h.command, path, route, query, status)
        h.send_json(status, payload, headers)
