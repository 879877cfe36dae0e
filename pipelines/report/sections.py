"""The report's sections, in page order: each one is a heading, what it shows, a chart (inline SVG)
and sometimes a table – or a "no data yet" note when its mart is empty."""

from __future__ import annotations

from datetime import date
from html import escape

from matplotlib.figure import Figure

from . import aggregate, charts
from .marts import Marts
from .numbers import human_rows
from .page import no_data, table
from .svg import figure_svg


def _pct(value: float | None) -> str:
    if value is None:
        return "–"
    return "<0.1%" if 0 < value < 0.0005 else f"{value:.1%}"


def _figure(figure: Figure, prefix: str, title: str) -> str:
    return f"<figure>{figure_svg(figure, prefix, title)}</figure>"


def _heading(title: str, lead: str) -> str:
    return f'<h2>{escape(title)}</h2>\n<p class="lead">{escape(lead)}</p>\n'


def key_numbers(numbers: dict[str, object]) -> str:
    return "<h2>Key numbers</h2>\n" + table(("metric", "value"), human_rows(numbers), css_class="key-numbers")


def bookings_per_week(marts: Marts, series: dict[str, str], today: date) -> str:
    title = "Bookings per week"
    html = _heading(title, "Bookings (any status) by the week of the meeting's start (Monday, UTC), stacked "
                           "by event type. Weeks after the dashed line are meetings booked for the future.")
    if marts.empty:
        return html + no_data("No bookings yet: run the pipeline once Calendly has scheduled events.")
    weeks, counts = aggregate.weekly_bookings(marts.event_types_weekly, series)
    return html + _figure(charts.weekly_bookings(weeks, counts, today), "weekly", title)


def cancellations_and_no_shows(marts: Marts, today: date) -> str:
    title = "Cancellations and no-shows"
    html = _heading(title, "Cancellation and no-show rates are shares of all bookings; show-up rate is "
                           "completed ÷ (completed + no-show), the meetings that have an outcome.")
    if marts.empty:
        return html + no_data("No bookings yet, so no rates.")
    groups = aggregate.by_event_type(marts.event_types_weekly)
    html += "<h3>By event type (all time)</h3>\n"
    html += _figure(charts.rates_by_event_type(groups), "rates-type", "Cancellation and no-show rate by event type")
    html += table(
        ("event type", "bookings", "completed", "upcoming", "cancellation rate", "reschedule rate", "no-show rate",
         "show-up rate"),
        [(g.label, f"{g.bookings:,}", f"{g.counts['completed_count']:,}", f"{g.upcoming:,}",
          _pct(g.rates["cancellation_rate"]), _pct(g.rates["reschedule_rate"]), _pct(g.rates["no_show_rate"]),
          _pct(g.rates["show_up_rate"])) for g in groups],
        numeric=range(1, 8))
    html += "<h3>By week (weeks that have ended; all event types)</h3>\n"
    weeks = aggregate.ended_weeks(marts.event_types_weekly, today)
    if not weeks:
        return html + no_data("No week with meetings has ended yet.")
    return html + _figure(charts.rates_by_week(weeks), "rates-week", "Cancellation and no-show rate by week")


def lead_times(marts: Marts, series: dict[str, str]) -> str:
    title = "Lead time"
    html = _heading(title, "How far ahead people book: time from the booking to the meeting's start, per "
                           "bucket and event type; each bar shows its share of all bookings.")
    if not marts.lead_times:
        return html + no_data("No bookings yet, so no lead times.")
    buckets, counts = aggregate.lead_time_buckets(marts.lead_times, series)
    html += _figure(charts.lead_times(buckets, counts), "lead", "Bookings by lead time")
    groups = aggregate.by_lead_time(marts.lead_times)
    total = sum(g.bookings for g in groups)
    return html + table(
        ("lead time", "bookings", "share", "cancellation rate", "no-show rate", "show-up rate"),
        [(g.label, f"{g.bookings:,}", _pct(g.bookings / total), _pct(g.rates["cancellation_rate"]),
          _pct(g.rates["no_show_rate"]), _pct(g.rates["show_up_rate"])) for g in groups],
        numeric=range(1, 6))


def weekday_hour(marts: Marts) -> str:
    title = "When meetings take place"
    html = _heading(title, "Bookings per weekday and hour of the meeting's start in the invitee's own time "
                           "zone: when people choose to meet. Empty cells have no bookings.")
    if not marts.weekday_hour:
        return html + no_data("No bookings yet, so no weekday × hour grid.")
    grid = aggregate.weekday_hour_grid(marts.weekday_hour)
    return html + _figure(charts.weekday_hour(grid), "heat", "Bookings by weekday and local hour")


def utm_attribution(marts: Marts, limit: int = 10) -> str:
    title = "UTM attribution"
    html = _heading(title, f"UTM source / campaign pairs by bookings (the top {limit}), by outcome, with their "
                           "show-up rate; '(none)' stands for bookings without that UTM parameter.")
    if not marts.utm:
        return html + no_data("No bookings yet, so no attribution.")
    groups = aggregate.top_utm(marts.utm, limit)
    html += _figure(charts.utm(groups), "utm", "Bookings by UTM source and campaign")
    return html + table(
        ("source / campaign", "bookings", "completed", "no-show", "cancelled", "cancellation rate", "show-up rate"),
        [(g.label, f"{g.bookings:,}", f"{g.counts['completed_count']:,}", f"{g.counts['no_show_count']:,}",
          f"{g.counts['cancelled_count']:,}", _pct(g.rates["cancellation_rate"]), _pct(g.rates["show_up_rate"]))
         for g in groups],
        numeric=range(1, 7))
