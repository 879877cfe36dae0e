"""A handful of contacts due (a webhook run's) go by synchronous `POST /contacts`, not by a queued import,
with the same result in Brevo; one Brevo refuses stays pending alone and the next run sends it."""

from __future__ import annotations

import duckdb

from pipelines.brevo.settings import DIRECT_MAX_CONTACTS
from pipelines.brevo.sync import run_sync

from .conftest import Stack
from .expected import brevo_differences


def _booked(stack: Stack, n: int, with_phone: bool) -> list[tuple[str, str, str]]:
    """(invitee uri, email, phone) of contacts whose latest booking is ahead and active."""
    with duckdb.connect(str(stack.settings.warehouse_path), read_only=True) as con:
        return con.execute(f"""
            select b.invitee_uri, c.email, c.phone_e164 from marts.bookings b join marts.contacts c using (email)
            where c.booking_status = 'booked' and (c.phone_e164 is not null) = {with_phone}
            qualify row_number() over (partition by b.email order by b.booked_at desc) = 1
            order by c.email limit ?""", [n]).fetchall()


def test_a_few_changed_contacts_go_by_post_contacts_and_a_refused_one_is_retried(tmp_path):
    stack = Stack(tmp_path, events=300)
    try:
        stack.refresh()
        assert run_sync(stack.settings).imports > 0  # the first sync: hundreds of contacts, imports
        plain = _booked(stack, 2, with_phone=False)
        phoned = _booked(stack, 1, with_phone=True)
        assert len(plain) == 2 and len(phoned) == 1
        for invitee, _, _ in plain + phoned:
            stack.calendly_account.cancel_invitee(invitee, reason="test")
        stack.refresh()
        # Someone else took the phone number in Brevo meanwhile: Brevo refuses that contact (duplicate SMS).
        _, refused_email, phone = phoned[0]
        stack.brevo_account.update_contact(refused_email, {"SMS": ""}, [], [])
        stack.brevo_account.create_contact("someone.else@example.org", {"SMS": phone}, [], update_enabled=False)
        before = stack.brevo.stats()["by_route"]

        second = run_sync(stack.settings)

        after = stack.brevo.stats()["by_route"]
        assert second.imports == 0 and after["import"] == before["import"]
        assert after["contact_create"] - before["contact_create"] == second.creates + second.updates <= DIRECT_MAX_CONTACTS
        assert (second.synced, second.failed) == (second.updates - 1, 1)
        for _, email, _ in plain:
            assert stack.brevo_account.contacts()[email]["attributes"]["BOOKING_STATUS"] == "cancelled"
        assert stack.brevo_account.contacts()[refused_email]["attributes"]["BOOKING_STATUS"] == "booked"
        with duckdb.connect(str(stack.settings.warehouse_path), read_only=True) as con:
            assert con.execute("select email, last_error from brevo_sync.contact_state where outcome = 'failed'"
                               ).fetchall() == [(refused_email, "POST /contacts failed: 400 duplicate_parameter: Unable "
                                                 "to update contact, SMS is already associated with another Contact")]

        stack.brevo_account.update_contact("someone.else@example.org", {"SMS": ""}, [], [])
        third = run_sync(stack.settings)
        assert (third.synced, third.failed, third.imports) == (1, 0, 0)
        # Brevo matches the marts, apart from the contact this test created there
        assert brevo_differences(stack.settings.warehouse, stack.brevo_account) == [
            "1 unexpected in Brevo, e.g. someone.else@example.org"]
    finally:
        stack.stop()
