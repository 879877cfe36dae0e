"""The person's contact in Brevo: `DELETE /contacts/{identifier}`, the address as the identifier.

204: deleted; 404: no such contact (never synced, or deleted already) – the same end state. Brevo's
other refusals (400, 405 for the account's own address) and a failure after the client's retries are
reported as `failed: …`, and the erasure exits non-zero.
"""

from __future__ import annotations

from urllib.parse import quote

import requests

from ..brevo.client import BrevoClient, refusal
from ..brevo.settings import DEFAULT_API_URL
from ..config import Settings


def delete_contacts(settings: Settings, emails: list[str]) -> dict[str, str]:
    """email → deleted | absent | skipped: … | failed: …"""
    if not settings.brevo_api_key:
        return {email: "skipped: BREVO_API_KEY is not set" for email in emails}
    client = BrevoClient(settings.brevo_api_url or DEFAULT_API_URL, settings.brevo_api_key)
    outcomes: dict[str, str] = {}
    for email in emails:
        try:
            response = client.rest.request(f"/contacts/{quote(email, safe='')}", method="DELETE")
        except Exception as exc:  # noqa: BLE001 – after the client's retries: reported, the others go on
            outcomes[email] = "failed: " + refusal("DELETE /contacts", exc).split("failed: ", 1)[-1]
            continue
        if response.status_code in (200, 204):
            outcomes[email] = "deleted"
        elif response.status_code == 404:
            outcomes[email] = "absent"
        else:
            outcomes[email] = "failed: " + refusal("DELETE /contacts", requests.HTTPError(response=response)
                                                   ).split("failed: ", 1)[-1]
    return outcomes
