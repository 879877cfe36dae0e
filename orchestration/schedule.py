"""When scheduled runs happen: `CALENDLY_ELT_SCHEDULE` (a cron string, UTC), hourly by default.

Read when Dagster loads the definitions, not at import."""

from __future__ import annotations

import time
from datetime import timedelta
from itertools import islice

from pipelines.config import DEFAULT_SCHEDULE, Settings

DEFAULT_CRON = DEFAULT_SCHEDULE
TIMEZONE = "UTC"


def run_cron() -> str:
    from dagster._utils.schedules import is_valid_cron_string  # no public equivalent

    cron = Settings.from_env().schedule
    if not is_valid_cron_string(cron):
        raise ValueError(f"CALENDLY_ELT_SCHEDULE={cron!r} is not a cron string (e.g. '0 * * * *', hourly)")
    return cron


def longest_gap(cron: str, ticks: int = 200) -> timedelta:
    """The longest time between two scheduled runs (cron strings need not be regular)."""
    from dagster._utils.schedules import cron_string_iterator  # no public equivalent

    times = list(islice(cron_string_iterator(time.time(), cron, TIMEZONE), ticks))
    return max(later - earlier for earlier, later in zip(times, times[1:]))
