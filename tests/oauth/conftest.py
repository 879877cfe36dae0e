"""A Calendly sandbox whose authorization server runs on a clock the test moves, a token store in a
temporary folder, and a way to reach the authorize page the way a browser would."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest
import requests

from pipelines.oauth import TokenClient, TokenStore
from sandbox.calendly import CalendlyAccount, CalendlySandbox
from sandbox.calendly.oauth import SANDBOX_CLIENT_ID, SandboxOAuth

WEB_CLIENT_ID, WEB_CLIENT_SECRET = "calendly-elt-web", "sandbox-web-secret"
LIFETIME = 7200  # Calendly's access-token lifetime


class Clock:
    """Starts at the real time (login stamps expiries with it) and moves only when told."""

    def __init__(self):
        self.t = time.time()
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.t

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.t += seconds


@pytest.fixture(scope="module")
def account() -> CalendlyAccount:
    return CalendlyAccount.generate(seed=7, events=40, now=datetime(2025, 6, 2, 15, tzinfo=timezone.utc))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(account, clock):
    oauth = SandboxOAuth(account, {SANDBOX_CLIENT_ID: None, WEB_CLIENT_ID: WEB_CLIENT_SECRET},
                         access_token_seconds=LIFETIME, clock=clock)
    with CalendlySandbox(account, rate_limit=None, oauth=oauth) as sb:
        yield sb


@pytest.fixture
def client(sandbox) -> TokenClient:
    return TokenClient(SANDBOX_CLIENT_ID, auth_url=sandbox.url, timeout=10)


@pytest.fixture
def store(tmp_path) -> TokenStore:
    return TokenStore(tmp_path / "data" / ".calendly_oauth.json")


def follow(url: str) -> requests.Response:
    """A browser that consents at once: follows the authorize page's redirect to our loopback callback."""
    return requests.get(url, timeout=10)


def api(sandbox, token: str) -> requests.Response:
    return requests.get(f"{sandbox.url}/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
