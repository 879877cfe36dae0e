"""The analysts' snapshot: a copy of the warehouse, published whole by an atomic rename.

DuckDB lets one process write a file, and a reader in another process blocks that writer. Analysts
therefore open `analytics.duckdb`, never the live warehouse: each good run writes a new file beside
it and renames it over the old one. An analyst's open session keeps reading the file it opened (on
POSIX the old inode lives on until closed); the next session opens the new one.

PostgreSQL serves readers while it writes, so there the snapshot is only about consistency: the
schema `analytics` holds a copy of the staging and mart relations of the last good run, all replaced
in one transaction, so a query never mixes two runs' marts (`publish_postgres_snapshot`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

import duckdb

from .warehouse import Warehouse, WarehouseUnavailable, connect

if TYPE_CHECKING:
    from .config import Settings

# dlt's bookkeeping, except the load log analysts use to see how fresh the data is.
_SKIPPED_PREFIX = "_dlt_"
_KEPT = {"_dlt_loads"}
# dlt's merge staging dataset (`<dataset>_staging`) is scratch space of the last load; `brevo_sync`
# is the sync's operational state, written by a step the snapshot does not wait for (a Brevo outage
# must not hold back the analysts' data), so a copy of it could be a run behind. `erasure` holds the salt
# of the erased people's hashes (pipelines/erasure/audit.py): with it, a hash can be tested against guesses.
_SKIPPED_SCHEMAS = ("information_schema", "pg_catalog", "calendly_raw_staging", "brevo_sync", "erasure")


POSTGRES_SCHEMA = "analytics"
LOCK_TIMEOUT = "60s"
_POSTGRES_SOURCES = ("staging", "marts")  # dbt's schemas: names are unique across them


@dataclass(frozen=True)
class Snapshot:
    where: str  # the file, or the PostgreSQL schema
    tables: int
    rows: int
    bytes: int
    seconds: float

    def line(self) -> str:
        size = f", {self.bytes / 1e6:.1f} MB" if self.bytes else ""
        return f"snapshot: published {self.where} in {self.seconds:.1f}s – {self.tables} tables, {self.rows:,} rows{size}"


def publish(settings: "Settings") -> Snapshot:
    """The snapshot of the configured warehouse: `analytics.duckdb`, or the schema `analytics`."""
    warehouse = settings.warehouse
    if warehouse.kind == "duckdb":
        return publish_snapshot(warehouse.path, settings.analytics_path)
    return publish_postgres_snapshot(warehouse)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def publish_snapshot(warehouse_path: Path, snapshot_path: Path) -> Snapshot:
    """Copy every table and view of the warehouse (views become tables, so the snapshot stands
    alone) into a new file, then rename it over `snapshot_path`."""
    started = time.monotonic()
    if not warehouse_path.exists():
        raise FileNotFoundError(f"no warehouse at {warehouse_path}: run `calendly-elt extract` first")
    if snapshot_path.resolve() == warehouse_path.resolve():
        raise ValueError(f"the snapshot would replace the warehouse itself ({warehouse_path}): "
                         "name the warehouse anything but analytics.duckdb")
    snapshot_path.parent.mkdir(parents=True, exist_ok=True)
    # Left by a publisher that was killed: runs that write are one at a time, so none is in progress.
    for stale in snapshot_path.parent.glob(f".{snapshot_path.name}.*.partial*"):
        stale.unlink(missing_ok=True)
    partial = snapshot_path.with_name(f".{snapshot_path.name}.{os.getpid()}.partial")
    tables = rows = 0
    try:
        with duckdb.connect(str(partial)) as con:
            # Under its own name: the warehouse's views name their catalog (dbt-duckdb: the file's stem).
            catalog = warehouse_path.stem
            con.execute(f"attach {_sql_string(warehouse_path)} as {_quote(catalog)} (read_only)")
            relations = con.execute(
                """
                select table_schema, table_name
                from information_schema.tables
                where table_catalog = ?
                  and table_schema not in (select unnest(?::varchar[]))
                order by table_schema, table_name
                """, [catalog, list(_SKIPPED_SCHEMAS)]
            ).fetchall()
            for schema, name in relations:
                if name.startswith(_SKIPPED_PREFIX) and name not in _KEPT:
                    continue
                con.execute(f"create schema if not exists {_quote(schema)}")
                con.execute(f"create table {_quote(schema)}.{_quote(name)} as "
                            f"select * from {_quote(catalog)}.{_quote(schema)}.{_quote(name)}")
                rows += con.execute(f"select count(*) from {_quote(schema)}.{_quote(name)}").fetchone()[0]
                tables += 1
            con.execute(f"detach {_quote(catalog)}")
            con.execute("checkpoint")
        with open(partial, "rb") as written:  # on disk before it takes the public name
            os.fsync(written.fileno())
        os.replace(partial, snapshot_path)
    finally:
        partial.unlink(missing_ok=True)
        partial.with_name(partial.name + ".wal").unlink(missing_ok=True)
    return Snapshot(where=str(snapshot_path), tables=tables, rows=rows, bytes=snapshot_path.stat().st_size,
                    seconds=time.monotonic() - started)


def publish_postgres_snapshot(warehouse: Warehouse) -> Snapshot:
    """Copy every staging and mart relation into `analytics_next`, then swap it for `analytics`,
    in one transaction: readers see the previous run's copy until the commit, then this one."""
    started = time.monotonic()
    schema, building = POSTGRES_SCHEMA, POSTGRES_SCHEMA + "_next"
    tables = rows = 0
    with connect(warehouse) as con:
        with con.transaction(), _lock_wait_bounded(warehouse):
            # An analyst's open transaction on `analytics` holds the drop (and every reader behind it).
            con.execute(f"set local lock_timeout = '{LOCK_TIMEOUT}'")
            relations = con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema in (%s, %s) order by table_name", list(_POSTGRES_SOURCES)).fetchall()
            if not relations:
                raise FileNotFoundError(f"{warehouse.name} has no staging or marts schema: run `calendly-elt "
                                        "transform` first")
            con.execute(f"drop schema if exists {_quote(building)} cascade")  # a killed publisher's leftover
            con.execute(f"create schema {_quote(building)}")
            for source, name in relations:
                con.execute(f"create table {_quote(building)}.{_quote(name)} as "
                            f"select * from {_quote(source)}.{_quote(name)}")
                rows += con.execute(f"select count(*) from {_quote(building)}.{_quote(name)}").fetchone()[0]
                tables += 1
            con.execute(f"drop schema if exists {_quote(schema)} cascade")
            con.execute(f"alter schema {_quote(building)} rename to {_quote(schema)}")
    return Snapshot(where=f"{warehouse.name} schema {schema}", tables=tables, rows=rows, bytes=0,
                    seconds=time.monotonic() - started)


@contextmanager
def _lock_wait_bounded(warehouse: Warehouse) -> Iterator[None]:
    """A swap that waited LOCK_TIMEOUT for readers gives up, untouched, and may be retried."""
    import psycopg2.errors

    try:
        yield
    except psycopg2.errors.LockNotAvailable:
        raise WarehouseUnavailable(f"the snapshot in {warehouse.name} stayed locked by a reader for "
                                   f"{LOCK_TIMEOUT}; the previous one is still published") from None


def _sql_string(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
