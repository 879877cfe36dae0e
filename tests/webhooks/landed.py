"""Waiting for webhook deliveries: the sandbox sends them from a thread of its own, so a change made in the
account reaches the landing store a moment later."""

from __future__ import annotations

import time

from pipelines.webhooks import LandingStore


def wait_for_landing(store: LandingStore, count: int, timeout: float = 15) -> None:
    """Until `count` deliveries wait in `store`, unmerged."""
    deadline = time.monotonic() + timeout
    while store.pending_summary().count < count:
        assert time.monotonic() < deadline, f"{count} deliveries did not land in {timeout}s"
        time.sleep(0.05)
