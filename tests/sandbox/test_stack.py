"""`start_sandboxes`: both sandboxes for `calendly-elt sandbox`, `calendly-elt demo` and `make ui`, an
account of the named profile, and the variables that point calendly-elt at them."""

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
