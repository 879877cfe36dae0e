"""Read the scheduling marts the report needs – and nothing else – from a read-only warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..exceptions import ConfigError
from ..warehouse import Connection, Warehouse, WarehouseUnavailable, connect

# mart → the columns the report uses (named, so a renamed column fails here with its name).
COLUMNS: dict[str, tuple[str, ...]] = {
    "scheduling_event_types_weekly": (
        "event_type_uri", "event_type_name", "week_start", "bookings_count", "completed_count",
        "no_show_count", "cancelled_count", "rescheduled_count"),
    "scheduling_lead_times": (
        "event_type_uri", "event_type_name", "lead_time_bucket", "bucket_order", "bookings_count",
        "completed_count", "no_show_count", "cancelled_count", "rescheduled_count"),
    "scheduling_weekday_hour": ("weekday_number", "weekday_name", "hour_of_day", "bookings_count"),
    "scheduling_utm": (
        "utm_source", "utm_campaign", "bookings_count", "completed_count", "no_show_count",
        "cancelled_count", "rescheduled_count"),
}

Row = dict[str, object]


class ReportError(Exception):
    """The report cannot be built; the message says what to do."""


@dataclass(frozen=True)
class Marts:
    """The rows of each scheduling mart, as plain dicts."""
    event_types_weekly: list[Row]
    lead_times: list[Row]
    weekday_hour: list[Row]
    utm: list[Row]

    @property
    def empty(self) -> bool:
        return not self.event_types_weekly


def load_marts(warehouse: Warehouse | Path) -> Marts:
    """`warehouse`: a Warehouse, or the path of a DuckDB file."""
    warehouse = Warehouse.of(warehouse)
    if warehouse.absent:
        raise ReportError(f"no warehouse at {warehouse.name}: run `calendly-elt extract` and "
                          "`calendly-elt transform` first")
    # Read-only: an analyst's session or another report may hold the file too (DESIGN.md).
    try:
        with connect(warehouse, read_only=True) as con:
            rows = _read_all(con, warehouse)
    except WarehouseUnavailable as exc:  # DuckDB: a writer holds the file; PostgreSQL: unreachable
        raise ReportError(str(exc)) from exc
    except ConfigError as exc:  # PostgreSQL refused the URL
        raise ReportError(str(exc)) from exc
    return Marts(
        event_types_weekly=rows["scheduling_event_types_weekly"],
        lead_times=rows["scheduling_lead_times"],
        weekday_hour=rows["scheduling_weekday_hour"],
        utm=rows["scheduling_utm"],
    )


def _read_all(con: Connection, warehouse: Warehouse) -> dict[str, list[Row]]:
    present = {name for (name,) in con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'marts' and table_name like 'scheduling%'").fetchall()}
    missing = sorted(set(COLUMNS) - present)
    if missing:
        raise ReportError(f"{warehouse.name} has no {', '.join('marts.' + m for m in missing)}: "
                          "run `calendly-elt transform` first")
    return {mart: _read(con, mart, columns) for mart, columns in COLUMNS.items()}


def _read(con: Connection, mart: str, columns: tuple[str, ...]) -> list[Row]:
    present = {name for (name,) in con.execute(
        "select column_name from information_schema.columns where table_schema = 'marts' and table_name = %s",
        [mart]).fetchall()}
    if absent := [c for c in columns if c not in present]:
        raise ReportError(f"marts.{mart} lacks a column the report needs ({', '.join(absent)}): "
                          "run `calendly-elt transform` first")
    cursor = con.execute(f"select {', '.join(columns)} from marts.{mart}")
    return [dict(zip(columns, row)) for row in cursor.fetchall()]
