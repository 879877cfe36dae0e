"""Pace requests from rate-limit headers (Calendly's `X-RateLimit-*`, Brevo's `x-sib-ratelimit-*`) so a
run stays under the limit.

dlt's retry handles a 429 after the fact, with ~15 s of exponential backoff unless the server sends
`Retry-After` – shorter than Calendly's 60 s window. Instead of bouncing off 429s we keep our own
count of the window's budget (learned from the headers, decremented before every send) and, once it
is spent, hold every request until the window resets. The pacer sits in a requests transport adapter,
under dlt's retrying session, so retries are paced too and all worker threads share one budget.
(requests/urllib3 have no header-driven pacing; tenacity only waits after failures.)

A 429 is not always news of the window we track: Brevo limits /events to 10/s and 36,000/h, and its
headers may describe the hourly window on a per-second 429 (remaining 35990, reset 3500). So only a
429 that says the budget is spent (remaining 0, no Retry-After: Calendly's) holds requests until its
reset; one that says requests remain, or gives Retry-After, or has no headers, holds them for its
Retry-After or a second. Either wait is capped (_MAX_429_WAIT).
"""

from __future__ import annotations

import threading
import time
from email.utils import parsedate_to_datetime
from typing import Callable, Mapping

from requests.adapters import HTTPAdapter

_UNKNOWN_WINDOW_POLL = 0.05  # budget spent before any response told us when the new window ends
_BACKOFF_429 = 1.0  # a 429 without a spent budget or Retry-After: Brevo's per-second windows reset within 1 s
# The longest wait one 429 may impose: Calendly's window (60 s). A longer reset or Retry-After is about a
# longer window (Brevo's hourly /events one, reported even on a per-second 429): waiting it out would stall
# the run for up to an hour, where asking again after a minute costs one request (and if that window is
# really spent, dlt's retries give up and the run leaves the rest to the next).
_MAX_429_WAIT = 60.0
CALENDLY_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


class RateLimitPacer:
    """Thread-safe budget of requests per rate-limit window, learned from response headers."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 header_names: tuple[str, str, str] = CALENDLY_HEADERS) -> None:
        self._limit_header, self._remaining_header, self._reset_header = header_names
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.limit: int | None = None
        self._remaining: int | None = None  # None: no limit known, nothing to pace
        self._window_end: float | None = None  # None: a new window whose end no response gave yet
        self._epoch = float("-inf")  # when our budget was last restored; older sends describe old windows
        self._hold_until = float("-inf")  # a 429's backoff: no request leaves before this
        self._in_flight = 0
        self.waited_seconds = 0.0
        self.throttled = 0  # 429s received

    def acquire(self) -> float:
        """Block until this request fits in the window's budget, take one unit, return the send time."""
        while True:
            with self._lock:
                now = self._clock()
                if self._window_end is not None and now >= self._window_end:
                    self._remaining, self._window_end, self._epoch = self.limit, None, now  # window reset
                if self._remaining == 0 and self._window_end is None and self._in_flight == 0:
                    self._remaining = None  # responses stopped carrying headers: nothing left to learn from
                if now < self._hold_until:
                    wait = self._hold_until - now
                elif self._remaining is None or self._remaining > 0:
                    if self._remaining is not None:
                        self._remaining -= 1
                    self._in_flight += 1
                    return now
                else:
                    wait = _UNKNOWN_WINDOW_POLL if self._window_end is None else self._window_end - now
            self.waited_seconds += wait
            self._sleep(wait)

    def release(self, sent_at: float, headers: Mapping[str, str] | None, status: int | None) -> None:
        """Learn the window from a response's headers (or only free the slot when there was none)."""
        with self._lock:
            self._in_flight -= 1
            if status == 429:
                self.throttled += 1
            try:
                limit = int(headers[self._limit_header])  # type: ignore[index]
                remaining = int(headers[self._remaining_header])  # type: ignore[index]
                reset = float(headers[self._reset_header])  # type: ignore[index]
            except (KeyError, TypeError, ValueError):
                limit = remaining = reset = None  # type: ignore[assignment]
            if status == 429:
                retry_after = _retry_after(headers)
                if retry_after is not None or remaining is None or remaining > 0:
                    # Not (only) our window's budget spent: back off, and learn nothing from its figures.
                    backoff = _BACKOFF_429 if retry_after is None else retry_after
                    self._hold_until = max(self._hold_until, self._clock() + min(backoff, _MAX_429_WAIT))
                    return
                reset = min(reset, _MAX_429_WAIT)  # type: ignore[type-var]
            if remaining is None:
                return
            if sent_at < self._epoch:
                return  # sent before our budget was restored: it describes the window that ended
            self.limit = limit
            # The server computed `Reset` (rounded up to whole seconds) between send and arrival, so the
            # window it describes ends in [sent_at + reset - 1, arrival + reset).
            earliest_end, latest_end = sent_at + reset - 1, self._clock() + reset
            if self._remaining is None or (self._window_end is not None and earliest_end > self._window_end):
                # First response, or certainly a later window than the one we track: requests in flight
                # were sent but perhaps not counted yet.
                self._remaining = max(remaining - self._in_flight, 0)
                self._window_end = latest_end
            elif self._window_end is None:
                # First news of the window we restored the budget for.
                self._remaining = min(self._remaining, remaining)
                self._window_end = latest_end
            else:
                # Same window. Its end estimate is kept (it is late by at most a latency and a second);
                # shrinking it from later replies would risk restoring the budget early.
                self._remaining = min(self._remaining, remaining)
                if status == 429:
                    self._window_end = max(self._window_end, latest_end)


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Retry-After in seconds (a number, or an HTTP date), or None."""
    value = (headers or {}).get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


class PacedAdapter(HTTPAdapter):
    """An HTTPAdapter that asks the pacer before each send and feeds it each response."""

    def __init__(self, pacer: RateLimitPacer, on_send: Callable[[], None] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pacer = pacer
        self.on_send = on_send

    def send(self, request, **kwargs):  # type: ignore[override]
        sent_at = self.pacer.acquire()
        if self.on_send:
            self.on_send()
        try:
            response = super().send(request, **kwargs)
        except Exception:
            self.pacer.release(sent_at, None, None)
            raise
        self.pacer.release(sent_at, response.headers, response.status_code)
        return response
