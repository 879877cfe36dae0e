"""`calendly-elt webhooks serve` as a user runs it: a real process, a real socket, the SQLite file on disk."""

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from pipelines.webhooks import sign

from .conftest import KEY, delivery

MAX_BODY = 1_000


def _env(tmp_path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CALENDLY_WEBHOOK_SIGNING_KEY"}
    return env | {"WAREHOUSE_PATH": str(tmp_path / "data" / "warehouse.duckdb")} | extra


@pytest.fixture
def server(tmp_path):
    log = tmp_path / "serve.log"
    with open(log, "w") as output:  # a file, not a pipe nobody drains
        process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "webhooks", "serve", "--port", "0",
             "--max-body-bytes", str(MAX_BODY)],
            env=_env(tmp_path, CALENDLY_WEBHOOK_SIGNING_KEY=KEY), stdout=output, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while not (match := re.search(r"POST (http://\S+)/webhooks/calendly", log.read_text())):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the receiver did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    base = match.group(1)
    while True:  # bound before that line was printed; listening once uvicorn has started
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the receiver did not answer: {log.read_text()[-2000:]}")
            time.sleep(0.1)
    yield base, process, log
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _chunked_post(base: str, chunks: list[bytes], headers: dict[str, str]) -> int:
    """A chunked request (no Content-Length), which urllib cannot send; the status line of the answer."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(f"POST /webhooks/calendly HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n{head}\r\n"
                     .encode())
        try:
            for chunk in chunks:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except OSError:  # the server may answer and close before reading it all: that is the point
            pass
        status_line = sock.makefile("rb").readline()
    return int(status_line.split()[1])


def test_serve_lands_a_signed_delivery_in_sqlite(server, tmp_path):
    base, process, log = server
    body = delivery("invitee.canceled")
    url = f"{base}/webhooks/calendly"
    assert _post(url, body, {"Calendly-Webhook-Signature": sign(body, KEY, int(time.time())),
                             "Content-Type": "application/json"}) == (200, {"landed": True})
    assert _post(url, body, {"Calendly-Webhook-Signature": sign(body, KEY, 1_600_000_000)}) \
        == (401, {"error": "invalid signature", "reason": "stale"})

    landing = tmp_path / "data" / "landing" / "calendly_webhooks.sqlite"
    with sqlite3.connect(landing) as con:
        rows = con.execute("select event, body, processed_at from webhook_events").fetchall()
    assert rows == [("invitee.canceled", body.decode(), None)]
    assert not (tmp_path / "data" / "warehouse.duckdb").exists()  # the warehouse is never opened

    big = [b"x" * 600] * 5  # 3,000 bytes in chunks, over the 1,000-byte cap
    assert _chunked_post(base, big, {"Calendly-Webhook-Signature": sign(b"".join(big), KEY, int(time.time()))}) == 413
    small = delivery("invitee.created")
    assert _chunked_post(base, [small[:20], small[20:]],
                         {"Calendly-Webhook-Signature": sign(small, KEY, int(time.time()))}) == 200

    process.send_signal(signal.SIGINT)  # Ctrl-C
    assert process.wait(timeout=15) == 0
    assert KEY not in log.read_text()


def test_serve_without_a_signing_key_says_so(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pipelines.cli", "webhooks", "serve", "--port", "0"],
                            env=_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "CALENDLY_WEBHOOK_SIGNING_KEY" in lines[0], result.stderr


def test_serve_on_a_busy_port_says_so(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "pipelines.cli", "webhooks", "serve", "--port", str(port)],
                                env=_env(tmp_path, CALENDLY_WEBHOOK_SIGNING_KEY=KEY), capture_output=True, text=True,
                                timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot listen on 127.0.0.1:{port}" in lines[0], result.stderr
    assert KEY not in result.stderr + result.stdout
