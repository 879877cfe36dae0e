"""A valid access token from the store, refreshed before it expires, without ever losing the grant
to a crash or to a second process refreshing at the same time.

Calendly's refresh tokens are single-use: the moment the token endpoint accepts one, the stored one is
dead and only the response holds its successor. So a refresh (1) takes the store's lock, (2) writes a
"refresh in flight" marker naming the token it is about to spend, (3) calls the endpoint, (4) stores
the new tokens and clears the marker in one atomic write. A marker found later means some process
stopped between (2) and (4); whether the server had already consumed the token is unknown, and
trying it once tells: it works (the request never arrived) or it is refused (the successor was lost,
and only a new login can replace it).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import Callable

from .client import TokenClient
from .errors import LOGIN, InvalidGrant, OAuthError
from .tokens import RefreshInFlight, StoredTokens, TokenSet, TokenStore


def valid_access_token(store: TokenStore, client: TokenClient, now: Callable[[], float] = time.time,
                       margin_seconds: float = 300) -> str:
    """The stored access token if it outlives ``now() + margin_seconds``, else a freshly refreshed one."""
    stored = store.load()
    if _usable(stored, now(), margin_seconds):  # the common case: no lock, no request
        return stored.tokens.access_token
    with store.locked():
        stored = store.load()  # whoever held the lock before us may have refreshed already
        if _usable(stored, now(), margin_seconds):
            return stored.tokens.access_token
        return refresh(store, client, stored, now).access_token


def _usable(stored: StoredTokens, at: float, margin: float) -> bool:
    return stored.refresh_in_flight is None and stored.tokens.expires_at > at + margin


def refresh(store: TokenStore, client: TokenClient, stored: StoredTokens,
            now: Callable[[], float] = time.time) -> TokenSet:
    """Spend the stored refresh token and store its successor. Call with ``store.locked()`` held."""
    interrupted = stored.refresh_in_flight
    spent = stored.tokens.refresh_token
    started = now()
    # A marker left by a crash keeps its time, so every later message names the refresh that was lost.
    store.save(replace(stored, refresh_in_flight=interrupted or RefreshInFlight(spent, started)))
    try:
        body = client.refresh(spent)
    except InvalidGrant as exc:
        if interrupted is not None:
            raise OAuthError(
                f"the token refresh of {_when(interrupted.started_at)} was interrupted after Calendly had used "
                f"up the single-use refresh token, so its replacement was lost: {LOGIN} again") from None
        store.save(stored)  # a definite answer: no marker, so the next run says the same, not "interrupted"
        raise OAuthError(f"Calendly no longer accepts the stored refresh token (invalid_grant: "
                         f"{exc.description}): {LOGIN} again") from None
    # Any other failure leaves the marker: the request may or may not have reached the server.
    tokens = TokenSet.from_response(body, started)
    store.save(StoredTokens(tokens, stored.client_id, stored.auth_url))  # new tokens, marker cleared
    return tokens


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
