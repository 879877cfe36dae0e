"""The generated Calendly account: its resources, the indexes the server pages over, the
mutations that change it the way Calendly does, and the ground truth.

Resources are stored exactly as the API serves them; the server only selects and pages.
Every read and write goes through ``account.lock`` so mutations can run while serving.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import hashlib
import json
import random
import sys
import threading
import traceback
from bisect import bisect_left, bisect_right, insort
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Callable

from . import generate as g
from . import quirks
from .shapes import Shape

# (event name, created_at, payload): called under the account lock, right after the change.
Listener = Callable[[str, str, dict], None]


def _naive_utc(value) -> datetime:
    """datetime (aware or naive-UTC) or ISO-8601 string -> naive UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


@contextlib.contextmanager
def _no_gc():
    """Building hundreds of thousands of small containers triggers the cyclic GC over and over
    (it rescans everything allocated so far); nothing here creates cycles, so pause it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _uuid_of(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def keyset_page(keys, get, *, desc=False, cursor=None, count=20, pred=None, lo=0, hi=None):
    """One page of a list kept as ascending unique key tuples, by keyset (not offset), so
    pages stay consistent while mutations insert rows.

    ``cursor`` is None (first page), ("after", key) (next page: continue past ``key`` in
    listing order) or ("before", key) (previous page). ``lo``/``hi`` bound the index range
    (bisected from min/max filters); ``pred`` filters items. Cost is proportional to the rows
    looked at, not to the list length. Returns (items, has_prev, has_next).
    """
    hi = len(keys) if hi is None else hi
    ok = pred or (lambda _item: True)

    def fwd(i):  # indices from i onwards in listing order
        return range(max(i, lo), hi) if not desc else range(min(i, hi - 1), lo - 1, -1)

    def back(i):  # indices from i backwards in listing order
        return range(min(i, hi - 1), lo - 1, -1) if not desc else range(max(i, lo), hi)

    def after(key):
        return bisect_right(keys, key) if not desc else bisect_left(keys, key) - 1

    def before(key):
        return bisect_left(keys, key) - 1 if not desc else bisect_right(keys, key)

    def take(indices, limit):
        out = []
        for i in indices:
            item = get(keys[i])
            if ok(item):
                out.append((keys[i], item))
                if len(out) == limit:
                    break
        return out

    if cursor is None:
        got = take(fwd(lo if not desc else hi - 1), count + 1)
        has_prev, has_next, got = False, len(got) > count, got[:count]
    elif cursor[0] == "after":
        got = take(fwd(after(cursor[1])), count + 1)
        has_next, got = len(got) > count, got[:count]
        has_prev = bool(got) and bool(take(back(before(got[0][0])), 1))
    else:
        got = take(back(before(cursor[1])), count + 1)
        has_prev, got = len(got) > count, got[:count][::-1]
        has_next = bool(got) and bool(take(fwd(after(got[-1][0])), 1))
    return got, has_prev, has_next


class CalendlyAccount:
    """One organisation's Calendly data. Build it with :meth:`generate`.

    Public attributes: ``base_uri``, ``organization_uri``, ``now`` (aware UTC reference of the
    history), ``shape`` (the :class:`~.shapes.Shape` it was generated with), ``tokens`` ({"admin":
    owner's token, "member": token of a host with role 'user'}; no "member" when no such host is
    left, as in a solo account), ``tokens_by_user`` ({user uri: token} for every current host),
    ``users`` ({"owner", "admin", "member", "member2", ...: User resource} of the current members;
    no "admin" when hosts <= 2), ``departed_users`` (User resources of hosts who left the
    organization: still fetchable, no membership, no token), ``lock`` and ``hold_deletions`` (False:
    invitee data deletion requests are carried out at once; True: they wait for
    :meth:`complete_deletions`, as Calendly takes up to 7 days).
    """

    base_uri = g.BASE_URI

    def __init__(self, data: dict, *, seed: int, now: datetime, future_days: int):
        self.lock = threading.RLock()
        self.seed = seed
        self.now = now.replace(tzinfo=timezone.utc)
        self._now = now  # naive UTC, the reference for "future" and the no-show window
        self._future_days = future_days
        self._last_stamp = now
        self._rng = random.Random(seed * 1_000_003 + 17)  # ids/choices of direct mutation calls
        self.shape: Shape = data["shape"]
        self.organization_uri = data["org_uri"]
        users, roles, tokens, departed = data["users"], data["roles"], data["tokens"], set(data["departed"])
        # Everyone who ever hosted stays a user (event memberships name them); only current members
        # have a role, a token and a membership here.
        self._users = {_uuid_of(u["uri"]): u for u in users}
        current = [(u, r, t) for i, (u, r, t) in enumerate(zip(users, roles, tokens)) if i not in departed]
        self.departed_users = [users[i] for i in sorted(departed)]
        self._role = {u["uri"]: r for u, r, _ in current}
        self._token_user = {t: u for u, _, t in current}
        self.tokens_by_user = {u["uri"]: t for u, _, t in current}
        self.tokens = {"admin": tokens[0]}
        self._withheld_scopes: dict[str, set] = {}  # user uri -> scopes their token lacks (withhold_scope)
        self.users = {"owner": users[0]}
        if data["admin_i"] and data["admin_i"] not in departed:
            self.users["admin"] = users[data["admin_i"]]
        n = 0
        for u, r, t in current:
            if r == "user":
                n += 1
                self.users["member" if n == 1 else f"member{n}"] = u
                if n == 1:
                    self.tokens["member"] = t
        self._memberships = data["memberships"]
        gone = {users[i]["uri"] for i in departed}
        self._memberships_by_uuid = {_uuid_of(m["uri"]): m for m in self._memberships if m["user"]["uri"] not in gone}
        self._membership_keys = sorted((m["created_at"], u) for u, m in self._memberships_by_uuid.items())
        self._event_types = {_uuid_of(t["uri"]): t for t in data["event_types"]}
        self._type_meta = {m["uuid"]: m for m in data["tmeta"].values()}
        self._type_keys = sorted((t["name"], u) for u, t in self._event_types.items())
        self._persons = data["persons"]
        self._person_by_email = {p["email"]: p for p in self._persons}
        self._taken = set(self._person_by_email)
        # scheduled events sorted by start_time (keys are (start_time, uuid)), invitees per event
        self._events, self._invitees_by_event, self._invitees = {}, {}, {}
        self._email_events: dict[str, dict] = {}
        self._no_shows = {}
        for ev in data["events"]:
            eu = _uuid_of(ev["uri"])
            self._events[eu] = ev
            self._invitees_by_event[eu] = []
            for inv in data["invitees"][eu]:
                self._index_invitee(eu, inv)
        self._event_keys = sorted((e["start_time"], u) for u, e in self._events.items())
        self._forms = {_uuid_of(f["uri"]): f for f in data["forms"]}
        self._form_keys = sorted((f["created_at"], u) for u, f in self._forms.items())
        self._subs = {_uuid_of(s["uri"]): s for s in data["submissions"]}
        self._sub_keys = sorted((s["created_at"], u) for u, s in self._subs.items())
        self._form_routes = data["form_routes"]
        self._type_uris = {m["def"]["key"]: m["uri"] for m in self._type_meta.values()}
        self._listeners: list[Listener] = []
        # single-use scheduling links by their code; their own RNG so minting links leaves the ids
        # of every other mutation as they were
        self._links: dict[str, dict] = {}
        self._link_rng = random.Random(seed * 1_000_003 + 29)
        self._deletions: list[dict] = []
        self.hold_deletions = False

    # ------------------------------------------------------------------ construction
    @classmethod
    def generate(cls, seed: int = 7, events: int = 3000, now: datetime | str | None = None,
                 past_days: int = 365, future_days: int = 90, hosts: int | None = None,
                 routing_forms: int | None = None, shape: Shape | None = None) -> "CalendlyAccount":
        """Same seed, ``now`` and shape give an identical account (``truth()`` compares equal, and
        so do its JSON bytes). ``now`` (aware, naive meaning UTC, or an ISO 8601 string) is the
        instant the history is built around: ``past_days`` before it, ``future_days`` after; unset,
        the current time to the second. A ``now`` a whole number of weeks later gives the same
        account with every timestamp moved by exactly that much; any other ``now`` keeps the
        organization (its users, tokens, memberships and event types, ids included; their
        timestamps move) but draws another history: bookings land on other weekday slots, so the
        events, invitees, routing forms and submissions, their ids and counts, differ.
        Mutations after generation are stamped with the real clock (never before ``now``).

        ``shape`` says what kind of account (default ``Shape()``: the team account); ``hosts`` and
        ``routing_forms``, when given, override the shape's.

        The mutations follow the knobs that describe how the account is set up (utm, custom
        questions, undocumented fields, deleted types, departed hosts); the knobs that describe its
        history (cancellations, no_shows, null_timezones, long_answers) shape the generated history
        only: a mutation does what it is asked."""
        shape = shape or Shape()
        overrides = {k: v for k, v in (("hosts", hosts), ("routing_forms", routing_forms)) if v is not None}
        if overrides:
            shape = replace(shape, **overrides)
        if now is None:
            now = datetime.now(timezone.utc).replace(microsecond=0)
        now = _naive_utc(now)
        with _no_gc():
            data = g.generate(seed, events, now, past_days, future_days, shape)
            return cls(data, seed=seed, now=now, future_days=future_days)

    def _index_invitee(self, event_uuid: str, inv: dict) -> None:
        self._invitees_by_event[event_uuid].append(inv)
        self._invitees[_uuid_of(inv["uri"])] = (event_uuid, inv)
        self._email_events.setdefault(inv["email"].lower(), {})[event_uuid] = None
        if inv["no_show"]:
            self._no_shows[_uuid_of(inv["no_show"]["uri"])] = inv

    # ------------------------------------------------------------------ lookups (server side)
    def user_for_token(self, token: str | None) -> dict | None:
        return self._token_user.get(token) if token else None

    def role_of(self, user_uri: str) -> str | None:
        return self._role.get(user_uri)

    def user(self, uuid: str) -> dict | None:
        return self._users.get(uuid)

    def event(self, uuid: str) -> dict | None:
        return self._events.get(uuid)

    def event_hosts(self, event: dict) -> list:
        return [m["user"] for m in event["event_memberships"]]

    def invitees_of(self, event_uuid: str) -> list:
        return self._invitees_by_event.get(event_uuid, [])

    def invitee(self, uuid: str) -> tuple | None:
        """(event uuid, invitee) or None."""
        return self._invitees.get(uuid)

    def no_show(self, uuid: str) -> dict | None:
        inv = self._no_shows.get(uuid)
        if inv is None or not inv["no_show"] or _uuid_of(inv["no_show"]["uri"]) != uuid:
            return None
        return {"uri": inv["no_show"]["uri"], "invitee": inv["uri"], "created_at": inv["no_show"]["created_at"]}

    def event_keys(self) -> list:
        return self._event_keys

    def event_keys_for_email(self, email: str) -> list:
        return sorted((self._events[u]["start_time"], u) for u in self._email_events.get(email.lower(), ()))

    def event_type(self, uuid: str) -> dict | None:
        return self._event_types.get(uuid)

    def event_type_keys(self) -> list:
        return self._type_keys

    def event_type_hosts(self, uuid: str) -> list:
        return self._type_meta[uuid]["hosts"]

    def membership(self, uuid: str) -> dict | None:
        return self._memberships_by_uuid.get(uuid)

    def membership_keys(self) -> list:
        return self._membership_keys

    def form(self, uuid: str) -> dict | None:
        return self._forms.get(uuid)

    def form_keys(self) -> list:
        return self._form_keys

    def submission(self, uuid: str) -> dict | None:
        return self._subs.get(uuid)

    def submission_keys(self) -> list:
        return self._sub_keys

    # ------------------------------------------------------------------ ground truth
    def truth(self) -> dict:
        """Every table as the API serves it (deep copies via a JSON round trip, i.e. exactly
        the bytes a client would decode): events by start_time, invitees per event by
        created_at, event types by name, the rest by created_at. Event types include deleted
        ones (served by uri, not listed); memberships are those of current members only."""
        with self.lock:
            data = {
                "event_types": [self._event_types[u] for _, u in self._type_keys],
                "scheduled_events": [self._events[u] for _, u in self._event_keys],
                "invitees": [i for _, u in self._event_keys for i in self._invitees_by_event[u]],
                "organization_memberships": [self._memberships_by_uuid[u] for _, u in self._membership_keys],
                "routing_forms": [self._forms[u] for _, u in self._form_keys],
                "routing_form_submissions": [self._subs[u] for _, u in self._sub_keys],
            }
            blob = json.dumps(data)
        with _no_gc():
            return json.loads(blob)

    # ------------------------------------------------------------------ change listeners
    def add_listener(self, fn: Listener) -> None:
        """Call ``fn(event, created_at, payload)`` for every change, as Calendly names its webhook
        events. It runs under the account lock and the payload shares the live resources: copy
        or serialise what you keep, and never block (no network calls)."""
        with self.lock:
            self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        with self.lock:
            if fn in self._listeners:
                self._listeners.remove(fn)

    def _emit(self, event: str, at: str, payload: dict) -> None:
        for fn in self._listeners:
            try:
                fn(event, at, payload)
            except Exception:  # a listener's bug must not leave a mutation half-reported to the caller
                traceback.print_exc(file=sys.stderr)

    def _emit_invitee(self, event: str, at: str, inv: dict) -> None:
        # Calendly's invitee payloads carry the scheduled event alongside the invitee's own fields.
        if self._listeners:
            self._emit(event, at, {**inv, "scheduled_event": self._events[_uuid_of(inv["event"])]})

    # ------------------------------------------------------------------ mutations
    def _stamp(self) -> datetime:
        """Real UTC time, but strictly later than the history and than the previous mutation."""
        t = datetime.now(timezone.utc).replace(tzinfo=None)
        t = max(t, self._now + timedelta(seconds=1), self._last_stamp + timedelta(microseconds=1))
        self._last_stamp = t
        return t

    def _active_invitee(self, invitee_uri: str) -> tuple:
        found = self._invitees.get(_uuid_of(invitee_uri))
        if found is None or found[1]["uri"] != invitee_uri:
            raise KeyError(f"unknown invitee {invitee_uri}")
        if found[1]["status"] != "active":
            raise ValueError(f"invitee is already canceled: {invitee_uri}")
        return found

    def _cancel(self, event_uuid, inv, canceler_type, reason, at, new_invitee=None):
        if canceler_type not in ("host", "invitee"):
            raise ValueError("canceler_type must be 'host' or 'invitee'")
        ev = self._events[event_uuid]
        cancellation = {"canceled_by": inv["name"] if canceler_type == "invitee"
                        else ev["event_memberships"][0]["user_name"],
                        "canceler_type": canceler_type, "reason": reason, "created_at": at}
        inv.update(status="canceled", cancellation=cancellation, updated_at=at)
        if new_invitee:
            inv.update(rescheduled=True, new_invitee=new_invitee)
        ev["invitees_counter"]["active"] -= 1
        ev["updated_at"] = at
        if ev["invitees_counter"]["active"] == 0:  # nobody left: the event itself is canceled
            ev["status"] = "canceled"
            ev["cancellation"] = dict(cancellation)
        self._emit_invitee("invitee.canceled", at, inv)

    def cancel_invitee(self, invitee_uri: str, canceler_type: str = "invitee", reason: str | None = None) -> None:
        with self.lock:
            event_uuid, inv = self._active_invitee(invitee_uri)
            self._cancel(event_uuid, inv, canceler_type, reason, g.ts(self._stamp()))

    def _new_event(self, rng, type_uuid, start: datetime, hosts: list, at: str) -> dict:
        meta = self._type_meta[type_uuid]
        d = meta["def"]
        eu = g.new_uuid(rng)
        users = list(self._users.values())
        hosts = [h for h in hosts if h in self._role]  # a host who left hosts no more
        if not hosts:  # their type's current hosts take over
            hosts = meta["hosts"][:1] if d["pooling"] == "round_robin" else meta["hosts"]
        ev = {
            "uri": f"{self.base_uri}/scheduled_events/{eu}", "name": d["name"], "status": "active",
            "start_time": g.ts(start), "end_time": g.ts(start + timedelta(minutes=d["duration"])),
            "event_type": meta["uri"], "location": None,
            "invitees_counter": {"total": 0, "active": 0, "limit": d["limit"]},
            "created_at": at, "updated_at": at,
            "event_memberships": [{"user": h, "user_email": g.users_email(users, h),
                                   "user_name": g.users_name(users, h)} for h in hosts],
            "event_guests": [], "calendar_event": g.calendar_event(rng),
        }
        self._add_unknown_fields(rng, ev, "scheduled_event")
        self._events[eu] = ev
        self._invitees_by_event[eu] = []
        insort(self._event_keys, (ev["start_time"], eu))
        return ev

    def _add_unknown_fields(self, rng, resource: dict, kind: str) -> None:
        """New resources look like the history's: undocumented fields when the shape has them."""
        if self.shape.unknown_fields:
            quirks.add_unknown_fields(rng, resource, kind, as_text=rng.random() < 0.1)

    def _is_live(self, type_uuid: str) -> bool:
        """Bookable: neither switched off nor deleted."""
        return self._event_types[type_uuid]["active"]

    def _attach(self, rng, ev: dict, fields: dict, at: str) -> dict:
        """A new active invitee on ``ev`` (counter and updated_at follow)."""
        iu = g.new_uuid(rng)
        inv = {"uri": f"{ev['uri']}/invitees/{iu}", "email": fields["email"],
               "first_name": fields["first_name"], "last_name": fields["last_name"], "name": fields["name"],
               "status": "active", "questions_and_answers": copy.deepcopy(fields["questions_and_answers"]),
               "timezone": fields["timezone"], "event": ev["uri"], "created_at": at, "updated_at": at,
               "tracking": dict(fields["tracking"]), "text_reminder_number": fields["text_reminder_number"],
               "rescheduled": False, "old_invitee": fields.get("old_invitee"), "new_invitee": None,
               "cancel_url": f"{g.WEB}/cancellations/{iu}", "reschedule_url": f"{g.WEB}/reschedulings/{iu}",
               "routing_form_submission": None, "payment": None, "no_show": None, "reconfirmation": None}
        if ev["location"] is None:
            d = self._type_meta[_uuid_of(ev["event_type"])]["def"]
            ev["location"] = g.location(rng, d["location"], fields.get("phone"))
        self._add_unknown_fields(rng, inv, "invitee")
        ev["invitees_counter"]["total"] += 1
        ev["invitees_counter"]["active"] += 1
        ev["updated_at"] = at
        self._index_invitee(_uuid_of(ev["uri"]), inv)
        return inv

    def _joinable(self, type_uuid: str, start: str | None, after: str) -> list:
        """Active events of a group type with room, at ``start`` (or any start after ``after``)."""
        if self._type_meta[type_uuid]["def"]["kind"] != "group":
            return []
        lo = bisect_left(self._event_keys, (start,)) if start else bisect_right(self._event_keys, (after, "~"))
        hi = bisect_right(self._event_keys, (start, "~")) if start else len(self._event_keys)
        out = []
        for _, eu in self._event_keys[lo:hi]:
            ev = self._events[eu]
            c = ev["invitees_counter"]
            if ev["status"] == "active" and _uuid_of(ev["event_type"]) == type_uuid and c["active"] < c["limit"]:
                out.append(ev)
        return out

    def _reschedule(self, rng, invitee_uri: str, new_start) -> str:
        event_uuid, old = self._active_invitee(invitee_uri)
        old_ev = self._events[event_uuid]
        type_uuid = _uuid_of(old_ev["event_type"])
        if not self._is_live(type_uuid):
            raise ValueError(f"cannot reschedule into an inactive or deleted event type: {invitee_uri}")
        start = _naive_utc(new_start)
        at = g.ts(self._stamp())
        joinable = self._joinable(type_uuid, g.ts(start), at)
        ev = joinable[0] if joinable else self._new_event(rng, type_uuid, start, self.event_hosts(old_ev), at)
        new = self._attach(rng, ev, dict(old, old_invitee=old["uri"]), at)
        self._emit_invitee("invitee.created", at, new)
        self._cancel(event_uuid, old, "invitee", None, at, new_invitee=new["uri"])
        return new["uri"]

    def reschedule_invitee(self, invitee_uri: str, new_start) -> str:
        """Move a booking: the old invitee is canceled (rescheduled=true, new_invitee set), a new
        invitee with the same answers books the same event type at ``new_start`` (joining an
        existing group event at that time when there is one). Returns the new invitee uri."""
        with self.lock:
            return self._reschedule(self._rng, invitee_uri, new_start)

    def mark_no_show(self, invitee_uri: str) -> str:
        """Calendly records the no-show on the invitee only; the event is not touched."""
        with self.lock:
            _, inv = self._active_invitee(invitee_uri)
            return self._mark(self._rng, inv)

    def _mark(self, rng, inv: dict) -> str:
        if inv["no_show"]:
            raise ValueError(f"already marked as no-show: {inv['uri']}")
        at = g.ts(self._stamp())
        inv["no_show"] = {"uri": f"{self.base_uri}/invitee_no_shows/{g.new_uuid(rng)}", "created_at": at}
        inv["updated_at"] = at
        self._no_shows[_uuid_of(inv["no_show"]["uri"])] = inv
        self._emit_invitee("invitee_no_show.created", at, inv)
        return inv["no_show"]["uri"]

    def unmark_no_show(self, invitee_uri: str) -> None:
        with self.lock:
            found = self._invitees.get(_uuid_of(invitee_uri))
            if found is None or not found[1]["no_show"]:
                raise ValueError(f"not marked as no-show: {invitee_uri}")
            inv = found[1]
            del self._no_shows[_uuid_of(inv["no_show"]["uri"])]
            inv["no_show"] = None
            inv["updated_at"] = at = g.ts(self._stamp())
            self._emit_invitee("invitee_no_show.deleted", at, inv)

    def _add_booking(self, rng, event_type_uri=None, start_time=None, email=None, submission=None,
                     name: str | None = None, tracking: dict | None = None, guests: list | None = None) -> str:
        if event_type_uri is None:
            live = [m for m in self._type_meta.values() if self._is_live(m["uuid"])]
            meta = rng.choices(live, [m["def"]["weight"] for m in live])[0]
        else:
            meta = self._type_meta.get(_uuid_of(event_type_uri))
            if meta is None or meta["uri"] != event_type_uri:
                raise KeyError(f"unknown event type {event_type_uri}")
            if not self._is_live(meta["uuid"]):
                raise ValueError("cannot book an inactive or deleted event type")
        d = meta["def"]
        if email is not None:
            person = self._person_by_email.get(email.lower())
            if person is None:
                local = email.split("@")[0]
                parts = [p.capitalize() for p in local.replace("_", ".").split(".") if p] or ["Guest"]
                person = dict(g.make_person(rng, self._taken), first=parts[0],
                              last=" ".join(parts[1:]) or "Guest", email=email.lower(), alt_email=None)
                self._persons.append(person)
                self._person_by_email[person["email"]] = person
        elif rng.random() < 0.5:  # a returning booker
            person = self._persons[rng.randrange(len(self._persons))]
            email = person["email"]
        else:
            person = g.make_person(rng, self._taken)
            self._persons.append(person)
            self._person_by_email[person["email"]] = person
            email = person["email"]
        stamp = self._stamp()
        at = g.ts(stamp)
        if start_time is not None:
            start = _naive_utc(start_time)
            joinable = self._joinable(meta["uuid"], g.ts(start), at)
            ev = joinable[0] if joinable else None
        else:  # the future as seen from both the history and the wall clock
            ref = max(stamp, self._now)
            joinable = self._joinable(meta["uuid"], None, g.ts(ref))
            ev = joinable[rng.randrange(len(joinable))] if joinable else None
            lo = ref + timedelta(hours=1)
            start = g.slot_time(rng, lo, lo + timedelta(days=max(self._future_days, 7)),
                                timedelta(minutes=d["duration"]))
        if ev is None:
            hosts = [rng.choice(meta["hosts"])] if d["pooling"] == "round_robin" else list(meta["hosts"])
            ev = self._new_event(rng, meta["uuid"], start, hosts, at)
        first, last = person["first"], person["last"]
        if name:  # the name the booker typed on the booking page
            first, _, last = name.strip().partition(" ")
        fields = {"email": email, "first_name": first if d["split"] else None,
                  "last_name": (last or None) if d["split"] else None,
                  "name": f"{first} {last}".strip(),
                  "questions_and_answers": g.answers(rng, d["questions"], person),
                  "timezone": person["timezone"], "tracking": {**g.tracking(rng, self.shape.utm), **(tracking or {})},
                  "text_reminder_number": person["phone"] if person["sms"] else None, "phone": person["phone"]}
        for guest in guests or ():  # the booker added them on the booking page
            ev["event_guests"].append({"email": guest, "created_at": at, "updated_at": at})
            ev["updated_at"] = at
        inv = self._attach(rng, ev, fields, at)
        if submission is not None:  # booked from a routing form: each names the other
            inv["routing_form_submission"] = submission["uri"]
            submission.update(submitter=inv["uri"], submitter_type="Invitee", updated_at=at)
        self._emit_invitee("invitee.created", at, inv)
        return inv["uri"]

    def add_booking(self, event_type_uri: str | None = None, start_time=None, email: str | None = None,
                    tracking: dict | None = None, guests: list | None = None) -> str:
        """A new booking (future by default): a new event, or a new invitee on an existing
        group event with room (whose counter and updated_at change). Returns the invitee uri.
        ``email`` is stored as spelled; ``tracking``: UTM values the booking link carried (any text,
        as Calendly keeps what the link says), over the generated ones; ``guests``: addresses the
        booker adds, in the event's ``event_guests`` (the generator gives 4% of events one)."""
        with self.lock:
            return self._add_booking(self._rng, event_type_uri, start_time, email, tracking=tracking,
                                     guests=guests)

    def add_routing_form_submission(self, form_uri: str | None = None, *, routed: bool = False) -> str:
        """Someone fills in a routing form (a random one by default) and is not routed to a booking:
        a message, a link, or a booking page they leave (``routed``: always a booking page, which
        :meth:`book_from_submission` books later). Returns the submission uri."""
        with self.lock:
            rng = self._rng
            if form_uri is None:
                keys = [key for key in self._form_keys if not routed or self._bookable_routes(key[1])]
                if not keys:
                    raise ValueError("the account has no routing forms" + (" routing to a bookable event type"
                                                                           if routed and self._forms else ""))
                form = self._forms[keys[rng.randrange(len(keys))][1]]
            else:
                form = self._forms.get(_uuid_of(form_uri))
                if form is None or form["uri"] != form_uri:
                    raise KeyError(f"unknown routing form {form_uri}")
            if rng.random() < 0.5:  # someone who booked before, or a new face
                person = self._persons[rng.randrange(len(self._persons))]
            else:
                person = g.make_person(rng, self._taken)
                self._persons.append(person)
                self._person_by_email[person["email"]] = person
            at = g.ts(self._stamp())
            form_uuid = _uuid_of(form["uri"])
            # Routed: to a page someone can book (a type switched off or deleted takes no booking).
            routes = self._bookable_routes(form_uuid) if routed else self._form_routes[form_uuid]
            sub = g.unrouted_submission(rng, form, routes, self._type_uris, person, at, self.shape.utm,
                                        routed=routed)
            self._add_unknown_fields(rng, sub, "routing_form_submission")
            uuid = _uuid_of(sub["uri"])
            self._subs[uuid] = sub
            insort(self._sub_keys, (at, uuid))
            if self._listeners:
                self._emit("routing_form_submission.created", at, sub)
            return sub["uri"]

    def _bookable_routes(self, form_uuid: str) -> tuple:
        """The keys of the live event types a form routes to."""
        return tuple(k for k in self._form_routes[form_uuid] if self._is_live(_uuid_of(self._type_uris[k])))

    def set_event_type_active(self, event_type_uri: str, active: bool) -> None:
        """A host switches an event type off (no new bookings; still listed) or on again. No webhook
        event tells of it: only listing the event types again does."""
        with self.lock:
            t = self._event_types.get(_uuid_of(event_type_uri))
            if t is None or t["uri"] != event_type_uri or t["deleted_at"] is not None:
                raise KeyError(f"unknown or deleted event type {event_type_uri}")
            if t["active"] != active:
                t.update(active=active, updated_at=g.ts(self._stamp()))

    def withhold_scope(self, user_uri: str, scope: str, withheld: bool = True) -> None:
        """The user's token lacks ``scope`` (Calendly's authorization scopes, e.g. ``scheduling_links:write``):
        the endpoints that need it answer 403. Only the scopes the sandbox's endpoints check are honoured."""
        with self.lock:
            scopes = self._withheld_scopes.setdefault(user_uri, set())
            (scopes.add if withheld else scopes.discard)(scope)

    def lacks_scope(self, user_uri: str, scope: str) -> bool:
        return scope in self._withheld_scopes.get(user_uri, ())

    def book_from_submission(self, submission_uri: str, start_time=None) -> str:
        """The person who filled in a submission routed to a booking page books it, later: a new invitee
        of that event type (answering with the submission's email) whose ``routing_form_submission`` names
        the submission, whose ``submitter`` and ``updated_at`` change with it. Calendly fires
        ``invitee.created`` only: no webhook event says the submission changed. Returns the invitee uri."""
        with self.lock:
            sub = self._subs.get(_uuid_of(submission_uri))
            if sub is None or sub["uri"] != submission_uri:
                raise KeyError(f"unknown routing form submission {submission_uri}")
            if sub["submitter"] is not None:
                raise ValueError(f"already booked: {submission_uri}")
            if sub["result"]["type"] != "event_type":
                raise ValueError(f"not routed to a booking page: {submission_uri}")
            form = self._forms[_uuid_of(sub["routing_form"])]
            asked = {q["name"] for q in form["questions"] if q["type"] == "email"}
            email = next((a["answer"] for a in sub["questions_and_answers"] if a["question"] in asked and a["answer"]),
                         None)
            return self._add_booking(self._rng, sub["result"]["value"], start_time, email, submission=sub)

    # ------------------------------------------------------------------ single-use scheduling links
    def create_scheduling_link(self, event_type_uri: str, creator: str | None = None) -> dict:
        """Mint a single-use link that books ``event_type_uri`` once (what POST /scheduling_links does;
        the server checks the caller may). Returns the API resource."""
        with self.lock:
            t = self._event_types.get(_uuid_of(event_type_uri))
            if t is None or t["uri"] != event_type_uri or t["deleted_at"] is not None:
                raise KeyError(f"unknown or deleted event type {event_type_uri}")
            if not t["active"]:
                raise ValueError(f"event type is not active: {event_type_uri}")
            rng = self._link_rng
            abc = "abcdefghijklmnopqrstuvwxyz0123456789"
            code = "".join(rng.choice(abc) for _ in range(4)) + "-" + "".join(rng.choice(abc) for _ in range(4))
            while code in self._links:
                code = code[:5] + "".join(rng.choice(abc) for _ in range(4))
            # Calendly's single-use links look like https://calendly.com/d/abcd-brv8/15-minute-meeting
            url = f"{g.WEB}/d/{code}/{t['slug']}"
            self._links[code] = {"booking_url": url, "owner": t["uri"], "owner_type": "EventType",
                                 "created_at": g.ts(self._stamp()), "creator": creator, "used_by": None}
            return {"booking_url": url, "owner": t["uri"], "owner_type": "EventType"}

    def scheduling_links(self) -> list:
        """Every link minted, oldest first: booking_url, owner, owner_type, created_at, creator (user uri
        or None) and used_by (the invitee uri that consumed it, or None)."""
        with self.lock:
            return [dict(link) for link in self._links.values()]

    def book_with_link(self, booking_url: str, email: str, name: str | None = None, start=None) -> str:
        """Someone books through a single-use link: a new invitee of the link's event type (``start``:
        when, default a free future slot), ``invitee.created`` as for any booking. The link is then used
        up: booking with it again raises ValueError, as Calendly's page no longer offers it. Returns the
        invitee uri."""
        with self.lock:
            link = self._links.get(booking_url.rstrip("/").split("/d/", 1)[-1].split("/", 1)[0])
            if link is None or link["booking_url"] != booking_url:
                raise KeyError(f"unknown scheduling link {booking_url}")
            if link["used_by"] is not None:
                raise ValueError(f"this single-use link has already been used: {booking_url}")
            invitee = self._add_booking(self._rng, link["owner"], start, email, name=name)
            link["used_by"] = invitee
            return invitee

    # ------------------------------------------------------------------ invitee data deletion
    def request_invitee_deletion(self, emails: list, requested_by: str | None = None) -> dict:
        """What POST /data_compliance/deletion/invitees asks for: carried out now, or, when
        ``hold_deletions`` is set, left pending until :meth:`complete_deletions`. Returns the request."""
        with self.lock:
            request = {"emails": sorted({e.lower() for e in emails}), "sent": list(emails), "requested_by": requested_by,
                       "requested_at": g.ts(self._stamp()), "completed_at": None}
            self._deletions.append(request)
            if not self.hold_deletions:
                self._erase(request)
            return dict(request)

    def deletion_requests(self) -> list:
        """Every deletion request, oldest first (completed_at None while pending)."""
        with self.lock:
            return [dict(r) for r in self._deletions]

    def complete_deletions(self) -> int:
        """Carry out the pending deletion requests (Calendly's "up to 7 days" elapsing). Returns how many."""
        with self.lock:
            pending = [r for r in self._deletions if r["completed_at"] is None]
            for r in pending:
                self._erase(r)
            return len(pending)

    def _erase(self, request: dict) -> None:
        """Calendly's invitee data deletion, as its help center describes it: the invitee's name is
        deleted, the email anonymized (``<hex>@deleted.calendly.com``) and the questions and answers
        deleted; the booking itself (event, invitee uri, status, no-show) stays. The name also lives in
        an invitee's own cancellation (``canceled_by``) and the phone in ``text_reminder_number``; both
        go too, so nothing served names the person; so does the person's entry among any event's guests
        (a guest is an email and nothing else). Routing form submissions answered with that email, or
        submitted by an erased invitee, lose their answers. No webhook event tells of it."""
        gone = set(request["emails"])
        at = g.ts(self._stamp())
        erased = set()
        for email in gone:
            for eu in list(self._email_events.pop(email, {})):
                ev = self._events[eu]
                for inv in self._invitees_by_event[eu]:
                    if inv["email"].lower() != email:
                        continue
                    anon = hashlib.sha256(inv["uri"].encode()).hexdigest()[:14] + "@deleted.calendly.com"
                    for c in (inv.get("cancellation"), ev.get("cancellation")):
                        if c and c["canceler_type"] == "invitee" and c["canceled_by"] == inv["name"]:
                            c["canceled_by"] = ""
                    inv.update(email=anon, name="", first_name=None, last_name=None, questions_and_answers=[],
                               text_reminder_number=None, updated_at=at)
                    self._email_events.setdefault(anon, {})[eu] = None
                    erased.add(inv["uri"])
            person = self._person_by_email.pop(email, None)
            if person is not None:  # random activity must not book them again
                self._persons.remove(person)
        for ev in self._events.values():  # a guest is named by email alone, on any event
            if any(gst["email"].lower() in gone for gst in ev["event_guests"]):
                ev["event_guests"] = [gst for gst in ev["event_guests"] if gst["email"].lower() not in gone]
        for sub in self._subs.values():
            answered = any(isinstance(a.get("answer"), str) and a["answer"].strip().lower() in gone
                           for a in sub["questions_and_answers"])
            if answered or sub["submitter"] in erased:
                sub.update(questions_and_answers=[], updated_at=at)
        request["completed_at"] = at

    def apply_random_changes(self, seed: int, cancels: int = 20, reschedules: int = 10,
                             no_shows: int = 10, new_bookings: int = 30) -> dict:
        """A day's worth of activity. "Future" and the 7-day no-show window are relative to the
        account's ``now``; which rows change depends only on ``seed`` and the account state."""
        rng = random.Random(seed)
        with self.lock:
            now_s = g.ts(self._now)
            window_s = g.ts(self._now - g.NO_SHOW_WINDOW)
            future, recent = [], []
            for start, eu in self._event_keys:
                ev = self._events[eu]
                if ev["status"] != "active":
                    continue
                if start > now_s:
                    if self._is_live(_uuid_of(ev["event_type"])):  # bookings of a deleted type are left alone
                        future += [i["uri"] for i in self._invitees_by_event[eu] if i["status"] == "active"]
                elif window_s <= ev["end_time"] <= now_s:
                    recent += [i["uri"] for i in self._invitees_by_event[eu]
                               if i["status"] == "active" and not i["no_show"]]
            picked = rng.sample(future, min(len(future), cancels + reschedules))
            out = {"canceled": [], "rescheduled": [], "no_shows": [], "added": []}
            for uri in picked[:cancels]:
                by = "host" if rng.random() < 0.3 else "invitee"
                reason = None if rng.random() < 0.35 else rng.choice(g.REASONS)
                eu, inv = self._active_invitee(uri)
                self._cancel(eu, inv, by, reason, g.ts(self._stamp()))
                out["canceled"].append(uri)
            for uri in picked[cancels:]:
                old_start = _naive_utc(self._events[self._invitees[_uuid_of(uri)][0]]["start_time"])
                new_start = old_start + timedelta(days=rng.randint(1, 14))
                if new_start.weekday() >= 5:
                    new_start += timedelta(days=7 - new_start.weekday())
                out["rescheduled"].append((uri, self._reschedule(rng, uri, new_start)))
            for uri in rng.sample(recent, min(len(recent), no_shows)):
                self._mark(rng, self._active_invitee(uri)[1])
                out["no_shows"].append(uri)
            for _ in range(new_bookings):
                out["added"].append(self._add_booking(rng))
            return out
