"""Both sandboxes at once: the Calendly stand-in serving an account of a named profile, and the Brevo
stand-in. `calendly-elt sandbox`, `calendly-elt demo` and `make ui` start them here, and only here."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

from .brevo import BrevoAccount, BrevoSandbox
from .calendly import CalendlyAccount, CalendlySandbox
from .calendly.shapes import PROFILES

HOST = "127.0.0.1"  # loopback only


@dataclass(frozen=True)
class Sandboxes:
    """The two running sandboxes, their accounts, and what was asked of them (with the profile's
    defaults filled in)."""

    calendly: CalendlySandbox
    brevo: BrevoSandbox
    calendly_account: CalendlyAccount
    brevo_account: BrevoAccount
    profile: str
    events: int
    rate_limit: int  # Calendly's, requests per minute per token; 0: none
    now: datetime  # the account's reference instant (aware UTC): pinned, or the start time to the second

    def env(self) -> dict[str, str]:
        """What points calendly-elt at them: the four variables, with the organization owner's token."""
        return {"CALENDLY_API_URL": self.calendly.url,
                "CALENDLY_ACCESS_TOKEN": self.calendly_account.tokens["admin"],
                "BREVO_API_URL": self.brevo.url,
                "BREVO_API_KEY": self.brevo_account.api_key}


@contextlib.contextmanager
def start_sandboxes(profile: str = "team", events: int | None = None, seed: int = 7, calendly_port: int = 0,
                    brevo_port: int = 0, rate_limit: int | None = None, fault_rate: float = 0.0,
                    latency_ms: float = 0.0, import_seconds: float = 0.2,
                    brevo_api_key: str = "xkeysib-sandbox-0001",
                    now: datetime | str | None = None) -> Iterator[Sandboxes]:
    """Generate a Calendly account of ``profile`` (``sandbox/calendly/shapes.py``) and serve it, with an
    empty Brevo account, on loopback until the block ends. ``events`` and ``rate_limit`` left unset
    take the profile's (``rate_limit=0``: none); port 0 picks a free one. ``fault_rate`` and
    ``latency_ms`` apply to both; ``import_seconds`` is how long a Brevo import takes to apply.

    ``now`` is the instant the history is generated around (a datetime, naive meaning UTC, or an ISO
    8601 string); unset, the current time to the second. The same ``seed``, ``profile``, ``events`` and
    ``now`` give a byte-identical account (see ``CalendlyAccount.generate``)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown sandbox profile {profile!r}: choose one of {', '.join(PROFILES)}")
    kind = PROFILES[profile]
    events = kind.events if events is None else events
    rate_limit = kind.rate_limit if rate_limit is None else rate_limit
    calendly_account = CalendlyAccount.generate(seed=seed, events=events, now=now, shape=kind.shape)
    brevo_account = BrevoAccount(api_key=brevo_api_key)
    with CalendlySandbox(calendly_account, host=HOST, port=calendly_port, rate_limit=rate_limit,
                         fault_rate=fault_rate, latency_ms=latency_ms) as calendly, \
            BrevoSandbox(brevo_account, host=HOST, port=brevo_port, fault_rate=fault_rate, latency_ms=latency_ms,
                         import_seconds=import_seconds) as brevo:
        yield Sandboxes(calendly=calendly, brevo=brevo, calendly_account=calendly_account,
                        brevo_account=brevo_account, profile=profile, events=events, rate_limit=rate_limit,
                        now=calendly_account.now)
