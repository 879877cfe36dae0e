import json

import pytest
from starlette.testclient import TestClient

from pipelines.webhooks import LandingStore, sign
from pipelines.webhooks.app import create_app

KEY = "whsec-test-key-0001"
NOW = 1_700_000_000


class Clock:
    """The app's notion of now, moved by the test."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def delivery(event: str = "invitee.created", email: str = "ada@example.com") -> bytes:
    return json.dumps({"created_at": "2023-11-14T22:13:20.000000Z", "created_by": "https://api.calendly.com/users/U1",
                       "event": event, "payload": {"email": email, "uri": f"https://api.calendly.com/i/{email}"}}
                      ).encode()


def signed(body: bytes, timestamp: int = NOW, key: str = KEY) -> dict[str, str]:
    return {"Calendly-Webhook-Signature": sign(body, key, timestamp), "Content-Type": "application/json"}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path) -> LandingStore:
    return LandingStore(tmp_path / "landing" / "calendly_webhooks.sqlite")


@pytest.fixture
def client(store, clock):
    with TestClient(create_app(KEY, store, clock=clock, max_body_bytes=10_000)) as client:
        yield client
