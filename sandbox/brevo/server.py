"""The HTTP face of the Brevo sandbox: Brevo API v3's account details (`GET /account`), contact
routes (attributes, folders, lists, list membership, single contacts, asynchronous imports and their
processes, deletion) and custom events (`POST /events`), its errors, its per-key rate limits with
``x-sib-ratelimit-*`` headers, and injected faults, over the standard library's ``ThreadingHTTPServer``.

:class:`Api` maps (method, path, query, body) to (status, JSON body) and knows nothing of
sockets; :class:`BrevoSandbox` runs it over HTTP/1.1 keep-alive under ``/v3``, applies imports
from a timer thread and keeps statistics.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import re
import sys
import threading
import time
import traceback
from datetime import datetime, timezone
from urllib.parse import parse_qsl, unquote, urlsplit

from ..faults import RESET, FaultInjector
from ..http import JsonHandler, Sandbox
from ..ratelimit import FixedWindowLimiter
from .account import ATTRIBUTE_TYPES, OWNER_EMAIL, BrevoAccount, Rejected, valid_email

BASE = "/v3"
MAX_LIST_MEMBERS = 150  # emails (or ids) per list add/remove call
MAX_PAGE = 50  # limit of GET /contacts/folders and /contacts/lists
UNAUTHORIZED = {"code": "unauthorized", "message": "Key not found"}
TOO_MANY = {"code": "too_many_requests", "message": "The expected rate limit is exceeded."}
FAULT = {"code": "internal_error", "message": "Internal server error, please retry later."}
BATCH_GONE = "POST /contacts/batch is deprecated since 2026-10-30; use POST /contacts/import"
RATE_HEADERS = ("x-sib-ratelimit-limit", "x-sib-ratelimit-remaining", "x-sib-ratelimit-reset")
EVENTS_PER_HOUR = 36_000  # Brevo's hourly /events limit (General plan), besides 10/s
# Marks an answer a knob made unlike Brevo's spec (a 2xx with a text body, an error body that is not
# Brevo's error object), so contract tests know not to hold it to the spec.
KNOB_HEADER = "x-sandbox-knob"
# Names under /contacts/ that are collections, never a contact identifier.
RESERVED = "attributes|folders|lists|import|batch|export|segments|doubleOptinConfirmation"
# identifierType of /contacts/{identifier}; the sandbox keeps no EXT_ID, WHATSAPP or LANDLINE_NUMBER.
IDENTIFIER_TYPES = ("email_id", "contact_id", "phone_id", "ext_id", "whatsapp_id", "landline_number_id")
UNKEPT_IDENTIFIER_TYPES = ("ext_id", "whatsapp_id", "landline_number_id")
# POST /events (createEvent). Brevo documents: event names and event property keys of at most 255
# letters, digits, "-" and "_"; event_properties of at most 50 KB (taken here as 50,000 bytes of
# compact JSON, the stricter reading of "50Kb").
EVENT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
MAX_EVENT_PROPERTIES_BYTES = 50_000
EVENT_FIELDS = ("event_name", "event_date", "identifiers", "contact_properties", "event_properties", "object")
EVENT_IDENTIFIERS = ("contact_id", "email_id", "ext_id", "landline_number_id", "phone_id", "whatsapp_id")
# An ISO 8601 timestamp with its offset (Brevo's examples all carry one: "...+01:00", "...Z"); a
# naive one would be ambiguous, so the sandbox refuses it.
TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, metadata: dict | None = None):
        super().__init__(message)
        self.status = status
        self.body = {"code": code, "message": message}
        if metadata:
            self.body["metadata"] = metadata


def bad(message: str, code: str = "invalid_parameter") -> ApiError:
    return ApiError(400, code, message)


def missing(name: str) -> ApiError:
    return ApiError(400, "missing_parameter", f"{name} is mandatory")


class Request:
    def __init__(self, method: str, path: str, query: dict, body: bytes | None):
        self.method, self.path, self.query, self.body = method, path, query, body
        self._json = None

    def json(self) -> dict:
        """The body as a JSON object (400 otherwise)."""
        if self._json is None:
            try:
                data = json.loads(self.body or b"")
            except ValueError:
                raise bad("Input must be a valid JSON object") from None
            if not isinstance(data, dict):
                raise bad("Input must be a valid JSON object")
            self._json = data
        return self._json


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _int_list(body: dict, name: str, required: bool = False) -> list:
    value = body.get(name)
    if value is None:
        if required:
            raise missing(name)
        return []
    if not isinstance(value, list) or not all(_is_int(v) for v in value):
        raise bad(f"{name} must be an array of integers")
    return value


def _bool(body: dict, name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise bad(f"{name} must be a boolean")
    return value


class Api:
    """Brevo's contact endpoints over a :class:`BrevoAccount`."""

    ROUTES = [(method, re.compile(p), name) for method, p, name in (
        ("GET", r"^/account$", "account"),
        ("POST", r"^/contacts/import$", "import"),
        ("GET", r"^/processes/([^/]+)$", "process"),
        ("GET", r"^/contacts/attributes$", "attributes_list"),
        ("POST", r"^/contacts/attributes/([^/]+)/([^/]+)$", "attribute_create"),
        ("GET", r"^/contacts/lists$", "lists_list"),
        ("POST", r"^/contacts/lists$", "list_create"),
        ("GET", r"^/contacts/lists/([^/]+)$", "list_get"),
        ("GET", r"^/contacts/folders$", "folders_list"),
        ("POST", r"^/contacts/folders$", "folder_create"),
        ("POST", r"^/contacts/lists/([^/]+)/contacts/add$", "list_add"),
        ("POST", r"^/contacts/lists/([^/]+)/contacts/remove$", "list_remove"),
        ("POST", r"^/contacts$", "contact_create"),
        ("PUT", rf"^/contacts/(?!(?:{RESERVED})$)([^/]+)$", "contact_update"),
        ("GET", rf"^/contacts/(?!(?:{RESERVED})$)([^/]+)$", "contact_get"),
        ("DELETE", rf"^/contacts/(?!(?:{RESERVED})$)([^/]+)$", "contact_delete"),
        ("POST", r"^/contacts/batch$", "batch"),
        ("POST", r"^/events$", "event"),
    )]
    ROUTE_NAMES = [name for _, _, name in ROUTES]

    def __init__(self, account: BrevoAccount, submitted=None, evented=None):
        self.a = account
        self.list_attribute_types = True  # False: GET /contacts/attributes leaves out `type` (optional in the spec)
        self.submitted = submitted or (lambda pid, rows: None)  # told of every accepted import
        self.evented = evented or (lambda: None)  # told of every accepted event

    def route(self, method: str, path: str) -> tuple:
        """(route name, url-decoded path arguments, path known for another method)."""
        other = False
        for m, pattern, name in self.ROUTES:
            match = pattern.match(path)
            if match:
                if m == method:
                    return name, tuple(unquote(g) for g in match.groups()), False
                other = True
        return "unknown", (), other

    def call(self, name: str, args: tuple, req: Request) -> tuple:
        return getattr(self, "do_" + name)(req, *args)

    # ------------------------------------------------------------------ parameters
    @staticmethod
    def _id(raw: str, what: str) -> int:
        if not raw.isdigit():
            raise bad(f"{what} is invalid")
        return int(raw)

    @staticmethod
    def _page(req: Request, rows: list, key: str) -> dict:
        """limit (0..50, default 10), offset (default 0), sort (desc by default: newest first)."""
        out = {}
        for name, default, top in (("limit", 10, MAX_PAGE), ("offset", 0, None)):
            raw = req.query.get(name)
            if raw is None:
                out[name] = default
                continue
            try:
                n = int(raw)
            except ValueError:
                raise bad(f"{name} must be an integer") from None
            if n < 0 or (top is not None and n > top):
                raise ApiError(400, "out_of_range", f"{name} must be between 0 and {top}" if top else
                               f"{name} must not be negative")
            out[name] = n
        sort = req.query.get("sort", "desc")
        if sort not in ("asc", "desc"):
            raise bad("sort must be asc or desc")
        if sort == "desc":
            rows = rows[::-1]
        return {"count": len(rows), key: rows[out["offset"]:out["offset"] + out["limit"]]}

    # ------------------------------------------------------------------ account
    def do_account(self, req):
        """The cheapest authenticated read: `calendly-elt sync --dry-run` checks the key with it."""
        return 200, self.a.account_view()

    # ------------------------------------------------------------------ attributes
    def do_attributes_list(self, req):
        rows = self.a.attribute_rows()
        if not self.list_attribute_types:
            rows = [{k: v for k, v in row.items() if k != "type"} for row in rows]
        return 200, {"attributes": rows}

    def do_attribute_create(self, req, category, name):
        if category not in ("normal", "transactional", "category", "calculated", "global"):
            raise bad("attributeCategory is invalid")
        if category != "normal":
            raise bad(f"only normal attributes are supported by the sandbox, not {category}")
        body = req.json()
        kind = body.get("type", "text")
        if kind not in ATTRIBUTE_TYPES:
            raise bad(f"type must be one of {', '.join(ATTRIBUTE_TYPES)} (in the sandbox)")
        if not re.match(r"^[A-Za-z][A-Za-z0-9_]*$", name):
            raise bad("Attribute name must contain only letters, digits and underscores and start with a letter")
        if not self.a.create_attribute(name, kind, category):
            raise ApiError(400, "duplicate_parameter", "Attribute name must be unique")
        return 201, None

    # ------------------------------------------------------------------ folders & lists
    def do_folders_list(self, req):
        return 200, self._page(req, self.a.folder_rows(), "folders")

    def do_folder_create(self, req):
        name = req.json().get("name")
        if name is None:
            raise missing("name")
        if not isinstance(name, str) or not name.strip():
            raise bad("name must be a non-empty string")
        return 201, {"id": self.a.create_folder(name)}

    def do_lists_list(self, req):
        return 200, self._page(req, self.a.list_rows(), "lists")

    def do_list_create(self, req):
        body = req.json()
        name, folder = body.get("name"), body.get("folderId")
        if name is None:
            raise missing("name")
        if folder is None:
            raise missing("folderId")
        if not isinstance(name, str) or not name.strip():
            raise bad("name must be a non-empty string")
        if not _is_int(folder):
            raise bad("folderId must be an integer")
        if not self.a.has_folder(folder):
            raise bad("Folder ID does not exist")
        return 201, {"id": self.a.create_list(name, folder)}

    def do_list_get(self, req, raw):
        info = self.a.list_info(self._id(raw, "listId"))
        if info is None:
            raise ApiError(404, "document_not_found", "List ID does not exist")
        return 200, info

    def _membership(self, req, raw, add: bool):
        list_id = self._id(raw, "listId")
        if not self.a.has_list(list_id):
            raise ApiError(404, "document_not_found", "List ID does not exist")
        body = req.json()
        if "emails" in body:
            keys, by_id, ok = body["emails"], False, lambda v: isinstance(v, str)
        elif "ids" in body:
            keys, by_id, ok = body["ids"], True, _is_int
        elif "extIds" in body or "all" in body:
            raise bad("only emails or ids are supported by the sandbox")
        else:
            raise missing("emails")
        if not isinstance(keys, list) or not keys or not all(ok(k) for k in keys):
            raise bad(f"{'ids' if by_id else 'emails'} must be a non-empty array of {'integers' if by_id else 'strings'}")
        if len(keys) > MAX_LIST_MEMBERS:
            raise ApiError(400, "out_of_range", f"You can pass a maximum of {MAX_LIST_MEMBERS} "
                                                f"{'ids' if by_id else 'emails'} in one request")
        success, failure = self.a.change_membership(list_id, keys, add, by_id)
        if not success:  # Brevo answers 400 when nothing could be done
            raise bad("Contact already in list and/or does not exist" if add else
                      "Contact already removed from list and/or does not exist")
        return 201, {"contacts": {"success": success, "failure": failure}}

    def do_list_add(self, req, raw):
        return self._membership(req, raw, True)

    def do_list_remove(self, req, raw):
        return self._membership(req, raw, False)

    # ------------------------------------------------------------------ contacts
    @staticmethod
    def _attributes(body: dict) -> dict:
        attrs = body.get("attributes", {})
        if attrs is None:
            return {}
        if not isinstance(attrs, dict):
            raise bad("attributes must be an object")
        return attrs

    def _lists_exist(self, ids: list) -> None:
        unknown = self.a.unknown_lists(ids)
        if unknown:
            raise bad(f"List ID(s) do not exist: {', '.join(map(str, unknown))}")

    def do_contact_create(self, req):
        body = req.json()
        email = body.get("email")
        if email is None:
            raise missing("email")  # Brevo also takes SMS-only or ext_id contacts: not the sandbox
        if not valid_email(email):
            raise bad("Invalid email address")
        attrs, list_ids = self._attributes(body), _int_list(body, "listIds")
        self._lists_exist(list_ids)
        try:
            created = self.a.create_contact(email, attrs, list_ids, _bool(body, "updateEnabled", False))
        except Rejected as e:
            raise ApiError(400, e.code, e.message, e.metadata) from None
        return (201, {"id": created}) if created is not None else (204, None)

    def _contact(self, req, identifier: str) -> str:
        kind = req.query.get("identifierType")
        if kind is not None and kind not in IDENTIFIER_TYPES:
            raise bad("identifierType is invalid")
        email = self.a.find(identifier, kind)
        if email is None:
            raise ApiError(404, "document_not_found", "Contact does not exist")
        return email

    def do_contact_get(self, req, identifier):
        return 200, self.a.contact_view(self._contact(req, identifier))

    def do_contact_update(self, req, identifier):
        email = self._contact(req, identifier)
        body = req.json()
        attrs = self._attributes(body)
        list_ids, unlink = _int_list(body, "listIds"), _int_list(body, "unlinkListIds")
        self._lists_exist(list_ids + unlink)
        try:
            self.a.update_contact(email, attrs, list_ids, unlink)
        except Rejected as e:
            raise ApiError(400, e.code, e.message, e.metadata) from None
        except KeyError:  # deleted meanwhile
            raise ApiError(404, "document_not_found", "Contact does not exist") from None
        return 204, None

    def do_contact_delete(self, req, identifier):
        """deleteContact: 204, or 404 for no such contact. Without identifierType only an email or a
        contact id designates a contact (the spec's "Option 1"), so anything else is a 400, as is a
        malformed value: a client must not read a typo as "already deleted". The contact of the
        account's registered email is refused with 405, the one case the spec gives that status."""
        kind = req.query.get("identifierType")
        if kind is not None and kind not in IDENTIFIER_TYPES:
            raise bad("identifierType is invalid")
        if kind is None:
            if "@" in identifier:
                kind = "email_id"
            elif identifier.isdigit():
                kind = "contact_id"
            else:
                raise bad("identifier must be an email or a contact id; pass identifierType for another identifier")
        if kind == "email_id" and not valid_email(identifier):
            raise bad("Invalid email address")
        if kind == "contact_id" and not identifier.isdigit():
            raise bad("contact_id must be an integer")
        if kind == "phone_id" and not re.match(r"^\+?[0-9]+$", identifier):
            raise bad("Invalid phone number")
        if kind in UNKEPT_IDENTIFIER_TYPES:
            raise bad(f"identifierType {kind} is not supported by the sandbox (its contacts have none)")
        email = self.a.find(identifier, kind)
        if email == OWNER_EMAIL:
            raise ApiError(405, "method_not_allowed",
                           "You're not allowed to delete registered email contact with Brevo")
        if email is None or not self.a.delete_contact(email):  # or deleted meanwhile
            raise ApiError(404, "document_not_found", "Contact does not exist")
        return 204, None

    def do_batch(self, req):
        raise ApiError(400, "method_not_allowed", BATCH_GONE)

    # ------------------------------------------------------------------ imports
    def do_import(self, req):
        limit = self.a.contact_limit_per_import_bytes
        if len(req.body or b"") > limit:
            raise bad(f"file size exceeds {limit / 1_000_000:g} MB (the body is {len(req.body)} bytes, "
                      f"the limit {limit} bytes); split the import")
        body = req.json()
        if "jsonBody" not in body:
            if "fileBody" in body or "fileUrl" in body:
                raise bad("only jsonBody imports are supported by the sandbox")
            raise missing("jsonBody")
        rows = body["jsonBody"]
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise bad("jsonBody must be an array of objects")
        if not rows:
            raise bad("jsonBody is empty")
        if any("attributes" in r and not isinstance(r["attributes"], (dict, type(None))) for r in rows):
            raise bad("attributes of jsonBody must be objects")
        list_ids = _int_list(body, "listIds")
        if not list_ids:
            raise missing("listIds")  # newList is not supported: listIds is required here
        self._lists_exist(list_ids)
        update, empty = _bool(body, "updateExistingContacts", True), _bool(body, "emptyContactsAttributes", False)
        pid = self.a.submit_import(rows, list_ids, update, empty)
        self.submitted(pid, len(rows))
        return 202, {"processId": pid}

    def do_process(self, req, raw):
        view = self.a.process_view(int(raw)) if raw.isdigit() else None
        if view is None:
            raise ApiError(404, "invalid_parameter", "processId is invalid")
        return 200, view


    # ------------------------------------------------------------------ custom events
    def do_event(self, req):
        """createEvent: 204 and the event kept by the account, or 400 with Brevo's error shape.

        Values follow the spec's schema, with event_properties also taking booleans and other
        numbers (its own text lists "string, number, boolean"): contact_properties take strings and
        integers, event_properties strings, numbers, booleans, objects and arrays; a null is none of
        them. A field the spec does not define is refused (Brevo's schema would let a misspelt
        ``event_properites`` through unnoticed, and the sandbox exists to notice)."""
        body = req.json()
        unknown = sorted(set(body) - set(EVENT_FIELDS))
        if unknown:
            raise bad(f"unknown parameter(s): {', '.join(unknown)}")
        name = body.get("event_name")
        if name is None:
            raise missing("event_name")
        if not isinstance(name, str) or not EVENT_NAME.match(name):
            raise bad("event_name must be 1 to 255 letters, digits, - or _")
        identifiers = self._event_identifiers(body.get("identifiers"))
        occurred_at = self._event_date(body.get("event_date"), "event_date" in body)
        contact_properties = body.get("contact_properties")
        if contact_properties is not None or "contact_properties" in body:
            if not isinstance(contact_properties, dict):
                raise bad("contact_properties must be an object")
            for key, value in contact_properties.items():
                if not (isinstance(value, str) or _is_int(value)):
                    raise bad(f"contact_properties.{key} must be a string or an integer")
        event_properties = body.get("event_properties")
        if event_properties is not None or "event_properties" in body:
            self._event_properties(event_properties)
        obj = body.get("object")
        if "object" in body and not isinstance(obj, dict):
            raise bad("object must be an object")  # otherwise ignored: the sandbox has no object types
        try:
            self.a.record_event(body, occurred_at)
        except Rejected as e:
            raise ApiError(400, e.code, e.message, e.metadata) from None
        self.evented()
        return 204, None

    @staticmethod
    def _event_identifiers(identifiers) -> dict:
        if identifiers is None:
            raise missing("identifiers")
        if not isinstance(identifiers, dict) or not identifiers:
            raise bad("identifiers must be an object with at least one identifier")
        unknown = sorted(set(identifiers) - set(EVENT_IDENTIFIERS))
        if unknown:
            raise bad(f"unknown identifier(s): {', '.join(unknown)}; use one of {', '.join(EVENT_IDENTIFIERS)}")
        for key, value in identifiers.items():
            if key == "contact_id":
                if not _is_int(value) or value <= 0:
                    raise bad("identifiers.contact_id must be a positive integer")
            elif not isinstance(value, str) or not value.strip():
                raise bad(f"identifiers.{key} must be a non-empty string")
        if "email_id" in identifiers and not valid_email(identifiers["email_id"]):
            raise bad("Invalid email address")
        return identifiers

    @staticmethod
    def _event_date(raw, present: bool) -> str | None:
        """The event's time in UTC ("...Z", milliseconds), or None when event_date is absent."""
        if raw is None and not present:
            return None
        match = TIMESTAMP.match(raw) if isinstance(raw, str) else None
        if match is None:
            raise bad("event_date must be an ISO 8601 timestamp with an offset, e.g. 2024-01-24T17:39:57+01:00")
        stamp, fraction, offset = match.groups()
        offset = "+00:00" if offset == "Z" else offset if ":" in offset else offset[:3] + ":" + offset[3:]
        try:
            when = datetime.fromisoformat(stamp + ("." + fraction[:6].ljust(6, "0") if fraction else "") + offset)
        except ValueError:
            raise bad("event_date is not a valid date and time") from None
        return when.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    @staticmethod
    def _event_properties(props) -> None:
        if not isinstance(props, dict):
            raise bad("event_properties must be an object")
        for key, value in props.items():
            if value is None or not isinstance(value, (str, int, float, bool, dict, list)):
                raise bad(f"event_properties.{key} must be a string, number, boolean, object or array")

        def walk(value, path: str) -> None:
            # keys at every depth: nested properties are used for segmentation like top-level ones
            if isinstance(value, dict):
                for key, inner in value.items():
                    if not EVENT_NAME.match(key):
                        raise bad(f"event_properties key {path}{key!r} must be 1 to 255 letters, digits, - or _")
                    walk(inner, f"{path}{key}.")
            elif isinstance(value, list):
                for i, inner in enumerate(value):
                    walk(inner, f"{path}{i}.")
            elif isinstance(value, float) and not math.isfinite(value):
                raise bad(f"event_properties.{path.rstrip('.')} must be a finite number")
        walk(props, "")
        size = len(json.dumps(props, separators=(",", ":"), ensure_ascii=False).encode())
        if size > MAX_EVENT_PROPERTIES_BYTES:
            raise ApiError(400, "out_of_range", f"event_properties is {size} bytes; the limit is 50 KB "
                                                f"({MAX_EVENT_PROPERTIES_BYTES} bytes)")


# ---------------------------------------------------------------------- timer thread
class _Scheduler:
    """One thread running callbacks at their due time, in (due, submission) order."""

    def __init__(self, name: str):
        self._heap: list = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def at(self, due: float, fn) -> None:
        with self._cond:
            if not self._stopping:
                heapq.heappush(self._heap, (due, next(self._seq), fn))
                self._cond.notify()
                return
        self._run(fn)  # accepted while the sandbox stops: done now, like the rest

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._cond.wait(None if not self._heap else self._heap[0][0] - time.monotonic())
                if self._stopping:
                    return
                fn = heapq.heappop(self._heap)[2]
            self._run(fn)

    @staticmethod
    def _run(fn) -> None:
        try:
            fn()
        except Exception:  # a sandbox bug: say so, keep the thread alive
            traceback.print_exc(file=sys.stderr)

    def stop(self) -> None:
        """Stop the thread, then run what is still due at once, in order."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(timeout=5)
        while self._heap:
            self._run(heapq.heappop(self._heap)[2])


# ---------------------------------------------------------------------- HTTP
_KEEP = object()


class BrevoSandbox(Sandbox):
    """Serve ``account`` as the Brevo API v3 at ``http://host:port/v3`` (port 0 = any free port).

    ``rate_limit_per_second`` requests per API key per 1-second window (None = unlimited), and
    ``events_rate_limit_per_second`` for `POST /events`, counted apart: Brevo limits each endpoint on
    its own (General plan: 10/s for the contact endpoints, 10/s and 36,000/h for events; the hourly
    figure is what 10/s allows in an hour, so only the per-second one is enforced here);
    ``fault_rate`` of requests fail (half 500/502/503, half connection resets) from an RNG
    seeded by ``fault_seed``, before anything is done: a faulted event is never kept; ``latency_ms`` is added before every answer; an accepted import
    is queued, turns "processing" halfway and is applied ``import_seconds`` after it was
    accepted (imports are applied in the order they were accepted). ``stop()`` applies the
    imports still queued, as Brevo finishes the processes it accepted.

    Knobs for the shapes other implementations of the API give (each also in ``configure``):
    ``success_answers`` {route name: (status, text)}: a request of that route that succeeds is applied
    as usual but answered with this status and a text/plain body (a 200/201 "Created", a 202 with
    text); ``error_bodies`` {route name: raw JSON}: its 4xx keep their status but carry this body
    (``'["bad"]'``, ``'"x"'``, ``'null'``); both answers are marked with the ``x-sandbox-knob`` header.
    ``list_attribute_types`` False: ``GET /contacts/attributes`` lists attributes without ``type``
    (the spec requires only ``category`` and ``name``). ``events_rate_window`` "hour": the
    ``x-sib-ratelimit-*`` headers of ``POST /events`` describe the hourly window (36,000/h) while
    the per-second limit is still what answers 429. ``rate_headers`` False: no rate-limit header on
    any answer. ``retry_after`` (seconds): a 429 carries ``Retry-After``.
    """

    name, product, base_path = "brevo-sandbox", "BrevoSandbox/1.0", BASE
    route_names = Api.ROUTE_NAMES
    counter_names = ("imported_rows", "events")  # rows received in accepted imports, events accepted
    log_bodies = True  # contract tests validate what clients send

    def __init__(self, account: BrevoAccount, host: str = "127.0.0.1", port: int = 0,
                 rate_limit_per_second: int | None = 10, fault_rate: float = 0.0, fault_seed: int = 0,
                 latency_ms: float = 0, import_seconds: float = 0.2, events_rate_limit_per_second: int | None = 10,
                 success_answers: dict | None = None, error_bodies: dict | None = None,
                 list_attribute_types: bool = True, events_rate_window: str = "second", rate_headers: bool = True,
                 retry_after: int | None = None):
        self.account = account
        self._limiter = FixedWindowLimiter(rate_limit_per_second, 1)
        self._events_limiter = FixedWindowLimiter(events_rate_limit_per_second, 1)
        self._events_hour = FixedWindowLimiter(EVENTS_PER_HOUR, 3600)
        self._faults = FaultInjector(fault_rate, fault_seed)
        self._latency_ms = latency_ms
        self._import_seconds = import_seconds
        self._last_apply = 0.0  # imports apply in acceptance order even if import_seconds shrinks
        self._api = Api(account, self._submitted, lambda: self._count("events", 1))
        self._scheduler: _Scheduler | None = None
        self.configure(success_answers=success_answers or {}, error_bodies=error_bodies or {},
                       list_attribute_types=list_attribute_types, events_rate_window=events_rate_window,
                       rate_headers=rate_headers, retry_after=retry_after)
        self._init_sandbox(host, port)

    def _started(self) -> None:
        self._scheduler = _Scheduler(f"brevo-sandbox-imports:{self.port}")

    def _stopped(self) -> None:
        self._scheduler.stop()

    def configure(self, rate_limit_per_second=_KEEP, fault_rate=_KEEP, latency_ms=_KEEP, import_seconds=_KEEP,
                  events_rate_limit_per_second=_KEEP, success_answers=_KEEP, error_bodies=_KEEP,
                  list_attribute_types=_KEEP, events_rate_window=_KEEP, rate_headers=_KEEP, retry_after=_KEEP) -> None:
        """Change any subset live. A new rate limit starts every key afresh."""
        unknown = set(success_answers if success_answers is not _KEEP else {}) | set(
            error_bodies if error_bodies is not _KEEP else {})
        if unknown - set(Api.ROUTE_NAMES):
            raise ValueError(f"unknown route names: {sorted(unknown - set(Api.ROUTE_NAMES))}")
        if success_answers is not _KEEP:
            if not all(200 <= status < 300 for status, _ in success_answers.values()):
                raise ValueError("success_answers: a status of 2xx")
            self._success_answers = dict(success_answers)
        if error_bodies is not _KEEP:
            for raw in error_bodies.values():
                json.loads(raw)  # JSON, only not Brevo's error object
            self._error_bodies = dict(error_bodies)
        if list_attribute_types is not _KEEP:
            self._api.list_attribute_types = bool(list_attribute_types)
        if events_rate_window is not _KEEP:
            if events_rate_window not in ("second", "hour"):
                raise ValueError("events_rate_window: second or hour")
            self._events_rate_window = events_rate_window
        if rate_headers is not _KEEP:
            self._rate_headers = bool(rate_headers)
        if retry_after is not _KEEP:
            self._retry_after = retry_after
        if rate_limit_per_second is not _KEEP:
            self._limiter = FixedWindowLimiter(rate_limit_per_second, 1)
        if events_rate_limit_per_second is not _KEEP:
            self._events_limiter = FixedWindowLimiter(events_rate_limit_per_second, 1)
        if fault_rate is not _KEEP:
            self._faults.rate = fault_rate
        if latency_ms is not _KEEP:
            self._latency_ms = latency_ms
        if import_seconds is not _KEEP:
            self._import_seconds = import_seconds

    # ------------------------------------------------------------------ imports
    def _submitted(self, pid: int, rows: int) -> None:
        now, delay = time.monotonic(), max(0.0, float(self._import_seconds))
        self._count("imported_rows", rows)
        with self._stats_lock:
            due = self._last_apply = max(now + delay, self._last_apply)
        self._scheduler.at(now + delay / 2, lambda: self.account.mark_processing(pid))
        self._scheduler.at(due, lambda: self.account.apply_import(pid))

    # ------------------------------------------------------------------ one request
    def _serve_one(self, h: JsonHandler) -> None:
        split = urlsplit(h.path)
        raw_path, query = split.path, dict(parse_qsl(split.query, keep_blank_values=True))
        body = h.read_body()  # always drained, so the connection stays usable
        under_v3 = raw_path == BASE or raw_path.startswith(BASE + "/")
        # logged relative to /v3 like everything else: a path outside it shows as "/../x"
        path = (raw_path[len(BASE):] or "/") if under_v3 else "/.." + raw_path
        route, args, other_method = self._api.route(h.command, path) if under_v3 else ("unknown", (), False)
        fault = self._faults.draw()  # drawn first, for every request, so a seed replays exactly
        if self._latency_ms:
            time.sleep(self._latency_ms / 1000)
        key = h.headers.get("api-key")
        limiter = self._events_limiter if route == "event" else self._limiter
        verdict = shown = limiter.hit(key or "-anonymous-")
        if route == "event":
            hour = self._events_hour.hit(key or "-anonymous-")  # what 10/s allows: never the one refusing
            shown = hour if self._events_rate_window == "hour" else verdict
        headers = dict(zip(RATE_HEADERS, (str(shown.limit), str(shown.remaining), str(shown.reset)))) \
            if self._rate_headers else {}
        # Each request is recorded before it is answered, so a client that has its answer
        # (or its reset) always finds it in stats() and request_log, in order.
        if fault == RESET:
            self._record(h.command, path, route, query, None, body)
            h.reset()
            return
        if fault is not None:
            status, out = fault, FAULT
        elif not verdict.allowed:
            status, out = 429, TOO_MANY
            if self._retry_after is not None:
                headers["Retry-After"] = str(self._retry_after)
        elif not under_v3:
            status, out = 404, {"code": "document_not_found", "message": f"{raw_path} not found: the API is under {BASE}"}
        elif key != self.account.api_key:
            status, out = 401, UNAUTHORIZED
        elif route == "unknown":
            # Brevo's other operations (GET /contacts, DELETE /contacts/lists/{listId}, ...): not served here
            status, out = (405, {"code": "method_not_allowed",
                                 "message": f"{h.command} Method is not allowed on this path (or not supported by the Brevo sandbox)"}) \
                if other_method else (404, {"code": "document_not_found", "message": "Invalid route or not supported by the Brevo sandbox"})
        else:
            try:
                status, out = self._api.call(route, args, Request(h.command, path, query, body))
            except ApiError as e:
                status, out = e.status, e.body
            except Exception:  # a sandbox bug: answer like Brevo would, and say why
                traceback.print_exc(file=sys.stderr)
                status, out = 500, FAULT
        payload = b"" if out is None else json.dumps(out, separators=(",", ":")).encode()
        content_type = "application/json; charset=utf-8"
        if 200 <= status < 300 and route in self._success_answers:
            status, text = self._success_answers[route]
            payload, content_type = text.encode(), "text/plain; charset=utf-8"
            headers[KNOB_HEADER] = "success_answers"
        elif 400 <= status < 500 and route in self._error_bodies:
            payload = self._error_bodies[route].encode()
            headers[KNOB_HEADER] = "error_bodies"
        self._record(h.command, path, route, query, status, body)
        h.send_json(status, payload, headers, content_type)
