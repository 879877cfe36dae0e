"""Progress lines for long stages: counters that worker threads bump, printed at most every few seconds."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class Progress:
    def __init__(self, stage: str, stream: TextIO | None = sys.stderr, interval: float = 2.0) -> None:
        self.stage = stage
        self.stream = stream
        self.interval = interval
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._last_print = time.monotonic()

    def add(self, **counts: int) -> None:
        with self._lock:
            for key, value in counts.items():
                self.counts[key] = self.counts.get(key, 0) + value
            due = time.monotonic() - self._last_print >= self.interval
            if due:
                self._last_print = time.monotonic()
        if due:
            self.say(self.line())

    def get(self, key: str) -> int:
        return self.counts.get(key, 0)

    def line(self) -> str:
        with self._lock:
            parts = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in self.counts.items())
        return f"{self.stage}: {parts}"

    def say(self, text: str) -> None:
        if self.stream is not None:
            print(text, file=self.stream, flush=True)
