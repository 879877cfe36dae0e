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
        self._last_print: float | None = None  # the first count starts the clock: set-up is not progress

    def add(self, **counts: int) -> None:
        with self._lock:
            for key, value in counts.items():
                self.counts[key] = self.counts.get(key, 0) + value
            if self._last_print is None:
                self._last_print = time.monotonic()
            due = time.monotonic() - self._last_print >= self.interval
            if due:
                self._last_print = time.monotonic()
        if due:
            self.show(self.line())

    def get(self, key: str) -> int:
        return self.counts.get(key, 0)

    def line(self) -> str:
        with self._lock:
            parts = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in self.counts.items())
        return f"{self.stage}: {parts}"

    def say(self, text: str) -> None:
        if self.stream is not None:
            print(text, file=self.stream, flush=True)

    def show(self, line: str) -> None:
        """Where the counters go when due: a line of their own here."""
        self.say(line)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


class RichProgress(Progress):
    """The same counters as one live line in a terminal (Rich), redrawn as they change; other lines
    (warnings) print above it. Use as a context manager: the line goes when the stage ends, and the
    command prints its summary instead."""

    def __init__(self, stage: str) -> None:
        from rich.console import Console
        from rich.live import Live
        from rich.spinner import Spinner

        super().__init__(stage, stream=sys.stderr, interval=0.0)
        self._console = Console(stderr=True)
        self._spinner = Spinner("dots", text=f"{stage}: starting")
        self._live = Live(self._spinner, console=self._console, transient=True, refresh_per_second=8)

    def __enter__(self) -> "RichProgress":
        self._live.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._live.stop()

    def show(self, line: str) -> None:
        self._spinner.update(text=line)  # interval 0: every count redraws the one live line

    def say(self, text: str) -> None:
        self._console.print(text, markup=False, highlight=False)
