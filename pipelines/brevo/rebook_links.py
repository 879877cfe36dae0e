"""Re-booking links: one single-use Calendly scheduling link per re-booking episode, for Brevo.

Who is in an episode is dbt's: `marts.brevo_contacts.rebook_invitee_uri` is the contact's latest
booking when it is cancelled or a no-show, with its event type (`rebook_event_type_uri`) and whether
that type can take a booking (`rebook_bookable`: active, not deleted). Here: which episodes still need
a link, minting it (`POST /scheduling_links`, `max_event_count: 1`, owner the event type), and the
record of each one in `brevo_sync.rebook_links`.

One link per episode: a link is recorded the moment Calendly has answered, in its own statement
(autocommit), before the next is asked for; a rerun finds it and mints none. A sync killed mid-minting
mints again at most the one link whose answer it had not recorded. dlt's retrying session retries 5xx
and dropped connections, and Calendly has no idempotency key here, so an answer lost after Calendly
made the link leaves one unused link behind (never two in Brevo). A 4xx for one episode (404: the type
is gone, 400: switched off, 403: not this token's to link) is recorded as `refused` and asked again only
REBOOK_REFUSED_RETRY_AFTER_DAYS later (the type may be switched back on, the permission granted); a run
whose first REBOOK_FORBIDDEN_STOP answers are all 403 stops asking (the token lacks the
`scheduling_links:write` scope, say) and its line says so; a 401 leaves the links to a run with a valid
token, as a missing token does, and the contacts and events still go. Calendly down past the retries
stops the minting of this run (that episode is `failed`, tried again next run, as are those not
reached). Types the warehouse knows cannot take a booking (switched off, deleted, one-off, a poll) are
skipped without a request, and minted for if they take bookings again.

Within Calendly's rate budget: requests are paced on `X-RateLimit-*` (pipelines/pacing.py) and one run
mints at most `rebooking_links.max_per_run` links and at most REBOOK_RATE_SHARE of the window's
`X-RateLimit-Limit` (of the Free plan's 50 when Calendly announces none), newest episodes first; the rest
wait for later runs (bench/rebook_links_bench.py).

The link reaches Brevo as an attribute of the contact (`attach`): the contact's payload hash takes the
link in, only when there is one, so minting resends that contact and enabling the feature resends no
other. When the episode ends the attribute is blanked (an import with `emptyContactsAttributes`), and
the link's row is marked `cleared_at`.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

import requests

from ..config import Settings
from ..exceptions import ConfigError
from ..mapping import Mapping
from ..pacing import RateLimitPacer
from ..progress import Progress
from ..warehouse import Connection
from .contacts import TABLE, BrevoContact
from .settings import (REBOOK_ASSUMED_LIMIT, REBOOK_FORBIDDEN_STOP, REBOOK_MAX_ATTEMPTS, REBOOK_RATE_SHARE,
                       REBOOK_REFUSED_RETRY_AFTER_DAYS)
from .state import SCHEMA

STATE = f"{SCHEMA}.rebook_links"


@dataclass(frozen=True)
class Episode:
    invitee_uri: str  # the cancelled or no-show booking: the episode's key
    email: str
    event_type_uri: str
    bookable: bool


@dataclass
class LinksSummary:
    due: int = 0  # episodes without a link (bookable or not)
    minted: int = 0
    refused: int = 0  # Calendly said no for that episode (4xx): not asked again
    failed: int = 0  # Calendly did not answer (5xx, network, past the retries): asked again next run
    skipped: int = 0  # the event type takes no bookings: no request
    left: int = 0  # bookable, not asked this run (the cap, or Calendly down): later runs
    would_mint: int = 0  # dry run
    requests: int = 0
    throttled: int = 0  # 429s received
    seconds: float = 0.0
    not_minted: str | None = None  # why no link could be asked for this run (no Calendly token)
    stopped: str | None = None  # why this run stopped asking (every answer a 403)

    def line(self) -> str:
        if self.not_minted:
            return f"re-booking links not minted, {self.left:,} waiting: {self.not_minted}"
        extra = "".join(f", {n:,} {what}" for n, what in ((self.refused, "refused by Calendly"),
                                                          (self.failed, "failed (retried next run)"),
                                                          (self.left, "left for the next run")) if n)
        return f"{self.minted:,} re-booking links minted{extra}" + (f" ({self.stopped})" if self.stopped else "")


def due_episodes(con: Connection) -> list[Episode]:
    """Episodes with no link yet (none recorded, the last try failed, or refused long enough ago), newest
    booking first. An address Brevo would refuse gets none: the link could not reach it."""
    has_state = con.has_table(SCHEMA, "rebook_links")
    state_join = f"left join {STATE} as state on state.invitee_uri = b.rebook_invitee_uri" if has_state else ""
    retry_before = datetime.now(timezone.utc) - timedelta(days=REBOOK_REFUSED_RETRY_AFTER_DAYS)
    not_done = ("and (state.outcome is null or state.outcome = 'failed' or (state.outcome = 'refused' "
                "and coalesce(state.tried_at, %s) <= %s))") if has_state else ""
    rows = con.execute(
        f"""select b.rebook_invitee_uri, b.email, b.rebook_event_type_uri, b.rebook_bookable
            from {TABLE} as b
            inner join marts.contacts as c on c.email = b.email
            {state_join}
            where b.rebook_invitee_uri is not null and b.email_is_valid {not_done}
            order by c.last_booked_at desc, b.rebook_invitee_uri""",
        [retry_before, retry_before] if has_state else []).fetchall()
    return [Episode(uri, email, event_type, bool(bookable)) for uri, email, event_type, bookable in rows]


def _record(con: Connection, run_id: str, episode: Episode, outcome: str, booking_url: str | None = None,
            reason: str | None = None) -> None:
    """One episode's outcome (minted | refused | failed), committed at once: the once-per-episode record."""
    now = datetime.now(timezone.utc)
    con.execute(
        f"""insert into {STATE} (invitee_uri, email, event_type_uri, booking_url, outcome, attempts,
                                 minted_at, last_run_id, last_error, cleared_at, tried_at)
            values (%s, %s, %s, %s, %s, 1, %s, %s, %s, null, %s)
            on conflict (invitee_uri) do update set email = excluded.email,
                event_type_uri = excluded.event_type_uri, booking_url = excluded.booking_url,
                outcome = excluded.outcome, attempts = {STATE}.attempts + 1, minted_at = excluded.minted_at,
                last_run_id = excluded.last_run_id, last_error = excluded.last_error, tried_at = excluded.tried_at""",
        [episode.invitee_uri, episode.email, episode.event_type_uri, booking_url, outcome,
         now if outcome == "minted" else None, run_id, reason, now])


def _calendly_words(response: requests.Response) -> str:
    """Calendly's own reason for a refusal, in one line."""
    try:
        body = response.json()
        detail = "; ".join(f"{d.get('parameter', '')}: {d.get('message', '')}" for d in body.get("details") or [])
        text = f"{response.status_code} {body.get('title', '')}: {body.get('message', '')}" + (
            f" ({detail})" if detail else "")
    except (ValueError, AttributeError):
        text = f"{response.status_code} {response.text[:200]}"
    return f"POST /scheduling_links failed: {text}".splitlines()[0][:500]


def _token(settings: Settings) -> tuple[str | None, str | None]:
    """(the Calendly token, None), or (None, why there is none) in one line."""
    try:
        return settings.require_calendly_token(), None
    except ConfigError as exc:
        return None, (f"{exc} (re-booking links are minted with it; or set `rebooking_links: "
                      "{enabled: false}` in the mapping)")


def mint_links(con: Connection, settings: Settings, mapping: Mapping, run_id: str,
               progress: Progress | None = None, before: Callable[[], None] | None = None) -> LinksSummary:
    """Mint a link for each due episode whose event type takes bookings, up to the run's cap.
    `before` runs once before Calendly is first asked (the sync checks Brevo's key there)."""
    from ..calendly.client import calendly_client  # dlt's client: loaded only when links are minted

    started = time.monotonic()
    summary = LinksSummary()
    episodes = due_episodes(con)
    bookable = [e for e in episodes if e.bookable]
    summary.due, summary.skipped = len(episodes), len(episodes) - len(bookable)
    if not bookable:
        return summary
    token, missing = _token(settings)
    if token is None:
        # The contacts and events need no Calendly token: they go, and the line says what is missing.
        summary.left, summary.not_minted = len(bookable), missing
        return summary
    if before:
        before()
    pacer = RateLimitPacer()
    counter = [0]

    def sent() -> None:
        counter[0] += 1

    client = calendly_client(settings.calendly_api_url, token, pacer, max_workers=1,
                             max_attempts=REBOOK_MAX_ATTEMPTS, on_send=sent)
    cap = mapping.rebooking_links.max_per_run
    asked = forbidden = 0
    for n, episode in enumerate(bookable):
        # The cap: the mapping's, and a share of the window Calendly announces (50 a minute on Free).
        window = pacer.limit or REBOOK_ASSUMED_LIMIT
        if asked >= cap or asked >= max(1, int(window * REBOOK_RATE_SHARE)):
            summary.left = len(bookable) - n
            break
        if forbidden >= REBOOK_FORBIDDEN_STOP and forbidden == asked:  # every answer so far a 403
            summary.left = len(bookable) - n
            summary.stopped = (f"Calendly answered 403 to all {forbidden} asked, so the rest wait: the token "
                               "needs the scheduling_links:write scope and the event types' hosts, or set "
                               "`rebooking_links: {enabled: false}` in the mapping")
            break
        asked += 1
        body = {"max_event_count": 1, "owner": episode.event_type_uri, "owner_type": "EventType"}
        try:
            response = client.post("/scheduling_links", json=body)
        except requests.RequestException as exc:  # past the retries: Calendly unreachable, try next run
            _record(con, run_id, episode, "failed", reason=f"POST /scheduling_links failed: {exc}".splitlines()[0][:500])
            summary.failed += 1
            summary.left = len(bookable) - n - 1
            break
        status = response.status_code
        if status == 401:  # the token, not this episode: nothing recorded, the links wait as without one
            summary.left = len(bookable) - n
            summary.not_minted = ("Calendly rejected the token (401): set CALENDLY_ACCESS_TOKEN to a valid "
                                  "token (or set `rebooking_links: {enabled: false}` in the mapping)")
            break
        forbidden += status == 403
        url = _booking_url(response) if 200 <= status < 300 else None
        if url:
            _record(con, run_id, episode, "minted", booking_url=url)
            summary.minted += 1
            if progress:
                progress.add(links_minted=1)
        elif 400 <= status < 500 and status != 429:
            _record(con, run_id, episode, "refused", reason=_calendly_words(response))
            summary.refused += 1
        else:  # 5xx or 429 past the retries, or a 2xx without a link: Calendly is not well, try next run
            reason = _calendly_words(response) if not (200 <= status < 300) else \
                "POST /scheduling_links answered without resource.booking_url"
            _record(con, run_id, episode, "failed", reason=reason)
            summary.failed += 1
            summary.left = len(bookable) - n - 1
            break
    summary.requests = counter[0]
    summary.throttled = pacer.throttled
    summary.seconds = time.monotonic() - started
    return summary


def _booking_url(response: requests.Response) -> str | None:
    try:
        url = (response.json().get("resource") or {}).get("booking_url")
    except (ValueError, AttributeError):
        return None
    return url if isinstance(url, str) and url else None


def would_mint(con: Connection, mapping: Mapping) -> LinksSummary:
    """The dry run's count: what `mint_links` would ask Calendly for (its cap included), asking nothing."""
    episodes = due_episodes(con)
    bookable = sum(e.bookable for e in episodes)
    cap = mapping.rebooking_links.max_per_run
    return LinksSummary(due=len(episodes), skipped=len(episodes) - bookable, would_mint=min(bookable, cap),
                        left=max(bookable - cap, 0))


def with_link(payload_hash: str, attribute: str, booking_url: str) -> str:
    """The payload hash with the link in it: changes when the link does, and only for contacts with one."""
    return hashlib.sha256(f"{payload_hash}\n{attribute}={booking_url}".encode()).hexdigest()


def attach(con: Connection, mapping: Mapping, contacts: list[BrevoContact]) -> None:
    """Give each contact its current episode's link (attribute and hash), and mark for blanking the
    attribute of contacts whose episode ended while Brevo holds a link of theirs."""
    if not con.has_table(SCHEMA, "rebook_links"):
        return
    attribute = mapping.rebooking_links.attribute
    current = dict(con.execute(
        f"""select b.email, s.booking_url from {TABLE} as b
            inner join {STATE} as s on s.invitee_uri = b.rebook_invitee_uri
            where s.outcome = 'minted'""").fetchall())
    ended = {email for (email,) in con.execute(
        f"""select distinct s.email from {STATE} as s
            left join {TABLE} as b on b.email = s.email
            where s.outcome = 'minted' and s.cleared_at is null
              and (b.rebook_invitee_uri is null or b.rebook_invitee_uri <> s.invitee_uri)""").fetchall()}
    for contact in contacts:
        url = current.get(contact.email)
        if url:
            contact.attributes[attribute] = url
            contact.payload_hash = with_link(contact.payload_hash, attribute, url)
        elif contact.email in ended:
            contact.blank.append(attribute)


def mark_cleared(con: Connection, emails: list[str]) -> None:
    """The ended episodes' links of these contacts are blanked in Brevo."""
    if not emails:
        return
    now = datetime.now(timezone.utc)
    with con.transaction():
        con.executemany(
            f"""update {STATE} set cleared_at = %s
                where email = %s and outcome = 'minted' and cleared_at is null
                  and invitee_uri not in (select rebook_invitee_uri from {TABLE}
                                          where email = %s and rebook_invitee_uri is not null)""",
            [(now, email, email) for email in emails])
