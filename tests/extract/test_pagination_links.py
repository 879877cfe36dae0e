"""Calendly's `pagination.next_page` is a full URL on its own host. Through a proxy or gateway (here the
sandbox, serving links on https://api.calendly.com as Calendly does), every page must still come from the
configured CALENDLY_API_URL: nothing is sent to the link's own host, and nothing is lost."""

from __future__ import annotations

from pipelines.extract import run_extract
from sandbox.calendly import CalendlyAccount, CalendlySandbox
from sandbox.calendly.shapes import Shape

from .conftest import NOW, settings_for
from .truth import differences


def test_links_to_calendlys_own_host_are_followed_through_the_configured_url(tmp_path):
    # Webinars of 101+ invitees: their invitee lists take two pages, as does the event listing.
    account = CalendlyAccount.generate(seed=9, events=150, now=NOW, shape=Shape(group_size=(101, 110)))
    with CalendlySandbox(account, rate_limit=0, links_origin="https://api.calendly.com") as sandbox:
        run_extract(settings_for(account, sandbox, tmp_path / "warehouse.duckdb"))
        by_route = sandbox.stats()["by_route"]
    assert differences(tmp_path / "warehouse.duckdb", account.truth()) == []
    assert by_route["invitees"] > len(account.truth()["scheduled_events"])  # some invitee lists paged
