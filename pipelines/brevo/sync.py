"""The sync stage: push the contacts that are new, changed or failed before to Brevo.

What to send is dbt's: `marts.brevo_contacts` has one row per contact with its attributes, lists and
payload hash (pipelines/brevo/contacts.py reads it). Here: which contacts are due (their hash against
`brevo_sync.contact_state`), Brevo's attributes and lists, the imports, and the state.

One `POST /contacts/import` per event-type list (with the all-invitees list), split by size: an
import's `listIds` apply to every row in it, so grouping rows by list puts 10,000 contacts in about as
many imports as there are event types, instead of one per combination of types. Each import is polled
to completion; its contacts are recorded as synced only then, and only once every import that
carries them has completed. A handful of contacts (a webhook run's, DIRECT_MAX_CONTACTS) go one by one
through the synchronous `POST /contacts` instead: an import waits in Brevo's queue.

Before the contacts, the re-booking links of contacts whose latest booking is cancelled or a no-show
are minted in Calendly (pipelines/brevo/rebook_links.py) and go as an attribute of their contact; an
ended episode's link is blanked.

Then the booking transitions of `marts.booking_transitions` go as Brevo custom events, each exactly
once (pipelines/brevo/events.py), after the contacts so that each event finds its contact current.
"""

from __future__ import annotations

import json
import time
from collections import Counter
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator

from ..config import Settings
from ..exceptions import ConfigError
from ..mapping import load_mapping
from ..progress import Progress
from .bootstrap import ensure_attributes, ensure_lists, list_keys
from .client import BrevoClient, refusal
from .contacts import TABLE, BrevoContact, attribute_types, read_contacts
from .events import EventsSummary, check_model, due_transitions, events_since, send_events
from .rebook_links import LinksSummary, attach, mark_cleared, mint_links, would_mint
from .settings import (
    DEFAULT_API_URL,
    DIRECT_MAX_CONTACTS,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    POLL_FIRST_SECONDS,
    POLL_MAX_SECONDS,
    POLL_TIMEOUT_SECONDS,
)
from ..warehouse import connect
from .state import SCHEMA, Outcome, ensure_tables, finish_run, load_state, record, start_run


class ImportFailed(Exception):
    pass


@dataclass
class SyncSummary:
    run_id: str
    creates: int = 0
    updates: int = 0
    skipped: int = 0
    invalid: int = 0
    synced: int = 0
    failed: int = 0
    imports: int = 0
    requests: int = 0
    seconds: float = 0.0
    samples: list[BrevoContact] = field(default_factory=list)
    dry_run: bool = False
    events: EventsSummary = field(default_factory=EventsSummary)
    links: LinksSummary = field(default_factory=LinksSummary)

    def line(self) -> str:
        if self.dry_run:
            return (f"sync (dry run): Brevo accepts the key; would create {self.creates:,}, update {self.updates:,}, skip "
                    f"{self.skipped:,} unchanged; {self.invalid:,} invalid emails would not be sent; "
                    f"{self.events.due:,} booking events would be sent; "
                    f"{self.links.would_mint:,} re-booking links would be minted")
        return (f"sync: done in {self.seconds:.1f}s – {self.synced:,} contacts synced ({self.creates:,} new, "
                f"{self.updates:,} changed), {self.failed:,} failed (retried next run), {self.invalid:,} invalid "
                f"emails not sent, {self.skipped:,} unchanged; {self.links.line()}; {self.events.line()}; "
                f"{self.imports} imports, {self.requests} requests")


def _batches(rows_by_email: list[tuple[str, dict]], list_ids: list[int],
             empty_attributes: bool = False) -> Iterator[tuple[bytes, list[str]]]:
    """Import bodies of at most MAX_IMPORT_BYTES / MAX_IMPORT_ROWS rows, and the emails in each.
    `empty_attributes`: a blank value erases the stored one (Brevo's `emptyContactsAttributes`)."""
    def body(rows: list[str]) -> bytes:
        return (f'{{"listIds":{json.dumps(list_ids)},"updateExistingContacts":true,'
                f'"emptyContactsAttributes":{json.dumps(empty_attributes)},"jsonBody":[{",".join(rows)}]}}').encode()

    rows: list[str] = []
    emails: list[str] = []
    size = len(body([]))
    for email, attributes in rows_by_email:
        row = json.dumps({"email": email, "attributes": attributes}, separators=(",", ":"))
        if rows and (size + len(row) + 1 > MAX_IMPORT_BYTES or len(rows) >= MAX_IMPORT_ROWS):
            yield body(rows), emails
            rows, emails, size = [], [], len(body([]))
        rows.append(row)
        emails.append(email)
        size += len(row) + 1
    if rows:
        yield body(rows), emails


def _wait_for(client: BrevoClient, process_id: int) -> None:
    delay, deadline = POLL_FIRST_SECONDS, time.monotonic() + POLL_TIMEOUT_SECONDS
    while True:
        status = client.get(f"/processes/{process_id}").get("status")
        if status == "completed":
            return
        if status in ("failed", "cancelled"):
            raise ImportFailed(f"Brevo import process {process_id} {status}")
        if time.monotonic() > deadline:
            raise ImportFailed(f"Brevo import process {process_id} still {status} after {POLL_TIMEOUT_SECONDS:.0f}s")
        time.sleep(delay)
        delay = min(delay * 1.5, POLL_MAX_SECONDS)


def _client(settings: Settings) -> BrevoClient:
    api_key = settings.brevo_api_key
    if not api_key:
        raise ConfigError("BREVO_API_KEY is not set: create an API key in Brevo (SMTP & API → API keys) and export it")
    return BrevoClient(settings.brevo_api_url or DEFAULT_API_URL, api_key)


def run_sync(settings: Settings, progress: Progress | None = None, dry_run: bool = False,
             samples: int = 3) -> SyncSummary:
    progress = progress or Progress("sync", stream=None)
    started = time.monotonic()
    mapping = load_mapping(settings.mapping_path)
    summary = SyncSummary(run_id=datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6],
                          dry_run=dry_run)
    with connect(settings.warehouse, read_only=dry_run) as con:
        if not con.has_table(*TABLE.split(".")):
            raise ConfigError(f"{settings.warehouse.name} has no {TABLE}: run `calendly-elt transform` first")
        if mapping.booking_events.transitions():
            check_model(con)
        if dry_run:
            # Sends nothing, but checks the key as the real run would use it: one read-only call, so a
            # missing or refused key fails here (401 → errors.describe) and not on the real run.
            client = _client(settings)
            client.get("/account")
            summary.requests = client.requests_sent
        else:
            ensure_tables(con)
            start_run(con, summary.run_id)
        links_on = mapping.rebooking_links.enabled
        brevo: list[BrevoClient] = []  # the contacts' client, made early when links are minted
        if links_on and not dry_run:
            def bootstrap() -> None:
                # Brevo's key and attributes first: a refused key fails the sync before Calendly
                # makes links that could not reach Brevo.
                brevo.append(_client(settings))
                ensure_attributes(brevo[0], attribute_types(mapping))

            # Before the contacts: a link minted now goes with its contact in this run.
            summary.links = mint_links(con, settings, mapping, summary.run_id, progress, before=bootstrap)
        contacts = read_contacts(con, mapping)
        if links_on:
            attach(con, mapping, contacts)
        state = load_state(con) if con.has_table(SCHEMA, "contact_state") else {}
        due: list[BrevoContact] = []
        invalid: list[Outcome] = []
        for contact in contacts:
            previous = state.get(contact.email)
            if previous and previous[0] == contact.payload_hash and previous[1] != "failed":
                summary.skipped += 1
                continue
            operation = "update" if previous else "create"
            if not contact.valid:
                summary.invalid += 1
                invalid.append(Outcome(contact.email, operation, "invalid", contact.payload_hash, "; ".join(contact.notes)))
                continue
            setattr(summary, operation + "s", getattr(summary, operation + "s") + 1)
            due.append(contact)
        summary.samples = due[:samples]
        if dry_run:
            if links_on:
                summary.links = would_mint(con, mapping)
            if mapping.booking_events.transitions():
                since = events_since(con, mapping, summary.run_id, datetime.now(timezone.utc), remember=False)
                summary.events.due = len(due_transitions(con, mapping, since))
            return summary
        record(con, summary.run_id, invalid)
        if due:
            _push(con, settings, mapping, due, state, summary, progress, brevo[0] if brevo else None)
        elif brevo:
            summary.requests = brevo[0].requests_sent
        if links_on:
            # The ended episodes whose blank Brevo took: their links are gone from Brevo.
            accepted = load_state(con)
            mark_cleared(con, [c.email for c in due if mapping.rebooking_links.attribute in c.blank
                               and accepted.get(c.email) == (c.payload_hash, "synced")])
        if mapping.booking_events.transitions():
            # Events carry the attributes of contacts Brevo holds as they are now; a contact it refused
            # (a duplicate SMS, say) gets its event without them, so the event does not fail with it.
            accepted = load_state(con)
            attributes = {c.email: c.attributes for c in contacts
                          if accepted.get(c.email) == (c.payload_hash, "synced")}
            # A client of its own: Brevo limits /events apart from the contact endpoints, so one pacer
            # would mix two windows' headers.
            summary.events = send_events(con, _client(settings), mapping, summary.run_id, attributes, progress)
            summary.requests += summary.events.requests
        finish_run(con, summary.run_id, {
            "sent": summary.creates + summary.updates, "synced": summary.synced, "failed": summary.failed,
            "invalid": summary.invalid, "skipped": summary.skipped, "imports": summary.imports,
            "requests": summary.requests, "events_sent": summary.events.sent,
            "events_failed": summary.events.failed, "links_minted": summary.links.minted})
    summary.seconds = time.monotonic() - started
    return summary


def _push(con, settings: Settings, mapping, due: list[BrevoContact], state: dict, summary: SyncSummary,
          progress: Progress, client: BrevoClient | None = None) -> None:
    """`client`: one whose attributes are ensured already (made before the links were minted)."""
    if client is None:
        client = _client(settings)
        ensure_attributes(client, attribute_types(mapping))
    keys = {key for contact in due for key in contact.lists}
    names, ids = list_keys(keys)
    list_id = ensure_lists(client, names, ids)
    all_list = list_id[mapping.all_invitees_list]

    failures: dict[str, str] = {}
    by_email = {c.email: c for c in due}
    # First blank what must go: a phone number that moves to another contact (Brevo keeps an SMS on one
    # contact), a re-booking link whose episode ended. An import or a POST /contacts that leaves an
    # attribute out does not erase it; an import with `emptyContactsAttributes` erases the columns it
    # gives blank (Brevo's spec documents no erasing for POST /contacts, so the direct path blanks this
    # way too). Only those columns, and only on contacts synced before (an import creates whom it
    # names; a new contact holds nothing yet).
    blanks = [(c.email, {a: "" for a in c.blank}) for c in due if c.blank and c.email in state]
    for body, emails in _batches(blanks, [all_list], empty_attributes=True):
        summary.imports += 1
        try:
            _wait_for(client, int(client.post_raw("/contacts/import", body)["processId"]))
        except Exception as exc:  # noqa: BLE001 – those contacts stay pending, the run goes on
            for email in emails:
                failures.setdefault(email, f"blanking {', '.join(by_email[email].blank)} failed: {exc}"
                                    .splitlines()[0][:500])
    direct = len(due) <= DIRECT_MAX_CONTACTS
    if direct:
        # A few contacts (a webhook run's): one synchronous `POST /contacts` each, with every list it
        # belongs to. An import is queued in Brevo and may wait there for seconds or minutes; this
        # call has applied the change when it answers. Same effect as the import: the attributes
        # given are set, the others left as they are; the lists are added to.
        for contact in due:
            list_ids = sorted({all_list} | {list_id[k] for k in contact.lists})
            try:
                client.post("/contacts", {"email": contact.email, "attributes": contact.attributes,
                                          "listIds": list_ids, "updateEnabled": True})
            except Exception as exc:  # noqa: BLE001 – that contact stays pending, the others go on
                failures.setdefault(contact.email, refusal("POST /contacts", exc))
            failed = contact.email in failures
            progress.add(**({"contacts_failed": 1} if failed else {"contacts_pushed": 1}))
            record(con, summary.run_id, [
                Outcome(contact.email, "update" if contact.email in state else "create",
                        "failed" if failed else "synced", contact.payload_hash,
                        failures.get(contact.email) or "; ".join(contact.notes) or None)])
    # Otherwise imports: one group per list; every contact is at least in the all-invitees list.
    groups: dict[str, list[BrevoContact]] = {}
    for contact in [] if direct else due:
        type_lists = [k for k in contact.lists if k != mapping.all_invitees_list] or [mapping.all_invitees_list]
        for key in type_lists:
            groups.setdefault(key, []).append(contact)
    pending = Counter(m.email for members in groups.values() for m in members)  # imports left per contact
    for key, members in sorted(groups.items()):
        list_ids = sorted({all_list, list_id[key]})
        for body, emails in _batches([(m.email, m.attributes) for m in members], list_ids):
            summary.imports += 1
            try:
                process = client.post_raw("/contacts/import", body)
                _wait_for(client, int(process["processId"]))
            except Exception as exc:  # noqa: BLE001 – a failed batch stays pending, the run goes on
                reason = f"import into lists {list_ids} failed: {exc}".splitlines()[0][:500]
                for email in emails:
                    failures.setdefault(email, reason)
            done = []
            for email in emails:
                pending[email] -= 1
                if pending[email] == 0:
                    done.append(email)
            # A contact booked on several event types rides in several imports (one per list): it is
            # counted once, when the last of them has finished, as pushed (Brevo accepted every one)
            # or failed. HTTP retries and the polling of a process never reach these counters.
            failed_now = sum(e in failures for e in done)
            progress.add(contacts_pushed=len(done) - failed_now,
                         **({"contacts_failed": failed_now} if failed_now else {}))
            # Record contacts whose every import has finished, so a killed run keeps what completed.
            record(con, summary.run_id, [
                Outcome(e, "update" if e in state else "create", "failed" if e in failures else "synced",
                        by_email[e].payload_hash, failures.get(e) or "; ".join(by_email[e].notes) or None)
                for e in done])
    summary.failed = len(failures)
    summary.synced = len(due) - summary.failed
    summary.requests = client.requests_sent
