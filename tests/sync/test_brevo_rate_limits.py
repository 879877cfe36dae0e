"""429s whose headers describe another window than the one that refused: Brevo's /events allows 10/s
and 36,000/h, and a per-second 429 may carry the hourly window's figures (remaining 35990, reset
3500). The sync backs off a second (or Retry-After, capped), not an hour, and counts every 429 –
end to end through the sandboxes, and on the pacer alone with a fake clock."""

from __future__ import annotations

from collections import Counter
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import pytest

from pipelines.brevo.settings import RATE_LIMIT_HEADERS
from pipelines.brevo.sync import run_sync
from pipelines.pacing import RateLimitPacer
from tests.extract.test_pacing import FakeTime

from .conftest import Stack
from .test_booking_events import expected_events, in_brevo

# More events than the 10 a second /events allows, so that the sync meets its per-second limit.
MANY = dict(cancels=6, reschedules=2, no_shows=2, new_bookings=6)


def _events_429s(stack) -> int:
    return sum(1 for e in stack.brevo.request_log if e["route"] == "event" and e["status"] == 429)


KNOBS = {"hourly-headers": {"events_rate_window": "hour"},
         "retry-after": {"events_rate_window": "hour", "retry_after": 1},
         "no-headers": {"rate_headers": False}}
PLAIN = {"events_rate_window": "second", "retry_after": None, "rate_headers": True}


# One stack, one day of changes per way of answering (each case used to build its own stack: ~30 s each).
@pytest.mark.timeout(240)  # before the fix, the first 429 held the events for the hour's reset
def test_per_second_429s_cost_seconds_and_are_all_counted(tmp_path):
    stack = Stack(tmp_path, events=120)
    try:
        stack.refresh()
        run_sync(stack.settings)
        for n, (case, knobs) in enumerate(KNOBS.items()):
            changes = stack.calendly_account.apply_random_changes(seed=23 + n, **MANY)
            stack.refresh()
            want = expected_events(changes)
            assert len(want) > 10, case
            stack.brevo.configure(**{**PLAIN, **knobs})
            stack.brevo.reset_stats()
            before = Counter(in_brevo(stack.brevo_account))
            summary = run_sync(stack.settings)
            assert summary.events.sent == len(want) and summary.events.failed == summary.events.left == 0, case
            assert Counter(in_brevo(stack.brevo_account)) - before == want, case
            assert summary.events.throttled == _events_429s(stack) > 0, case
            assert summary.events.seconds < 30, case
    finally:
        stack.stop()


def _brevo(limit, remaining, reset, **more):
    return {**dict(zip(RATE_LIMIT_HEADERS, (str(limit), str(remaining), str(reset)))), **more}


def _wait_after(headers, status=429) -> tuple[float, int]:
    """Seconds the next request waits after one answered `status` with `headers`; 429s counted."""
    t = FakeTime()
    pacer = RateLimitPacer(clock=t.clock, sleep=t.sleep, header_names=RATE_LIMIT_HEADERS)
    pacer.release(pacer.acquire(), _brevo(10, 5, 1), 200)  # the per-second window, half spent
    pacer.release(pacer.acquire(), headers, status)
    before = t.now
    pacer.acquire()
    return t.now - before, pacer.throttled


def test_a_429_backs_off_by_retry_after_or_a_second_capped_at_a_minute():
    assert _wait_after(_brevo(36000, 35990, 3500)) == (1.0, 1)  # the hourly window's figures
    assert _wait_after(_brevo(36000, 35990, 3500, **{"Retry-After": "3"})) == (3.0, 1)
    assert _wait_after({"Retry-After": "7200"}) == (60.0, 1)  # the cap
    assert _wait_after(_brevo(36000, 0, 3500)) == (60.0, 1)  # a spent budget: until its reset, capped
    assert _wait_after({}) == (1.0, 1)  # no rate-limit headers: still counted
    assert _wait_after({RATE_LIMIT_HEADERS[2]: "1"}) == (1.0, 1)  # partial headers
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    wait, _ = _wait_after({"Retry-After": when})
    assert 28 <= wait <= 31
    assert _wait_after(_brevo(10, 4, 1), 200) == (0.0, 0)


def test_calendlys_429_still_waits_for_its_window():
    t = FakeTime()
    pacer = RateLimitPacer(clock=t.clock, sleep=t.sleep)
    pacer.release(pacer.acquire(), {"X-RateLimit-Limit": "500", "X-RateLimit-Remaining": "0",
                                    "X-RateLimit-Reset": "42"}, 429)
    pacer.acquire()
    assert t.now == 1042.0 and pacer.throttled == 1
