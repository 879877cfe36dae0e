"""The project's receiver (`pipelines.webhooks.app`) under uvicorn on a thread of the test process."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import uvicorn

from pipelines.webhooks import LandingStore
from pipelines.webhooks.app import create_app


@contextmanager
def serving(store: LandingStore, key: str) -> Iterator[str]:
    """Serve on a free loopback port, landing into `store`; yields the webhook URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(key, store), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/webhooks/calendly"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
