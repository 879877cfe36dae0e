"""Seedable fault injection: what a flaky network and a struggling API look like to a client.

Every request draws from the RNG the same way whatever the rate, so a given ``seed`` yields
the same fault sequence for the same request sequence.
"""

from __future__ import annotations

import random
import threading

RESET = "reset"  # close the TCP connection with an RST instead of answering
STATUSES = (500, 502, 503)


class FaultInjector:
    def __init__(self, rate: float = 0.0, seed: int = 0):
        self.rate = rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def draw(self) -> str | int | None:
        """None (serve normally), RESET, or an HTTP status to fail with; half resets, half 5xx."""
        with self._lock:
            hit, kind = self._rng.random(), self._rng.random()
        if hit >= self.rate:
            return None
        if kind < 0.5:
            return RESET
        return STATUSES[min(len(STATUSES) - 1, int((kind - 0.5) * 2 * len(STATUSES)))]
