"""OAuth 2.0 for Calendly: `calendly-elt auth login`, and access tokens refreshed before they expire.

Configuration (the settings, pipelines/config.py, read these and hand us their values):

| env var | meaning | default |
|---|---|---|
| `CALENDLY_CLIENT_ID` | OAuth app's client id (`auth login`) | – |
| `CALENDLY_CLIENT_SECRET` | its secret, for a web app; a native app has none (PKCE) | – |
| `CALENDLY_AUTH_URL` | Calendly's authorization server (`auth login`) | `https://auth.calendly.com` |
| `CALENDLY_OAUTH_TOKEN_FILE` | where the tokens live (mode 0600) | `.calendly_oauth.json` beside the warehouse |

Once logged in, the token file remembers the client id and authorization server, so scheduled runs
need only the secret (if any) in their environment.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from .client import DEFAULT_AUTH_URL, TokenClient
from .errors import LOGIN, InvalidGrant, OAuthError
from .login import login
from .refresh import valid_access_token
from .tokens import RefreshInFlight, StoredTokens, TokenSet, TokenStore

# The variables of the table above, for messages: Settings reads them.
ENV_CLIENT_ID = "CALENDLY_CLIENT_ID"
ENV_CLIENT_SECRET = "CALENDLY_CLIENT_SECRET"
ENV_AUTH_URL = "CALENDLY_AUTH_URL"
ENV_TOKEN_FILE = "CALENDLY_OAUTH_TOKEN_FILE"
TOKEN_FILE_NAME = ".calendly_oauth.json"  # beside the warehouse, unless CALENDLY_OAUTH_TOKEN_FILE says

__all__ = ["DEFAULT_AUTH_URL", "ENV_AUTH_URL", "ENV_CLIENT_ID", "ENV_CLIENT_SECRET", "ENV_TOKEN_FILE",
           "InvalidGrant", "OAuthError", "RefreshInFlight", "StoredTokens", "TOKEN_FILE_NAME", "TokenClient",
           "TokenSet", "TokenStore", "access_token_from_oauth", "login", "login_client", "valid_access_token"]


def login_client(client_id: str | None, client_secret: str | None = None, auth_url: str | None = None) -> TokenClient:
    """The client `auth login` uses: CALENDLY_CLIENT_ID's app, at CALENDLY_AUTH_URL (None: Calendly's)."""
    if not client_id:
        raise OAuthError(f"{ENV_CLIENT_ID} is not set: register an OAuth app in Calendly's developer portal "
                         f"(redirect URI http://127.0.0.1:<port>/callback) and export its client id")
    return TokenClient(client_id, client_secret or None, auth_url or DEFAULT_AUTH_URL)


def access_token_from_oauth(token_path: Path, client_id: str | None = None, client_secret: str | None = None, *,
                            now: Callable[[], float] = time.time) -> str | None:
    """A valid OAuth access token from the tokens at `token_path`, refreshing it if needed; None when
    nobody has logged in. `client_id` (CALENDLY_CLIENT_ID), if given, must be the one the tokens were
    issued to; `client_secret` is the app's, for a refresh.

    May call the token endpoint, so call it when a Calendly token is needed, not for every command."""
    store = TokenStore(token_path)
    if not store.exists():
        return None
    stored = store.load()
    if client_id and client_id != stored.client_id:
        raise OAuthError(f"the OAuth tokens in {store.path} were issued to another client than "
                         f"{ENV_CLIENT_ID}: {LOGIN} again")
    client = TokenClient(stored.client_id, client_secret or None, stored.auth_url)
    return valid_access_token(store, client, now=now)
