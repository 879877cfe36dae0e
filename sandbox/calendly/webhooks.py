"""Webhook subscriptions of the sandbox and their signed deliveries, made the way Calendly makes them.

For every change of the account, each subscription whose events and scope match gets a POST of
``{"event", "created_at", "created_by", "payload"}`` to its callback URL, signed with its key
(``Calendly-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t." + body>``). A non-2xx
answer, a connection error or a timeout is retried with backoff: the same body bytes, a fresh
signature. The account's listener only snapshots the payload (it runs under the account lock); one
worker thread sends, taking deliveries from a heap ordered by due time, so a receiver that fails
waits for its retry without holding up deliveries to the others.

What Calendly does to a receiver that keeps failing: the first failure sets ``retry_started_at``
(a success clears it); a failure ``disable_after`` seconds or more after it disables the subscription
(``state: disabled``, no alert, nothing delivered any more); a ``410 Gone`` deletes it.

The API rules (validation, permissions, 409) are in :class:`~.server.Api`; this module stores what
it accepted.
"""

from __future__ import annotations

import heapq
import itertools
import json
import secrets
import sys
import threading
import time
import traceback
import uuid as uuidlib
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from typing import Callable, Sequence
from urllib.parse import urlsplit

from . import generate as g
from .account import CalendlyAccount

EVENTS = ("invitee.created", "invitee.canceled", "invitee_no_show.created", "invitee_no_show.deleted",
          "routing_form_submission.created")
INVITEE_EVENTS = EVENTS[:4]  # the ones a user-scope subscription may take
DEFAULT_RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0)
DEFAULT_DISABLE_AFTER = 24 * 3600.0  # Calendly retries for 24 hours, then disables the subscription


@dataclass
class _Subscription:
    resource: dict  # exactly as the API serves it
    signing_key: str  # never served
    failing_since: float | None = None  # retry_started_at on the monotonic clock: when to disable


@dataclass(frozen=True)
class _Delivery:
    subscription: str  # uuid
    event: str
    body: bytes  # the same bytes on every attempt
    attempt: int = 1


def _now_ts() -> str:
    return g.ts(datetime.now(timezone.utc).replace(tzinfo=None))


class WebhookHub:
    """The subscriptions of one account and the worker that delivers to them.

    ``retry_delays``: seconds before each retry (their number is how many retries a delivery
    gets); ``timeout``: seconds a receiver has to answer; ``disable_after``: seconds of failing
    (from ``retry_started_at``) after which a failed attempt disables the subscription; ``on_attempt(ok)``
    is called after every attempt (the sandbox counts them in its stats). ``delivery_log`` lists every
    attempt.
    """

    def __init__(self, account: CalendlyAccount, *, retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
                 timeout: float = 10.0, disable_after: float = DEFAULT_DISABLE_AFTER,
                 on_attempt: Callable[[bool], None] | None = None):
        self.account = account
        self.retry_delays = tuple(float(d) for d in retry_delays)
        self.timeout = timeout
        self.disable_after = float(disable_after)
        self._on_attempt = on_attempt
        self._cond = threading.Condition()  # guards everything below; taken inside the account lock, never around it
        self._subs: dict[str, _Subscription] = {}
        self._keys: list[tuple] = []  # (created_at, uuid), ascending: what the list endpoint pages over
        self._heap: list[tuple] = []  # (due on the monotonic clock, sequence, delivery)
        self._seq = itertools.count()
        self._in_flight = 0
        self._thread: threading.Thread | None = None
        self._stop: threading.Event | None = None  # one per worker, so a restart never revives an old one
        self.delivery_log: list[dict] = []

    # ------------------------------------------------------------------ subscriptions (the API's store)
    def add(self, *, url: str, events: list, scope: str, organization: str, user: str | None, creator: str,
            signing_key: str | None) -> dict:
        """Store a subscription (the caller checked the rules); returns its resource."""
        uuid = str(uuidlib.uuid4())
        at = _now_ts()
        resource = {"uri": f"{self.account.base_uri}/webhook_subscriptions/{uuid}", "callback_url": url,
                    "created_at": at, "updated_at": at, "retry_started_at": None, "state": "active",
                    "events": list(events), "scope": scope, "organization": organization,
                    "user": user if scope == "user" else None, "creator": creator}
        with self._cond:
            self._subs[uuid] = _Subscription(resource, signing_key or secrets.token_urlsafe(32))
            self._keys.append((at, uuid))
            self._keys.sort()
            return json.loads(json.dumps(resource))

    def get(self, uuid: str) -> dict | None:
        with self._cond:
            sub = self._subs.get(uuid)
            return None if sub is None else json.loads(json.dumps(sub.resource))

    def keys(self) -> list:
        with self._cond:
            return list(self._keys)

    def find(self, url: str, scope: str, user: str | None) -> dict | None:
        """The subscription with this callback URL in this scope (and user), if any."""
        with self._cond:
            for sub in self._subs.values():
                r = sub.resource
                if r["callback_url"] == url and r["scope"] == scope and (scope == "organization" or r["user"] == user):
                    return json.loads(json.dumps(r))
        return None

    def remove(self, uuid: str) -> bool:
        """Delete a subscription; its pending deliveries and retries are dropped."""
        with self._cond:
            if self._subs.pop(uuid, None) is None:
                return False
            self._keys = [k for k in self._keys if k[1] != uuid]
            self._drop_queued(uuid)
            return True

    def disable(self, uuid: str, *, retry_started_at: str | None = None) -> dict:
        """The test knob: disable a subscription now, as Calendly does after a day of failures
        (``retry_started_at``: when its retrying began; default: as it is). Returns its resource."""
        with self._cond:
            sub = self._subs[uuid]
            if retry_started_at is not None:
                sub.resource["retry_started_at"] = retry_started_at
            self._disable(uuid, sub)
            return json.loads(json.dumps(sub.resource))

    def _disable(self, uuid: str, sub: _Subscription) -> None:
        sub.resource["state"] = "disabled"
        sub.resource["updated_at"] = _now_ts()
        self._drop_queued(uuid)

    def _drop_queued(self, uuid: str) -> None:
        self._heap = [item for item in self._heap if item[2].subscription != uuid]
        heapq.heapify(self._heap)
        self._cond.notify_all()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, args=(self._stop,), name="calendly-sandbox-webhooks",
                                            daemon=True)
        self.account.add_listener(self._on_change)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop delivering; what is still queued is dropped. Waits for an attempt in flight at most
        ``timeout`` seconds (default: the receiver timeout, capped at 5); the worker ends after it."""
        self.account.remove_listener(self._on_change)
        with self._cond:
            thread, self._thread = self._thread, None
            if self._stop is not None:
                self._stop.set()
            self._heap.clear()
            self._cond.notify_all()
        if thread is not None:
            thread.join(min(self.timeout, 5.0) if timeout is None else timeout)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued, due for a retry or in flight; False if ``timeout`` ran out."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    # ------------------------------------------------------------------ the account's listener
    def _on_change(self, event: str, created_at: str, payload: dict) -> None:
        with self._cond:
            if self._thread is None:
                return
            targets = [s.resource for s in self._subs.values() if _matches(s.resource, event, payload)]
            if not targets:
                return
            # Serialised now, under the account lock: later changes must not leak into this delivery.
            data = json.dumps(payload, separators=(",", ":"))
            due = time.monotonic()
            for r in targets:
                head = json.dumps({"event": event, "created_at": created_at, "created_by": r["creator"]},
                                  separators=(",", ":"))
                body = f'{head[:-1]},"payload":{data}}}'.encode()
                heapq.heappush(self._heap, (due, next(self._seq), _Delivery(_uuid_of(r["uri"]), event, body)))
            self._cond.notify_all()

    # ------------------------------------------------------------------ the worker
    def _run(self, stop: threading.Event) -> None:
        while True:
            with self._cond:
                while not stop.is_set() and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._cond.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                if stop.is_set():
                    return
                _, _, delivery = heapq.heappop(self._heap)
                sub = self._subs.get(delivery.subscription)
                if sub is None or sub.resource["state"] != "active":  # deleted or disabled since it was queued
                    continue
                url, key, sub_uri = sub.resource["callback_url"], sub.signing_key, sub.resource["uri"]
                self._in_flight += 1
            try:
                status, error = self._post(url, key, delivery.body)  # no lock held: receivers may be slow
            except Exception:  # a sandbox bug: say why, and keep the worker alive
                traceback.print_exc(file=sys.stderr)
                status, error = None, "sandbox error"
            ok = status is not None and 200 <= status < 300
            with self._cond:
                self._in_flight -= 1
                self.delivery_log.append({"subscription": sub_uri, "event": delivery.event,
                                          "attempt": delivery.attempt, "status": status, "error": error,
                                          "ts": time.time()})
                sub = self._subs.get(delivery.subscription)
                if sub is None or sub.resource["state"] != "active":  # deleted or disabled meanwhile
                    pass
                elif ok:
                    sub.resource["retry_started_at"], sub.failing_since = None, None
                elif status == 410:  # Gone: Calendly deletes the subscription
                    self.remove(delivery.subscription)  # the condition's lock is reentrant
                else:
                    now = time.monotonic()
                    if sub.failing_since is None:
                        sub.failing_since = now
                        if sub.resource["retry_started_at"] is None:
                            sub.resource["retry_started_at"] = _now_ts()
                    if now - sub.failing_since >= self.disable_after:
                        self._disable(delivery.subscription, sub)
                    elif delivery.attempt <= len(self.retry_delays) and not stop.is_set():
                        due = now + self.retry_delays[delivery.attempt - 1]
                        heapq.heappush(self._heap,
                                       (due, next(self._seq), replace(delivery, attempt=delivery.attempt + 1)))
                if self._on_attempt is not None:  # counted before wait_idle() can see the attempt done
                    self._on_attempt(ok)
                self._cond.notify_all()

    def _post(self, url: str, key: str, body: bytes) -> tuple[int | None, str | None]:
        """(status, None) for an answer, (None, why) when there was none. No redirects, no proxies."""
        # Imported here: pipelines.webhooks pulls in the settings and dlt, which a sandbox that
        # never delivers does not need.
        from pipelines.webhooks.signature import HEADER, sign

        parts = urlsplit(url)
        conn = (HTTPSConnection if parts.scheme == "https" else HTTPConnection)(
            parts.hostname, parts.port, timeout=self.timeout)
        headers = {"Content-Type": "application/json", "User-Agent": "Calendly-Webhooks-Sandbox/1.0",
                   HEADER: sign(body, key, int(time.time()))}  # signed per attempt: a retry is not a replay
        try:
            conn.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body, headers)
            response = conn.getresponse()
            response.read()
            return response.status, None
        except (OSError, HTTPException) as exc:  # refused, reset, timed out, garbled
            return None, f"{type(exc).__name__}: {exc}"[:200]
        finally:
            conn.close()


def _matches(sub: dict, event: str, payload: dict) -> bool:
    """Organization scope: every event of the org; user scope: invitee events of events the user hosts."""
    if sub["state"] != "active" or event not in sub["events"]:
        return False
    if sub["scope"] == "organization":
        return True
    event_row = payload.get("scheduled_event") or {}
    return any(m["user"] == sub["user"] for m in event_row.get("event_memberships", ()))


def _uuid_of(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]
