"""Where an address could still be, searched without the erasure's own code: every column of every table
and view (cast to text), the snapshot, Brevo, the landing store, dlt's files. Found as a substring, once
the addresses known to stay (`kept`: joann@… beside ann@…) are taken out of the text: in a file's bytes
strings can touch, and nothing else can hide an address."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb

from pipelines.config import Settings
from pipelines.warehouse import connect
from pipelines.webhooks import landing_path


def _dump(execute) -> dict[str, str]:
    """schema.table → every value of every row, as one lower-cased text."""
    relations = execute("select table_schema, table_name from information_schema.tables "
                        "where table_schema not in ('information_schema', 'pg_catalog') "
                        "and table_schema not like 'pg_toast%' order by 1, 2")
    out = {}
    for schema, name in relations:
        rows = execute(f'select * from "{schema}"."{name}"')
        out[f"{schema}.{name}"] = json.dumps([[str(v) for v in row] for row in rows]).lower()
    return out


def warehouse_text(settings: Settings) -> dict[str, str]:
    with connect(settings.warehouse, read_only=True) as con:
        return _dump(lambda sql: con.execute(sql).fetchall())


def snapshot_text(settings: Settings) -> dict[str, str]:
    """The analysts' snapshot: the DuckDB file, or (PostgreSQL) the `analytics` schema, already in the
    warehouse's dump."""
    if settings.warehouse.kind != "duckdb":
        return {k: v for k, v in warehouse_text(settings).items() if k.startswith("analytics.")}
    with duckdb.connect(str(settings.analytics_path), read_only=True) as con:
        return _dump(lambda sql: con.execute(sql).fetchall())


def has(text: str, email: str, kept=()) -> bool:
    text = text.lower()
    for other in sorted(kept, key=len, reverse=True):
        text = text.replace(other.lower(), " ")
    return email.lower() in text


def holding(texts: dict[str, str], email: str, kept=()) -> list[str]:
    return sorted(table for table, text in texts.items() if has(text, email, kept))


def landed_bodies(settings: Settings) -> list[str]:
    import sqlite3

    path = landing_path(settings)
    if not path.exists():
        return []
    with sqlite3.connect(path) as con:
        return [row[0].lower() for row in con.execute("select body from webhook_events")]


def dlt_files_holding(settings: Settings, email: str, kept=()) -> list[Path]:
    import pyarrow.parquet as pq

    found = []
    for path in (settings.data_dir / ".dlt").rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix == ".parquet":
            data = json.dumps(pq.read_table(path).to_pylist(), default=str).encode()
        elif data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        if has(data.decode("latin-1"), email, kept):
            found.append(path)
    return found


def files_holding(settings: Settings, email: str, kept=()) -> list[Path]:
    """The DuckDB warehouse and snapshot files and the landing store's SQLite file (and their WALs) whose
    bytes hold the address: deleted rows must not linger in freed blocks either."""
    folder = settings.data_dir
    names = [settings.analytics_path.name, landing_path(settings).name]
    if settings.warehouse.kind == "duckdb":
        names.append(settings.warehouse_path.name)
    paths = [p for p in folder.rglob("*") if p.is_file() and any(p.name.startswith(n) for n in names)]
    return [p for p in paths if has(p.read_bytes().decode("latin-1"), email, kept)]


def nowhere(settings: Settings, brevo_account, email: str, kept=()) -> None:
    """The acceptance: the address in no column of the warehouse or the snapshot, not in Brevo, not in
    the landing store, not in dlt's files – nor in the bytes of the local database files (`kept`: other
    people's addresses that hold it as a substring)."""
    assert holding(warehouse_text(settings), email, kept) == []
    assert holding(snapshot_text(settings), email, kept) == []
    assert email.lower() not in {c.lower() for c in brevo_account.contacts()}
    assert not [b for b in landed_bodies(settings) if has(b, email, kept)]
    assert dlt_files_holding(settings, email, kept) == []
    assert files_holding(settings, email, kept) == []
