"""Deterministic replays of the races a threaded pacer meets: replies that arrive late, and replies
without headers. (Scenarios from a review that broke an earlier version of the pacer.)"""

from pipelines.pacing import RateLimitPacer


def _headers(limit, remaining, reset):
    return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset)}


class Clock:
    def __init__(self, now=1000.0):
        self.now = now
        self.sleeps = 0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps += 1
        assert self.sleeps < 1000, "the pacer never let the request go"
        self.now += seconds


def _ceil(x):
    return int(-(-x // 1))


def test_a_slow_reply_with_a_stale_remaining_does_not_raise_the_budget():
    t = Clock()
    pacer = RateLimitPacer(clock=t, sleep=t.sleep)
    limit, window_end, used = 100, 1030.0, 50  # the server's window: 50 of 100 already used
    sent = pacer.acquire()
    t.now += 0.05
    used += 1
    pacer.release(sent, _headers(limit, limit - used, _ceil(window_end - t.now)), 200)
    # A slow request is counted now; its reply (remaining 48) arrives 1.5 s later, after 40 others.
    slow_sent = pacer.acquire()
    used += 1
    slow_remaining, slow_at = limit - used, t.now
    for _ in range(40):
        sent = pacer.acquire()
        used += 1
        t.now += 0.03
        pacer.release(sent, _headers(limit, limit - used, _ceil(window_end - t.now)), 200)
    t.now = slow_at + 1.5
    pacer.release(slow_sent, _headers(limit, slow_remaining, _ceil(window_end - slow_at)), 200)
    # Spend what the pacer allows before the window ends: the server must never be over its limit.
    while t.now < window_end - 0.5:
        sent = pacer.acquire()
        if t.now >= window_end:
            break
        used += 1
        t.now += 0.001
        status = 200 if used <= limit else 429
        pacer.release(sent, _headers(limit, max(0, limit - used), _ceil(window_end - t.now)), status)
        assert status == 200, f"429 after the server counted {used} of {limit}"
    assert used == limit  # and the whole budget was used


def test_replies_without_headers_after_a_reset_do_not_block_forever():
    t = Clock(2000.0)
    pacer = RateLimitPacer(clock=t, sleep=t.sleep)
    sent = pacer.acquire()
    pacer.release(sent, _headers(5, 0, 1), 200)  # budget spent; the window ends in a second
    for _ in range(12):  # e.g. 502s from a proxy or connection resets: no rate-limit headers at all
        pacer.release(pacer.acquire(), None, None)
    assert t.now < 2010


def test_a_reply_sent_before_the_window_reset_does_not_shrink_the_new_budget():
    t = Clock()
    pacer = RateLimitPacer(clock=t, sleep=t.sleep)
    first = pacer.acquire()
    pacer.release(first, _headers(10, 1, 2), 200)  # one left, window ends in 2 s
    old = pacer.acquire()  # the last one of the old window, whose reply will be late
    waiter = pacer.acquire()  # waits for the reset, then takes one of the fresh 10
    assert t.now >= 1002
    pacer.release(old, _headers(10, 0, 1), 200)  # late, stale news of the old window
    for _ in range(9):
        before = t.now
        pacer.release(pacer.acquire(), None, None)
        assert t.now == before  # the rest of the fresh budget is still there
    pacer.release(waiter, None, None)
