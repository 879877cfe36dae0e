"""Refreshing before expiry with single-use refresh tokens: rotation, replay, crashes and races."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from pipelines.config import PROJECT_ROOT
from pipelines.oauth import OAuthError, TokenClient, TokenStore, login, valid_access_token

from .conftest import LIFETIME, api, follow

MARGIN = 300


@pytest.fixture
def logged_in(sandbox, client, store):
    return login(store, client, open_browser=follow, timeout=10)


def test_refreshes_within_the_margin_and_rotates(sandbox, client, store, clock, logged_in):
    assert valid_access_token(store, client, now=clock) == logged_in.access_token
    clock.advance(LIFETIME - MARGIN - 5)  # still outside the margin: no request at all
    assert valid_access_token(store, client, now=clock) == logged_in.access_token
    assert sandbox.oauth.stats()["refresh_requests"] == 0

    refresh_tokens, access_tokens = [logged_in.refresh_token], [logged_in.access_token]
    for _ in range(3):
        clock.advance(LIFETIME - MARGIN + 1)  # inside the margin: refresh before it expires
        access_tokens.append(valid_access_token(store, client, now=clock))
        refresh_tokens.append(store.load().tokens.refresh_token)
        assert store.load().tokens.expires_at == pytest.approx(clock() + LIFETIME)
        assert store.load().refresh_in_flight is None
    assert len(set(refresh_tokens)) == len(set(access_tokens)) == 4  # a new refresh token each time
    assert sandbox.oauth.stats()["refresh_grants"] == 3
    assert api(sandbox, access_tokens[0]).json()["message"] == "The access token expired"
    assert api(sandbox, access_tokens[-1]).status_code == 200

    # Someone replays a spent refresh token (a copy of an old token file, a thief): Calendly refuses
    # it and revokes the grant, so our current tokens die with it and only a new login helps.
    with pytest.raises(OAuthError, match="invalid_grant"):
        client.refresh(refresh_tokens[1])
    assert sandbox.oauth.stats()["reuse_detected"] == 1
    assert api(sandbox, access_tokens[-1]).status_code == 401
    clock.advance(LIFETIME)
    for _ in range(2):  # the same clear message every time, with no "interrupted" marker left behind
        with pytest.raises(OAuthError, match="no longer accepts the stored refresh token.*auth login` again"):
            valid_access_token(store, client, now=clock)
        assert store.load().refresh_in_flight is None


CHILD = """
import sys
from pipelines.oauth import TokenClient, TokenStore, valid_access_token
store_path, client_id, auth_url, now = sys.argv[1:]
valid_access_token(TokenStore(store_path), TokenClient(client_id, auth_url=auth_url), now=lambda: float(now))
print("refreshed")
"""


def test_crash_after_the_server_rotated_asks_for_a_new_login(sandbox, client, store, clock, logged_in):
    """The worst moment: Calendly has spent our refresh token and answered a new one, and the process
    dies before storing it. Killed here by the sandbox itself, between rotating and answering."""
    clock.advance(LIFETIME)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(store.path), client.client_id, client.auth_url,
                              repr(clock())], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def crash():
        os.kill(child.pid, signal.SIGKILL)
        child.wait()

    sandbox.oauth.after_refresh = crash
    out, _ = child.communicate(timeout=20)
    assert child.returncode == -signal.SIGKILL and b"refreshed" not in out
    sandbox.oauth.after_refresh = None
    assert sandbox.oauth.stats()["refresh_grants"] == 1  # the server did rotate
    stored = store.load()
    assert stored.refresh_in_flight is not None and stored.refresh_in_flight.refresh_token == logged_in.refresh_token

    for _ in range(2):  # tries the spent token once per run; never pretends nothing happened
        with pytest.raises(OAuthError, match="interrupted after Calendly had used up the single-use refresh "
                                             "token, so its replacement was lost: run `calendly-elt auth login`"):
            valid_access_token(store, client, now=clock)
    assert sandbox.oauth.stats()["reuse_detected"] == 1
    login(store, client, open_browser=follow, timeout=10)  # the way out
    assert api(sandbox, valid_access_token(store, client, now=clock)).status_code == 200


def test_crash_before_the_request_reached_the_server_recovers(sandbox, client, store, clock, logged_in):
    clock.advance(LIFETIME)
    sandbox.configure(fault_rate=1.0)  # every request is reset or answered 5xx before it is processed
    with pytest.raises(OAuthError, match="could not reach|try again later"):
        valid_access_token(store, client, now=clock)
    stored = store.load()
    assert stored.refresh_in_flight is not None and stored.tokens == logged_in  # the marker stays
    assert sandbox.oauth.stats()["refresh_requests"] == 0

    sandbox.configure(fault_rate=0.0)
    token = valid_access_token(store, client, now=clock)  # tries the marked token once: it works
    stored = store.load()
    assert stored.refresh_in_flight is None and stored.tokens.refresh_token != logged_in.refresh_token
    assert api(sandbox, token).status_code == 200 and sandbox.oauth.stats()["refresh_grants"] == 1


def test_concurrent_refreshes_spend_the_token_once(sandbox, client, store, clock, logged_in):
    """Four workers (each with its own store object, as separate processes would have) find the token
    expiring at once; the lock makes one refresh and the others read what it stored."""
    clock.advance(LIFETIME)
    sandbox.configure(latency_ms=150)  # keep the first refresh in flight while the others queue
    start, results, errors = threading.Barrier(4), [], []

    def worker():
        own_store, own_client = TokenStore(store.path), TokenClient(client.client_id, auth_url=client.auth_url)
        start.wait()
        try:
            results.append(valid_access_token(own_store, own_client, now=clock))
        except Exception as exc:  # noqa: BLE001 – reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert not errors and len(results) == 4 and len(set(results)) == 1
    assert sandbox.oauth.stats()["refresh_requests"] == 1
    assert results[0] == store.load().tokens.access_token != logged_in.access_token
