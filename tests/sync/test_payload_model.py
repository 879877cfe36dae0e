"""`marts.brevo_contacts` is the Brevo payload: the hash in it is the one earlier versions computed in
Python and stored (so upgrading resends nothing), and the mapping YAML reaches it through the dbt vars."""

from __future__ import annotations

import hashlib
import json

from pipelines.brevo.sync import run_sync
from pipelines.mapping import PAYLOAD_COLUMNS, load_mapping
from pipelines.extract import run_extract
from pipelines.transform import run_transform
from pipelines.warehouse import connect
from sandbox.calendly.shapes import PROFILES

from .conftest import NOW, Stack
from .expected import ALL_INVITEES, brevo_differences, expected_brevo

# Names no generated account has: a carriage return (which dbt's unit-test fixtures cannot carry),
# control characters and DEL, line and paragraph separators, a joined emoji beyond the BMP.
ODD_NAMES = ["Line one\r\nLine two", "tab\there, \"quoted\", back\\slash", "\x01\x1f\x7f control",
             "\u2028separators\u2029", "Zoë 王 👨\u200d👩", "'apostrophes'"]


def earlier_payload_hash(attributes: dict, lists) -> str:
    """The hash the sync stored before the payload moved to dbt (pipelines/brevo/contacts.py, issue 4)."""
    blob = json.dumps({"attributes": attributes, "lists": sorted(lists)}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def test_the_payload_hash_is_the_one_earlier_versions_stored(tmp_path, any_warehouse):
    stack = Stack(tmp_path, events=300, warehouse=any_warehouse, shape=PROFILES["messy"].shape)
    try:
        run_extract(stack.settings)
        with connect(stack.settings.warehouse) as con:
            emails = [row[0] for row in con.execute(
                "select lower(trim(email)) from calendly_raw.invitees group by 1 order by 1").fetchall()]
            for email, name in zip(emails, ODD_NAMES):
                con.execute("update calendly_raw.invitees set first_name = %s, last_name = %s"
                            " where lower(trim(email)) = %s", [name, name[::-1], email])
        run_transform(stack.settings, as_of=NOW.isoformat(), unit_tests=False)

        want = expected_brevo(stack.settings.warehouse)  # from marts.contacts and marts.bookings, not the model
        with connect(stack.settings.warehouse, read_only=True) as con:
            got = dict(con.execute("select email, payload_hash from marts.brevo_contacts").fetchall())
        assert got == {email: earlier_payload_hash(p["attributes"], p["lists"]) for email, p in want.items()}
        names = {p["attributes"].get("FIRSTNAME") for p in want.values()}
        assert set(ODD_NAMES) <= names and any(not str(n).isascii() for n in names - set(ODD_NAMES))

        summary = run_sync(stack.settings)
        assert summary.failed == 0 and summary.synced == len(want)
        assert brevo_differences(stack.settings.warehouse, stack.brevo_account) == []
    finally:
        stack.stop()


def test_the_mapping_yaml_names_the_attributes_and_lists(stack, tmp_path):
    stack.refresh()
    with connect(stack.settings.warehouse, read_only=True) as con:
        by_id, by_name = [row[0] for row in con.execute(
            "select event_type_name from marts.bookings where event_type_name is not null"
            " group by 1 order by count(*) desc, 1 limit 2").fetchall()]
    folder = stack.brevo_account.create_folder("Sales")
    list_id = stack.brevo_account.create_list("Demo requests", folder)
    mapping = tmp_path / "mapping.yml"
    mapping.write_text(json.dumps({
        "field_mapping": {"PRENOM": "first_name", "RDV": "start_time", "STATUT": "booking_status", "MOBILE": "phone",
                          "SMS": {"questions": ["Phone number", "Phone", "Mobile", "Mobile number"]},
                          "COMPANY": {"questions": ["Company"]}, "JOB_TITLE": {"questions": ["Job title"]}},
        "all_invitees_list": "Everyone",
        "event_mapping": {by_id: {"list_id": list_id}, by_name: {"list_name": "Warm leads"}},
    }))
    settings = stack.with_(mapping_path=mapping)
    run_transform(settings, as_of=NOW.isoformat(), unit_tests=False)
    summary = run_sync(settings)
    assert summary.failed == 0

    # What the default mapping would send, renamed as this mapping says.
    renamed = {"FIRSTNAME": ["PRENOM"], "SMS": ["SMS", "MOBILE"], "MEETING_DATE": ["RDV"], "BOOKING_STATUS": ["STATUT"],
               "COMPANY": ["COMPANY"], "JOB_TITLE": ["JOB_TITLE"], "REBOOK_URL": ["REBOOK_URL"]}
    lists = {ALL_INVITEES: "Everyone", f"Calendly: {by_id}": "Demo requests", f"Calendly: {by_name}": "Warm leads"}
    want = {email: {"attributes": {name: v for a, v in p["attributes"].items() for name in renamed.get(a, [])},
                    "lists": {lists.get(name, name) for name in p["lists"]}}
            for email, p in expected_brevo(stack.settings.warehouse).items()}
    names = {i: v["name"] for i, v in stack.brevo_account.lists().items()}
    got = {email: {"attributes": c["attributes"], "lists": {names[i] for i in c["listIds"]}}
           for email, c in stack.brevo_account.contacts().items()}
    assert got == want
    assert any("Demo requests" in p["lists"] for p in want.values())
    assert any("Warm leads" in p["lists"] for p in want.values())
    assert any("MOBILE" in p["attributes"] for p in want.values())
    assert stack.brevo_account.attributes()["RDV"]["type"] == "date"


def test_a_mapping_that_asks_no_question_for_a_field_leaves_that_field_empty(stack, tmp_path):
    """Company, job title and SMS come from questions only when the mapping names some: a mapping with
    none for SMS and JOB_TITLE (or none at all) builds, and those attributes are simply not sent."""
    stack.refresh()
    only_company = tmp_path / "only_company.yml"
    company = load_mapping().field_mapping["COMPANY"]  # the shipped default's questions
    only_company.write_text(json.dumps({"field_mapping": {"FIRSTNAME": "first_name", "COMPANY": company}}))
    no_questions = tmp_path / "no_questions.yml"
    no_questions.write_text(json.dumps({"field_mapping": {"FIRSTNAME": "first_name", "STATUS": "booking_status"}}))
    default = expected_brevo(stack.settings.warehouse)
    assert any("COMPANY" in p["attributes"] for p in default.values())
    for mapping, kept in ((only_company, {"FIRSTNAME", "COMPANY"}), (no_questions, {"FIRSTNAME"})):
        settings = stack.with_(mapping_path=mapping)
        run_transform(settings, as_of=NOW.isoformat(), unit_tests=False)
        with connect(settings.warehouse, read_only=True) as con:
            columns = {row[0] for row in con.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'marts' and table_name = 'brevo_contacts'").fetchall()}
            mapped = con.execute("select count(*) filter (where company is not null),"
                                 " count(*) filter (where job_title is not null),"
                                 " count(*) filter (where phone_e164 is not null) from marts.contacts").fetchone()
        attributes = {c.upper() for c in columns} - {c.upper() for c in PAYLOAD_COLUMNS}
        assert attributes == kept | ({"STATUS"} if mapping == no_questions else set())
        want_company = sum("COMPANY" in p["attributes"] for p in default.values())
        assert mapped[1] == 0 and mapped[0] == (want_company if mapping == only_company else 0)
