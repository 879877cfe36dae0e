"""Calendly's webhook signature: `Calendly-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`, the
HMAC keyed with the webhook signing key over `<t>.` + the raw request body."""

from __future__ import annotations

import hashlib
import hmac
import re

HEADER = "Calendly-Webhook-Signature"

_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() would also take "+1", "1_0" or "١"
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


class SignatureError(Exception):
    """Why a delivery is not trusted: missing, malformed, stale or mismatch. Never carries the key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def digest(body: bytes, key: str, timestamp: int | str) -> str:
    """The hex `v1` signature of `body` at `timestamp`."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(key.encode("utf-8", "surrogateescape"), message, hashlib.sha256).hexdigest()


def sign(body: bytes, key: str, timestamp: int) -> str:
    """The header value Calendly would send for `body` at `timestamp`."""
    return f"t={timestamp},v1={digest(body, key, timestamp)}"


def verify(header: str | None, body: bytes, key: str, now: float, tolerance_seconds: float) -> int:
    """The signed timestamp, if `header` signs `body` with `key` within `tolerance_seconds` of `now`
    (either side: a timestamp from the future is as suspect as an old one)."""
    if header is None or not header.strip():
        raise SignatureError("missing")
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        name, sep, value = item.partition("=")
        if not sep:
            raise SignatureError("malformed")
        name, value = name.strip(), value.strip()
        if name == "t":
            timestamps.append(value)
        elif name == "v1":  # several while a key is being rotated
            signatures.append(value)
        # Other schemes (a future v2) are ignored: v1 alone must match.
    if len(timestamps) != 1 or not _TIMESTAMP.fullmatch(timestamps[0]) or not signatures \
            or not all(_HEX_DIGEST.fullmatch(s) for s in signatures):
        raise SignatureError("malformed")
    # The timestamp exactly as sent is what was signed (a leading zero included).
    expected = digest(body, key, timestamps[0]).encode()
    # Compare with every candidate, without stopping early: the time taken says nothing about which matched.
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(expected, candidate.lower().encode())
    if not matched:
        raise SignatureError("mismatch")
    # Checked after the HMAC, so "stale" is only ever said of a genuine signature (a clock to fix, or a replay).
    timestamp = int(timestamps[0])
    if abs(now - timestamp) > tolerance_seconds:
        raise SignatureError("stale")
    return timestamp
