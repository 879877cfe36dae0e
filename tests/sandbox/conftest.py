"""Shared fixtures: a small deterministic account served by a sandbox for read-only tests.

Tests that mutate data or change the sandbox's limits build their own (generation of a
300-event account takes a few tens of milliseconds)."""

from datetime import datetime, timezone

import pytest
import requests

from sandbox.calendly import CalendlyAccount, CalendlySandbox

# A fixed reference instant keeps every generated account identical from run to run.
NOW = datetime(2025, 6, 2, 15, 0, tzinfo=timezone.utc)


def make_account(seed: int = 7, events: int = 300, **kw) -> CalendlyAccount:
    return CalendlyAccount.generate(seed=seed, events=events, now=NOW, **kw)


def session(token: str | None) -> requests.Session:
    s = requests.Session()
    if token:
        s.headers["Authorization"] = f"Bearer {token}"
    return s


def local(sandbox: CalendlySandbox, uri: str) -> str:
    """A resource uri (always https://api.calendly.com/...) as a URL of this sandbox."""
    return uri.replace(sandbox.account.base_uri, sandbox.url)


@pytest.fixture(scope="session")
def account() -> CalendlyAccount:
    """Read-only: never mutate it (other tests compare against its ground truth)."""
    return make_account()


@pytest.fixture(scope="session")
def sandbox(account):
    with CalendlySandbox(account, rate_limit=None) as sb:
        yield sb


@pytest.fixture(scope="session")
def admin(account):
    return session(account.tokens["admin"])


@pytest.fixture(scope="session")
def member(account):
    return session(account.tokens["member"])
