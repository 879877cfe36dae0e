"""`calendly-elt auth login`: the authorization-code flow with PKCE and a one-shot loopback redirect.

The browser is sent to Calendly's authorize page; Calendly sends it back to
``http://127.0.0.1:<port>/callback?code=..&state=..``, where a tiny server on this machine exchanges
the code for tokens, stores them, and tells the browser it can close the tab. PKCE (S256) means an
intercepted code is useless without the verifier that never leaves this process; ``state`` means a
page elsewhere cannot make us accept a code from someone else's login.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import socket
import socketserver
import threading
import time
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from .client import TokenClient
from .errors import LOGIN, OAuthError
from .tokens import StoredTokens, TokenSet, TokenStore

CALLBACK_PATH = "/callback"


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge): 64 random bytes give an 86-character verifier (RFC 7636 allows 43–128)."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def login(store: TokenStore, client: TokenClient, *, open_browser: Callable[[str], object] = webbrowser.open,
          host: str = "127.0.0.1", port: int = 0, timeout: float = 300) -> TokenSet:
    """Run the flow, store the tokens (replacing any earlier login) and return them.
    ``port`` 0 picks a free one; use a fixed one when the app's redirect URI names a port."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(32)
    try:
        server = _CallbackServer(host, port)
    except OSError as exc:  # a busy port, or a host that is not this machine's
        raise OAuthError(f"cannot listen on {host}:{port} for the login redirect ({exc.strerror or exc}): "
                         "choose another host or port") from None
    shown = f"[{host}]" if ":" in host else host
    redirect_uri = f"http://{shown}:{server.server_address[1]}{CALLBACK_PATH}"

    def exchange(code: str) -> TokenSet:
        requested_at = time.time()
        tokens = TokenSet.from_response(client.exchange_code(code, redirect_uri, verifier), requested_at)
        with store.locked():  # never interleave with a refresh writing the same file
            store.save(StoredTokens(tokens, client.client_id, client.auth_url))
        return tokens

    server.expect(state, exchange)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="oauth-callback", daemon=True)
    thread.start()
    try:
        open_browser(client.authorize_url(redirect_uri, state, challenge))
        if not server.done.wait(timeout):
            raise OAuthError(f"no answer from the browser within {timeout:g} s: {LOGIN} again")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    if isinstance(server.outcome, BaseException):
        raise server.outcome
    return server.outcome


class _CallbackServer(HTTPServer):
    """Answers the first request to /callback (anything else gets a 404), then reports its outcome."""

    def __init__(self, host: str, port: int):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.done = threading.Event()
        self.outcome: TokenSet | BaseException | None = None
        super().__init__((host, port), _CallbackHandler)

    def server_bind(self):
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn), slow on some hosts.
        socketserver.TCPServer.server_bind(self)

    def expect(self, state: str, exchange: Callable[[str], TokenSet]) -> None:
        self.state, self.exchange = state, exchange

    def answer(self, query: dict) -> tuple[int, str]:
        """(status, message for the browser); sets ``outcome`` and ``done`` on the first callback."""
        if self.done.is_set():
            return 409, "This login has already finished; you can close this tab."
        try:
            got = query.get("state", "")
            if not secrets.compare_digest(got.encode(), self.state.encode()):
                # A stale tab of an earlier attempt, or a forged request: either way not this login.
                raise OAuthError(f"the browser came back with a different `state` than this login sent: {LOGIN} again")
            if "error" in query:
                raise OAuthError(f"Calendly did not grant access ({query['error']}: "
                                 f"{query.get('error_description', 'no description')}): {LOGIN} again")
            if not query.get("code"):
                raise OAuthError(f"the browser came back without an authorization code: {LOGIN} again")
            tokens = self.exchange(query["code"])
        except Exception as exc:  # noqa: BLE001 – reported to the browser and re-raised by login()
            self.outcome = exc
            status, message = 400, f"Login failed: {exc}"
        else:
            self.outcome = tokens
            status, message = 200, "Logged in to Calendly. You can close this tab and return to the terminal."
        self.done.set()
        return status, message


class _CallbackHandler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True  # one small response; no delayed-ACK wait on it
    server: _CallbackServer

    def log_message(self, format, *args):  # the query holds the code: never on stderr
        pass

    def do_GET(self):
        split = urlsplit(self.path)
        if split.path != CALLBACK_PATH:
            status, message = 404, "Not found."
        else:
            query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
            status, message = self.server.answer(query)
        page = (f"<!doctype html><meta charset=utf-8><title>calendly-elt</title>"
                f"<p>{html.escape(message)}</p>").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(page)
