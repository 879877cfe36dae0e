"""Calendly's OAuth authorization server in the sandbox: ``GET /oauth/authorize`` and ``POST /oauth/token``.

What a client has to get right is modelled the way Calendly (and the OAuth 2.0 security BCP) does it:
- the authorize step takes registered clients and loopback redirect URIs only (any port, RFC 8252)
  and a PKCE S256 challenge (required of public clients); it consents at once for one sandbox user;
- codes live 10 minutes, are single-use and bound to client, redirect URI and challenge;
- access tokens live ``access_token_seconds`` (Calendly: 2 hours) by an injectable ``clock``;
- refresh tokens are single-use: each refresh answers a new one and spends the old; presenting a
  spent one (or a code twice) is replay, answered with invalid_grant *and* by revoking every token
  of that grant ("family"), so a stolen token dies with the legitimate one.

HTTP-agnostic like :class:`~.server.Api`: :meth:`handle` maps a request to (status, body, headers).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from .account import CalendlyAccount

SANDBOX_CLIENT_ID = "calendly-elt-sandbox"  # a public (native) client: PKCE, no secret
ROUTES = {"/oauth/authorize": "oauth_authorize", "/oauth/token": "oauth_token"}
ROUTE_NAMES = list(ROUTES.values())
CODE_SECONDS = 600
LOOPBACK = ("127.0.0.1", "::1", "localhost")
PKCE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthFailure(Exception):
    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


def _grant(description: str) -> OAuthFailure:
    return OAuthFailure(400, "invalid_grant", description)


def _json(status: int, body: dict, headers: dict | None = None) -> tuple:
    return status, json.dumps(body, separators=(",", ":")).encode(), {**NO_STORE, **(headers or {})}


@dataclass
class _Family:
    """Every token that descends from one authorization code."""
    client_id: str
    user_uri: str
    revoked: bool = False


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str | None
    user_uri: str
    expires_at: float
    family: _Family | None = None  # set once redeemed


@dataclass
class _Refresh:
    family: _Family
    spent: bool = False


@dataclass
class _Access:
    family: _Family
    expires_at: float


class SandboxOAuth:
    """``clients`` maps client ids to their secret (None: a public client). ``user`` is whose
    account every authorization consents to (default: the organization owner). ``after_refresh`` is
    called after a refresh has rotated the tokens and before the answer is sent: a test's way to
    crash the client at the worst possible moment."""

    def __init__(self, account: CalendlyAccount, clients: Mapping[str, str | None] | None = None, *,
                 access_token_seconds: float = 7200, clock: Callable[[], float] = time.time,
                 user: str | None = None):
        self.account = account
        self.clients = dict(clients if clients is not None else {SANDBOX_CLIENT_ID: None})
        self.access_token_seconds = access_token_seconds
        self.clock = clock
        self.user_uri = user or account.users["owner"]["uri"]
        self.after_refresh: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._access: dict[str, _Access] = {}
        self._stats = dict.fromkeys(("authorizations", "code_grants", "refresh_requests", "refresh_grants",
                                     "rejected_grants", "reuse_detected", "families_revoked"), 0)

    def stats(self) -> dict:
        with self._lock:
            return dict(self._stats)

    # ------------------------------------------------------------------ the API's side
    def bearer(self, token: str) -> tuple[str | None, bool]:
        """(user uri, False) for a live access token; (None, True) expired; (None, False) unknown or revoked."""
        with self._lock:
            found = self._access.get(token)
            if found is None or found.family.revoked:
                return None, False
            if self.clock() >= found.expires_at:
                return None, True
            return found.family.user_uri, False

    # ------------------------------------------------------------------ HTTP
    def handle(self, route: str, method: str, query: dict, body: bytes | None, headers) -> tuple:
        """(status, payload bytes, extra headers) for one request to an /oauth/ route."""
        wanted = "GET" if route == "oauth_authorize" else "POST"
        if method != wanted:
            return _json(405, {"error": "invalid_request", "error_description": f"use {wanted}"}, {"Allow": wanted})
        if route == "oauth_authorize":
            return self._authorize(query)
        form = dict(parse_qsl((body or b"").decode("utf-8", "replace"), keep_blank_values=True))
        try:
            status, answer = 200, self._token(form, headers.get("Authorization") or "")
        except OAuthFailure as f:
            with self._lock:
                self._stats["rejected_grants"] += 1
            extra = {"WWW-Authenticate": 'Basic realm="oauth"'} if f.status == 401 else {}
            return _json(f.status, {"error": f.error, "error_description": f.description}, extra)
        if form.get("grant_type") == "refresh_token" and self.after_refresh is not None:
            self.after_refresh()
        return _json(status, answer)

    # ------------------------------------------------------------------ GET /oauth/authorize
    def _authorize(self, q: dict) -> tuple:
        # A bad client or redirect URI is shown, never redirected to (RFC 6749 §4.1.2.1: no open redirector).
        client_id, redirect_uri = q.get("client_id", ""), q.get("redirect_uri", "")
        if client_id not in self.clients:
            return _json(400, {"error": "invalid_client", "error_description": "unknown client_id"})
        if not _loopback(redirect_uri):
            return _json(400, {"error": "invalid_request",
                               "error_description": "redirect_uri must be an http loopback URI"})
        challenge = q.get("code_challenge")
        if q.get("response_type") != "code":
            return self._redirect(redirect_uri, q, error="unsupported_response_type")
        if challenge is None and self.clients[client_id] is None:
            return self._redirect(redirect_uri, q, error="invalid_request",
                                  error_description="code_challenge is required of public clients")
        if challenge is not None and (q.get("code_challenge_method") != "S256" or not PKCE.match(challenge)):
            return self._redirect(redirect_uri, q, error="invalid_request",
                                  error_description="code_challenge must be an S256 challenge")
        code = secrets.token_hex(32)
        with self._lock:
            self._codes[code] = _Code(client_id, redirect_uri, challenge, self.user_uri,
                                      self.clock() + CODE_SECONDS)
            self._stats["authorizations"] += 1
        return self._redirect(redirect_uri, q, code=code)

    @staticmethod
    def _redirect(redirect_uri: str, q: dict, **params) -> tuple:
        if "state" in q:
            params["state"] = q["state"]
        location = redirect_uri + ("&" if "?" in redirect_uri else "?") + urlencode(params)
        return 302, b"", {**NO_STORE, "Location": location}

    # ------------------------------------------------------------------ POST /oauth/token
    def _token(self, form: dict, authorization: str) -> dict:
        client_id = self._authenticate(form, authorization)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self._redeem(client_id, form)
        if grant == "refresh_token":
            return self._rotate(client_id, form)
        raise OAuthFailure(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")

    def _authenticate(self, form: dict, authorization: str) -> str:
        """The client id, from HTTP Basic (web clients) or the body (native clients)."""
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization[:6].lower() == "basic ":
            try:
                user, _, password = base64.b64decode(authorization[6:].strip()).decode().partition(":")
            except ValueError:
                raise OAuthFailure(401, "invalid_client", "malformed Basic authorization") from None
            if client_id is not None and client_id != unquote(user):
                raise OAuthFailure(401, "invalid_client", "client_id differs from the Basic user")
            client_id, secret = unquote(user), unquote(password)
        if client_id not in self.clients:
            raise OAuthFailure(401, "invalid_client", "unknown client")
        expected = self.clients[client_id]
        if expected is not None and not hmac.compare_digest((secret or "").encode(), expected.encode()):
            raise OAuthFailure(401, "invalid_client", "client authentication failed")
        return client_id

    def _redeem(self, client_id: str, form: dict) -> dict:
        for name in ("code", "redirect_uri"):
            if not form.get(name):
                raise OAuthFailure(400, "invalid_request", f"{name} is required")
        verifier = form.get("code_verifier")
        with self._lock:
            code = self._codes.get(form["code"])
            if code is None or code.client_id != client_id:
                raise _grant("unknown authorization code")
            if code.family is not None:  # replayed: whatever it bought dies too (RFC 6749 §4.1.2)
                self._revoke(code.family)
                raise _grant("authorization code already used")
            if self.clock() >= code.expires_at:
                raise _grant("authorization code expired")
            if form["redirect_uri"] != code.redirect_uri:
                raise _grant("redirect_uri does not match the authorization request")
            if code.challenge is None:
                if verifier is not None:
                    raise _grant("no code_challenge was sent with the authorization request")
            elif verifier is None or not PKCE.match(verifier) or not hmac.compare_digest(_s256(verifier), code.challenge):
                raise _grant("code_verifier does not match the code_challenge")
            code.family = _Family(client_id, code.user_uri)
            self._stats["code_grants"] += 1
            return self._issue(code.family)

    def _rotate(self, client_id: str, form: dict) -> dict:
        if not form.get("refresh_token"):
            raise OAuthFailure(400, "invalid_request", "refresh_token is required")
        with self._lock:
            self._stats["refresh_requests"] += 1
            found = self._refresh.get(form["refresh_token"])
            if found is None or found.family.client_id != client_id:
                raise _grant("unknown refresh token")
            if found.family.revoked:
                raise _grant("the grant was revoked")
            if found.spent:
                self._stats["reuse_detected"] += 1
                self._revoke(found.family)
                raise _grant("refresh token already used; the grant is revoked")
            found.spent = True
            self._stats["refresh_grants"] += 1
            return self._issue(found.family)

    def _revoke(self, family: _Family) -> None:
        if not family.revoked:
            family.revoked = True
            self._stats["families_revoked"] += 1

    def _issue(self, family: _Family) -> dict:
        now = self.clock()
        access, refresh = secrets.token_urlsafe(48), secrets.token_urlsafe(32)
        self._access[access] = _Access(family, now + self.access_token_seconds)
        self._refresh[refresh] = _Refresh(family)
        return {"token_type": "Bearer", "access_token": access, "refresh_token": refresh, "scope": "default",
                "created_at": int(now), "expires_in": int(self.access_token_seconds),
                "owner": family.user_uri, "organization": self.account.organization_uri}


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")


def _loopback(uri: str) -> bool:
    try:
        split = urlsplit(uri)
        return split.scheme == "http" and split.hostname in LOOPBACK and not split.fragment and split.port != 0
    except ValueError:  # e.g. a port that is not a number
        return False
