"""Brevo attribute names, end to end through the sandboxes: names the mapping writes in lower case
reach Brevo in capital letters (as its spec asks) – in the attributes created, the contacts' attributes
and the events' contact_properties; and an attribute Brevo lists without `type` (the spec requires only
`category` and `name`) is taken as present, not created again."""

from __future__ import annotations

import re

from pipelines.brevo.sync import run_sync
from pipelines.extract import run_extract
from pipelines.mapping import DEFAULT_MAPPING, load_mapping
from pipelines.transform import run_transform

from .conftest import NOW, Stack
from .expected import brevo_differences
from .test_booking_events import expected_events, in_brevo

LOWER = ("FIRSTNAME", "LASTNAME", "COMPANY", "JOB_TITLE", "SMS", "CALENDLY_EVENT_TYPE", "MEETING_DATE",
         "BOOKING_STATUS")


def _lower_case_mapping(tmp_path):
    text = DEFAULT_MAPPING.read_text()
    for name in LOWER:
        text, n = re.subn(rf"^  {name}:", f"  {name.lower()}:", text, flags=re.M)
        assert n == 1, name
    path = tmp_path / "lower.yml"
    path.write_text(text + "\nrebooking_links:\n  attribute: Rebook_Url\n")
    return path


def test_lower_case_names_are_loaded_in_capitals(tmp_path):
    mapping = load_mapping(_lower_case_mapping(tmp_path))
    assert tuple(mapping.field_mapping) == LOWER and mapping.rebooking_links.attribute == "REBOOK_URL"
    assert mapping.dbt_vars() == load_mapping().dbt_vars()  # the shipped mapping, written in capitals


def test_lower_case_names_reach_brevo_in_capitals(tmp_path, any_warehouse):
    stack = Stack(tmp_path, events=60, warehouse=any_warehouse)
    try:
        settings = stack.with_(mapping_path=_lower_case_mapping(tmp_path))
        run_extract(settings)
        run_transform(settings, as_of=NOW.isoformat(), unit_tests=False)
        first = run_sync(settings)
        assert first.failed == 0
        # As the shipped (upper-case) mapping would have them: every value kept, none dropped as unknown.
        assert brevo_differences(settings.warehouse, stack.brevo_account) == []
        created = [e["path"].rsplit("/", 1)[-1] for e in stack.brevo.request_log if e["route"] == "attribute_create"]
        assert created and all(name == name.upper() for name in created)

        changes = stack.calendly_account.apply_random_changes(seed=29, cancels=2, reschedules=1, no_shows=1,
                                                              new_bookings=2)
        run_extract(settings)
        run_transform(settings, as_of=NOW.isoformat(), unit_tests=False)
        run_sync(settings)
        assert in_brevo(stack.brevo_account) == expected_events(changes)
        for event in stack.brevo_account.events():
            assert event["dropped_contact_properties"] == {}
            assert all(name == name.upper() for name in event["contact_properties"])
    finally:
        stack.stop()


def test_attributes_listed_without_type_are_present(tmp_path):
    stack = Stack(tmp_path, events=60, list_attribute_types=False)
    try:
        stack.refresh()
        first = run_sync(stack.settings)
        assert first.failed == 0 and first.synced > 0
        assert brevo_differences(stack.settings.warehouse, stack.brevo_account) == []
        created = {e["path"].rsplit("/", 1)[-1] for e in stack.brevo.request_log if e["route"] == "attribute_create"}
        # FIRSTNAME, LASTNAME and SMS exist in a new account: listed without a type, they are not created again.
        assert created and not created & {"FIRSTNAME", "LASTNAME", "SMS"}
        assert all(e["status"] == 201 for e in stack.brevo.request_log if e["route"] == "attribute_create")
        assert run_sync(stack.settings).synced == 0  # and a rerun creates nothing
        assert sum(e["route"] == "attribute_create" for e in stack.brevo.request_log) == len(created)
    finally:
        stack.stop()
