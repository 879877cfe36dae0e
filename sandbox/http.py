"""The HTTP plumbing both sandboxes share: a keep-alive JSON handler and a threaded server.

`http.server` rather than a framework, so the sandboxes need nothing installed; TCP_NODELAY is the
one setting that matters (without it each keep-alive response waits ~40 ms for a delayed ACK, and
every benchmark would measure the sandbox instead of the pipeline).
"""

from __future__ import annotations

import io
import socket
import socketserver
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


class JsonHandler(BaseHTTPRequestHandler):
    """Hands every request, whatever its method, to the server's `serve` callback."""

    protocol_version = "HTTP/1.1"  # keep-alive; every response carries Content-Length
    # Without TCP_NODELAY each keep-alive response waits ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    wbufsize = -1  # buffer headers + body; handle_one_request flushes them in one go
    timeout = 120  # idle keep-alive connections end on their own

    def version_string(self) -> str:
        return self.server.product

    def setup(self):
        super().setup()
        self.server.track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format, *args):  # silence the per-request stderr line
        pass

    def do_GET(self):
        self.server.serve(self)

    do_HEAD = do_OPTIONS = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def read_body(self) -> bytes | None:
        """The request body (Content-Length or chunked), None when there is none."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(parts) or None
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else None

    def reset(self):
        """Drop the connection with an RST (SO_LINGER 0) and no response at all."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        for f in (self.wfile, self.rfile):  # file objects hold the fd open: close them first
            try:
                f.close()
            except (OSError, ValueError):
                pass
        self.wfile = io.BytesIO()  # handle_one_request still flushes it
        self.connection.close()

    def send_json(self, status: int, payload: bytes, headers: dict,
                  content_type: str = "application/json; charset=utf-8") -> None:
        """`content_type`: another for a knob's text answer."""
        self.send_response(status)
        if payload:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)


class SandboxServer(ThreadingHTTPServer):
    """A threaded server that can end its keep-alive connections at once (for a fast `stop()`)."""

    daemon_threads = True

    def __init__(self, address, serve: Callable[[JsonHandler], None], product: str):
        self.serve = serve
        self.product = product
        self._conns: set = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, JsonHandler)

    def server_bind(self):
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn), slow on some hosts.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        # A client that hangs up mid-answer is normal; anything else is a sandbox bug.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    def track(self, sock, alive: bool) -> None:
        with self._conns_lock:
            (self._conns.add if alive else self._conns.discard)(sock)

    def close_connections(self) -> None:
        """Wake keep-alive handler threads blocked on a read so they exit now."""
        with self._conns_lock:
            conns = list(self._conns)
        for sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Sandbox:
    """What every sandbox shares: serving on a background thread, a context manager, statistics and
    the request log, and the peak number of requests served at once (how concurrent a client is).

    Subclasses call `_init_sandbox(host, port)` in `__init__`, implement `_serve_one(handler)`, and
    set `name`, `product`, `base_path`, `route_names`, `counter_names` (extra totals in `stats()`)
    and `log_bodies` (keep request bodies in `request_log`)."""

    name = "sandbox"
    product = "Sandbox/1.0"
    base_path = ""
    route_names: list[str] = []
    counter_names: tuple[str, ...] = ()
    log_bodies = False

    def _init_sandbox(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._httpd: SandboxServer | None = None
        self._thread: threading.Thread | None = None
        self._stats_lock = threading.Lock()
        self._in_flight = 0
        self.reset_stats()

    def _serve_one(self, handler: JsonHandler) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ lifecycle
    def start(self):
        if self._httpd is None:
            self._httpd = SandboxServer((self.host, self.port), self._serve_counted, self.product)
            self.port = self._httpd.server_address[1]
            self._started()
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"{self.name}:{self.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        self._thread.join(timeout=5)
        self._stopped()

    def _started(self) -> None:
        """Hook: the server is bound (the port is known) and about to serve."""

    def _stopped(self) -> None:
        """Hook: the server has stopped."""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}{self.base_path}"

    # ------------------------------------------------------------------ statistics
    def reset_stats(self) -> None:
        with self._stats_lock:
            self._requests, self._resets = 0, 0
            self._counters = dict.fromkeys(self.counter_names, 0)
            self._peak_in_flight = self._in_flight
            self._by_route = dict.fromkeys(list(self.route_names) + ["unknown"], 0)
            self._by_status: dict[int, int] = {}
            self.request_log: list[dict] = []

    def stats(self) -> dict:
        with self._stats_lock:
            return {"requests": self._requests, "by_route": dict(self._by_route),
                    "by_status": dict(self._by_status), "resets": self._resets, **self._counters,
                    "peak_in_flight": self._peak_in_flight}

    def _count(self, counter: str, n: int) -> None:
        with self._stats_lock:
            self._counters[counter] += n

    def _record(self, method, path, route, query, status, body: bytes | None = None) -> None:
        """Log one request (status None: the connection was reset instead of answered)."""
        entry = {"method": method, "path": path, "route": route, "query": query, "status": status}
        if self.log_bodies:
            entry["body"] = body
        entry["ts"] = time.time()
        with self._stats_lock:
            self._requests += 1
            self._by_route[route] += 1
            if status is None:
                self._resets += 1
            else:
                self._by_status[status] = self._by_status.get(status, 0) + 1
            self.request_log.append(entry)

    def _serve_counted(self, handler: JsonHandler) -> None:
        with self._stats_lock:
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)
        try:
            self._serve_one(handler)
        finally:
            with self._stats_lock:
                self._in_flight -= 1
