"""`calendly-elt webhooks serve`: the signed receiver on a socket, landing deliveries beside the warehouse."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Callable

from ..exceptions import ConfigError
from .app import create_app
from .landing import LandingStore


def listening_socket(host: str, port: int) -> socket.socket:
    """Bound here rather than by uvicorn, so that a busy port is one line naming the flag to change,
    and `--port 0` can print the port the system picked before the first request."""
    if not 0 <= port <= 65535:  # the socket layer would silently wrap 70000 round to 4464
        raise ConfigError(f"--port {port} is not a port (0–65535; 0 picks a free one)")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
        except OSError:
            sock.close()
            raise
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc}): "
                          "choose another --host or --port") from None
    return sock


def serve(signing_key: str, store_path: Path, *, host: str, port: int, tolerance_seconds: float,
          max_body_bytes: int, on_listening: Callable[[str, LandingStore], None]) -> None:
    """Receive deliveries into the landing store at `store_path` until Ctrl-C or SIGTERM (in-flight
    requests are answered first). The options are checked and the socket bound before the store is
    opened; `on_listening` gets the URL to subscribe and the store once the socket is bound."""
    import uvicorn

    if not 0 < tolerance_seconds < float("inf") or max_body_bytes <= 0:  # `not <` also refuses nan
        raise ConfigError("--tolerance-seconds and --max-body-bytes must be positive")
    sock = listening_socket(host, port)
    with sock:
        store = LandingStore(store_path)
        app = create_app(signing_key, store, tolerance_seconds=tolerance_seconds, max_body_bytes=max_body_bytes)
        bound_host, bound_port = sock.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        on_listening(f"http://{shown}:{bound_port}/webhooks/calendly", store)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled; stopping is what was asked
            pass
