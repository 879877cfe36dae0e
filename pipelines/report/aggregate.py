"""Shape mart rows into what the charts and tables show: series, totals per group, the heat grid.

Counts are summed from the marts and rates recomputed from the sums (never averaged), with the
marts' denominators (numbers.rates)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from .marts import Row
from .numbers import UNKNOWN_BUCKET, outcome_totals, rates

MAX_EVENT_TYPES = 8  # more get one "Other" series: a chart with 20 colours is unreadable
OTHER = "Other event types"
UNKNOWN_EVENT_TYPE = "(unknown event type)"
LEAD_TIME_BUCKETS = ("< 1 h", "1–4 h", "4–24 h", "1–3 d", "3–7 d", "1–2 w", "2–4 w", "≥ 4 w")


@dataclass(frozen=True)
class Group:
    """Totals of one group (event type, week, bucket, UTM source/campaign) and its rates."""
    label: str
    counts: Counter

    @property
    def bookings(self) -> int:
        return self.counts["bookings_count"]

    @property
    def upcoming(self) -> int:
        c = self.counts
        return c["bookings_count"] - c["completed_count"] - c["no_show_count"] - c["cancelled_count"] \
            - c["rescheduled_count"]

    @property
    def rates(self) -> dict[str, float | None]:
        return rates(self.counts)


def event_type_series(weekly: list[Row]) -> dict[str, str]:
    """event type uri → series label: the MAX_EVENT_TYPES types with most bookings by name (in
    that order), the rest as OTHER. Every chart colours event types by this one mapping."""
    totals: Counter = Counter()
    names: dict[str, str] = {}
    for row in weekly:
        uri = str(row["event_type_uri"])
        totals[uri] += int(row["bookings_count"])
        names.setdefault(uri, str(row["event_type_name"] or UNKNOWN_EVENT_TYPE))
    ranked = sorted(totals, key=lambda uri: (-totals[uri], names[uri], uri))
    return {uri: names[uri] if n < MAX_EVENT_TYPES else OTHER for n, uri in enumerate(ranked)}


def series_labels(series: dict[str, str]) -> list[str]:
    return list(dict.fromkeys(series.values()))


def weekly_bookings(weekly: list[Row], series: dict[str, str]) -> tuple[list[date], dict[str, list[int]]]:
    """(weeks from first to last, without gaps; series label → bookings per week)."""
    if not weekly:
        return [], {}
    first = min(row["week_start"] for row in weekly)
    last = max(row["week_start"] for row in weekly)
    weeks = [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]
    index = {week: n for n, week in enumerate(weeks)}
    counts = {label: [0] * len(weeks) for label in series_labels(series)}
    for row in weekly:
        counts[series[str(row["event_type_uri"])]][index[row["week_start"]]] += int(row["bookings_count"])
    return weeks, counts


def _groups(rows: list[Row], key, label) -> dict[object, Group]:
    """key → Group of the rows with that key, labelled by label(rows)."""
    grouped: dict[object, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return {k: Group(label(members), outcome_totals(members)) for k, members in grouped.items()}


def by_event_type(weekly: list[Row]) -> list[Group]:
    """One group per event type, most bookings first."""
    groups = _groups(weekly, key=lambda r: r["event_type_uri"],
                     label=lambda rows: str(rows[0]["event_type_name"] or UNKNOWN_EVENT_TYPE))
    return sorted(groups.values(), key=lambda g: (-g.bookings, g.label))


def ended_weeks(weekly: list[Row], today: date) -> list[tuple[date, Group]]:
    """All event types together, per week that has ended by `today` (later weeks' outcomes are
    not known yet: their no-shows and cancellations are still to come)."""
    groups = _groups([r for r in weekly if r["week_start"] + timedelta(days=7) <= today],
                     key=lambda r: r["week_start"], label=lambda rows: rows[0]["week_start"].isoformat())
    return sorted(groups.items())


def lead_time_buckets(lead_times: list[Row], series: dict[str, str]) -> tuple[list[str], dict[str, list[int]]]:
    """(bucket labels in order, series label → bookings per bucket). '(unknown)' only if present."""
    buckets = list(LEAD_TIME_BUCKETS)
    if any(int(r["bucket_order"]) == UNKNOWN_BUCKET for r in lead_times):
        buckets.append("(unknown)")
    counts = {label: [0] * len(buckets) for label in series_labels(series)}
    for row in lead_times:
        label = series.get(str(row["event_type_uri"]), OTHER)
        counts.setdefault(label, [0] * len(buckets))[int(row["bucket_order"]) - 1] += int(row["bookings_count"])
    return buckets, counts


def by_lead_time(lead_times: list[Row]) -> list[Group]:
    """One group per bucket (all event types together), in bucket order."""
    groups = _groups(lead_times, key=lambda r: int(r["bucket_order"]),
                     label=lambda rows: str(rows[0]["lead_time_bucket"]))
    return [groups[order] for order in sorted(groups)]


def weekday_hour_grid(weekday_hour: list[Row]) -> list[list[int]]:
    """7 rows (Monday … Sunday) × 24 hours of bookings; cells without bookings are 0."""
    grid = [[0] * 24 for _ in range(7)]
    for row in weekday_hour:
        grid[int(row["weekday_number"]) - 1][int(row["hour_of_day"])] += int(row["bookings_count"])
    return grid


def top_utm(utm: list[Row], limit: int = 10) -> list[Group]:
    """The `limit` source / campaign pairs with most bookings, most first."""
    groups = [Group(f"{row['utm_source']} / {row['utm_campaign']}", outcome_totals([row])) for row in utm]
    return sorted(groups, key=lambda g: (-g.bookings, g.label))[:limit]
