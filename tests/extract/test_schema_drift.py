"""Schema drift, shown with the sandbox's unknown-fields knob: fields the API reference does not document
land as new columns (a string, an object flattened, a list as a nested table) and break nothing; a field
whose values change type (a number on most rows, a string on a few) is reported in one warning line, its
odd values kept in a variant column, and the run goes on."""

from __future__ import annotations

import io

from pipelines.extract import run_extract
from pipelines.progress import Progress
from sandbox.calendly import CalendlyAccount, CalendlySandbox
from sandbox.calendly.quirks import DRIFTING, NESTED, NEW_LIST, NEW_OBJECT, NEW_STRING
from sandbox.calendly.shapes import Shape

from .conftest import NOW, settings_for
from .truth import differences


def _columns(warehouse) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for table, column in warehouse.query("select table_name, column_name from information_schema.columns "
                                         "where table_schema = 'calendly_raw'"):
        found.setdefault(table, set()).add(column)
    return found


def test_new_fields_land_as_columns_and_a_type_change_is_one_warning(any_warehouse):
    account = CalendlyAccount.generate(seed=17, events=80, now=NOW, shape=Shape(unknown_fields=True))
    with CalendlySandbox(account, rate_limit=0) as sandbox:
        settings = settings_for(account, sandbox, any_warehouse)
        said = io.StringIO()
        run_extract(settings, Progress("extract", stream=said))
        assert differences(any_warehouse.warehouse, account.truth()) == []

        columns = _columns(any_warehouse)
        for table, nested in (("invitees", "tracking"), ("routing_form_submissions", "tracking"),
                              ("organization_memberships", "user"), ("event_types", "profile")):
            assert {NEW_STRING, f"{NEW_OBJECT}__provider", f"{NEW_OBJECT}__attempts", DRIFTING,
                    f"{nested}__{NESTED}"} <= columns[table], table
            assert f"{table}__{NEW_LIST}" in columns, table
        assert NESTED in columns["scheduled_events__event_memberships"]
        assert any_warehouse.query(f"select count(*) from calendly_raw.invitees where {NEW_STRING} is null") == [(0,)]

        # The drifting field: numbers in its column, the strings beside it, one line naming it.
        assert f"{DRIFTING}__v_text" in columns["invitees"]
        [warning] = [line for line in said.getvalue().splitlines() if line.startswith("warning:")]
        assert f"invitees.{DRIFTING}__v_text" in warning
        strings = any_warehouse.query(f"select count(*) from calendly_raw.invitees where {DRIFTING}__v_text is not null")
        assert strings[0][0] > 0

        # The next run sees the same drift without a new column: no new warning, nothing lost.
        account.apply_random_changes(seed=3, cancels=3, reschedules=1, no_shows=1, new_bookings=5)
        said = io.StringIO()
        run_extract(settings, Progress("extract", stream=said))
        assert differences(any_warehouse.warehouse, account.truth()) == []
        assert [line for line in said.getvalue().splitlines() if line.startswith("warning:")] == []
