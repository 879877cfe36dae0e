"""After an erasure: is the address anywhere still? Every base table of the warehouse (dlt's, the
erasure's and the PostgreSQL snapshot schema included), dlt's compressed pipeline state, and the DuckDB
snapshot file, by the rule of address.py (what `forget` erased, no more). `forget` fails loudly, naming
the places, if any is left."""

from __future__ import annotations

import json
from typing import Sequence

from ..config import Settings
from ..warehouse import Connection, connect
from . import rows
from .address import found as holds

_STATE = ("calendly_raw", "_dlt_pipeline_state")


def _state_mentions(con: Connection, needles: Sequence[str]) -> list[str]:
    """dlt's state is stored compressed, where no text search finds anything: decompressed here."""
    from dlt.common.versioned_state import decompress_state

    if not con.has_table(*_STATE):
        return []
    found = []
    for version, state in con.execute(f"select version, state from {_STATE[0]}.{_STATE[1]}").fetchall():
        try:
            text = json.dumps(decompress_state(state)).lower()
        except Exception:  # noqa: BLE001 – not dlt's encoding: searched as stored
            text = str(state).lower()
        if holds(text, needles):
            found.append(f"{'.'.join(_STATE)} version {version} (dlt's compressed state)")
    return found


def in_connection(con: Connection, needles: Sequence[str], where: str) -> list[str]:
    places = [f"{where} {table} ({n:,} rows)" for table, n in rows.mentions(con, rows.tables(con), needles).items()]
    return places + _state_mentions(con, needles)


def remaining(settings: Settings, needles: Sequence[str]) -> list[str]:
    """The places still holding one of `needles` (lower-cased addresses), as text for a message."""
    needles = [n.lower() for n in needles]
    with connect(settings.warehouse, read_only=True) as con:
        places = in_connection(con, needles, "warehouse")
    snapshot = settings.analytics_path
    if settings.warehouse.kind == "duckdb" and snapshot.exists():
        import duckdb

        with duckdb.connect(str(snapshot), read_only=True) as raw:
            places += in_connection(Connection(raw, "duckdb"), needles, f"snapshot {snapshot.name}:")
    return places
