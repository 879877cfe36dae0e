"""Calendly webhook subscriptions (`calendly-elt webhooks subscribe|list|delete`).

Subscribing sends the signing key that `webhooks serve` verifies with (CALENDLY_WEBHOOK_SIGNING_KEY), so
the two always agree. The key is never printed or logged: the create request goes through the client's
session, below the RESTClient, whose debug log would print request bodies.

Creating is made idempotent by hand: Calendly answers 409 when the URL is already subscribed in that
scope (our own POST, retried after a lost answer, gets that too), so a 409 looks the subscription up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import requests
from dlt.sources.helpers.rest_client import RESTClient

from ..calendly.client import calendly_client
from ..calendly.landed import INVITEE_EVENTS, WEBHOOK_EVENTS
from ..calendly.settings import DEFAULT_MAX_ATTEMPTS, PAGE_SIZE
from ..config import Settings
from ..exceptions import ConfigError
from ..pacing import RateLimitPacer

ORGANIZATION_EVENTS = WEBHOOK_EVENTS
USER_EVENTS = INVITEE_EVENTS  # Calendly sends routing form submissions to organization scope only
SCOPES = ("organization", "user")
PATH = "/webhook_subscriptions"


class SubscriptionError(Exception):
    """Why a subscription command failed, in one line that says what to do."""


@dataclass(frozen=True)
class Outcome:
    created: bool  # False: it already existed with these events
    subscription: dict


def signing_key(settings: Settings | None = None) -> str:
    """CALENDLY_WEBHOOK_SIGNING_KEY of `settings` (None: of the environment)."""
    key = (settings or Settings.from_env()).webhook_signing_key
    if not key:
        raise ConfigError("CALENDLY_WEBHOOK_SIGNING_KEY is not set: export the key Calendly should sign deliveries "
                          "with (the one `calendly-elt webhooks serve` verifies them with)")
    return key


def default_events(scope: str) -> tuple[str, ...]:
    return ORGANIZATION_EVENTS if scope == "organization" else USER_EVENTS


def client_for(settings: Settings) -> RESTClient:
    return calendly_client(settings.calendly_api_url, settings.require_calendly_token(), RateLimitPacer(),
                           max_workers=1, max_attempts=DEFAULT_MAX_ATTEMPTS)


def _detail(response: requests.Response) -> str:
    """Calendly's error title and message (and the first parameter detail), or the HTTP reason."""
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    if not isinstance(body, dict):
        return response.reason or ""
    text = f"{body.get('title', '')}: {body.get('message', '')}".strip(": ")
    details = body.get("details")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        text += f" – {details[0].get('parameter', '')} {details[0].get('message', '')}".rstrip()
    return text


def _org_scope_denied(response: requests.Response, what: str) -> SubscriptionError:
    return SubscriptionError(f"organization scope needs a token of an organization owner or admin (403 "
                             f"{_detail(response)}): use --scope user to {what}")


class Subscriptions:
    """The webhook subscriptions of the token's organization, or of its user."""

    def __init__(self, client: RESTClient):
        self.client = client
        me = self._ok(client.get("/users/me")).json()["resource"]
        self.user: str = me["uri"]
        self.organization: str = me["current_organization"]

    @staticmethod
    def _ok(response: requests.Response) -> requests.Response:
        response.raise_for_status()  # an HTTPError that pipelines.errors.describe turns into one line
        return response

    def _scope_params(self, scope: str) -> dict:
        params = {"organization": self.organization, "scope": scope}
        if scope == "user":
            params["user"] = self.user
        return params

    def list(self, scope: str = "organization") -> list[dict]:
        try:
            params = {**self._scope_params(scope), "count": PAGE_SIZE}
            return [item for page in self.client.paginate(PATH, params=params) for item in page]
        except requests.HTTPError as exc:
            if exc.response is not None and exc.response.status_code == 403 and scope == "organization":
                raise _org_scope_denied(exc.response, "list your own subscriptions") from None
            raise

    def subscribe(self, url: str, key: str, scope: str = "organization",
                  events: Iterable[str] | None = None) -> Outcome:
        events = list(dict.fromkeys(events or default_events(scope)))  # unique, in the order given
        if scope == "user" and not set(events) <= set(USER_EVENTS):
            raise SubscriptionError("routing_form_submission.created is only sent to organization scope: "
                                    "drop that --event or use --scope organization")
        body = {"url": url, "events": events, "organization": self.organization, "scope": scope,
                "signing_key": key}
        if scope == "user":
            body["user"] = self.user
        # The session, not RESTClient.post: RESTClient logs request bodies at debug level.
        response = self.client.session.post(f"{self.client.base_url.rstrip('/')}{PATH}", json=body,
                                            auth=self.client.auth)
        if response.status_code == 201:
            return Outcome(True, response.json()["resource"])
        if response.status_code == 409:
            return Outcome(False, self._existing(url, scope, events))
        if response.status_code == 403 and scope == "organization":
            raise _org_scope_denied(response, "subscribe to the events you host")
        if response.status_code == 400:
            raise SubscriptionError(f"Calendly refused the subscription (400 {_detail(response)})")
        self._ok(response)
        raise SubscriptionError(f"unexpected answer from Calendly to {PATH} (HTTP {response.status_code})")

    def _existing(self, url: str, scope: str, events: list[str]) -> dict:
        """After a 409: the subscription of `url`, if it has exactly these events."""
        found = next((s for s in self.list(scope) if s["callback_url"] == url), None)
        if found is None:
            raise SubscriptionError(f"Calendly says {url} is already subscribed, but it is not among the {scope}-scope "
                                    "subscriptions this token can list: ask an organization owner or admin to delete "
                                    "it")
        if set(found["events"]) != set(events):
            raise SubscriptionError(
                f"{url} is already subscribed with other events ({', '.join(found['events'])}): delete it first "
                f"with `calendly-elt webhooks delete {found['uri'].rsplit('/', 1)[-1]}`, then subscribe again")
        return found

    def delete(self, uri_or_uuid: str) -> str:
        """Delete by URI or UUID; returns the UUID."""
        uuid = uri_or_uuid.rstrip("/").rsplit("/", 1)[-1]
        if not uuid or "?" in uuid or "#" in uuid:
            raise SubscriptionError(f"{uri_or_uuid!r} is not a webhook subscription URI or UUID")
        response = self.client.request(f"{PATH}/{uuid}", method="DELETE")
        if response.status_code == 404:
            raise SubscriptionError(f"no webhook subscription {uuid} (404): `calendly-elt webhooks list` shows them")
        if response.status_code == 403:
            raise SubscriptionError(f"the token may not delete webhook subscription {uuid} (403 {_detail(response)}): "
                                    "use a token of an organization owner or admin, or of the subscription's user")
        self._ok(response)
        return uuid


def describe_subscription(sub: dict) -> str:
    """One line: uri, state, scope, callback_url, events."""
    return f"{sub['uri']}  {sub['state']}  {sub['scope']}  {sub['callback_url']}  {','.join(sub['events'])}"
