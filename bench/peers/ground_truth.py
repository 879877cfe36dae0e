"""Compare what a tool produced with the sandbox's ground truth (`CalendlyAccount.truth()`).

Each tool's output is first reduced to `Output`: its rows under the names of the truth's tables
(the peer calls scheduled events `events` and invitees `event_invitees`). The comparison then only
looks at uris, statuses and no-show marks: what decides a booking's status downstream (DESIGN.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

TRUTH_TABLES = ("scheduled_events", "invitees", "event_types", "organization_memberships",
                "routing_forms", "routing_form_submissions")


@dataclass
class Output:
    """A tool's rows by truth table name; a table the tool does not produce is absent."""

    tables: dict[str, list[dict]]
    extra_tables: dict[str, int] = field(default_factory=dict)  # tables with no truth counterpart: rows


@dataclass
class Comparison:
    missing_events: int
    missing_invitees: int
    missing_no_shows: int
    no_shows: int                      # no-shows in the truth
    stale: int | None                  # None: no changes to look for (first run)
    canceled_since: int                # events + invitees canceled between the two truths
    canceled_absent: int               # of those, how many the output does not hold at all
    notes: list[str]


def no_show_uri(row: dict) -> str | None:
    """Our dlt tables flatten `no_show.uri` to `no_show__uri`; a Singer target keeps `no_show` as JSON."""
    if row.get("no_show__uri"):
        return row["no_show__uri"]
    value = row.get("no_show")
    if isinstance(value, str):
        value = json.loads(value)
    return value.get("uri") if isinstance(value, dict) else None


def canceled_between(before: dict, after: dict) -> set[str]:
    """Events and invitees active in `before` and canceled in `after` (reschedules included)."""
    out = set()
    for table in ("scheduled_events", "invitees"):
        was = {r["uri"]: r["status"] for r in before[table]}
        out |= {r["uri"] for r in after[table] if r["status"] == "canceled" and was.get(r["uri"]) == "active"}
    return out


def compare(output: Output, truth: dict, before: dict | None = None) -> Comparison:
    """`truth` is the account now; `before` the account when the first run started (None on the
    first run), to find cancellations made between the runs."""
    notes: list[str] = []
    got = {t: {} for t in output.tables}
    for table, rows in output.tables.items():
        for row in rows:
            got[table][row["uri"]] = row
        if len(rows) > len(got[table]):
            notes.append(f"{table}: {len(rows) - len(got[table]):,} duplicate rows")

    def missing(table: str) -> int:
        return sum(r["uri"] not in got.get(table, {}) for r in truth[table])

    coverage = []
    for table in TRUTH_TABLES:
        if table not in got:
            coverage.append(f"{table} not extracted")
            continue
        want = {r["uri"] for r in truth[table]}
        unexpected = len(got[table].keys() - want)
        if unexpected:
            notes.append(f"{table}: {unexpected:,} rows not in the sandbox")
        if table not in ("scheduled_events", "invitees") and len(want & got[table].keys()) < len(want):
            coverage.append(f"{table} {len(want & got[table].keys())}/{len(want)}")
    if coverage:
        notes.append("; ".join(coverage))

    # A status that differs from the truth, other than the stale cancellations counted below.
    since = canceled_between(before, truth) if before is not None else set()
    status_now = {r["uri"]: r["status"] for t in ("scheduled_events", "invitees") for r in truth[t]}
    rows = {u: r for t in ("scheduled_events", "invitees") for u, r in got.get(t, {}).items()}
    stale = sum(u in rows and rows[u].get("status") == "active" for u in since)
    wrong = sum(u in rows and rows[u].get("status") != s and u not in since for u, s in status_now.items())
    if wrong:
        notes.append(f"{wrong:,} other events/invitees with the wrong status")

    marked = {r["uri"]: no_show_uri(r) for r in truth["invitees"] if r["no_show"]}
    invitees = got.get("invitees", {})
    found = sum(u in invitees and no_show_uri(invitees[u]) == ns for u, ns in marked.items())
    unmarked_wrongly = sum(no_show_uri(r) is not None and u not in marked for u, r in invitees.items())
    if unmarked_wrongly:
        notes.append(f"{unmarked_wrongly:,} invitees still marked no-show after the mark was removed")
    return Comparison(
        missing_events=missing("scheduled_events"), missing_invitees=missing("invitees"),
        missing_no_shows=len(marked) - found, no_shows=len(marked),
        stale=stale if before is not None else None, canceled_since=len(since),
        canceled_absent=sum(u not in rows for u in since), notes=notes)
