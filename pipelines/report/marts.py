"""Read the scheduling marts the report needs – and nothing else – from a read-only warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

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


def load_marts(warehouse_path: Path) -> Marts:
    if not warehouse_path.is_file():
        raise ReportError(f"no warehouse at {warehouse_path}: run `calendly-elt extract` and "
                          "`calendly-elt transform` first")
    # Read-only: an analyst's session or another report may hold the file too (DESIGN.md).
    try:
        connection = duckdb.connect(str(warehouse_path), read_only=True)
    except duckdb.IOException as exc:  # a writer holds the file: DuckDB has one writer or many readers
        raise ReportError(f"cannot open {warehouse_path} while another process writes it "
                          f"({str(exc).splitlines()[0][:120]}): run the report after that run ends") from exc
    with connection as con:
        present = {name for (name,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' and table_name like 'scheduling%'").fetchall()}
        missing = sorted(set(COLUMNS) - present)
        if missing:
            raise ReportError(f"{warehouse_path} has no {', '.join('marts.' + m for m in missing)}: "
                              "run `calendly-elt transform` first")
        rows = {mart: _read(con, mart, columns) for mart, columns in COLUMNS.items()}
    return Marts(
        event_types_weekly=rows["scheduling_event_types_weekly"],
        lead_times=rows["scheduling_lead_times"],
        weekday_hour=rows["scheduling_weekday_hour"],
        utm=rows["scheduling_utm"],
    )


def _read(con: duckdb.DuckDBPyConnection, mart: str, columns: tuple[str, ...]) -> list[Row]:
    try:
        cursor = con.execute(f"select {', '.join(columns)} from marts.{mart}")
    except duckdb.BinderException as exc:
        raise ReportError(f"marts.{mart} lacks a column the report needs ({str(exc).splitlines()[0]}): "
                          "run `calendly-elt transform` first") from exc
    return [dict(zip(columns, row)) for row in cursor.fetchall()]
