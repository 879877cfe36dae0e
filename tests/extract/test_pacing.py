"""The pacer against a simulated fixed-window limiter: no 429s, and the budget is actually used."""

from pipelines.pacing import RateLimitPacer


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class FixedWindowServer:
    """Calendly-like: `limit` requests per `window` seconds, `Reset` rounded up to whole seconds."""

    def __init__(self, t, limit, window, started_at):
        self.t, self.limit, self.window, self.start, self.used = t, limit, window, started_at, 0
        self.throttled = 0

    def handle(self):
        while self.t.now >= self.start + self.window:
            self.start += self.window
            self.used = 0
        reset = str(int(-(-(self.start + self.window - self.t.now) // 1)))
        if self.used >= self.limit:
            self.throttled += 1
            return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": reset}, 429
        self.used += 1
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.limit - self.used),
                "X-RateLimit-Reset": reset}, 200


def run(n_requests, limit=500, window=60.0, latency=0.05, window_offset=-17.0):
    t = FakeTime()
    server = FixedWindowServer(t, limit, window, started_at=t.now + window_offset)
    pacer = RateLimitPacer(clock=t.clock, sleep=t.sleep)
    start = t.now
    ok = 0
    while ok < n_requests:
        sent = pacer.acquire()
        t.now += latency
        headers, status = server.handle()
        pacer.release(sent, headers, status)
        ok += status == 200
    return t.now - start, server.throttled


def test_no_429_over_several_windows_and_the_limit_is_used():
    elapsed, throttled = run(1600)
    assert throttled == 0
    # 1,600 requests at 500 per minute, starting 17 s into a window: 3 full windows are needed after the
    # first partial one. Pacing must not waste more than a small part of the budget.
    assert elapsed < 3 * 60 + 43 + 5


def test_a_run_that_fits_the_budget_never_waits():
    elapsed, throttled = run(450, latency=0.01, window_offset=0.0)
    assert throttled == 0
    assert elapsed < 450 * 0.01 + 0.5


def test_waits_for_the_reset_once_the_budget_is_spent():
    elapsed, throttled = run(600, latency=0.01, window_offset=0.0)
    assert throttled == 0
    # 500 in the first window, then a wait for the reset at 60 s, then 100 more.
    assert 60 <= elapsed < 60 + 100 * 0.01 + 1.5


def test_unknown_limit_does_not_wait():
    t = FakeTime()
    pacer = RateLimitPacer(clock=t.clock, sleep=t.sleep)
    for _ in range(100):
        pacer.release(pacer.acquire(), None, None)
    assert t.now == 1000.0


def test_a_429_blocks_until_the_window_resets():
    t = FakeTime()
    pacer = RateLimitPacer(clock=t.clock, sleep=t.sleep)
    sent = pacer.acquire()
    pacer.release(sent, {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "7"}, 429)
    pacer.acquire()
    assert t.now >= 1007.0
    assert pacer.throttled == 1

