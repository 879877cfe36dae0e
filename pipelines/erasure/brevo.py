"""The person's contact in Brevo: `DELETE /contacts/{identifier}`, the address as the identifier.

The key and the URL are checked first with `GET /account`, the call the sync's dry run makes: at a
wrong BREVO_API_URL every DELETE answers 404, which would read as "no such contact" for everyone.
Any 2xx: deleted; 404 with Brevo's error body (a JSON object): no such contact (never synced, or
deleted already) – the same end state; a 404 without it is not Brevo answering, and fails naming the
URL. Brevo's other refusals (400, 405 for the account's own address) and a failure after the client's
retries are reported as `failed: …`, and the erasure exits non-zero. No line names the address (the
audit keeps them).
"""

from __future__ import annotations

from urllib.parse import quote

import requests

from ..brevo.client import BrevoClient, refusal
from ..brevo.settings import DEFAULT_API_URL
from ..config import Settings
from ..errors import BREVO, describe


def _brevo_error(response: requests.Response) -> bool:
    """The body is Brevo's error shape: a JSON object (`{"code": …, "message": …}`)."""
    try:
        return isinstance(response.json(), dict)
    except ValueError:
        return False


def _account_problem(client: BrevoClient, url: str, secrets: list[str]) -> str | None:
    """Why the key or the URL cannot be used (one line), or None."""
    try:
        client.get("/account")
    except ValueError:  # an answer, but not JSON: something else is at that URL
        return f"{url} is not Brevo's API (GET /account did not answer JSON): check BREVO_API_URL " \
               f"(Brevo's is {DEFAULT_API_URL})"
    except Exception as exc:  # noqa: BLE001 – one line, like every command's errors
        return describe(exc, url, secrets, BREVO)
    return None


def delete_contacts(settings: Settings, emails: list[str]) -> dict[str, str]:
    """email → deleted | absent | skipped: … | failed: …"""
    if not settings.brevo_api_key:
        return {email: "skipped: BREVO_API_KEY is not set" for email in emails}
    url = (settings.brevo_api_url or DEFAULT_API_URL).rstrip("/")
    client = BrevoClient(url, settings.brevo_api_key)
    problem = _account_problem(client, url, [settings.brevo_api_key])
    if problem:
        return {email: f"failed: {problem}" for email in emails}
    outcomes: dict[str, str] = {}
    for email in emails:
        identifier = quote(email, safe="")
        try:
            response = client.rest.request(f"/contacts/{identifier}", method="DELETE")
        except Exception as exc:  # noqa: BLE001 – after the client's retries: reported, the others go on
            outcomes[email] = "failed: " + describe(exc, url, [settings.brevo_api_key, identifier, email], BREVO)
            continue
        if 200 <= response.status_code < 300:
            outcomes[email] = "deleted"
        elif response.status_code == 404 and _brevo_error(response):
            outcomes[email] = "absent"
        elif response.status_code == 404:
            outcomes[email] = (f"failed: {url} answered 404 without Brevo's error body: check BREVO_API_URL "
                               f"(Brevo's is {DEFAULT_API_URL})")
        else:
            outcomes[email] = "failed: " + refusal("DELETE /contacts", requests.HTTPError(response=response)
                                                   ).split("failed: ", 1)[-1]
    return outcomes
