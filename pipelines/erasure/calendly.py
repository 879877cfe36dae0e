"""Calendly's own deletion (`forget --calendly`): `POST /data_compliance/deletion/invitees`.

Enterprise plans only, for an owner or admin with the data-requests permission (scope
`data_compliance:write`); 202 means accepted – Calendly carries it out within 7 days, and anonymizes
rather than removes: the bookings stay, with the name and answers deleted and the address replaced.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..calendly.client import calendly_client
from ..config import Settings
from ..pacing import RateLimitPacer


def _said(response) -> str:
    """Calendly's `title: message` of an error answer."""
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    return f"{body.get('title', '')}: {body.get('message', '')}".strip(": ") if isinstance(body, dict) else ""


@dataclass(frozen=True)
class CalendlyOutcome:
    accepted: bool
    line: str  # for the audit row and the summary


def request_deletion(settings: Settings, emails: list[str]) -> CalendlyOutcome:
    token = settings.require_calendly_token()
    client = calendly_client(settings.calendly_api_url, token, RateLimitPacer(), max_workers=1, max_attempts=5)
    response = client.post("/data_compliance/deletion/invitees", json={"emails": emails})
    if response.status_code in (200, 201, 202):
        return CalendlyOutcome(True, "requested (Calendly anonymizes the invitees within 7 days)")
    said = _said(response)
    if response.status_code == 403:
        return CalendlyOutcome(False, f"refused: Calendly's invitee data deletion needs an Enterprise plan and an "
                                      f"owner or admin token with the data requests permission (403: {said})")
    if response.status_code == 401:
        return CalendlyOutcome(False, f"refused: CALENDLY_ACCESS_TOKEN was not accepted (401: {said})")
    return CalendlyOutcome(False, f"failed: {response.status_code} {said}".strip())
