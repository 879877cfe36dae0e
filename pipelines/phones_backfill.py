"""One-time upgrade: E.164 forms for the answers a warehouse held before phones moved into the extract.

Until then a dbt Python model computed them at transform time; now the extract stores them with each
answer (`pipelines/calendly/phones.py`). Incremental runs re-read only recent or changed events, so
without this step every older booking would lose its E.164 phone (and Brevo its SMS). Run around a
load: `pending()` before it (the column is still missing), `fill()` after it (dlt has added it).
"""

from __future__ import annotations

from .calendly.phones import to_e164
from .config import Settings
from .warehouse import connect

ANSWERS = "calendly_raw.invitees__questions_and_answers"


def _columns(con, table: str) -> set[str]:
    return {name for (name,) in con.execute(
        "select column_name from information_schema.columns where table_schema = 'calendly_raw' "
        "and table_name = %s", [table]).fetchall()}


def pending(settings: Settings) -> bool:
    """True when the warehouse has answers but no `phone_e164` column yet (loaded before the change)."""
    warehouse = settings.warehouse
    if warehouse.absent:
        return False
    with connect(warehouse) as con:
        columns = _columns(con, "invitees__questions_and_answers")
    return bool(columns) and "phone_e164" not in columns


def fill(settings: Settings) -> int:
    """Set `phone_e164`/`phone_country` on every stored answer that is a valid number; the count.
    0 if no load has added the column yet (a run that loaded no invitee): the next run does it."""
    with connect(settings.warehouse) as con, con.transaction():
        if "phone_e164" not in _columns(con, "invitees__questions_and_answers"):
            return 0
        rows = con.execute(f"""
            select a._dlt_id, a.answer, i.timezone
            from {ANSWERS} as a join calendly_raw.invitees as i on a._dlt_parent_id = i._dlt_id
            where a.phone_e164 is null and a.answer is not null""").fetchall()
        found = [(row_id, *to_e164(answer, zone)) for row_id, answer, zone in rows]
        found = [row for row in found if row[1]]
        con.execute("create temporary table phones_found (row_id varchar, e164 varchar, country varchar)")
        con.executemany("insert into phones_found values (%s, %s, %s)", found)  # it pages the rows itself
        con.execute(f"""
            update {ANSWERS} set phone_e164 = phones_found.e164, phone_country = phones_found.country
            from phones_found where {ANSWERS}._dlt_id = phones_found.row_id""")
        con.execute("drop table phones_found")
        # What the old Python model left: a table no model builds any more.
        con.execute("drop table if exists staging.int_invitee_phones_normalized")
    return len(found)
