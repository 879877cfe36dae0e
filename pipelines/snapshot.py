"""The analysts' snapshot: a copy of the warehouse, published whole by an atomic rename.

DuckDB lets one process write a file, and a reader in another process blocks that writer. Analysts
therefore open `analytics.duckdb`, never the live warehouse: each good run writes a new file beside
it and renames it over the old one. An analyst's open session keeps reading the file it opened (on
POSIX the old inode lives on until closed); the next session opens the new one.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

# dlt's bookkeeping, except the load log analysts use to see how fresh the data is.
_SKIPPED_PREFIX = "_dlt_"
_KEPT = {"_dlt_loads"}
# dlt's merge staging dataset (`<dataset>_staging`) is scratch space of the last load; `brevo_sync`
# is the sync's operational state, written by a step the snapshot does not wait for (a Brevo outage
# must not hold back the analysts' data), so a copy of it could be a run behind.
_SKIPPED_SCHEMAS = ("information_schema", "pg_catalog", "calendly_raw_staging", "brevo_sync")


@dataclass(frozen=True)
class Snapshot:
    path: Path
    tables: int
    rows: int
    bytes: int
    seconds: float

    def line(self) -> str:
        return (f"snapshot: published {self.path} in {self.seconds:.1f}s – {self.tables} tables, "
                f"{self.rows:,} rows, {self.bytes / 1e6:.1f} MB")


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
    return Snapshot(path=snapshot_path, tables=tables, rows=rows, bytes=snapshot_path.stat().st_size,
                    seconds=time.monotonic() - started)


def _sql_string(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
