"""The receiver: `POST /webhooks/calendly` verifies Calendly's signature, lands the delivery, answers fast.

Every answer to client input is below 500: Calendly retries a 5xx, which would turn one bad request into
many. Only a failure of the landing store itself is a 500, and a retry is then what we want.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..calendly.landed import WEBHOOK_EVENTS
from .landing import LandingStore
from .signature import HEADER, SignatureError, digest, verify

log = logging.getLogger(__name__)

SUPPORTED_EVENTS = frozenset(WEBHOOK_EVENTS)


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, max_bytes: int) -> bytes:
    """The raw body, refusing (before reading it all) one larger than `max_bytes`."""
    declared = request.headers.get("content-length", "").strip()
    # ASCII digits only ("²" is a digit to str.isdigit), and no int() of thousands of them.
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > max_bytes):
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():  # also bounds a chunked body, which declares no length
        size += len(chunk)
        if size > max_bytes:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # Python's json module would accept NaN and Infinity


def _parse(body: bytes) -> dict | None:
    """The delivery as a JSON object with an `event` string and a `payload` object, or None."""
    try:
        delivery = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: absurdly nested arrays
        return None
    if not isinstance(delivery, dict) or not isinstance(delivery.get("event"), str) \
            or not isinstance(delivery.get("payload"), dict):
        return None
    return delivery


def _text(value: str) -> str:
    """`value` without lone surrogates ("\\ud800" is valid JSON), which UTF-8 and SQLite refuse."""
    return value.encode("utf-8", "replace").decode("utf-8")


def _error(status: int, error: str, reason: str | None = None) -> JSONResponse:
    return JSONResponse({"error": error} | ({"reason": reason} if reason else {}), status_code=status)


def create_app(signing_key: str, store: LandingStore, *, tolerance_seconds: float = 180,
               max_body_bytes: int = 1_000_000, clock: Callable[[], float] = time.time) -> Starlette:
    if not signing_key:
        raise ValueError("a webhook signing key is required")
    if not 0 < tolerance_seconds < float("inf"):  # nan would make every old signature "fresh"
        raise ValueError("tolerance_seconds must be a positive number")

    async def receive(request: Request) -> JSONResponse:
        try:
            body = await _read_body(request, max_body_bytes)
        except _TooLarge:
            return _error(413, "body too large", f"at most {max_body_bytes} bytes")
        except ClientDisconnect:  # nobody is left to answer
            return _error(400, "incomplete body")
        now = clock()
        try:
            timestamp = verify(request.headers.get(HEADER), body, signing_key, now, tolerance_seconds)
        except SignatureError as exc:
            log.warning("webhook rejected: signature %s", exc.reason)  # the reason only, never the header
            return _error(401, "invalid signature", exc.reason)
        delivery = _parse(body)
        if delivery is None:
            return _error(400, "malformed delivery", "expected a JSON object with an event and a payload")
        event = delivery["event"]
        if event not in SUPPORTED_EVENTS:
            # A 200, so Calendly stops retrying; echoed without lone surrogates, which JSON allows and UTF-8 not.
            return JSONResponse({"landed": False, "ignored": _text(event)[:200]})
        created_at = delivery.get("created_at")
        # The same signed request again within the window is a replay (Calendly's own retries are signed anew).
        # Remembered by the signature we compute, so extra v1 entries of a key rotation cannot vary it; checked
        # and written in the same transaction as the delivery.
        outcome = await run_in_threadpool(
            store.accept, hashlib.sha256(body).hexdigest(), event,
            _text(created_at) if isinstance(created_at, str) else None, body.decode("utf-8"),
            timestamp=timestamp, signature=digest(body, signing_key, timestamp), now=now,
            window_seconds=tolerance_seconds)
        if outcome == "replayed":
            log.warning("webhook rejected: replayed request")
            return _error(401, "invalid signature", "replayed")
        log.info("webhook %s %s", event, "landed" if outcome == "landed" else "already landed")
        return JSONResponse({"landed": outcome == "landed"})

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return Starlette(routes=[
        Route("/webhooks/calendly", receive, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ])
