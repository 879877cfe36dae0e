"""Pure helpers of the Calendly source (no I/O)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping


def uuid_from_uri(uri: str) -> str:
    """`https://api.calendly.com/scheduled_events/ABC` -> `ABC`."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


def parse_time(value: str) -> datetime:
    """Calendly timestamps (`2020-01-02T03:04:05.678123Z`) as aware UTC datetimes."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def format_time(value: datetime) -> str:
    """The form Calendly documents for `min_start_time`: UTC with microseconds and `Z`."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_fingerprint(event: Mapping[str, Any]) -> str:
    """What changes on an event when its invitees change: a new, canceled or rescheduled invitee
    moves `updated_at` and/or `invitees_counter`. (A no-show mark does not – see `in_no_show_window`.)"""
    counter = event.get("invitees_counter") or {}
    return f"{event.get('updated_at')}|{counter.get('total')}|{counter.get('active')}|{event.get('status')}"


def row_fingerprint(row: Mapping[str, Any]) -> str:
    """A short digest of a row's whole content (keys sorted, nulls included), to tell whether a row
    changed since it was last loaded. 64 bits: a change keeps the digest with a chance of 2^-64."""
    blob = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.blake2b(blob.encode(), digest_size=8).hexdigest()


def in_no_show_window(event: Mapping[str, Any], now: datetime, window: timedelta,
                      previous_run: datetime | None = None) -> bool:
    """Hosts mark no-shows after the meeting, without touching the event: re-read invitees of events
    that ended within `window` before this run – or before the previous one, so that an event which
    ended between two runs further apart than `window` is still read once after it ended."""
    end = parse_time(event["end_time"])
    since = min(now, previous_run) if previous_run else now
    return since - window <= end <= now


def relist_from(last_run_at: str | None, lookback: timedelta, start_date: datetime | None) -> datetime | None:
    """Lower bound of `start_time` for listing events: all history (or `start_date`) on the first run,
    `last run - lookback` afterwards. There is never an upper bound: every future booking is listed."""
    if last_run_at is None:
        return start_date
    since = parse_time(last_run_at) - lookback
    return max(since, start_date) if start_date else since


def drop_nulls(item: Any) -> Any:
    """The item without null-valued keys, at every depth.

    A `no_show: null` would reach dlt as a column with no type (dlt warns and skips it); the typed
    columns come from the hints in settings.py, and a merged row is replaced whole, so a key left
    out loads as NULL exactly like a null one."""
    if isinstance(item, dict):
        return {k: drop_nulls(v) for k, v in item.items() if v is not None}
    if isinstance(item, list):
        return [drop_nulls(v) for v in item]
    return item
