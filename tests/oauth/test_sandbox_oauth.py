"""The sandbox's authorization server, spoken to directly: what Calendly accepts and refuses."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from pipelines.oauth.login import pkce_pair
from sandbox.calendly.oauth import SANDBOX_CLIENT_ID

from .conftest import LIFETIME, WEB_CLIENT_ID, WEB_CLIENT_SECRET, api

REDIRECT = "http://127.0.0.1:53682/callback"


def authorize(sandbox, **overrides) -> requests.Response:
    verifier, challenge = pkce_pair()
    query = {"client_id": SANDBOX_CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT, "state": "s1",
             "code_challenge": challenge, "code_challenge_method": "S256", **overrides}
    r = requests.get(f"{sandbox.url}/oauth/authorize?{urlencode({k: v for k, v in query.items() if v is not None})}",
                     allow_redirects=False, timeout=10)
    r.verifier = verifier
    return r


def code_of(r: requests.Response) -> str:
    assert r.status_code == 302, r.text
    query = parse_qs(urlsplit(r.headers["Location"]).query)
    assert query["state"] == ["s1"]
    return query["code"][0]


def token(sandbox, auth=None, **form) -> requests.Response:
    return requests.post(f"{sandbox.url}/oauth/token", data=form, auth=auth, timeout=10)


def exchange(sandbox, r, **extra) -> requests.Response:
    return token(sandbox, **{"grant_type": "authorization_code", "client_id": SANDBOX_CLIENT_ID,
                             "code": code_of(r), "redirect_uri": REDIRECT, "code_verifier": r.verifier, **extra})


def refresh(sandbox, refresh_token) -> requests.Response:
    return token(sandbox, grant_type="refresh_token", client_id=SANDBOX_CLIENT_ID, refresh_token=refresh_token)


def assert_invalid_grant(r):
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text


def test_authorize_redirects_loopback_only(sandbox):
    r = authorize(sandbox)
    location = urlsplit(r.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("http", "127.0.0.1:53682", "/callback")
    assert code_of(r)
    # a bad client or redirect is shown, never redirected to
    for bad in ({"client_id": "nobody"}, {"redirect_uri": "https://evil.example/cb"},
                {"redirect_uri": "http://192.168.1.5:80/cb"}):
        r = authorize(sandbox, **bad)
        assert r.status_code == 400 and "Location" not in r.headers
    # a public client must send a PKCE S256 challenge
    for bad in ({"code_challenge": None}, {"code_challenge_method": "plain"}):
        r = authorize(sandbox, **bad)
        assert r.status_code == 302 and parse_qs(urlsplit(r.headers["Location"]).query)["error"] == ["invalid_request"]
    assert sandbox.oauth.stats()["authorizations"] == 1


def test_code_exchange_checks_pkce_redirect_and_single_use(sandbox, account):
    r = authorize(sandbox)
    assert_invalid_grant(exchange(sandbox, r, code_verifier=pkce_pair()[0]))  # another verifier
    r = authorize(sandbox)
    assert_invalid_grant(exchange(sandbox, r, redirect_uri="http://127.0.0.1:1/callback"))
    r = authorize(sandbox)
    got = exchange(sandbox, r)
    assert got.status_code == 200 and got.headers["Cache-Control"] == "no-store"
    body = got.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == LIFETIME and body["scope"] == "default"
    assert body["owner"] == account.users["owner"]["uri"] and body["organization"] == account.organization_uri
    assert api(sandbox, body["access_token"]).status_code == 200
    # a replayed code is refused, and what it bought is revoked
    assert_invalid_grant(exchange(sandbox, r))
    assert api(sandbox, body["access_token"]).status_code == 401
    assert_invalid_grant(refresh(sandbox, body["refresh_token"]))


def test_rotation_and_reuse_revokes_the_family(sandbox):
    first = exchange(sandbox, authorize(sandbox)).json()
    second = refresh(sandbox, first["refresh_token"]).json()
    third = refresh(sandbox, second["refresh_token"]).json()
    tokens = {first["refresh_token"], second["refresh_token"], third["refresh_token"]}
    assert len(tokens) == 3  # each refresh answers a new refresh token
    assert api(sandbox, first["access_token"]).status_code == 200  # access tokens live out their lifetime
    assert_invalid_grant(refresh(sandbox, first["refresh_token"]))  # spent: replay
    # the replay revoked the whole grant: the newest tokens are dead too
    assert_invalid_grant(refresh(sandbox, third["refresh_token"]))
    for body in (first, second, third):
        r = api(sandbox, body["access_token"])
        assert r.status_code == 401 and r.json()["message"] == "The access token is invalid"
    # another login is a new family, untouched
    fresh = exchange(sandbox, authorize(sandbox)).json()
    assert refresh(sandbox, fresh["refresh_token"]).status_code == 200
    stats = sandbox.oauth.stats()
    assert (stats["refresh_grants"], stats["reuse_detected"], stats["families_revoked"]) == (3, 1, 1)


def test_access_tokens_act_as_the_owner_and_expire(sandbox, account, clock):
    body = exchange(sandbox, authorize(sandbox)).json()
    owner = requests.get(f"{sandbox.url}/users/me", headers={"Authorization": f"Bearer {account.tokens['admin']}"},
                         timeout=10).json()
    assert api(sandbox, body["access_token"]).json() == owner
    r = requests.get(f"{sandbox.url}/organization_memberships", params={"organization": account.organization_uri},
                     headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10)
    assert r.status_code == 200 and r.json()["collection"]
    clock.advance(LIFETIME)
    r = api(sandbox, body["access_token"])
    assert r.status_code == 401 and r.json() == {"title": "Unauthenticated", "message": "The access token expired"}
    assert refresh(sandbox, body["refresh_token"]).status_code == 200  # refresh tokens do not expire


def test_client_authentication(sandbox):
    r = authorize(sandbox, client_id=WEB_CLIENT_ID)
    code = code_of(r)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": r.verifier}
    bad = token(sandbox, auth=(WEB_CLIENT_ID, "wrong"), **form)
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    assert token(sandbox, **form, client_id=WEB_CLIENT_ID).status_code == 401  # no secret at all
    assert token(sandbox, auth=(WEB_CLIENT_ID, WEB_CLIENT_SECRET), **form).status_code == 200
    # a code is bound to its client
    r = authorize(sandbox)
    assert token(sandbox, auth=(WEB_CLIENT_ID, WEB_CLIENT_SECRET), grant_type="authorization_code",
                 code=code_of(r), redirect_uri=REDIRECT, code_verifier=r.verifier).status_code == 400
    assert token(sandbox, grant_type="password", client_id=SANDBOX_CLIENT_ID).json()["error"] == "unsupported_grant_type"
    assert requests.get(f"{sandbox.url}/oauth/token", timeout=10).status_code == 405
