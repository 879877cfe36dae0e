"""`login()` end to end: authorize page → loopback callback → token exchange → private token file."""

from __future__ import annotations

import socket
import stat
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from pipelines.config import Settings
from pipelines.oauth import (ENV_AUTH_URL, ENV_CLIENT_ID, ENV_TOKEN_FILE, OAuthError, TokenClient,
                             access_token_from_oauth, login)

from .conftest import WEB_CLIENT_ID, WEB_CLIENT_SECRET, api, follow


class Browser:
    """Follows the authorize URL like a browser whose user consents, and keeps the page it ends on."""

    def __init__(self, rewrite=None):
        self.rewrite, self.page = rewrite, None

    def __call__(self, url: str) -> None:
        self.page = follow(self.rewrite(url) if self.rewrite else url)


@pytest.mark.parametrize("web", [False, True], ids=["native-pkce", "web-secret"])
def test_login_stores_private_tokens_that_work(sandbox, account, client, store, web):
    if web:
        client = TokenClient(WEB_CLIENT_ID, WEB_CLIENT_SECRET, auth_url=sandbox.url, timeout=10)
    browser = Browser()
    tokens = login(store, client, open_browser=browser, timeout=10)
    assert browser.page.status_code == 200 and "Logged in" in browser.page.text
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    stored = store.load()
    assert stored.tokens == tokens and stored.refresh_in_flight is None
    assert (stored.client_id, stored.auth_url) == (client.client_id, sandbox.url)
    assert tokens.owner == account.users["owner"]["uri"] and tokens.organization == account.organization_uri
    me = api(sandbox, tokens.access_token)
    assert me.status_code == 200 and me.json()["resource"]["uri"] == tokens.owner
    assert tokens.access_token not in repr(tokens) and tokens.refresh_token not in repr(stored)
    # no temporary file left behind
    assert sorted(p.name for p in store.path.parent.iterdir()) == sorted([store.path.name, store.lock_path.name])


def test_login_refuses_a_foreign_state_and_reports_denial(sandbox, client, store):
    def other_state(url):
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        return parts._replace(query=urlencode({**query, "state": "forged"})).geturl()

    browser = Browser(other_state)
    with pytest.raises(OAuthError, match="different `state`.*auth login"):
        login(store, client, open_browser=browser, timeout=10)
    assert browser.page.status_code == 400 and not store.exists()

    def denied(url):  # the user clicks "Deny": Calendly sends the browser back with an error
        query = parse_qs(urlsplit(url).query)
        callback = query["redirect_uri"][0]
        return f"{callback}?{urlencode({'error': 'access_denied', 'state': query['state'][0]})}"

    with pytest.raises(OAuthError, match="did not grant access \\(access_denied"):
        login(store, client, open_browser=Browser(denied), timeout=10)
    assert sandbox.oauth.stats()["code_grants"] == 0


def test_login_times_out_when_the_browser_never_returns(client, store):
    with pytest.raises(OAuthError, match="no answer from the browser within 0.2 s"):
        login(store, client, open_browser=lambda url: None, timeout=0.2)


def test_callback_server_ignores_other_paths_and_is_one_shot(sandbox, client, store):
    pages = []

    def browser(url):
        callback = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        pages.append(requests.get(callback.replace("/callback", "/favicon.ico"), timeout=10).status_code)
        pages.append(follow(url).status_code)
        pages.append(follow(url.replace("state=", "state=x")).status_code)  # the login is over: nothing to do

    login(store, client, open_browser=browser, timeout=10)
    assert pages == [404, 200, 409] and sandbox.oauth.stats()["code_grants"] == 1


def test_access_token_from_oauth(sandbox, client, store, clock):
    env = {ENV_TOKEN_FILE: str(store.path)}
    settings = Settings.from_env(env)
    assert settings.oauth_token_path == store.path
    assert access_token_from_oauth(store.path) is None  # nobody logged in: the caller falls back to its own message
    with pytest.raises(OAuthError, match=f"{ENV_CLIENT_ID} is not set"):
        settings.oauth_client()
    client = Settings.from_env({**env, ENV_CLIENT_ID: client.client_id, ENV_AUTH_URL: sandbox.url + "/"}).oauth_client()
    tokens = login(store, client, open_browser=follow, timeout=10)
    assert settings.require_calendly_token(now=clock) == tokens.access_token
    clock.advance(7200)
    fresh = settings.require_calendly_token(now=clock)  # the file says which client and server to refresh with
    assert fresh != tokens.access_token and api(sandbox, fresh).status_code == 200
    with pytest.raises(OAuthError, match="another client"):
        Settings.from_env({**env, ENV_CLIENT_ID: "someone-else"}).require_calendly_token(now=clock)


def test_busy_port_is_a_one_line_error(client, store):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(OAuthError, match="cannot listen on 127.0.0.1:.*choose another host or port"):
            login(store, client, open_browser=follow, port=busy.getsockname()[1], timeout=1)
