"""OAuth 2.0 for Calendly: `calendly-elt auth login`, and access tokens refreshed before they expire.

Configuration (proposed additions to the public table in DESIGN.md):

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

import os
import time
from pathlib import Path
from typing import Callable, Mapping

from ..config import DEFAULT_WAREHOUSE
from .client import DEFAULT_AUTH_URL, TokenClient
from .errors import LOGIN, InvalidGrant, OAuthError
from .login import login
from .refresh import valid_access_token
from .tokens import RefreshInFlight, StoredTokens, TokenSet, TokenStore

ENV_CLIENT_ID = "CALENDLY_CLIENT_ID"
ENV_CLIENT_SECRET = "CALENDLY_CLIENT_SECRET"
ENV_AUTH_URL = "CALENDLY_AUTH_URL"
ENV_TOKEN_FILE = "CALENDLY_OAUTH_TOKEN_FILE"
TOKEN_FILE_NAME = ".calendly_oauth.json"

__all__ = ["DEFAULT_AUTH_URL", "ENV_AUTH_URL", "ENV_CLIENT_ID", "ENV_CLIENT_SECRET", "ENV_TOKEN_FILE",
           "InvalidGrant", "OAuthError", "RefreshInFlight", "StoredTokens", "TokenClient", "TokenSet",
           "TokenStore", "access_token_from_oauth", "client_from_env", "login", "token_path",
           "valid_access_token"]


def token_path(env: Mapping[str, str] | None = None) -> Path:
    """Beside the warehouse (as the webhook landing store is), so each warehouse has its own login.
    Reads WAREHOUSE_PATH itself rather than through Settings, which may call us."""
    env = os.environ if env is None else env
    if env.get(ENV_TOKEN_FILE):
        return Path(env[ENV_TOKEN_FILE]).expanduser().resolve()
    warehouse = env.get("WAREHOUSE_PATH")
    folder = Path(warehouse).expanduser().resolve().parent if warehouse else DEFAULT_WAREHOUSE.parent
    return folder / TOKEN_FILE_NAME


def client_from_env(env: Mapping[str, str] | None = None) -> TokenClient:
    """The client `auth login` uses."""
    env = os.environ if env is None else env
    client_id = env.get(ENV_CLIENT_ID)
    if not client_id:
        raise OAuthError(f"{ENV_CLIENT_ID} is not set: register an OAuth app in Calendly's developer portal "
                         f"(redirect URI http://127.0.0.1:<port>/callback) and export its client id")
    return TokenClient(client_id, env.get(ENV_CLIENT_SECRET) or None, env.get(ENV_AUTH_URL) or DEFAULT_AUTH_URL)


def access_token_from_oauth(env: Mapping[str, str] | None = None, *,
                            now: Callable[[], float] = time.time) -> str | None:
    """A valid OAuth access token, refreshing it if needed; None when nobody has logged in.

    May call the token endpoint, so call it when a Calendly token is needed, not for every command."""
    env = os.environ if env is None else env
    store = TokenStore(token_path(env))
    if not store.exists():
        return None
    stored = store.load()
    if env.get(ENV_CLIENT_ID) and env[ENV_CLIENT_ID] != stored.client_id:
        raise OAuthError(f"the OAuth tokens in {store.path} were issued to another client than "
                         f"{ENV_CLIENT_ID}: {LOGIN} again")
    client = TokenClient(stored.client_id, env.get(ENV_CLIENT_SECRET) or None, stored.auth_url)
    return valid_access_token(store, client, now=now)
