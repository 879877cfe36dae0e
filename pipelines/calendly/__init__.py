"""dlt source for the Calendly API v2.

Calendly cannot list what changed since a date, so the cost of a run is kept proportional to what
changed by three rules (see DESIGN.md, "Incremental extraction"):
- events are re-listed from `last run - lookback` onward (every future booking included);
- invitees are re-read only for events that are new, whose fingerprint (`updated_at`,
  `invitees_counter`, `status`) moved, or that ended inside the no-show window (none when a healthy
  webhook subscription delivered every change: `trust_webhooks`);
- only new or changed events are merged again (`_Changed`): the others are the rows already loaded;
- routing-form submissions are read newest first and stop at the last one already loaded (less a
  lookback, unless the webhooks deliver each new invitee's submission: `trust_webhooks`; not at all when
  they deliver the submissions too: `webhooks_deliver_submissions`);
- the small tables listed whole every run (event types, memberships, routing forms) and the re-read
  submissions merge only rows whose content changed (`_RowPrints`).
Webhook deliveries that landed since the last run (`landed`, see landed.py) are merged into the same
tables by the `landed_*` resources, so a cancellation reaches the warehouse without a full re-read.
The cursors live in dlt's source state, which commits atomically with the data it describes.

Why not `dlt.sources.incremental` for events: its cursor is the largest value seen, and the largest
`start_time` is a booking months ahead, so the next run would skip every earlier event that changed.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator, Optional, Sequence
from urllib.parse import urlsplit

import dlt
from dlt.sources import DltResource
from dlt.sources.helpers.rest_client import RESTClient
from requests import HTTPError

from ..progress import Progress
from .client import calendly_client
from .helpers import (
    drop_nulls,
    event_fingerprint,
    format_time,
    in_no_show_window,
    parse_time,
    relist_from,
    row_fingerprint,
    uuid_from_uri,
)
from ..pacing import RateLimitPacer
from .erased import ErasedPeople
from .landed import LandedBatch
from .phones import with_phone_numbers
from .scope import LazyScope, Scope
from .raw_contract import declare_tables
from .settings import (
    DEFAULT_API_URL,
    DEFAULT_LOOKBACK_DAYS,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_WORKERS,
    DEFAULT_NO_SHOW_WINDOW_DAYS,
    EVENT_COLUMNS,
    EVENT_NESTED_HINTS,
    EVENT_TYPE_COLUMNS,
    EVENT_TYPE_NESTED_HINTS,
    INVITEE_COLUMNS,
    INVITEE_NESTED_HINTS,
    MEMBERSHIP_COLUMNS,
    PAGE_SIZE,
    ROUTING_FORM_COLUMNS,
    ROUTING_FORM_NESTED_HINTS,
    ROUTING_SUBMISSION_COLUMNS,
    ROUTING_SUBMISSION_NESTED_HINTS,
)


@dlt.source(name="calendly", root_key=True)
def calendly_source(
    access_token: str = dlt.secrets.value,
    api_url: str = DEFAULT_API_URL,
    start_date: Optional[str] = None,
    lookback_days: float = DEFAULT_LOOKBACK_DAYS,
    no_show_window_days: float = DEFAULT_NO_SHOW_WINDOW_DAYS,
    max_workers: int = DEFAULT_MAX_WORKERS,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    progress: Any = None,
    landed: Optional[LandedBatch] = None,
    trust_webhooks: bool = False,
    webhooks_deliver_submissions: bool = False,
    token_user: Optional[dict] = None,
    erased: Optional[ErasedPeople] = None,
) -> Sequence[DltResource]:
    """Event types, scheduled events, invitees, memberships, routing forms and their submissions.

    `start_date` (ISO) bounds the first run's history; `progress` is a `pipelines.progress.Progress`;
    `landed` holds the webhook deliveries to merge (the `landed_*` resources; `LANDED_RESOURCES` selects
    them alone, for a run that reads nothing else). `trust_webhooks`: a healthy subscription delivered
    every invitee change since the previous run, so no-show marks need no re-reads of ended events, the
    events the deliveries carried need no re-read of their invitees, and submissions no lookback (each
    booking's `invitee.created` names its submission, read then: `landed_routing_form_submissions`).
    `webhooks_deliver_submissions`: it delivered `routing_form_submission.created` too, so submissions are
    not listed. `token_user`: the token's `/users/me` resource, if the caller read it (not read twice).
    `erased`: the people `calendly-elt forget` erased, whose rows created before are dropped (erased.py).
    """
    progress = progress or Progress("extract", stream=None)
    pacer = RateLimitPacer()
    client = calendly_client(api_url, access_token, pacer, max_workers=max_workers, max_attempts=max_attempts,
                             on_send=lambda: progress.add(requests=1))

    def warn_if_not_admin(scope: Scope) -> None:
        if not scope.is_admin:
            progress.say(
                "warning: this token has no organization admin access; loading only the events and event "
                "types of its own user, and no routing forms"
            )

    scope = LazyScope(client, on_resolved=warn_if_not_admin, user=token_user)
    run_started = datetime.now(timezone.utc)
    window = _Window(
        started=run_started,
        lookback=timedelta(days=lookback_days),
        no_show=timedelta(days=0 if trust_webhooks else no_show_window_days),
        start_date=parse_time(start_date) if start_date else None,
    )

    changed = _Changed()
    pages = scheduled_event_pages(client, scope, window, progress, changed)
    forms = routing_form_pages(client, scope, progress)
    listing = _EventTypeListing(client, scope)
    landed = landed or LandedBatch()
    resources = [
        event_types(client, listing, progress),
        organization_memberships(scope),
        pages | scheduled_events(changed),
        pages | unlisted_event_types(client, listing, progress),
        pages | invitees(client, window, progress, _Slots(lambda: _invitee_slots(pacer, max_workers))),
        forms | routing_forms(),
        forms | routing_form_submissions(client, timedelta(0) if trust_webhooks else window.lookback,
                                         listed=not (trust_webhooks and webhooks_deliver_submissions)),
        landed_scheduled_events(client, landed, progress, trust_webhooks),
        landed_invitees(client, landed, progress),
        landed_routing_form_submissions(client, landed, progress),
    ]
    for resource in resources:
        if erased:
            resource.add_filter(erased.keeps)
            resource.add_map(erased.scrub)
        resource.add_map(drop_nulls)
        if resource.table_name == "invitees":
            resource.add_map(with_phone_numbers)
    # Every raw table in the schema, with or without rows (raw_contract.py creates the empty ones).
    declare_tables(dlt.current.source_schema(), resources)
    return resources


API_RESOURCES = ("event_types", "organization_memberships", "scheduled_events", "invitees", "routing_forms",
                 "routing_form_submissions")
LANDED_RESOURCES = ("landed_scheduled_events", "landed_invitees", "landed_routing_form_submissions")
# Resources that only list, for transformers, and the table their listing is of (lineage: Dagster's assets).
LISTINGS = {"scheduled_event_pages": "scheduled_events", "routing_form_pages": "routing_forms"}


@dataclass(frozen=True)
class _Window:
    started: datetime  # this run's start: the next run re-lists from here minus the lookback
    lookback: timedelta
    no_show: timedelta
    start_date: Optional[datetime]  # first run's history bound (None = all history)

    @property
    def relist_lookback(self) -> timedelta:
        # Events in the no-show window must be listed to be re-read: a day more covers their duration.
        return max(self.lookback, self.no_show + timedelta(days=1))


class _Slots:
    """At most `size` invitee reads in flight for the whole run. One for the run, not one per call:
    dlt keeps several transformer calls (one per page of events) suspended at once, each with its
    own thread pool, so a pool's size alone does not bound the concurrency. Sized on first use, once
    the first responses have told the pacer the rate limit."""

    def __init__(self, sizing: Callable[[], int]) -> None:
        self._sizing = sizing
        self._lock = threading.Lock()
        self._semaphore: Optional[threading.BoundedSemaphore] = None
        self._size = 0

    @property
    def size(self) -> int:
        with self._lock:
            if self._semaphore is None:
                self._size = self._sizing()
                self._semaphore = threading.BoundedSemaphore(self._size)
            return self._size

    def __enter__(self) -> None:
        assert self._semaphore is not None, "size is read before the first read starts"
        self._semaphore.acquire()

    def __exit__(self, *exc: object) -> None:
        assert self._semaphore is not None
        self._semaphore.release()


def _invitee_slots(pacer: RateLimitPacer, max_workers: int) -> int:
    """Sized to the rate limit: more reads in flight than requests allowed per second would only
    queue in the pacer (500/min → 8, Calendly Free's 50/min → 1)."""
    per_second = (pacer.limit or 60 * max_workers) / 60
    return max(1, min(max_workers, int(per_second)))


class _RowPrints:
    """Which rows of a table listed again and again changed since they were last yielded: a fingerprint
    of each row's content (helpers.row_fingerprint) by uuid, in the source state. The state commits with
    the load that holds the rows, and a fingerprint is recorded only for a row yielded in the same
    run: the state never vouches for a row the warehouse does not hold. Nested tables follow: a
    parent row left out leaves its children as they are."""

    def __init__(self, prints: dict) -> None:
        self._prints = prints
        self.seen: set[str] = set()

    @classmethod
    def of(cls, table: str, *within: str) -> "_RowPrints":
        prints = dlt.current.source_state().setdefault("row_fingerprints", {}).setdefault(table, {})
        for key in within:  # submissions: one map per form, replaced as each form is read
            prints = prints.setdefault(key, {})
        return cls(prints)

    def changed(self, rows: list[dict]) -> list[dict]:
        """The new or changed rows of `rows` (to be yielded now), their fingerprints recorded."""
        out = []
        for row in rows:
            key, print_ = uuid_from_uri(row["uri"]), row_fingerprint(row)
            self.seen.add(key)
            if self._prints.get(key) != print_:
                self._prints[key] = print_
                out.append(row)
        return out

    def keep_only_seen(self) -> None:
        """After a whole listing: rows it no longer holds are not compared again (a smaller state; one
        that came back is merged again)."""
        for key in [k for k in self._prints if k not in self.seen]:
            del self._prints[key]


class _EventTypeListing:
    """This run's listing of event types, made once: `event_types` yields it, and `unlisted_event_types`
    tells from it which types the events name that the listing leaves out."""

    def __init__(self, client: RESTClient, scope: LazyScope) -> None:
        self._client, self._scope = client, scope
        self._lock = threading.Lock()
        self._pages: Optional[list[list[dict]]] = None

    def pages(self) -> list[list[dict]]:
        with self._lock:
            if self._pages is None:
                params = {**self._scope().listing_params(), "count": PAGE_SIZE}
                self._pages = [list(page) for page in self._client.paginate("/event_types", params=params)]
            return self._pages

    def uris(self) -> set[str]:
        return {event_type["uri"] for page in self.pages() for event_type in page}


@dlt.resource(name="event_types", primary_key="uri", write_disposition="merge", columns=EVENT_TYPE_COLUMNS,
              nested_hints=EVENT_TYPE_NESTED_HINTS)
def event_types(client: RESTClient, listing: _EventTypeListing, progress: Progress) -> Iterator[list[dict]]:
    """The listed event types that changed, and once more each type that dropped out of the listing since
    the last run: a deleted type is no longer listed, but Calendly still serves it by URI, with `deleted_at`."""
    prints = _RowPrints.of("event_types")
    for page in listing.pages():
        rows = prints.changed(page)
        if rows:
            yield rows
    prints.keep_only_seen()
    state = dlt.current.resource_state()
    listed = listing.uris()
    gone = sorted(set(state.get("listed", ())) - listed)
    state["listed"] = sorted(listed)
    rows = _read_each(client, gone, progress, why="an event type no longer listed")
    if rows:
        yield rows


@dlt.transformer(name="unlisted_event_types", table_name="event_types", primary_key="uri",
                 write_disposition="merge", columns=EVENT_TYPE_COLUMNS, nested_hints=EVENT_TYPE_NESTED_HINTS)
def unlisted_event_types(events: list[dict], client: RESTClient, listing: _EventTypeListing,
                         progress: Progress) -> Iterator[list[dict]]:
    """The event types that events name but the listing leaves out – deleted before the first run, or
    not listed for this token – read by URI, once: a booking keeps its type's name and settings."""
    read: list = dlt.current.resource_state().setdefault("read", [])
    wanted = sorted({e["event_type"] for e in events if e.get("event_type")} - listing.uris() - set(read))
    if not wanted:
        return
    rows = _read_each(client, wanted, progress, why="an event's type")
    read.extend(wanted)
    if rows:
        yield rows


@dlt.resource(name="organization_memberships", primary_key="uri", write_disposition="merge",
              columns=MEMBERSHIP_COLUMNS)
def organization_memberships(scope: LazyScope) -> Iterator[list[dict]]:
    prints = _RowPrints.of("organization_memberships")
    rows = prints.changed(scope().memberships)
    prints.keep_only_seen()
    if rows:
        yield rows


class _Changed:
    """The listed events that are new or whose fingerprint moved since they were last read, as the
    listing found them – before the invitees transformer, which reads the same pages, records the
    new fingerprints. Only these are merged again: an unchanged event is the row already loaded."""

    def __init__(self) -> None:
        self._uuids: set[str] = set()

    def note(self, page: list[dict], fingerprints: dict) -> None:
        self._uuids.update(uuid for uuid, event in ((uuid_from_uri(e["uri"]), e) for e in page)
                           if fingerprints.get(uuid) != event_fingerprint(event))

    def __contains__(self, event: dict) -> bool:
        return uuid_from_uri(event["uri"]) in self._uuids


@dlt.resource(name="scheduled_event_pages", selected=False)
def scheduled_event_pages(client: RESTClient, scope: LazyScope, window: _Window, progress: Progress,
                          changed: _Changed) -> Iterator[list[dict]]:
    """The listing of events, every page, for the transformers below (it writes no table itself)."""
    state = dlt.current.source_state()
    previous = state.get("last_run_at")
    since = relist_from(previous, window.relist_lookback, window.start_date)
    # Written now, committed only with this run's data. The invitees transformer reads
    # `previous_run_at`; it only ever sees pages of this generator, so it is always set by then.
    state["previous_run_at"] = previous
    state["last_run_at"] = format_time(window.started)
    params = {**scope().listing_params(), "count": PAGE_SIZE, "sort": "start_time:asc"}
    if since is not None:
        params["min_start_time"] = format_time(since)
    listed: set[str] = set()
    fingerprints = state.setdefault("event_fingerprints", {})
    for page in client.paginate("/scheduled_events", params=params):
        listed.update(uuid_from_uri(e["uri"]) for e in page)
        progress.add(events_listed=len(page))
        changed.note(page, fingerprints)
        yield list(page)
    # Fingerprints of events the next run will not list again are dead weight in the state.
    for uuid in [u for u in fingerprints if u not in listed]:
        del fingerprints[uuid]


@dlt.transformer(name="scheduled_events", primary_key="uri", write_disposition="merge", columns=EVENT_COLUMNS,
                 nested_hints=EVENT_NESTED_HINTS)
def scheduled_events(page: list[dict], changed: _Changed) -> Iterator[list[dict]]:
    rows = [event for event in page if event in changed]
    if rows:
        yield rows


@dlt.transformer(name="invitees", primary_key="uri", write_disposition="merge", columns=INVITEE_COLUMNS,
                 nested_hints=INVITEE_NESTED_HINTS)
def invitees(events: list[dict], client: RESTClient, window: _Window, progress: Progress,
             slots: _Slots) -> Iterator[list[dict]]:
    state = dlt.current.source_state()
    fingerprints: dict = state.setdefault("event_fingerprints", {})
    previous = state.get("previous_run_at")
    previous_run = parse_time(previous) if previous else None
    stale = [e for e in events if _needs_invitees(e, fingerprints, window, previous_run)]
    progress.add(events_skipped=len(events) - len(stale))
    if not stale:
        return

    def fetch(event: dict) -> list[dict]:
        with slots:
            rows = [row for page in client.paginate(
                f"/scheduled_events/{uuid_from_uri(event['uri'])}/invitees", params={"count": PAGE_SIZE})
                for row in page]
        progress.add(invitee_reads=1, invitees=len(rows))
        return rows

    # Threads only wait on HTTP; state and yielding stay on dlt's extract thread, in page order.
    with ThreadPoolExecutor(max_workers=slots.size, thread_name_prefix="calendly-invitees") as pool:
        for event, rows in zip(stale, pool.map(fetch, stale)):
            if rows:
                yield rows
            if parse_time(event["start_time"]) >= window.started - window.relist_lookback:
                fingerprints[uuid_from_uri(event["uri"])] = event_fingerprint(event)


def _needs_invitees(event: dict, fingerprints: dict, window: _Window, previous_run: Optional[datetime]) -> bool:
    if fingerprints.get(uuid_from_uri(event["uri"])) != event_fingerprint(event):
        return True
    # A canceled event has no one left to miss it: no no-show can be marked on it.
    return event.get("status") != "canceled" and in_no_show_window(
        event, window.started, window.no_show, previous_run)


@dlt.resource(name="routing_form_pages", selected=False)
def routing_form_pages(client: RESTClient, scope: LazyScope, progress: Progress) -> Iterator[list[dict]]:
    """The listing of routing forms, every page, for the two transformers below (it writes no table).
    Routing forms are listed per organization, which only an admin may do, and only on plans that
    have them: a listing refused (403, or 404 where the endpoint is not offered) leaves the (empty)
    tables as they are, with one warning line. Whether this token lists them is kept for the webhook
    path (`landed_routing_form_submissions`)."""
    state = dlt.current.source_state()
    # Set once known, never reset first: the landed resource may read it while this listing runs.
    if not scope().is_admin:
        state["lists_routing_forms"] = False
        return
    try:
        for page in client.paginate(
                "/routing_forms", params={"organization": scope().organization_uri, "count": PAGE_SIZE}):
            yield list(page)
    except HTTPError as err:
        if err.response is None or err.response.status_code not in (403, 404):
            raise
        state["lists_routing_forms"] = False
        progress.say(f"warning: Calendly refuses to list this organization's routing forms ({err.response.status_code}"
                     ": not on its plan, or not for this token); loading none")
        return
    state["lists_routing_forms"] = True


@dlt.transformer(name="routing_forms", primary_key="uri", write_disposition="merge",
                 columns=ROUTING_FORM_COLUMNS, nested_hints=ROUTING_FORM_NESTED_HINTS)
def routing_forms(forms: list[dict]) -> Iterator[list[dict]]:
    # One call per page of the listing: forms of other pages stay in the state (few, and harmless).
    rows = _RowPrints.of("routing_forms").changed(forms)
    if rows:
        yield rows


@dlt.transformer(name="routing_form_submissions", primary_key="uri", write_disposition="merge",
                 columns=ROUTING_SUBMISSION_COLUMNS, nested_hints=ROUTING_SUBMISSION_NESTED_HINTS)
def routing_form_submissions(forms: list[dict], client: RESTClient, lookback: timedelta,
                             listed: bool = True) -> Iterator[list[dict]]:
    """Read each form's submissions newest first, down to the newest one already loaded minus
    `lookback`: a submission's `submitter` is filled in when the person books, which can be after a
    run saw it (a lag, as `dlt.sources.incremental(lag=...)` has). Of those read, only the new or
    changed ones are merged. When the webhooks are trusted the lookback is 0: the booking's
    `invitee.created` makes the submission current (`landed_routing_form_submissions`); `listed`
    False: they delivered every new submission too, nothing is listed.
    The cursor is kept per form because the API lists submissions per form, while a
    `dlt.sources.incremental` cursor and its early stop are per resource."""
    if not listed:
        return
    cursors: dict = dlt.current.resource_state().setdefault("newest_created_at_by_form", {})
    for form in forms:
        form_id = uuid_from_uri(form["uri"])
        newest = cursors.get(form_id)
        stop_before = parse_time(newest) - lookback if newest else None
        prints = _RowPrints.of("routing_form_submissions", form_id)
        params = {"form": form["uri"], "count": PAGE_SIZE, "sort": "created_at:desc"}
        for page in client.paginate("/routing_form_submissions", params=params):
            recent = [s for s in page if stop_before is None or parse_time(s["created_at"]) >= stop_before]
            if recent:
                latest = max(recent, key=lambda s: parse_time(s["created_at"]))["created_at"]
                if newest is None or parse_time(latest) > parse_time(newest):
                    newest = latest
                rows = prints.changed(recent)
                if rows:
                    yield rows
            if len(recent) < len(page):
                break  # sorted newest first: the rest was loaded and is past the lookback
        # Older submissions are not read again (past the lookback of a cursor that only moves on).
        prints.keep_only_seen()
        if newest:
            cursors[form_id] = newest


# The landed_* resources write to the API resources' tables, with the same hints. Both may hold the same
# row in one load (a full run re-reads an invitee a webhook also delivered): `dedup_sort` on `updated_at`
# (settings.py) keeps the newest.

@dlt.resource(name="landed_scheduled_events", table_name="scheduled_events", primary_key="uri",
              write_disposition="merge", columns=EVENT_COLUMNS, nested_hints=EVENT_NESTED_HINTS)
def landed_scheduled_events(client: RESTClient, landed: LandedBatch, progress: Progress,
                            trust_webhooks: bool = False) -> Iterator[list[dict]]:
    rows = list(landed.scheduled_events.values())
    rows += _read_each(client, sorted(landed.events_to_read - set(landed.scheduled_events)), progress,
                       why="a webhook's event", counter="webhook_reads")
    if trust_webhooks:
        # Each invitee change of these events was delivered (and merged here): as of these rows, the
        # invitees are in the warehouse, so the next listing need not re-read them. A later change
        # moves `updated_at` past this fingerprint again.
        fingerprints = dlt.current.source_state().setdefault("event_fingerprints", {})
        for event in rows:
            fingerprints[uuid_from_uri(event["uri"])] = event_fingerprint(event)
    if rows:
        yield rows


@dlt.resource(name="landed_invitees", table_name="invitees", primary_key="uri", write_disposition="merge",
              columns=INVITEE_COLUMNS, nested_hints=INVITEE_NESTED_HINTS)
def landed_invitees(client: RESTClient, landed: LandedBatch, progress: Progress) -> Iterator[list[dict]]:
    rows = list(landed.invitees.values())
    rows += _read_each(client, sorted(landed.invitees_to_read - set(landed.invitees)), progress,
                       why="a webhook's invitee", counter="webhook_reads")
    if rows:
        yield rows


@dlt.resource(name="landed_routing_form_submissions", table_name="routing_form_submissions", primary_key="uri",
              write_disposition="merge", columns=ROUTING_SUBMISSION_COLUMNS,
              nested_hints=ROUTING_SUBMISSION_NESTED_HINTS)
def landed_routing_form_submissions(client: RESTClient, landed: LandedBatch,
                                    progress: Progress) -> Iterator[list[dict]]:
    """The delivered submissions, and each one a new invitee names, read now that its `submitter` is set
    (no webhook event says so). Read only with a token that lists routing forms (the last full run's
    finding), as the API resources do; a first run lists every submission anyway."""
    state = dlt.current.source_state()
    rows = dict(landed.routing_form_submissions)
    if state.get("lists_routing_forms"):
        wanted = sorted(uri for uri, invitee in landed.submissions_to_read.items()
                        if uuid_from_uri((rows.get(uri) or {}).get("submitter") or "") != uuid_from_uri(invitee))
        rows.update((row["uri"], row) for row in _read_each(
            client, wanted, progress, why="a webhook invitee's routing form submission", counter="webhook_reads"))
    # Merged here, not by `routing_form_submissions`: the API's next read of these rows is merged again,
    # whatever its fingerprint says (a delivery's copy need not be byte for byte the API's).
    prints = state.get("row_fingerprints", {}).get("routing_form_submissions", {})
    for row in rows.values():
        prints.get(uuid_from_uri(row["routing_form"]), {}).pop(uuid_from_uri(row["uri"]), None)
    if rows:
        yield list(rows.values())


def _read_each(client: RESTClient, uris: list[str], progress: Progress, *, why: str,
               counter: str = "resource_reads") -> list[dict]:
    """The current resources at `uris` (named by `why`: a webhook, an event). One that is gone or hidden
    from this token (404/403) is skipped with a warning: the next full run settles it either way."""
    rows = []
    for uri in uris:
        response = client.get(urlsplit(uri).path)
        if response.status_code in (403, 404):
            progress.say(f"warning: {why}, {uri}, answers {response.status_code}; skipped")
            continue
        response.raise_for_status()
        rows.append(response.json()["resource"])
        progress.add(**{counter: 1})
    return rows
