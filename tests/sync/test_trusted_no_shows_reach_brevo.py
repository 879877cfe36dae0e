"""Issue 16's acceptance, the Brevo half: with a healthy subscription, no-shows marked and unmarked in the
Calendly sandbox are delivered to the receiver, and the hourly `calendly-elt run` carries them through the
warehouse and the marts to Brevo's BOOKING_STATUS without re-reading any event's invitees (the no-show
window's reads). The warehouse half is tests/extract/test_trusted_webhooks.py."""

from __future__ import annotations

import re

import duckdb
import pytest

from pipelines.cli import main
from pipelines.config import Settings
from pipelines.webhooks import LandingStore, landing_path
from sandbox.brevo import BrevoAccount, BrevoSandbox
from sandbox.calendly import CalendlyAccount, CalendlySandbox
from tests.webhooks.landed import wait_for_landing
from tests.webhooks.receiver import serving

from .conftest import NOW
from .expected import brevo_differences

KEY = "whsec-trusted-brevo-0001"


class Hourly:
    """The sandboxes, the receiver landing beside the warehouse, and `calendly-elt run` in-process."""

    def __init__(self, calendly: CalendlySandbox, brevo: BrevoSandbox, brevo_account: BrevoAccount, tmp_path,
                 monkeypatch, capsys):
        self.calendly, self.brevo, self.brevo_account, self.capsys = calendly, brevo, brevo_account, capsys
        self.account = calendly.account
        self.env = {"CALENDLY_ACCESS_TOKEN": self.account.tokens["admin"], "CALENDLY_API_URL": calendly.url,
                    "BREVO_API_KEY": brevo_account.api_key, "BREVO_API_URL": brevo.url,
                    "WAREHOUSE_PATH": str(tmp_path / "data" / "warehouse.duckdb"),
                    "CALENDLY_WEBHOOK_SIGNING_KEY": KEY}
        monkeypatch.delenv("WAREHOUSE_URL", raising=False)
        for name, value in self.env.items():
            monkeypatch.setenv(name, value)
        self.monkeypatch = monkeypatch
        self.store = LandingStore(landing_path(Settings.from_env(self.env)))

    def watch(self, url: str) -> None:
        """`calendly-elt webhooks subscribe --url URL`, and CALENDLY_WEBHOOK_URL for the runs."""
        assert main(["webhooks", "subscribe", "--url", url]) == 0, self.capsys.readouterr()
        assert self.capsys.readouterr().out.startswith("subscribed: ")
        self.monkeypatch.setenv("CALENDLY_WEBHOOK_URL", url)

    def run(self) -> tuple[int, str]:
        """`calendly-elt run`: (invitee listings the Calendly sandbox served, the command's stdout)."""
        self.calendly.reset_stats()
        status = main(["run"])
        out, err = self.capsys.readouterr()
        assert status == 0 and "Traceback" not in err, out + err
        return self.calendly.stats()["by_route"]["invitees"], out

    def warehouse_status(self, email: str) -> str:
        with duckdb.connect(self.env["WAREHOUSE_PATH"], read_only=True) as con:
            return con.execute("select booking_status from marts.contacts where email = ?", [email]).fetchone()[0]

    def brevo_status(self, email: str) -> str:
        return self.brevo_account.contacts()[email]["attributes"]["BOOKING_STATUS"]

    def latest_booking(self, status: str) -> tuple[str, str]:
        """(invitee uri, email) of a contact whose status is `status` and whose latest booking is active."""
        with duckdb.connect(self.env["WAREHOUSE_PATH"], read_only=True) as con:
            return con.execute("""
                select b.invitee_uri, b.email from marts.bookings b join marts.contacts c using (email)
                where c.booking_status = ?
                qualify row_number() over (partition by b.email order by b.booked_at desc) = 1
                    and b.invitee_status = 'active'
                order by b.email limit 1""", [status]).fetchone()


def extract_reads(output: str) -> int:
    """The invitee reads `calendly-elt run`'s extract line reports."""
    [reads] = re.findall(r"^extract: done .* ([\d,]+) invitee reads", output, re.MULTILINE)
    return int(reads.replace(",", ""))


@pytest.fixture
def hourly(tmp_path, monkeypatch, capsys):
    account = CalendlyAccount.generate(seed=43, events=300, now=NOW)
    brevo_account = BrevoAccount(api_key="xkeysib-trusted-0001")
    with CalendlySandbox(account, rate_limit=0) as calendly, \
            BrevoSandbox(brevo_account, import_seconds=0.05) as brevo:
        yield Hourly(calendly, brevo, brevo_account, tmp_path, monkeypatch, capsys)


@pytest.mark.timeout(600)  # three whole runs: on a busy machine, more than the default 300 s
def test_no_shows_marked_and_unmarked_reach_brevo_with_no_no_show_window_reads(hourly):
    h = hourly
    with serving(h.store, KEY) as url:
        h.watch(url)  # before the first run: from the second on, it has covered the time since the previous
        reads, output = h.run()  # the first: every event's invitees
        assert reads == extract_reads(output) == len(h.account.truth()["scheduled_events"])

        marked_uri, marked = h.latest_booking("completed")
        unmarked_uri, unmarked = h.latest_booking("no_show")
        assert (h.brevo_status(marked), h.brevo_status(unmarked)) == ("completed", "no_show")

        h.account.mark_no_show(marked_uri)
        h.account.unmark_no_show(unmarked_uri)
        wait_for_landing(h.store, 2)
        reads, output = h.run()
        assert (reads, extract_reads(output)) == (0, 0), output
        assert (h.warehouse_status(marked), h.warehouse_status(unmarked)) == ("no_show", "completed")
        assert (h.brevo_status(marked), h.brevo_status(unmarked)) == ("no_show", "completed")

        h.account.unmark_no_show(marked_uri)  # a mark taken back: the contact loses the no-show status
        wait_for_landing(h.store, 1)
        reads, output = h.run()
        assert (reads, extract_reads(output)) == (0, 0), output
        assert (h.warehouse_status(marked), h.brevo_status(marked)) == ("completed", "completed")
        assert brevo_differences(Settings.from_env(h.env).warehouse, h.brevo_account) == []
        assert h.store.pending() == []
