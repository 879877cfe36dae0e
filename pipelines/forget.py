"""The forget stage: erase people from everything calendly-elt keeps, and from Brevo (docs/erasure.md).

In order, so that nothing brings a person back halfway:
1. dlt's pending load packages are loaded first (a crashed run's; otherwise they could re-add the person);
2. in the warehouse, in one transaction: the rows that name the person in every table of every schema
   (erasure/rows.py), and the audit row with the erased invitee URIs (erasure/audit.py) – from then on
   every extract drops their old rows (pipelines/calendly/erased.py); then the storage rewritten, so no
   deleted copy stays in it (erasure/compact.py);
3. the marts rebuilt (dbt), the analysts' snapshot republished;
4. the webhook deliveries about them scrubbed from the landing store (those of others that only mention
   them, redacted: erasure/landing.py); dlt's completed load packages deleted (they hold copies of rows);
5. the contact deleted in Brevo; with `calendly`, Calendly's own deletion requested;
6. the warehouse, dlt's state, the snapshot, the landing store and dlt's folder searched again: any
   copy left fails the stage, naming where.
The CLI (`calendly-elt forget`) and Dagster's `calendly_forget` job both call `run_forget`.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable, Optional

from .calendly.erased import email_hash
from .config import Settings
from .erasure import audit, compact, dlt_files, rows, verify
from .erasure.emails import checked_emails
from .exceptions import ConfigError
from .progress import Progress
from .warehouse import connect


class ErasureIncomplete(Exception):
    """A copy of an erased address is still somewhere, or a step of the erasure failed after the
    warehouse's rows were removed; the message says which. Running `forget` again finishes the job."""


@dataclass
class PersonErased:
    email: str
    rows: dict[str, int] = field(default_factory=dict)  # schema.table → rows removed
    invitees: int = 0  # invitee URIs kept out of later loads
    deliveries: int = 0  # webhook deliveries scrubbed (theirs) or redacted (others' that mention them)
    brevo: str = "not asked"
    calendly: str = "not requested"

    def line(self, name: str = "") -> str:
        tables = ", ".join(f"{t} {n:,}" for t, n in sorted(self.rows.items()))
        return (f"  {name or self.email}: {sum(self.rows.values()):,} rows removed" + (f" ({tables})" if tables else "")
                + f"; {self.invitees} invitees kept out of later loads; {self.deliveries} webhook deliveries "
                  f"scrubbed or redacted; Brevo: {self.brevo}; Calendly: {self.calendly}")


@dataclass
class ForgetSummary:
    run_id: str
    people: list[PersonErased]
    seconds: float = 0.0
    pending_loaded: bool = False
    packages_removed: int = 0
    calendly_refused: Optional[str] = None  # Calendly's deletion was asked for and not accepted: why
    problems: list[str] = field(default_factory=list)  # steps that failed after the warehouse's erasure

    @property
    def failed(self) -> bool:
        return bool(self.calendly_refused or self.problems or any(p.brevo.startswith("failed") for p in self.people))

    def lines(self, named: bool = True) -> list[str]:
        """The summary; `named` False leaves the addresses out (for logs that outlive the erasure)."""
        head = (f"forget: {len(self.people)} {'person' if len(self.people) == 1 else 'people'} erased in "
                f"{self.seconds:.1f}s (run {self.run_id}; audit: erasure.requests)")
        tail = (f"  marts rebuilt, snapshot republished, {self.packages_removed} dlt load packages removed"
                + (" (a pending load was finished first)" if self.pending_loaded else ""))
        return [head, *(p.line("" if named else f"person {i}") for i, p in enumerate(self.people, 1)), tail]


def run_forget(settings: Settings, emails: Iterable[str], calendly: bool = False,
               progress: Progress | None = None) -> ForgetSummary:
    """Erase `emails` (see the module's docstring). ConfigError before anything is done for a bad address
    or a missing warehouse; ErasureIncomplete if a copy is left. Brevo's failures and Calendly's refusal
    are in the summary (`failed`), after everything local is done."""
    from .extract import landing_store
    from .snapshot import publish
    from .transform import run_transform

    wanted = checked_emails(emails)
    progress = progress or Progress("forget", stream=None)
    started = time.monotonic()
    if settings.warehouse.absent:
        raise ConfigError(f"no warehouse at {settings.warehouse.name}: nothing to erase there (run `calendly-elt "
                          "extract` first, or point WAREHOUSE_PATH at the warehouse)")
    if calendly:
        settings.require_calendly_token()  # before anything is erased
    summary = ForgetSummary(run_id=uuid.uuid4().hex[:12], people=[PersonErased(e) for e in wanted])

    # 1. what a crashed run left to load
    summary.pending_loaded = dlt_files.finish_pending(settings, progress)

    # 2. the warehouse, in one transaction
    progress.say(f"forget: removing {len(wanted)} {'person' if len(wanted) == 1 else 'people'}'s rows from "
                 f"{settings.warehouse.name}")
    needles: dict[str, list[str]] = {}
    spelled: dict[str, list[str]] = {}  # the addresses as Calendly stored them, for its deletion
    erased_at = datetime.now(timezone.utc)
    with connect(settings.warehouse) as con:
        audit.ensure_tables(con)
        with con.transaction():
            salt = audit.salt(con)
            tables = rows.tables(con)
            for person in summary.people:
                uris = rows.invitee_uris(con, person.email, tables)
                spelled[person.email] = rows.spellings(con, person.email, tables)
                needles[person.email] = rows.needles_of(person.email, uris)
                person.rows = rows.erase(con, tables, needles[person.email])
                person.invitees = len(uris)
                audit.record(con, audit.Request(email_hash(salt, person.email), erased_at, summary.run_id,
                                                person.rows, tuple(uris)))
                progress.add(people=1)
    # the deleted rows' copies in the storage itself (a DuckDB file's freed blocks, PostgreSQL's dead tuples)
    compact.rewrite(settings.warehouse, {table.removesuffix(rows.CLEARED) for person in summary.people
                                         for table in person.rows})

    # 3.–5. each step runs even if one before it failed: the failures are reported together
    def step(name: str, run: Callable[[], None]) -> None:
        try:
            run()
        except Exception as exc:  # noqa: BLE001 – named in ErasureIncomplete below
            summary.problems.append(f"{name}: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}")

    # Without dbt's unit tests: they check the SQL on fixed rows, which an erasure does not touch (~3 s).
    step("marts rebuild", lambda: progress.say(run_transform(settings, progress, unit_tests=False).line()))
    step("snapshot", lambda: progress.say(publish(settings).line()))

    def scrub_landed() -> None:
        from .erasure.landing import forget_deliveries

        store = landing_store(settings)
        erased = audit.erased_people(settings.warehouse)
        if store is None or erased is None:
            return
        try:
            for person in summary.people:
                person.deliveries = forget_deliveries(store, erased, needles[person.email])
        finally:
            store.close()

    step("webhook landing store", scrub_landed)

    def remove_packages() -> None:
        summary.packages_removed = dlt_files.remove_loaded(settings)

    step("dlt load packages", remove_packages)

    def brevo() -> None:
        from .erasure.brevo import delete_contacts

        for email, outcome in delete_contacts(settings, wanted).items():
            person = next(p for p in summary.people if p.email == email)
            if outcome.startswith("skipped") and person.rows.get("brevo_sync.contact_state"):
                # The sync sent them to Brevo: without the key their contact stays there, so say so.
                outcome = ("failed: the sync sent this contact to Brevo, but BREVO_API_KEY is not set: "
                           "set it and run forget again")
            person.brevo = outcome

    step("Brevo", brevo)
    if calendly:
        def calendly_deletion() -> None:
            from .erasure.calendly import request_deletion

            outcome = request_deletion(settings, [s for email in wanted for s in (email, *spelled[email])])
            for person in summary.people:
                person.calendly = outcome.line
            if not outcome.accepted:
                summary.calendly_refused = outcome.line

        step("Calendly", calendly_deletion)
    step("audit", lambda: _record_outcomes(settings, salt, summary))

    # 6. anything left?
    left = verify.remaining(settings, wanted)
    store = landing_store(settings)
    if store is not None:
        try:
            landed = store.mentioning(wanted)
        finally:
            store.close()
        if landed:
            left.append(f"webhook landing store ({len(landed)} deliveries)")
    left += [f"dlt's folder: {path}" for path in dlt_files.files_mentioning(settings, wanted)]
    summary.seconds = time.monotonic() - started
    if left or summary.problems:
        raise ErasureIncomplete("; ".join(
            ([f"an erased address is still in {', '.join(left)}"] if left else [])
            + [f"{p} failed" for p in summary.problems]) + " – run forget again once fixed")
    return summary


def _record_outcomes(settings: Settings, salt: str, summary: ForgetSummary) -> None:
    with connect(settings.warehouse) as con:
        for person in summary.people:
            audit.record_outcome(con, summary.run_id, email_hash(salt, person.email), brevo=person.brevo,
                                 calendly=person.calendly)
