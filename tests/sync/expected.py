"""What Brevo should hold after a sync, computed from the marts directly (not by the sync's own code)."""

from __future__ import annotations

from datetime import timezone
from pathlib import Path

from pipelines.warehouse import Warehouse, connect

ALL_INVITEES = "Calendly: All invitees"


def expected_brevo(warehouse: Path | Warehouse) -> dict[str, dict]:
    """email → {"attributes": {...}, "lists": set of list names}, for the default mapping."""
    warehouse = Warehouse.of(warehouse)
    with connect(warehouse, read_only=True) as con:
        rows = con.execute("""
            select email, first_name, last_name, company, job_title, phone_e164, latest_event_type_name,
                   latest_start_time, booking_status, last_booked_at
            from marts.contacts""").fetchall()
        types = con.execute("select distinct email, event_type_name from marts.bookings").fetchall()
        # REBOOK_URL: the link recorded for the contact's current episode (its latest booking, cancelled
        # or a no-show); tests/sync/test_rebook_links.py checks those links against Calendly's.
        links = dict(con.execute("""
            select c.email, s.booking_url from marts.contacts as c
            inner join brevo_sync.rebook_links as s on s.invitee_uri = c.latest_invitee_uri
            where c.booking_status in ('cancelled', 'no_show') and s.outcome = 'minted'""").fetchall()) \
            if con.has_table("brevo_sync", "rebook_links") else {}
    # MEETING_DATE: the meeting's UTC date.
    rows = [(*row[:7], row[7] and row[7].astimezone(timezone.utc).strftime("%Y-%m-%d"), *row[8:]) for row in rows]
    # One SMS per Brevo contact: a phone given by several people stays with the latest booker.
    holder: dict[str, tuple] = {}
    for row in rows:
        if row[5] and (row[5] not in holder or (row[9], row[0]) > holder[row[5]]):
            holder[row[5]] = (row[9], row[0])
    out = {}
    for email, first, last, company, job, sms, event_type, date, status, _ in rows:
        attributes = {"FIRSTNAME": first, "LASTNAME": last, "COMPANY": company, "JOB_TITLE": job,
                      "SMS": sms if sms and holder[sms][1] == email else None,
                      "CALENDLY_EVENT_TYPE": event_type, "MEETING_DATE": date, "BOOKING_STATUS": status,
                      "REBOOK_URL": links.get(email)}
        out[email] = {"attributes": {k: v for k, v in attributes.items() if v is not None}, "lists": {ALL_INVITEES}}
    for email, event_type in types:
        out[email]["lists"].add(f"Calendly: {event_type}")
    return out


def brevo_differences(warehouse: Path | Warehouse, brevo_account) -> list[str]:
    want = expected_brevo(warehouse)
    lists = {i: v["name"] for i, v in brevo_account.lists().items()}
    got = {email: {"attributes": c["attributes"], "lists": {lists[i] for i in c["listIds"]}}
           for email, c in brevo_account.contacts().items()}
    problems = []
    if want.keys() - got.keys():
        problems.append(f"{len(want.keys() - got.keys())} contacts missing in Brevo, e.g. {sorted(want.keys() - got.keys())[0]}")
    if got.keys() - want.keys():
        problems.append(f"{len(got.keys() - want.keys())} unexpected in Brevo, e.g. {sorted(got.keys() - want.keys())[0]}")
    wrong = [e for e in want.keys() & got.keys() if want[e] != got[e]]
    if wrong:
        e = sorted(wrong)[0]
        problems.append(f"{len(wrong)} differ, e.g. {e}: want {want[e]} got {got[e]}")
    return problems
