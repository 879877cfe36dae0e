"""The watchdog of our webhook subscription (`calendly-elt webhooks check [--repair]`, the Dagster sensor
and check).

Calendly retries a subscription whose deliveries fail for 24 hours, then disables it without an alert
(`state: disabled`; `retry_started_at` says when the failures began); a `410` from the receiver deletes
it; its callback URL cannot be changed. Until it is back, nothing tells the warehouse of a no-show marked
after the extract's no-show window, so a repair re-creates the subscription and extracts the gap again
with both windows widened to cover it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Optional

from ..calendly.helpers import parse_time
from ..calendly.landed import INVITEE_EVENTS, SUBMISSION_EVENTS
from ..calendly.settings import DEFAULT_LOOKBACK_DAYS, DEFAULT_NO_SHOW_WINDOW_DAYS
from ..config import Settings
from ..exceptions import ConfigError
from .subscriptions import SCOPES, SubscriptionError, Subscriptions, default_events

# What a healthy subscription must deliver. Not `routing_form_submission.created`: Calendly sends it to
# organization scope only, and without it the extract still lists each form's new submissions (one page a
# form); the submitter, filled in when the person books, comes with `invitee.created` (the invitee names
# its submission). With it as well, the extract lists no submissions (`Coverage.submissions`).
REQUIRED_EVENTS = INVITEE_EVENTS
CALENDLY_DISABLES_AFTER = timedelta(hours=24)
REPAIRABLE = ("missing", "disabled", "missing events")  # retrying: re-creating would not fix the receiver


@dataclass(frozen=True)
class Health:
    """The verdict for one callback URL: `problem` None (healthy), "missing", "disabled", "retrying" or
    "missing events"; `line` says it in one line; `since` is when the trouble began, if Calendly says."""
    url: str
    line: str
    problem: Optional[str] = None
    subscription: Optional[dict] = None
    scope: str = "organization"  # where it is, or where to create it
    since: Optional[datetime] = None
    organization_listable: bool = False  # the token may list organization-scope subscriptions (an admin's)

    @property
    def healthy(self) -> bool:
        return self.problem is None

    @property
    def repairable(self) -> bool:
        return self.problem in REPAIRABLE


@dataclass(frozen=True)
class Repaired:
    subscription: dict  # the new one
    catch_up_since: Optional[datetime]  # None: no extract yet, so the next one reads all history anyway
    extract_options: dict = field(default_factory=dict)  # run_extract's windows, widened to the gap

    def line(self, health: Health) -> str:
        """What was wrong and done, with the catch-up as a command: should it fail, it is the one to run."""
        catch_up = ""
        if self.catch_up_since:
            flags = " ".join(f"--{k.replace('_', '-')} {v:.2f}" for k, v in self.extract_options.items())
            catch_up = f"; catching up since {_shown(self.catch_up_since)} (calendly-elt extract {flags})"
        return f"repaired ({health.line}): re-created {self.subscription['uri']}{catch_up}"


def webhook_url(settings: Settings) -> str:
    if not settings.webhook_url:
        raise ConfigError("CALENDLY_WEBHOOK_URL is not set: export the public URL of `calendly-elt webhooks "
                          "serve`'s /webhooks/calendly, the one Calendly should call")
    return settings.webhook_url


def check(subs: Subscriptions, url: str) -> Health:
    """The health of the subscription calling `url`: organization scope first, then the token's user's
    (a token that may not list the organization's looks at its own only)."""
    found, create_in = None, None
    for scope in SCOPES:
        try:
            found = next((s for s in subs.list(scope) if s["callback_url"] == url), None)
        except SubscriptionError:  # organization scope, 403: not an owner's or admin's token
            continue
        create_in = create_in or scope
        if found is not None:
            break
    admin = create_in == "organization"
    if found is None:
        return Health(url, f"missing: no webhook subscription calls {url}", "missing", scope=create_in or "user",
                      organization_listable=admin)
    scope = found["scope"]
    started = parse_time(found["retry_started_at"]) if found.get("retry_started_at") else None
    if found["state"] != "active":
        since = f" (deliveries failing since {_shown(started)})" if started else ""
        return Health(url, f"disabled{since}: Calendly no longer calls {url}", "disabled", found, scope, started, admin)
    if started is not None:
        return Health(url, f"retrying since {_shown(started)}: deliveries to {url} fail; Calendly disables the "
                           f"subscription at {_shown(started + CALENDLY_DISABLES_AFTER)}", "retrying", found, scope,
                      started, admin)
    missing = [e for e in REQUIRED_EVENTS if e not in found["events"]]
    if missing:
        return Health(url, f"missing events {', '.join(missing)}: {url} gets only {', '.join(found['events'])}",
                      "missing events", found, scope, organization_listable=admin)
    return Health(url, f"healthy: {url} is active ({scope} scope, {len(found['events'])} events)", None, found, scope,
                  organization_listable=admin)


def repair(subs: Subscriptions, health: Health, key: str, last_extract: Optional[datetime],
           now: Optional[datetime] = None) -> Repaired:
    """Re-create the subscription, signed with `key` (a disabled one, or one without every event, is deleted
    first: its URL cannot be changed, and Calendly answers 409 to a duplicate); and the extract windows that
    cover the gap: since the failures began, else (gone without a trace) since the last extract."""
    if not health.repairable:
        raise SubscriptionError(f"{health.line}: not repaired (make the receiver answer 2xx; Calendly retries)"
                                if health.problem == "retrying" else f"{health.line}: nothing to repair")
    events = list(dict.fromkeys([*default_events(health.scope), *(health.subscription or {}).get("events", ())]))
    if health.subscription is not None:
        subs.delete(health.subscription["uri"])
    created = subs.subscribe(health.url, key, scope=health.scope, events=events).subscription
    since = health.since or last_extract
    return Repaired(created, since, catch_up_options(since, now or datetime.now(timezone.utc)) if since else {})


def catch_up_options(since: datetime, now: datetime) -> dict:
    """Re-list events from the gap's start less the usual lookback, and re-read the invitees of events that
    ended from then on: a no-show marked during the gap on an event that ended days before it is found."""
    gap_days = math.ceil(max((now - since).total_seconds(), 0.0) / 864) / 100  # rounded up: shown as a command
    return {"lookback_days": DEFAULT_LOOKBACK_DAYS + gap_days,
            "no_show_window_days": DEFAULT_NO_SHOW_WINDOW_DAYS + gap_days}


@dataclass(frozen=True)
class Coverage:
    """Whether the extract may trust the webhooks (`trusted`), and why, in one line; `submissions`: they
    delivered every new routing-form submission too."""
    trusted: bool
    why: str
    submissions: bool = False


def covers_since(subs: Subscriptions, url: str, previous_run: Optional[datetime]) -> Coverage:
    """Whether the subscription calling `url` delivered every invitee change since `previous_run`
    started: healthy now (active, not retrying – deliveries that failed were retried until they
    landed – with the four invitee events), created before that run, and of organization scope if
    the token's extract lists the organization's events (an admin's: a user-scope subscription is
    told of its user's events only). Then the extract may skip the no-show-window re-reads (issue 16)."""
    if previous_run is None:
        return Coverage(False, "first extract")
    health = check(subs, url)
    if not health.healthy:
        return Coverage(False, health.line)
    if health.scope == "user" and health.organization_listable:
        return Coverage(False, f"{url} is a user-scope subscription, told of its own user's events only, and this "
                               "admin's token extracts the whole organization's")
    created = parse_time(health.subscription["created_at"])
    if created > previous_run:
        return Coverage(False, f"the subscription dates from {_shown(created)}, after the previous extract began")
    submissions = set(SUBMISSION_EVENTS) <= set(health.subscription["events"])
    return Coverage(True, f"{url} delivered every change since {_shown(previous_run)}", submissions)


def _shown(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
