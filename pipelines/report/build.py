"""build_report: the scheduling report of a warehouse, as one HTML page written atomically."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import aggregate, sections
from ..warehouse import Warehouse
from .marts import load_marts
from .numbers import key_numbers, markdown_table
from .page import document

REPORT_NAME = "scheduling_report.html"


@dataclass(frozen=True)
class Report:
    path: Path  # the HTML file written
    key_numbers: dict[str, object]  # e.g. {"bookings": 1234, "cancellation_rate": 0.12, ...}

    def markdown(self) -> str:
        """The key numbers as a markdown table, formatted for people (rates as %)."""
        return markdown_table(self.key_numbers)


def build_report(warehouse: Warehouse | Path, out_dir: Path, *, generated_at: datetime | None = None) -> Report:
    """Read marts.scheduling_* (read-only) of `warehouse` (or of a DuckDB file) and write
    `out_dir/scheduling_report.html`.

    Raises ReportError when the warehouse or a mart is missing (run `calendly-elt transform`)."""
    generated_at = generated_at or datetime.now(timezone.utc).replace(microsecond=0)
    if generated_at.tzinfo is None:
        generated_at = generated_at.replace(tzinfo=timezone.utc)
    marts = load_marts(warehouse)  # the connection is closed again when this returns
    numbers = key_numbers(marts, generated_at)
    today = generated_at.astimezone(timezone.utc).date()
    series = aggregate.event_type_series(marts.event_types_weekly)
    body = "\n".join((
        sections.key_numbers(numbers),
        sections.bookings_per_week(marts, series, today),
        sections.cancellations_and_no_shows(marts, today),
        sections.lead_times(marts, series),
        sections.weekday_hour(marts),
        sections.utm_attribution(marts),
    ))
    footer = ("Built by <code>calendly-elt report</code> from <code>marts.scheduling_event_types_weekly</code>, "
              "<code>scheduling_lead_times</code>, <code>scheduling_weekday_hour</code> and "
              "<code>scheduling_utm</code>. A booking is one invitee of a scheduled event; its status follows "
              "the rules in DESIGN.md (no-show, rescheduled, cancelled, completed, booked).")
    page = document("Scheduling report", f"Calendly bookings, as of {generated_at:%Y-%m-%d %H:%M %Z}.", body,
                    footer)
    path = Path(out_dir) / REPORT_NAME
    _write_atomically(path, page)
    return Report(path=path, key_numbers=numbers)


def _write_atomically(path: Path, text: str) -> None:
    """Readers see the old page or the new one, never half of one: write beside it, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a report is meant to be opened
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
