"""Deleted rows leave copies in the warehouse's storage: rewritten here, after the erasure's commit.

DuckDB marks deleted rows and frees blocks without overwriting them: after `delete` and a checkpoint
the file still held an erased address 8 times (measured on a 60-event sandbox account). The file is
therefore rewritten whole – `COPY FROM DATABASE` into a new file beside it, renamed over it – as the
snapshot is published (about a second for that account, cf. `calendly-elt forget`'s summary).
PostgreSQL keeps dead tuples until they are vacuumed: the tables the erasure touched get `VACUUM FULL`,
which rewrites them into new files. What neither reaches (PostgreSQL's WAL archive, backups, the file
system's free space) is listed in docs/erasure.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from ..warehouse import Warehouse, connect


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def rewrite_duckdb(path: Path) -> None:
    """Copy every live row, view and sequence of the DuckDB file at `path` into a new file, then rename it
    over `path` (nothing else may have the file open: runs that write take turns)."""
    import duckdb

    fresh = path.with_name(f".{path.name}.{os.getpid()}.erasure")
    for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
        leftover.unlink(missing_ok=True)
    try:
        with duckdb.connect(str(path)) as con:
            # Attached under the warehouse's own catalog name once renamed: the file's stem (dbt-duckdb's
            # views name it); here under another alias, since the stem is taken.
            con.execute(f"attach '{str(fresh).replace(chr(39), chr(39) * 2)}' as erasure_copy")
            con.execute(f"copy from database {_quote(path.stem)} to erasure_copy")
            con.execute("detach erasure_copy")
        with open(fresh, "rb") as written:
            os.fsync(written.fileno())
        os.replace(fresh, path)
    finally:
        fresh.unlink(missing_ok=True)
        fresh.with_name(fresh.name + ".wal").unlink(missing_ok=True)


def vacuum_postgres(warehouse: Warehouse, tables: Iterable[str]) -> None:
    """`VACUUM FULL` each of `tables` (schema.table): their dead tuples are gone from the data files."""
    with connect(warehouse) as con:
        for table in sorted(set(tables)):
            schema, name = table.split(".", 1)
            con.execute(f"vacuum full {_quote(schema)}.{_quote(name)}")


def rewrite(warehouse: Warehouse, touched: Iterable[str]) -> None:
    if warehouse.kind == "duckdb":
        rewrite_duckdb(warehouse.path)
    else:
        vacuum_postgres(warehouse, touched)
