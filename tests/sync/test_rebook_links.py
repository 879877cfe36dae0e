"""Re-booking links, end to end through the sandboxes: a contact whose latest booking is cancelled or a
no-show gets one single-use scheduling link (REBOOK_URL) that books in Calendly; a rerun mints none; a
new booking or the no-show mark removed blanks it; switched-off and deleted event types get none, with
no request; refusals, Calendly down, the per-run cap, a kill mid-minting and the dry run.

What Brevo should hold is computed from what the Calendly sandbox holds (its event types and links)
and the marts, not from the sync's own code."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import yaml

from pipelines.brevo.sync import run_sync
from pipelines.mapping import DEFAULT_MAPPING
from pipelines.pacing import PacedAdapter
from pipelines.warehouse import connect
from sandbox.brevo import BrevoAccount, BrevoSandbox
from sandbox.calendly.shapes import Shape
from tests.sandbox.test_calendly_contract import SPEC_PATH, patch_spec, served_at

from .conftest import NOW, Stack
from .expected import brevo_differences

EVENTS = 30
ANN, BOB, CY = "rebook.ann@example.org", "rebook.bob@example.org", "rebook.cy@example.org"
DEE, EVE = "rebook.dee@example.org", "rebook.eve@example.org"


def set_up_episodes(account) -> dict:
    """Ann cancels and Bob is a no-show on a live event type the member hosts; Dee and Eve cancel on a
    live type the member does not host; Cy cancels on a type switched off since. Made here, not left to
    the generator: how many of its own bookings are cancelled or no-shows moves with the clock."""
    member = account.users["member"]["uri"]
    live = [t for t in account.truth()["event_types"] if t["active"] and t["deleted_at"] is None]
    mine = [t["uri"] for t in live if member in account.event_type_hosts(t["uri"].rsplit("/", 1)[1])]
    t_live = mine[0]
    t_other = next(t["uri"] for t in live if t["uri"] not in mine)
    t_off = next(t["uri"] for t in live if t["uri"] not in (t_live, t_other))
    for email in (DEE, EVE):
        account.cancel_invitee(account.add_booking(t_other, email=email), reason="rebook test")
    ann = account.add_booking(t_live, email=ANN)
    account.cancel_invitee(ann, reason="rebook test")
    # Bob's meeting is over (within the no-show window the extract reads again, so a mark removed shows)
    bob = account.add_booking(t_live, start_time=NOW - timedelta(days=2), email=BOB)
    account.mark_no_show(bob)
    cy = account.add_booking(t_off, email=CY)
    account.cancel_invitee(cy, reason="rebook test")
    account.set_event_type_active(t_off, False)
    return {"live": t_live, "off": t_off, "ann": ann, "bob": bob, "cy": cy}


def expected_links(stack) -> dict[str, str]:
    """email → event type, for every contact in an episode (latest booking cancelled or a no-show, per
    the marts) whose event type Calendly would book (active, not deleted)."""
    types = {t["uri"]: t for t in stack.calendly_account.truth()["event_types"]}
    with connect(stack.settings.warehouse, read_only=True) as con:
        rows = con.execute("""select email, latest_event_type_uri from marts.contacts
                              where booking_status in ('cancelled', 'no_show')""").fetchall()
    return {email: uri for email, uri in rows
            if uri in types and types[uri]["active"] and types[uri]["deleted_at"] is None}


def rebook_urls(brevo_account) -> dict[str, str]:
    return {email: c["attributes"]["REBOOK_URL"] for email, c in brevo_account.contacts().items()
            if c["attributes"].get("REBOOK_URL")}


def link_requests(stack) -> int:
    return stack.calendly.stats()["by_route"].get("scheduling_links", 0)


def state(stack) -> dict[str, tuple]:
    with connect(stack.settings.warehouse, read_only=True) as con:
        return {uri: (email, outcome, url, cleared) for uri, email, outcome, url, cleared in con.execute(
            "select invitee_uri, email, outcome, booking_url, cleared_at from brevo_sync.rebook_links").fetchall()}


def test_a_cancelled_contact_gets_one_working_link_and_a_rerun_mints_none(tmp_path, any_warehouse):
    stack = Stack(tmp_path, events=EVENTS, seed=71, warehouse=any_warehouse, shape=Shape(deleted_event_types=1))
    try:
        account = stack.calendly_account
        made = set_up_episodes(account)
        stack.refresh()
        first = run_sync(stack.settings)

        want = expected_links(stack)
        assert {ANN, BOB} <= want.keys() and CY not in want
        links = {link["booking_url"]: link for link in account.scheduling_links()}
        # One link per episode, for its own event type; no request for a switched-off or deleted type.
        assert len(links) == len(want) == first.links.minted == link_requests(stack)
        urls = rebook_urls(stack.brevo_account)
        assert urls.keys() == want.keys()
        assert {email: links[url]["owner"] for email, url in urls.items()} == want
        assert CY in stack.brevo_account.contacts() and "REBOOK_URL" not in stack.brevo_account.contacts()[CY]["attributes"]
        assert f"{len(want)} re-booking links minted" in first.line()
        assert brevo_differences(stack.settings.warehouse, stack.brevo_account) == []

        # A rerun mints nothing and sends nothing.
        stack.brevo.reset_stats()
        again = run_sync(stack.settings)
        assert again.links.minted == 0 and again.synced == 0
        assert len(account.scheduling_links()) == len(want) == link_requests(stack)
        assert rebook_urls(stack.brevo_account) == urls

        # Ann books through her link: Calendly has the booking; once it is extracted and synced she is
        # booked and her REBOOK_URL is blank. Bob's no-show mark is removed: his episode ends too.
        booked = account.book_with_link(urls[ANN], email=ANN, name="Ann Rebook")
        assert account.scheduling_links()[[*links].index(urls[ANN])]["used_by"] == booked
        _, invitee = account.invitee(booked.rsplit("/", 1)[1])
        assert account.event(invitee["event"].rsplit("/", 1)[1])["event_type"] == made["live"]
        account.unmark_no_show(made["bob"])
        stack.refresh()
        third = run_sync(stack.settings)
        contacts = stack.brevo_account.contacts()
        assert contacts[ANN]["attributes"]["BOOKING_STATUS"] == "booked"
        assert contacts[BOB]["attributes"]["BOOKING_STATUS"] == "completed"
        assert "REBOOK_URL" not in contacts[ANN]["attributes"] and "REBOOK_URL" not in contacts[BOB]["attributes"]
        assert rebook_urls(stack.brevo_account) == {e: u for e, u in urls.items() if e not in (ANN, BOB)}
        assert third.links.minted == 0 and len(account.scheduling_links()) == len(want)
        recorded = state(stack)
        assert recorded[made["ann"]][1:3] == ("minted", urls[ANN]) and recorded[made["ann"]][3] is not None
        assert recorded[made["bob"]][3] is not None
        assert brevo_differences(stack.settings.warehouse, stack.brevo_account) == []
    finally:
        stack.stop()


# ------------------------------------------------------------------ the other cases, on one built warehouse
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A warehouse extracted, transformed and synced once without links (DuckDB), its Calendly sandbox
    still serving: each test's sync sends only the contacts that get a link (a few POST /contacts)."""
    folder = tmp_path_factory.mktemp("built")
    stack = Stack(folder, events=EVENTS, seed=72)
    made = set_up_episodes(stack.calendly_account)
    stack.refresh()
    run_sync(stack.settings.with_(**mapping_file(folder, enabled=False)))
    yield stack, made
    stack.stop()


@pytest.fixture
def fresh(built, tmp_path):
    """The built warehouse copied, a Brevo of its own, and the shared Calendly (its link count noted)."""
    base, made = built
    shutil.copyfile(base.settings.warehouse_path, tmp_path / "warehouse.duckdb")
    brevo_account = BrevoAccount(api_key="xkeysib-test-0002")
    brevo = BrevoSandbox(brevo_account, import_seconds=0.05).start()
    base.calendly.reset_stats()
    base.calendly.configure(fault_rate=0.0)
    view = type("Fresh", (), {})()
    view.calendly, view.calendly_account, view.brevo, view.brevo_account, view.made = (
        base.calendly, base.calendly_account, brevo, brevo_account, made)
    view.settings = base.settings.with_(warehouse_path=tmp_path / "warehouse.duckdb", brevo_api_url=brevo.url,
                                        brevo_api_key=brevo_account.api_key)
    view.links_before = len(base.calendly_account.scheduling_links())
    view.want = expected_links(view)
    yield view
    base.calendly.configure(fault_rate=0.0)
    brevo.stop()


def minted_since(view) -> list[dict]:
    return view.calendly_account.scheduling_links()[view.links_before:]


def mapping_file(tmp_path, **links) -> dict:
    """The shipped mapping with `rebooking_links:` set."""
    data = yaml.safe_load(DEFAULT_MAPPING.read_text())
    data["rebooking_links"] = links
    path = tmp_path / "mapping.yml"
    path.write_text(yaml.safe_dump(data))
    return {"mapping_path": path}


def test_dry_run_mints_nothing_and_says_how_many(fresh):
    summary = run_sync(fresh.settings, dry_run=True)
    assert summary.links.would_mint == len(fresh.want) > 0
    assert f"{len(fresh.want)} re-booking links would be minted" in summary.line()
    assert minted_since(fresh) == [] and fresh.calendly.stats()["requests"] == 0


def test_the_cap_leaves_the_rest_to_later_runs(fresh, tmp_path):
    settings = fresh.settings.with_(**mapping_file(tmp_path, max_per_run=1))
    runs = [run_sync(settings) for _ in range(len(fresh.want) + 1)]
    assert [r.links.minted for r in runs] == [1] * len(fresh.want) + [0]
    assert runs[0].links.left == len(fresh.want) - 1 and "left for the next run" in runs[0].line()
    assert len(minted_since(fresh)) == len(fresh.want) == link_requests(fresh)
    assert rebook_urls(fresh.brevo_account).keys() == fresh.want.keys()


def test_a_run_spends_at_most_half_the_rate_window(fresh):
    # Calendly announces 4 requests a window (X-RateLimit-Limit): a run mints 2, never meets a 429.
    fresh.calendly.configure(rate_limit=4, rate_window_seconds=60)
    try:
        first = run_sync(fresh.settings)
        stats = fresh.calendly.stats()
    finally:
        fresh.calendly.configure(rate_limit=0)
    assert len(fresh.want) > 2
    assert first.links.minted == 2 and first.links.left == len(fresh.want) - 2
    assert stats["by_status"].get(429, 0) == 0 and link_requests(fresh) == 2


def test_calendly_down_stops_minting_and_the_next_run_catches_up(fresh):
    fresh.calendly.configure(fault_rate=1.0)
    down = run_sync(fresh.settings)
    assert down.links.minted == 0 and down.links.failed == 1 and down.links.left == len(fresh.want) - 1
    assert "1 failed (retried next run)" in down.line() and rebook_urls(fresh.brevo_account) == {}
    fresh.calendly.configure(fault_rate=0.0)
    up = run_sync(fresh.settings)
    assert up.links.minted == len(fresh.want) and len(minted_since(fresh)) == len(fresh.want)
    assert rebook_urls(fresh.brevo_account).keys() == fresh.want.keys()


def test_refusals_are_recorded_and_not_asked_again(fresh):
    # A member's token: the types the member does not host are refused (403), and a type switched off
    # after the transform (the warehouse still thinks it active) is refused with a 400.
    account, made = fresh.calendly_account, fresh.made
    settings = fresh.settings.with_(calendly_token=account.tokens["member"])
    account.set_event_type_active(made["live"], False)
    try:
        first = run_sync(settings)
    finally:
        account.set_event_type_active(made["live"], True)
    with connect(fresh.settings.warehouse, read_only=True) as con:
        refused = {uri: (event_type, error) for uri, event_type, error in con.execute(
            """select invitee_uri, event_type_uri, last_error from brevo_sync.rebook_links
               where outcome = 'refused'""").fetchall()}
    assert first.links.refused == len(refused) == len(fresh.want) - first.links.minted
    assert {made["ann"], made["bob"]} <= refused.keys()
    for event_type, error in refused.values():  # Calendly's words kept: 400 switched off, 403 not the member's
        assert error.startswith("POST /scheduling_links failed: " + ("400" if event_type == made["live"] else "403"))
    assert any(event_type != made["live"] for event_type, _ in refused.values())
    fresh.calendly.reset_stats()
    again = run_sync(settings)
    assert again.links.minted == again.links.refused == 0 and link_requests(fresh) == 0


def test_a_token_without_the_scope_stops_asking_and_refusals_are_asked_again_a_week_later(fresh):
    # The token lacks scheduling_links:write: every answer is a 403. The run stops after three, the rest
    # wait; once the scope is granted the next run mints them, and the three refused a week later.
    owner = fresh.calendly_account.users["owner"]["uri"]
    assert len(fresh.want) > 3
    fresh.calendly_account.withhold_scope(owner, "scheduling_links:write")
    try:
        first = run_sync(fresh.settings)
    finally:
        fresh.calendly_account.withhold_scope(owner, "scheduling_links:write", withheld=False)
    assert (first.links.minted, first.links.refused, first.links.left) == (0, 3, len(fresh.want) - 3)
    assert link_requests(fresh) == 3 and first.failed == 0
    assert "403 to all 3 asked" in first.line() and "scheduling_links:write" in first.line(), first.line()
    refused = {uri for uri, (_, outcome, _, _) in state(fresh).items() if outcome == "refused"}

    granted = run_sync(fresh.settings)
    assert granted.links.minted == len(fresh.want) - 3 and granted.links.refused == 0
    assert {uri for uri, (_, outcome, _, _) in state(fresh).items() if outcome == "refused"} == refused

    with connect(fresh.settings.warehouse) as con:  # a week and a day pass
        con.execute("update brevo_sync.rebook_links set tried_at = tried_at - interval '8 days' "
                    "where outcome = 'refused'")
    later = run_sync(fresh.settings)
    assert later.links.minted == 3 and len(minted_since(fresh)) == len(fresh.want)
    assert rebook_urls(fresh.brevo_account).keys() == fresh.want.keys()


def test_a_rejected_token_leaves_the_links_waiting_and_the_contacts_go(fresh):
    rejected = run_sync(fresh.settings.with_(calendly_token="not-a-calendly-token"))
    assert rejected.links.minted == rejected.links.refused == 0 and rejected.failed == 0
    assert rejected.links.left == len(fresh.want)
    assert re.search(r"re-booking links not minted, \d+ waiting: Calendly rejected the token \(401\)",
                     rejected.line()), rejected.line()
    assert "not-a-calendly-token" not in rejected.line()
    assert state(fresh) == {}  # nothing recorded: every episode waits for a valid token
    assert run_sync(fresh.settings).links.minted == len(fresh.want)


def test_without_rate_headers_a_run_assumes_the_smallest_window(fresh, monkeypatch):
    # Calendly announces no X-RateLimit-*: the run keeps to the share of the assumed window (Free's 50,
    # here 4 to keep the account small), not to the mapping's cap alone.
    monkeypatch.setattr("pipelines.brevo.rebook_links.REBOOK_ASSUMED_LIMIT", 4)
    fresh.calendly.configure(rate_limit_headers=False)
    try:
        first = run_sync(fresh.settings)
    finally:
        fresh.calendly.configure(rate_limit_headers=True)
    assert first.links.minted == 2 and first.links.left == len(fresh.want) - 2 and link_requests(fresh) == 2
    announced = run_sync(fresh.settings)  # with the headers (500 a minute) the rest go
    assert announced.links.minted == len(fresh.want) - 2


def test_links_need_a_calendly_token(fresh, tmp_path):
    settings = fresh.settings.with_(calendly_token=None, oauth_token_file=tmp_path / "none.json")
    # The contacts still go; the line names what is missing, and the links wait for a run with it.
    without = run_sync(settings)
    assert without.links.minted == 0 and without.links.left == len(fresh.want) and without.failed == 0
    assert re.search(r"re-booking links not minted, \d+ waiting: CALENDLY_ACCESS_TOKEN is not set.*rebooking_links",
                     without.line()), without.line()
    assert rebook_urls(fresh.brevo_account) == {} and fresh.calendly.stats()["requests"] == 0
    off = run_sync(settings.with_(**mapping_file(tmp_path, enabled=False)))
    assert off.links.minted == 0 and minted_since(fresh) == [] and fresh.calendly.stats()["requests"] == 0


def test_the_request_is_the_one_calendlys_spec_describes(fresh, monkeypatch):
    if not SPEC_PATH.exists():
        pytest.skip(f"Calendly OpenAPI description not found at {SPEC_PATH}")
    from openapi_core.contrib.requests import RequestsOpenAPIRequest

    sent = []
    original = PacedAdapter.send

    def spy(self, request, **kwargs):
        sent.append(request)
        return original(self, request, **kwargs)

    monkeypatch.setattr(PacedAdapter, "send", spy)
    run_sync(fresh.settings)
    openapi = served_at(patch_spec(yaml.safe_load(SPEC_PATH.read_text())), fresh.calendly.url)
    posts = [r for r in sent if r.url.endswith("/scheduling_links")]
    assert len(posts) == len(fresh.want)
    for request in posts:
        openapi.validate_request(RequestsOpenAPIRequest(request))


def test_a_kill_mid_minting_mints_no_second_link_for_a_recorded_episode(fresh, tmp_path):
    assert len(fresh.want) > 2  # the kill lands while a third link is asked for
    fresh.calendly.configure(latency_ms=150)
    env = {**os.environ, "WAREHOUSE_PATH": str(fresh.settings.warehouse_path),
           "CALENDLY_ACCESS_TOKEN": fresh.settings.calendly_token, "CALENDLY_API_URL": fresh.calendly.url,
           "BREVO_API_KEY": fresh.brevo_account.api_key, "BREVO_API_URL": fresh.brevo.url}
    env.pop("WAREHOUSE_URL", None)
    env.pop("CALENDLY_ELT_CONFIG", None)
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "sync"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(minted_since(fresh)) < 2:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        fresh.calendly.configure(latency_ms=0)
    recorded = {row[2] for row in state(fresh).values() if row[1] == "minted"}
    at_kill = [link["booking_url"] for link in minted_since(fresh)]
    assert recorded <= set(at_kill) and len(at_kill) <= len(recorded) + 1
    after = run_sync(fresh.settings)
    # Every episode has one link in Brevo; Calendly made at most one extra (the answer the kill lost).
    assert after.links.minted == len(fresh.want) - len(recorded)
    assert len(minted_since(fresh)) <= len(fresh.want) + 1
    urls = rebook_urls(fresh.brevo_account)
    assert urls.keys() == fresh.want.keys() and len(set(urls.values())) == len(urls)
