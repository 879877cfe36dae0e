"""The report's charts as matplotlib figures (object API only: no pyplot, no global state).

Each function takes what `aggregate` shaped and returns a Figure; callers check for data first.
Labels from the data go through `_text`, so a `$` in a campaign name is not read as mathtext."""

from __future__ import annotations

from datetime import date

import matplotlib.dates as mdates
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .aggregate import OTHER, Group
from .numbers import WEEKDAYS

WIDTH = 11.0  # inches; the page scales every chart to its column
# Colour-blind-safe qualitative palette (Okabe–Ito, without black), then grey for "Other".
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#6A3D9A")
OTHER_COLOUR = "#9E9E9E"
OUTCOMES = (  # (count column or "upcoming", legend label, colour)
    ("completed_count", "completed", "#009E73"),
    ("no_show_count", "no-show", "#D55E00"),
    ("cancelled_count", "cancelled", "#9E9E9E"),
    ("rescheduled_count", "rescheduled", "#CFCFCF"),
    ("upcoming", "upcoming", "#56B4E9"),
)
INK = "#333333"
GRID = "#E5E5E5"


def _text(value: object, limit: int = 42) -> str:
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def colours(labels: list[str]) -> dict[str, str]:
    """Series label → colour, in series order; OTHER is grey."""
    plain = [label for label in labels if label != OTHER]
    mapping = {label: PALETTE[n % len(PALETTE)] for n, label in enumerate(plain)}
    mapping[OTHER] = OTHER_COLOUR
    return mapping


def _figure(height: float) -> Figure:
    figure = Figure(figsize=(WIDTH, height), layout="constrained", facecolor="white")
    figure.get_layout_engine().set(h_pad=0.08, w_pad=0.08)
    return figure


def _style(ax, value_axis: str = "y") -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color("#BBBBBB")
    ax.spines["bottom"].set_color("#BBBBBB")
    ax.tick_params(colors=INK, labelsize=9)
    ax.grid(axis=value_axis, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)


def _percent_axis(axis) -> None:
    """Ticks at round percentages (0%, 5%, 10% …), so no tick label is a rounded value."""
    axis.set_major_locator(MaxNLocator(nbins=7, steps=[1, 2, 5, 10]))
    axis.set_major_formatter(FuncFormatter(lambda value, _position: f"{round(value * 100, 4):g}%"))


def _share(value: float) -> str:
    """A share of all bookings for a bar label: 38%, 0.3%, <0.1% – never a misleading 0%."""
    if value == 0 or value >= 0.01:
        return f"{value:.0%}"
    return f"{value:.1%}" if value >= 0.001 else "<0.1%"


def _legend(figure: Figure, ax, columns: int) -> None:
    handles, labels = ax.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside upper center", ncols=columns, frameon=False, fontsize=9)


def weekly_bookings(weeks: list[date], counts: dict[str, list[int]], today: date) -> Figure:
    """Stacked bars: bookings per week (of the meeting's start) by event type, with today marked."""
    figure = _figure(4.2)
    ax = figure.subplots()
    palette = colours(list(counts))
    bottom = np.zeros(len(weeks))
    for label, values in counts.items():
        ax.bar(weeks, values, width=6, bottom=bottom, align="edge", color=palette[label],
               label=_text(label), linewidth=0)
        bottom += np.array(values)
    if weeks[0] <= today <= weeks[-1]:
        ax.axvline(today, color=INK, linestyle="--", linewidth=1)
        ax.annotate("today", (today, 1), xycoords=("data", "axes fraction"), xytext=(4, -2),
                    textcoords="offset points", va="top", fontsize=9, color=INK)
    locator = mdates.AutoDateLocator(maxticks=14)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("bookings", color=INK)
    ax.margins(x=0.01)
    _style(ax)
    _legend(figure, ax, columns=min(len(counts), 5))
    return figure


def _bar_labels(ax, bars, values: list[float | None], fmt) -> None:
    ax.bar_label(bars, labels=[fmt(v) if v is not None else "n/a" for v in values], padding=3,
                 fontsize=8, color=INK)


def rates_by_event_type(groups: list[Group]) -> Figure:
    """Horizontal grouped bars: cancellation and no-show rate per event type (over all bookings)."""
    figure = _figure(1.0 + 0.55 * len(groups))
    ax = figure.subplots()
    y = np.arange(len(groups))
    measures = (("cancellation_rate", "cancellation rate", "#9E9E9E"), ("no_show_rate", "no-show rate", "#D55E00"))
    for n, (key, label, colour) in enumerate(measures):
        values = [g.rates[key] for g in groups]
        bars = ax.barh(y + (n - 0.5) * 0.38, [v or 0 for v in values], height=0.36, color=colour, label=label)
        _bar_labels(ax, bars, values, lambda v: f"{v:.1%}")
    ax.set_yticks(y, [f"{_text(g.label, 32)} ({g.bookings:,})" for g in groups])
    ax.invert_yaxis()
    _percent_axis(ax.xaxis)
    ax.set_xlim(0, max([g.rates[k] or 0 for g in groups for k, _, _ in measures] + [0.01]) * 1.18)
    _style(ax, value_axis="x")
    _legend(figure, ax, columns=2)
    return figure


def rates_by_week(weeks: list[tuple[date, Group]]) -> Figure:
    """Lines: cancellation and no-show rate per ended week (all event types)."""
    figure = _figure(3.4)
    ax = figure.subplots()
    x = [week for week, _ in weeks]
    for key, label, colour in (("cancellation_rate", "cancellation rate", "#6E6E6E"),
                               ("no_show_rate", "no-show rate", "#D55E00")):
        values = [g.rates[key] if g.rates[key] is not None else np.nan for _, g in weeks]
        ax.plot(x, values, marker="o", markersize=3, linewidth=1.5, color=colour, label=label)
    locator = mdates.AutoDateLocator(maxticks=14)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    _percent_axis(ax.yaxis)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("share of the week's bookings", color=INK)
    _style(ax)
    _legend(figure, ax, columns=2)
    return figure


def lead_times(buckets: list[str], counts: dict[str, list[int]]) -> Figure:
    """Stacked bars: bookings per lead-time bucket by event type, each bar with its share."""
    figure = _figure(3.8)
    ax = figure.subplots()
    palette = colours(list(counts))
    x = np.arange(len(buckets))
    bottom = np.zeros(len(buckets))
    for label, values in counts.items():
        ax.bar(x, values, bottom=bottom, width=0.7, color=palette[label], label=_text(label), linewidth=0)
        bottom += np.array(values)
    total = bottom.sum()
    for xi, height in zip(x, bottom):
        if height:
            ax.annotate(_share(height / total), (xi, height), xytext=(0, 3), textcoords="offset points",
                        ha="center", fontsize=8, color=INK)
    ax.set_xticks(x, buckets)
    ax.set_xlabel("time from booking to the meeting's start", color=INK)
    ax.set_ylabel("bookings", color=INK)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max(bottom.max(), 1) * 1.12)
    _style(ax)
    _legend(figure, ax, columns=min(len(counts), 5))
    return figure


def weekday_hour(grid: list[list[int]]) -> Figure:
    """Heat map: bookings per weekday × hour of the meeting's start in the invitee's local time."""
    figure = _figure(3.6)
    ax = figure.subplots()
    values = np.array(grid, dtype=float)
    peak = values.max() or 1
    image = ax.imshow(np.where(values > 0, values, np.nan), cmap="Blues", vmin=0, vmax=peak, aspect="auto")
    ax.set_facecolor("#F7F7F7")  # hours without bookings
    for (row, column), value in np.ndenumerate(values):
        if value:
            ax.text(column, row, f"{int(value)}", ha="center", va="center", fontsize=7,
                    color="white" if value > 0.55 * peak else INK)
    ax.set_xticks(range(24), [f"{h:02d}" for h in range(24)])
    ax.set_yticks(range(7), WEEKDAYS)
    ax.set_xlabel("hour of the meeting's start (invitee's local time)", color=INK)
    ax.tick_params(length=0, labelsize=9, colors=INK)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xticks(np.arange(-0.5, 24), minor=True)
    ax.set_yticks(np.arange(-0.5, 7), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    colourbar = figure.colorbar(image, ax=ax, fraction=0.03, pad=0.01)
    colourbar.ax.tick_params(labelsize=8, colors=INK)
    colourbar.set_label("bookings", color=INK, fontsize=9)
    colourbar.outline.set_visible(False)
    return figure


def utm(groups: list[Group]) -> Figure:
    """Horizontal stacked bars: bookings by outcome per UTM source / campaign, with show-up rate."""
    figure = _figure(1.0 + 0.42 * len(groups))
    ax = figure.subplots()
    y = np.arange(len(groups))
    left = np.zeros(len(groups))
    for key, label, colour in OUTCOMES:
        values = np.array([g.upcoming if key == "upcoming" else g.counts[key] for g in groups], dtype=float)
        ax.barh(y, values, left=left, height=0.65, color=colour, label=label, linewidth=0)
        left += values
    for yi, (total, group) in enumerate(zip(left, groups)):
        show_up = group.rates["show_up_rate"]
        ax.annotate(f"{int(total):,} · show-up {show_up:.0%}" if show_up is not None else f"{int(total):,}",
                    (total, yi), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8, color=INK)
    ax.set_yticks(y, [_text(g.label) for g in groups])
    ax.invert_yaxis()
    ax.set_xlim(0, max(left.max(), 1) * 1.22)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("bookings", color=INK)
    _style(ax, value_axis="x")
    _legend(figure, ax, columns=len(OUTCOMES))
    return figure
