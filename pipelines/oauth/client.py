"""Calendly's OAuth authorization server, as our client sees it: the authorize URL and the token endpoint."""

from __future__ import annotations

from urllib.parse import urlencode

import requests

from .errors import InvalidGrant, OAuthError

DEFAULT_AUTH_URL = "https://auth.calendly.com"


class TokenClient:
    """``client_secret`` None: a native (public) client, which proves itself with PKCE alone.
    With a secret (a web client) it goes in HTTP Basic auth, as Calendly documents.

    A token request is never retried: a retried refresh whose first attempt did reach the server
    presents a spent refresh token, which Calendly treats as replay and answers with invalid_grant."""

    def __init__(self, client_id: str, client_secret: str | None = None, auth_url: str = DEFAULT_AUTH_URL,
                 timeout: float = 30, session: requests.Session | None = None):
        self.client_id = client_id
        self._secret = client_secret
        self.auth_url = auth_url.rstrip("/")
        self.timeout = timeout
        self._session = session or requests.Session()

    def __repr__(self) -> str:  # no secret in a repr
        return f"TokenClient({self.client_id!r}, auth_url={self.auth_url!r})"

    def authorize_url(self, redirect_uri: str, state: str, code_challenge: str) -> str:
        query = {"client_id": self.client_id, "response_type": "code", "redirect_uri": redirect_uri,
                 "state": state, "code_challenge": code_challenge, "code_challenge_method": "S256"}
        return f"{self.auth_url}/oauth/authorize?{urlencode(query)}"

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str) -> dict:
        return self._post({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                           "code_verifier": code_verifier})

    def refresh(self, refresh_token: str) -> dict:
        return self._post({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _post(self, form: dict) -> dict:
        url = f"{self.auth_url}/oauth/token"
        try:
            r = self._session.post(url, data={**form, "client_id": self.client_id}, timeout=self.timeout,
                                   auth=(self.client_id, self._secret) if self._secret else None,
                                   headers={"Accept": "application/json"})
        except requests.RequestException as exc:  # its message may quote the request: not shown
            raise OAuthError(f"could not reach {url} ({type(exc).__name__}): check CALENDLY_AUTH_URL "
                             "and the network") from None
        try:
            body = r.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) and r.status_code < 500:
            raise OAuthError(f"{url} answered HTTP {r.status_code} without a JSON object: check CALENDLY_AUTH_URL")
        if r.ok:
            return body
        if r.status_code >= 500:
            raise OAuthError(f"{url} answered HTTP {r.status_code}: Calendly's authorization server is failing, "
                             "try again later")
        error, description = body.get("error") or "error", body.get("error_description") or r.reason
        if error == "invalid_grant":
            raise InvalidGrant(str(description))
        if error == "invalid_client":
            raise OAuthError(f"Calendly does not accept this OAuth client ({error}: {description}): check "
                             "CALENDLY_CLIENT_ID and CALENDLY_CLIENT_SECRET")
        raise OAuthError(f"{url} answered HTTP {r.status_code} ({error}: {description})")
