"""One small connection type for both warehouses: the stages' own SQL (sync state, report, snapshot).

Written with `%s` parameters (psycopg2's style, and dlt's); on DuckDB they become `?`, so no SQL here
may hold a literal `%s`. Statements run
in autocommit, as DuckDB's do, and `transaction()` groups them: the same semantics on both.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Any, Iterator, Optional, Sequence

from ..exceptions import ConfigError
from .location import Warehouse


# `values (%s, …, %s)`: on DuckDB, executemany repeats it, 500 rows to a statement.
_VALUES = re.compile(r"\bvalues\s*(\((?:\s*%s\s*,)*\s*%s\s*\))", re.IGNORECASE)
_ROWS_PER_STATEMENT = 500


class WarehouseUnavailable(Exception):
    """The warehouse cannot be opened now (held by another process, or unreachable); worth a retry."""


# DuckDB's words when another process holds the file (one writer, or many readers: never both).
_HELD = re.compile(r'Could not set lock on file "(?P<file>[^"]+)": Conflicting lock is held in '
                   r'(?P<program>.+?) \(PID (?P<pid>\d+)\)')


def not_a_warehouse(text: str) -> Optional[str]:
    """DuckDB refusing the file itself (not a database, or one of a newer DuckDB), as what to do."""
    found = re.search(r'The file "(?P<file>[^"]+)" exists, but it is not a valid DuckDB database file', text)
    if found:
        return (f"WAREHOUSE_PATH: {found['file']} is not a DuckDB database: point WAREHOUSE_PATH at the "
                "warehouse file, or at a path where a new one may be created")
    if re.search(r"database file with version number \d+, but we can only read version", text):
        return ("WAREHOUSE_PATH: the warehouse file was written by another DuckDB version than this one "
                "(calendly-elt pins duckdb<2): open it with the DuckDB that wrote it, or start a new file")
    return None


def held_by_another_process(text: str) -> Optional[str]:
    """DuckDB's lock conflict in `text`, as what to do about it; None if `text` is not one."""
    found = _HELD.search(text)
    if found is None:
        return None
    program = found["program"].rsplit("/", 1)[-1]
    return (f"the warehouse {found['file']} is open in another process (PID {found['pid']}, {program}): close "
            "that session (a notebook, a DuckDB shell, another calendly-elt or Dagster run) and run again; to "
            "query while runs write, open the snapshot analytics.duckdb beside it (`calendly-elt sql`)")


class Connection:
    def __init__(self, raw: Any, kind: str) -> None:
        self.raw = raw
        self.kind = kind

    def _sql(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.kind == "duckdb" else sql

    def execute(self, sql: str, params: Optional[Sequence] = None) -> Any:
        """A cursor with fetchone/fetchall/description."""
        if self.kind == "duckdb":
            return self.raw.execute(self._sql(sql), params or [])
        cursor = self.raw.cursor()
        cursor.execute(sql, params or None)  # None: a literal % in the SQL stays as it is
        return cursor

    def executemany(self, sql: str, rows: Sequence[Sequence]) -> None:
        """On DuckDB an insert's rows go 500 to a statement: its executemany runs one statement per
        row, about 2 ms each (bench/duckdb_upsert_bench.py: 2,600 upserts 4.7 s, in 500-row statements 1.0 s). So on
        DuckDB, rows of one call may not upsert the same key twice (one statement cannot)."""
        values = _VALUES.search(sql) if self.kind == "duckdb" else None
        if values is not None:
            group = values.group(1)
            for start in range(0, len(rows), _ROWS_PER_STATEMENT):
                chunk = rows[start:start + _ROWS_PER_STATEMENT]
                statement = sql[:values.start(1)] + ", ".join([group] * len(chunk)) + sql[values.end(1):]
                self.raw.execute(self._sql(statement), [value for row in chunk for value in row])
        elif self.kind == "duckdb":
            self.raw.executemany(self._sql(sql), rows)
        else:
            from psycopg2.extras import execute_batch  # one round trip per page, not per row

            with self.raw.cursor() as cursor:
                execute_batch(cursor, sql, rows, page_size=1000)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.execute("begin")
        try:
            yield
        except BaseException:
            self.execute("rollback")
            raise
        self.execute("commit")

    def has_table(self, schema: str, table: str) -> bool:
        return bool(self.execute("select count(*) from information_schema.tables "
                                 "where table_schema = %s and table_name = %s", [schema, table]).fetchone()[0])

    def close(self) -> None:
        self.raw.close()


@contextmanager
def connect(warehouse: Warehouse, read_only: bool = False) -> Iterator[Connection]:
    connection = _open(warehouse, read_only)
    try:
        yield connection
    finally:
        connection.close()


def _open(warehouse: Warehouse, read_only: bool) -> Connection:
    if warehouse.kind == "duckdb":
        import duckdb

        if warehouse.absent:
            raise ConfigError(f"no warehouse at {warehouse.name}: run `calendly-elt extract` first")
        try:
            return Connection(duckdb.connect(str(warehouse.path), read_only=read_only), "duckdb")
        except duckdb.IOException as exc:  # DuckDB: one writing process, or many readers
            if (refused := not_a_warehouse(str(exc))) is not None:
                raise ConfigError(refused) from None
            raise WarehouseUnavailable(held_by_another_process(str(exc)) or f"cannot open {warehouse.name} "
                                       f"({str(exc).splitlines()[0][:160]})") from None
    import psycopg2

    try:
        # UTC sessions, as dbt's (Warehouse.dbt_env): timestamps read back the same whatever the server's zone.
        raw = psycopg2.connect(warehouse.url, connect_timeout=15, application_name="calendly-elt",
                               options="-c timezone=UTC")
    except psycopg2.OperationalError as exc:
        # libpq's messages name the host and user, never the password; masked anyway.
        raise postgres_refused(_first_line(exc).replace(warehouse.password or "\0", "***"), warehouse.name) from None
    raw.autocommit = True
    if read_only:
        raw.set_session(readonly=True, autocommit=True)
    return Connection(raw, "postgres")


def postgres_refused(reason: str, name: str = "") -> Exception:
    """PostgreSQL's refusal to connect, met by our connection or by dlt's and dbt's: a ConfigError when
    WAREHOUSE_URL itself is wrong (user, password, database), else worth a retry."""
    where = f" {name}" if name else ""
    if "authentication failed" in reason or "does not exist" in reason:
        return ConfigError(f"PostgreSQL refused WAREHOUSE_URL{where}: {reason}")
    return WarehouseUnavailable(f"cannot reach the PostgreSQL warehouse{where} ({reason}): check WAREHOUSE_URL "
                                "and that the server is running")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
