"""The sync's state upserts on DuckDB: duckdb's own executemany (the baseline) against
`Connection.executemany`, which sends 500 rows to a statement; each in one transaction, as
`brevo.state.record` writes them. Not a timed test.

    .venv/bin/python bench/duckdb_upsert_bench.py [--rows 2600]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.warehouse import Warehouse, connect  # noqa: E402

TABLE = "create table state (email varchar primary key, payload_hash varchar, outcome varchar, synced_at timestamptz)"
UPSERT = ("insert into state values ({0}, {0}, {0}, {0}) on conflict (email) do update set "
          "payload_hash = excluded.payload_hash, outcome = excluded.outcome, synced_at = excluded.synced_at")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2600)
    args = parser.parse_args()
    now = datetime.now(timezone.utc)
    rows = [(f"person{i}@example.com", f"{i:032x}", "synced", now) for i in range(args.rows)]
    with tempfile.TemporaryDirectory() as tmp:
        baseline_path, ours_path = Path(tmp) / "baseline.duckdb", Path(tmp) / "ours.duckdb"
        with duckdb.connect(str(baseline_path)) as con:
            con.execute(TABLE)
            started = time.perf_counter()
            con.execute("begin")
            con.executemany(UPSERT.format("?"), rows)
            con.execute("commit")
            baseline = time.perf_counter() - started
        duckdb.connect(str(ours_path)).execute(TABLE).close()
        with connect(Warehouse("duckdb", path=ours_path)) as con:
            started = time.perf_counter()
            with con.transaction():
                con.executemany(UPSERT.format("%s"), rows)
            ours = time.perf_counter() - started
            assert con.execute("select count(*) from state").fetchone()[0] == args.rows
    print(f"{args.rows:,} upserts on DuckDB {duckdb.__version__}: duckdb executemany {baseline:.2f} s, "
          f"Connection.executemany {ours:.2f} s ({ours / baseline:.2f}× the time)")


if __name__ == "__main__":
    main()
