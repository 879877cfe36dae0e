"""`start_sandboxes`: both sandboxes for `calendly-elt sandbox`, `calendly-elt demo` and `make ui`, an
account of the named profile, and the variables that point calendly-elt at them."""

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
import requests

from sandbox.calendly.shapes import PROFILES
from sandbox.stack import start_sandboxes


def test_both_sandboxes_serve_the_profile_until_the_block_ends():
    with start_sandboxes("solo", events=20, seed=3) as sandboxes:
        env = sandboxes.env()
        assert (sandboxes.profile, sandboxes.events, sandboxes.rate_limit) == ("solo", 20, PROFILES["solo"].rate_limit)
        assert set(env) == {"CALENDLY_API_URL", "CALENDLY_ACCESS_TOKEN", "BREVO_API_URL", "BREVO_API_KEY"}
        me = requests.get(f"{env['CALENDLY_API_URL']}/users/me",
                          headers={"Authorization": f"Bearer {env['CALENDLY_ACCESS_TOKEN']}"}, timeout=5)
        assert me.status_code == 200 and me.headers["X-RateLimit-Limit"] == str(PROFILES["solo"].rate_limit)
        lists = requests.get(f"{env['BREVO_API_URL']}/contacts/lists", headers={"api-key": env["BREVO_API_KEY"]},
                             timeout=5)
        assert lists.status_code == 200
        assert len(sandboxes.calendly_account.truth()["scheduled_events"]) == 20
    for url in (env["CALENDLY_API_URL"], env["BREVO_API_URL"]):  # stopped with the block
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=5)


def test_rate_limit_zero_serves_without_a_limit_and_an_unknown_profile_is_refused():
    with start_sandboxes(events=0, rate_limit=0) as sandboxes:
        assert (sandboxes.profile, sandboxes.rate_limit) == ("team", 0)
        assert sandboxes.calendly_account.truth()["scheduled_events"] == []
    with pytest.raises(ValueError, match="empty, solo, team, enterprise, messy"):
        with start_sandboxes("nope"):
            pass


# ---------------------------------------------------------------------------- a pinned `now`
TIMESTAMP = re.compile(r'"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)"')
PINNED = datetime(2025, 6, 2, 15, 0, tzinfo=timezone.utc)


def dump(sandboxes) -> str:
    """The account's data as canonical JSON: every table as served, the users, tokens and ids."""
    account = sandboxes.calendly_account
    return json.dumps({"truth": account.truth(), "users": account.users, "departed": account.departed_users,
                       "tokens": account.tokens, "tokens_by_user": account.tokens_by_user,
                       "organization": account.organization_uri, "now": account.now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")},
                      sort_keys=True, separators=(",", ":"))


def account_of(profile: str = "team", seed: int = 11, **kw) -> str:
    with start_sandboxes(profile, events=60, seed=seed, rate_limit=0, **kw) as sandboxes:
        return dump(sandboxes)


def moved(blob: str, by: timedelta) -> str:
    def move(m):
        return '"' + (datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ") + by).strftime("%Y-%m-%dT%H:%M:%S.%fZ") + '"'
    return TIMESTAMP.sub(move, blob)


@pytest.mark.parametrize("profile", ["team", "messy"])
def test_the_same_seed_and_pinned_now_give_byte_identical_accounts(profile):
    first = account_of(profile, now=PINNED)
    assert account_of(profile, now=PINNED) == first
    # the same instant however it is written: aware, naive UTC, ISO text
    assert account_of(profile, now=PINNED.replace(tzinfo=None)) == first
    assert account_of(profile, now="2025-06-02T17:00:00+02:00") == first
    assert account_of(profile, now=PINNED, seed=12) != first
    assert len(TIMESTAMP.findall(first)) > 500


def test_what_another_now_changes():
    """As CalendlyAccount.generate and the README say: whole weeks later, the same account with every
    timestamp moved by exactly that; an hour later, the same organization but another history."""
    base = account_of(now=PINNED)
    for weeks in (1, 3):
        later = account_of(now=PINNED + timedelta(weeks=weeks))
        assert later != base and later == moved(base, timedelta(weeks=weeks))
    hour = json.loads(account_of(now=PINNED + timedelta(hours=1)))
    was = json.loads(base)
    assert hour["tokens"] == was["tokens"] and hour["organization"] == was["organization"]
    for table in ("event_types", "organization_memberships"):
        assert [r["uri"] for r in hour["truth"][table]] == [r["uri"] for r in was["truth"][table]]
    assert [r["uri"] for r in hour["truth"]["scheduled_events"]] != [r["uri"] for r in was["truth"]["scheduled_events"]]


def test_by_default_the_account_is_built_around_the_current_time():
    with start_sandboxes("solo", events=10, rate_limit=0) as sandboxes:
        now = sandboxes.now
        assert now == sandboxes.calendly_account.now and now.tzinfo is not None and now.microsecond == 0
        assert abs((datetime.now(timezone.utc) - now).total_seconds()) < 60
        events = sandboxes.calendly_account.truth()["scheduled_events"]
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert any(e["start_time"] < stamp for e in events) and any(e["start_time"] > stamp for e in events)
    with start_sandboxes("solo", events=10, rate_limit=0, now=PINNED) as sandboxes:
        assert sandboxes.now == PINNED
