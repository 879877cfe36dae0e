"""Calendly's own deletion (`forget --calendly`): `POST /data_compliance/deletion/invitees`.

Enterprise plans only, for an owner or admin with the data-requests permission (scope
`data_compliance:write`); 202 means accepted – Calendly carries it out within 7 days, and anonymizes
rather than removes: the bookings stay, with the name and answers deleted and the address replaced.

The request names each address lower-cased and as every spelling the warehouse holds of it
(`Ann@Example.com`): Calendly's documentation does not say it matches addresses regardless of case.
Any 2xx is an acceptance. Calendly documents 400, 403 and 404 for this endpoint, with a `title` and a
`message`; only the message says that the plan is the reason ("… upgrade … to Enterprise"), so that is
what is read, whatever the status.
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
    """Ask Calendly to delete `emails` (each address, and its spellings as Calendly stored them)."""
    token = settings.require_calendly_token()
    client = calendly_client(settings.calendly_api_url, token, RateLimitPacer(), max_workers=1, max_attempts=5)
    response = client.post("/data_compliance/deletion/invitees", json={"emails": list(dict.fromkeys(emails))})
    status = response.status_code
    if 200 <= status < 300:
        return CalendlyOutcome(True, "requested (Calendly anonymizes the invitees within 7 days)")
    said = _said(response)
    if status == 401:
        return CalendlyOutcome(False, f"refused: CALENDLY_ACCESS_TOKEN was not accepted (401: {said})")
    if status in (400, 403, 404) and "enterprise" in said.lower():
        return CalendlyOutcome(False, f"refused: Calendly's invitee data deletion needs an Enterprise plan "
                                      f"({status}: {said})")
    if status == 403:
        return CalendlyOutcome(False, f"refused: Calendly's invitee data deletion needs an owner or admin token "
                                      f"with the data requests permission (403: {said})")
    return CalendlyOutcome(False, f"failed: {status} {said}".strip())
