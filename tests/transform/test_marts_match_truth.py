"""After extract and transform on the sandbox: every invitee once in marts.bookings and every email once
in marts.contacts, with the status the sandbox's ground truth implies (rules of DESIGN.md)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pipelines.config import Settings
from pipelines.extract import run_extract
from sandbox.calendly import CalendlyAccount, CalendlySandbox
from pipelines.transform import TransformFailed, run_transform
from tests.warehouses import KINDS, provide

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _t(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def expected_statuses(truth: dict, as_of: datetime) -> tuple[dict[str, str], dict[str, str]]:
    """(invitee uri → booking status, lower-cased email → status of the latest booking)."""
    ends = {e["uri"]: _t(e["end_time"]) for e in truth["scheduled_events"]}

    def status(invitee: dict) -> str:
        if invitee["no_show"]:
            return "no_show"
        if invitee["status"] == "canceled":
            return "rescheduled" if invitee["rescheduled"] else "cancelled"
        return "completed" if ends[invitee["event"]] <= as_of else "booked"

    by_invitee = {i["uri"]: status(i) for i in truth["invitees"]}
    latest: dict[str, dict] = {}
    for invitee in truth["invitees"]:
        email = invitee["email"].strip().lower()
        key = (_t(invitee["created_at"]), invitee["uri"])
        if email not in latest or key > (_t(latest[email]["created_at"]), latest[email]["uri"]):
            latest[email] = invitee
    return by_invitee, {email: by_invitee[i["uri"]] for email, i in latest.items()}


@pytest.fixture(scope="module", params=KINDS)
def built(request, tmp_path_factory):
    """Both warehouses, one after the other: the same account, the same marts expected."""
    account = CalendlyAccount.generate(seed=51, events=800, now=NOW)
    with provide(request.param, tmp_path_factory.mktemp("marts")) as warehouse, \
            CalendlySandbox(account, rate_limit=0) as sandbox:
        settings = Settings(calendly_token=account.tokens["admin"], calendly_api_url=sandbox.url, **warehouse.fields)
        run_extract(settings)
        as_of = datetime.now(timezone.utc).replace(microsecond=0)
        run_transform(settings, as_of=as_of.isoformat())
        # The account changes (a reschedule among them) and the marts follow.
        account.apply_random_changes(seed=6, cancels=20, reschedules=10, no_shows=10, new_bookings=30)
        run_extract(settings)
        run_transform(settings, as_of=as_of.isoformat())
        yield account, warehouse, as_of


def test_every_invitee_once_in_bookings_with_its_status(built):
    account, warehouse, as_of = built
    by_invitee, _ = expected_statuses(account.truth(), as_of)
    rows = warehouse.query("select invitee_uri, booking_status from marts.bookings")
    assert len(rows) == len(by_invitee)
    assert dict(rows) == by_invitee


def test_every_email_once_in_contacts_with_the_latest_bookings_status(built):
    account, warehouse, as_of = built
    _, by_email = expected_statuses(account.truth(), as_of)
    rows = warehouse.query("select email, booking_status from marts.contacts")
    rescheduled = warehouse.query(
        "select count(*) from marts.contacts c join marts.bookings b on b.invitee_uri = c.latest_invitee_uri "
        "where b.rescheduled_from is not null")[0][0]
    assert len(rows) == len(by_email)
    assert dict(rows) == by_email
    assert rescheduled > 0  # some contacts' latest booking replaced a rescheduled one


def test_phones_in_e164_from_the_time_zone_country(built):
    _, warehouse, _ = built
    rows = warehouse.query("select phone, timezone, phone_e164 from marts.bookings where phone is not null")
    assert rows
    for phone, tz, e164 in rows:
        if e164 is not None:
            assert e164.startswith("+") and e164[1:].isdigit()
        if phone.startswith("020 ") and tz == "Europe/London":
            assert e164 == "+44" + phone[1:].replace(" ", "")
        if phone in ("12", "n/a", "555"):
            assert e164 is None


def test_a_failing_test_fails_the_transform_and_is_named(built, tmp_path):
    _, warehouse, as_of = built
    with provide(warehouse.kind, tmp_path / "broken", template=warehouse) as broken:
        with broken.connect() as con:  # the same invitee twice
            con.execute("create temporary table twice as select * from calendly_raw.invitees limit 1")
            con.execute("update twice set _dlt_id = _dlt_id || 'x'")
            con.execute("insert into calendly_raw.invitees select * from twice")
        with pytest.raises(TransformFailed, match="unique_stg_calendly__invitees_invitee_uri"):
            run_transform(Settings(calendly_token=None, calendly_api_url="", **broken.fields), as_of=as_of.isoformat())


def test_a_selection_that_matches_nothing_is_an_error_not_a_green_build(built):
    _, warehouse, as_of = built
    settings = Settings(calendly_token=None, **warehouse.fields)
    with pytest.raises(TransformFailed, match=r"--select 'contact' matches no model or test"):
        run_transform(settings, as_of=as_of.isoformat(), select="contact")
    assert run_transform(settings, as_of=as_of.isoformat(), select="contacts").passed > 0
