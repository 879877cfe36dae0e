"""Fixed-window rate limiting per access token, reported the way Calendly reports it.

Each token gets ``limit`` requests per window; the window opens at the token's first request
and closes ``window_seconds`` later. Calendly sends no Retry-After, only the X-RateLimit-*
headers, so clients must pace themselves from ``remaining`` and ``reset``.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

UNLIMITED = 1_000_000  # reported as the limit when limiting is off (headers are still sent)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # whole seconds until the window resets (ceil, >= 1)

    def headers(self) -> dict:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": str(self.reset)}


class FixedWindowLimiter:
    def __init__(self, limit: int | None = 500, window_seconds: float = 60, clock=time.monotonic):
        self.limit = limit or UNLIMITED  # None or 0 disables limiting
        self.window = float(window_seconds)
        self._clock = clock
        self._windows: dict[str, list] = {}  # key -> [window start, requests so far]
        self._lock = threading.Lock()

    def hit(self, key: str) -> Verdict:
        """Count one request for ``key`` and say whether it is within the limit."""
        now = self._clock()
        with self._lock:
            w = self._windows.get(key)
            if w is None or now >= w[0] + self.window:
                w = self._windows[key] = [now, 0]
            w[1] += 1
            reset = max(1, math.ceil(w[0] + self.window - now))
            return Verdict(w[1] <= self.limit, self.limit, max(0, self.limit - w[1]), reset)
