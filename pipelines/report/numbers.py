"""The key numbers at the top of the report, from the marts, and how to show them to people.

Rates follow the marts' definitions (_scheduling__docs.md): cancellation, reschedule and no-show
rates are over all bookings; show-up rate is completed / (completed + no-show)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from .marts import Marts, Row

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
UNKNOWN_BUCKET = 9  # bucket_order of '(unknown)' lead times: not on the time axis

# key → label, in the order of the table.
LABELS: dict[str, str] = {
    "bookings": "bookings",
    "completed": "completed",
    "upcoming": "upcoming (booked)",
    "cancellation_rate": "cancellation rate",
    "reschedule_rate": "reschedule rate",
    "no_show_rate": "no-show rate",
    "show_up_rate": "show-up rate (completed ÷ (completed + no-show))",
    "median_lead_time": "median lead time (bucket)",
    "busiest_weekday_hour": "busiest weekday and hour (invitee's local time)",
    "top_utm_source": "top UTM source",
    "weeks_covered": "weeks covered (by meeting start)",
    "generated_at": "generated at",
}


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def outcome_totals(rows: list[Row]) -> Counter:
    """Sum of each *_count column over mart rows."""
    totals: Counter = Counter()
    for row in rows:
        for column, value in row.items():
            if column.endswith("_count"):
                totals[column] += int(value or 0)
    return totals


def rates(totals: Counter) -> dict[str, float | None]:
    bookings = totals["bookings_count"]
    return {
        "cancellation_rate": ratio(totals["cancelled_count"], bookings),
        "reschedule_rate": ratio(totals["rescheduled_count"], bookings),
        "no_show_rate": ratio(totals["no_show_count"], bookings),
        "show_up_rate": ratio(totals["completed_count"], totals["completed_count"] + totals["no_show_count"]),
    }


def median_bucket(lead_times: list[Row]) -> str | None:
    """The lead-time bucket of the middle booking (the ⌈n/2⌉-th by lead time)."""
    counts: Counter = Counter()
    labels: dict[int, str] = {}
    for row in lead_times:
        order = int(row["bucket_order"])
        if order != UNKNOWN_BUCKET:
            counts[order] += int(row["bookings_count"])
            labels[order] = str(row["lead_time_bucket"])
    middle = (sum(counts.values()) + 1) // 2
    seen = 0
    for order in sorted(counts):
        seen += counts[order]
        if middle and seen >= middle:
            return labels[order]
    return None


def busiest_slot(weekday_hour: list[Row]) -> str | None:
    if not weekday_hour:
        return None
    top = min(weekday_hour, key=lambda r: (-int(r["bookings_count"]), int(r["weekday_number"]), int(r["hour_of_day"])))
    hour = int(top["hour_of_day"])
    return f"{WEEKDAYS[int(top['weekday_number']) - 1]} {hour:02d}:00–{(hour + 1) % 24:02d}:00"


def top_source(utm: list[Row]) -> str | None:
    """The UTM source with the most bookings; bookings without one ('(none)') are no source."""
    by_source: Counter = Counter()
    for row in utm:
        if row["utm_source"] != "(none)":
            by_source[str(row["utm_source"])] += int(row["bookings_count"])
    if not by_source:
        return None
    return min(by_source.items(), key=lambda item: (-item[1], item[0]))[0]


def key_numbers(marts: Marts, generated_at: datetime) -> dict[str, object]:
    totals = outcome_totals(marts.event_types_weekly)
    weeks = sorted({row["week_start"] for row in marts.event_types_weekly})
    numbers: dict[str, object] = {
        "bookings": totals["bookings_count"],
        "completed": totals["completed_count"],
        "upcoming": totals["bookings_count"] - sum(
            totals[c] for c in ("completed_count", "no_show_count", "cancelled_count", "rescheduled_count")),
        **rates(totals),
        "median_lead_time": median_bucket(marts.lead_times),
        "busiest_weekday_hour": busiest_slot(marts.weekday_hour),
        "top_utm_source": top_source(marts.utm),
        "weeks_covered": (weeks[-1] - weeks[0]).days // 7 + 1 if weeks else 0,
        "first_week": weeks[0] if weeks else None,
        "last_week": weeks[-1] if weeks else None,
        "generated_at": generated_at,
    }
    return numbers


def format_value(key: str, value: object, numbers: dict[str, object] | None = None) -> str:
    """A key number as people read it: 1,234 – 12.3% – Monday 14:00–15:00 – 2026-03-02 09:00 UTC."""
    if value is None:
        return "–"
    if key.endswith("_rate") and isinstance(value, float):
        return f"{value:.1%}"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        text = f"{value:,}"
        if key == "weeks_covered" and numbers and numbers.get("first_week"):
            text += f" (weeks of {numbers['first_week']} to {numbers['last_week']})"
        return text
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M %Z").strip()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def human_rows(numbers: dict[str, object]) -> list[tuple[str, str]]:
    """(label, formatted value) for each key number of the table, in order."""
    return [(label, format_value(key, numbers.get(key), numbers)) for key, label in LABELS.items()]


def markdown_table(numbers: dict[str, object]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| metric | value |", "|---|---|"]
    lines += [f"| {cell(label)} | {cell(value)} |" for label, value in human_rows(numbers)]
    return "\n".join(lines)
