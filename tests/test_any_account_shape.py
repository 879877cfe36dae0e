"""Property-based, end to end: `calendly-elt run` on accounts of shapes drawn from the sandbox's knobs
(no routing forms, no UTM, null time zones, only cancellations, deleted event types, departed hosts,
non-Latin and very long text, undocumented fields, webinars whose invitees page, ...), on each warehouse.

Every stage must succeed (exit 0), and the raw tables, the marts and Brevo must equal the sandbox's truth.
The named profiles (empty, solo, enterprise, messy; team is every other test's) run every time as explicit examples.
Bounded for CI: at most 200 events and two drawn examples per warehouse; Hypothesis prints the drawn shape
and seed of a failure (`Falsifying example: ...`), which `Shape(**knobs)` and the seed reproduce.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from unittest import mock

import pytest
from hypothesis import HealthCheck, Phase, example, given, note, settings, strategies as st

from pipelines.cli import main
from sandbox.brevo import BrevoAccount, BrevoSandbox
from sandbox.calendly import CalendlyAccount, CalendlySandbox, quirks
from sandbox.calendly.shapes import CANCELLATIONS, PROFILES, Shape
from tests.extract.truth import differences
from tests.sync.expected import brevo_differences
from tests.transform.test_marts_match_truth import expected_statuses
from tests.warehouses import KINDS, provide

EXAMPLES = int(os.environ.get("CALENDLY_ELT_SHAPE_EXAMPLES", "2"))  # drawn, per warehouse; more by hand
# Every named profile but `team` (the account of every other end-to-end test) runs too, each time, at a
# size a test affords (the enterprise webinars still page).
PROFILE_EVENTS = {"empty": 0, "solo": 120, "enterprise": 120, "messy": 150}


def every_profile(test):
    for name, events in PROFILE_EVENTS.items():
        test = example(shape=PROFILES[name].shape, events=events, seed=7)(test)
    return test


@st.composite
def shapes(draw) -> Shape:
    hosts = draw(st.integers(1, 6))
    forms = draw(st.integers(0, 2))
    return Shape(
        hosts=hosts,
        routing_forms=forms,
        routing_forms_on_plan=draw(st.booleans()) if forms == 0 else True,
        custom_questions=draw(st.booleans()),
        utm=draw(st.booleans()),
        null_timezones=draw(st.sampled_from([0.0, 0.3, 1.0])),
        unknown_timezones=draw(st.sampled_from([0.0, 0.2])),
        cancellations=draw(st.sampled_from(CANCELLATIONS)),
        no_shows=draw(st.booleans()),
        deleted_event_types=draw(st.integers(0, 2)),
        departed_hosts=draw(st.integers(0, min(2, hosts - 1))),
        long_answers=draw(st.booleans()),
        unknown_fields=draw(st.booleans()),
        group_size=draw(st.sampled_from([None, (101, 110)])),
    )


def _run_cli(calendly: CalendlySandbox, account: CalendlyAccount, brevo: BrevoSandbox, brevo_account, warehouse,
             capsys) -> tuple[int, str]:
    env = {"CALENDLY_ACCESS_TOKEN": account.tokens["admin"], "CALENDLY_API_URL": calendly.url,
           "BREVO_API_KEY": brevo_account.api_key, "BREVO_API_URL": brevo.url,
           "WAREHOUSE_PATH": str(warehouse.path)}
    if warehouse.url:
        env["WAREHOUSE_URL"] = warehouse.url
    with mock.patch.dict(os.environ, env):
        if not warehouse.url:
            os.environ.pop("WAREHOUSE_URL", None)
        status = main(["run"])
    out, err = capsys.readouterr()
    return status, out + err


# Several whole runs in one test: on a busy machine (two xdist workers and more) they need more than 300 s.
@pytest.mark.timeout(900)
@pytest.mark.parametrize("kind", KINDS)
# No shrinking: each example is a whole run, and the failing one's knobs and seed are printed as they are.
@settings(max_examples=EXAMPLES, deadline=None, print_blob=True, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(shape=shapes(), events=st.integers(0, 200), seed=st.integers(0, 2**31))
@every_profile
def test_run_succeeds_and_matches_the_truth_on_any_shape(kind, shape, events, seed, tmp_path_factory, capsys):
    note(f"Shape(**{shape.knobs()}), events={events}, seed={seed}")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    account = CalendlyAccount.generate(seed=seed, events=events, now=now, shape=shape)
    brevo_account = BrevoAccount(api_key="xkeysib-shapes-0001")
    with provide(kind, tmp_path_factory.mktemp("shape")) as warehouse, \
            CalendlySandbox(account, rate_limit=0) as calendly, \
            BrevoSandbox(brevo_account, import_seconds=0.02) as brevo:
        status, output = _run_cli(calendly, account, brevo, brevo_account, warehouse, capsys)
        assert status == 0, output
        assert "Traceback" not in output

        truth = account.truth()
        assert differences(warehouse.warehouse, truth) == []

        by_invitee, by_email = expected_statuses(truth, datetime.now(timezone.utc))
        assert dict(warehouse.query("select invitee_uri, booking_status from marts.bookings")) == by_invitee
        assert dict(warehouse.query("select email, booking_status from marts.contacts")) == by_email
        # No local time without a zone the warehouse knows (and no failed query because of one).
        odd = ", ".join(f"'{zone}'" for zone in quirks.UNKNOWN_TIMEZONES)
        assert warehouse.query(f"select count(*) from marts.bookings where start_time_local is not null "
                               f"and (timezone is null or timezone in ({odd}))") == [(0,)]

        assert brevo_differences(warehouse.warehouse, brevo_account) == []
        got = {email: contact["attributes"].get("BOOKING_STATUS")
               for email, contact in brevo_account.contacts().items()}
        assert got == by_email
