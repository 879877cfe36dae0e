"""`calendly-elt sql`: the analysts' way in. DuckDB: the DuckDB shell (the `duckdb-cli` package, installed
with calendly-elt) on the snapshot, read-only, so that an open session never blocks a run.
PostgreSQL serves readers while it writes: a query runs there directly, against the snapshot schema."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

from .config import Settings
from .exceptions import ConfigError
from .snapshot import POSTGRES_SCHEMA
from .warehouse import connect


def duckdb_shell() -> str:
    """The `duckdb` executable beside this interpreter (the virtualenv's), else on PATH."""
    beside = Path(sys.executable).parent / "duckdb"
    found = str(beside) if beside.exists() else shutil.which("duckdb")
    if not found:
        raise ConfigError("the DuckDB shell is not installed: `pip install duckdb-cli` in calendly-elt's "
                          "environment (`make install` does)")
    return found


def shell_command(settings: Settings, query: Optional[str] = None, *, live: bool = False) -> list[str]:
    """The DuckDB shell's command line on the snapshot (or, `live`, the warehouse itself), read-only."""
    path = settings.warehouse_path if live else settings.analytics_path
    if not path.exists():
        hint = ("run `calendly-elt extract` first" if live else
                "it is published by `calendly-elt run` and by Dagster's job after each good run (`make demo` "
                "publishes data/demo/analytics.duckdb)")
        raise ConfigError(f"no {'warehouse' if live else 'snapshot'} at {path}: {hint}")
    return [duckdb_shell(), "-readonly", str(path), *(["-c", query] if query else [])]


def postgres_query(settings: Settings, query: str) -> tuple[list[str], Sequence[Sequence[Any]]]:
    """`query` on the PostgreSQL warehouse in a read-only session that sees the snapshot schema first."""
    with connect(settings.warehouse, read_only=True) as con:
        con.execute(f"set search_path to {POSTGRES_SCHEMA}, public")
        cursor = con.execute(query)
        columns = [d[0] for d in cursor.description or ()]
        return columns, cursor.fetchall() if columns else []
