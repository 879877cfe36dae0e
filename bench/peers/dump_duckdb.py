"""Print every table of a DuckDB file as one JSON object {"schema.table": {"columns", "rows"}}.

Run with the peer venv's python: target-duckdb writes with that venv's DuckDB, whose file format
ours cannot be relied on to read (DuckDB 2.x files do not open in 1.x).

    bench/peers/.venv/bin/python bench/peers/dump_duckdb.py peer.duckdb
"""

import json
import sys

import duckdb


def dump(path: str) -> dict:
    out = {}
    with duckdb.connect(path, read_only=True) as con:
        tables = con.execute("select schema_name, table_name from duckdb_tables() order by all").fetchall()
        for schema, table in tables:
            cur = con.execute(f'select * from "{schema}"."{table}"')
            columns = [d[0] for d in cur.description]
            out[f"{schema}.{table}"] = {"columns": columns, "rows": [dict(zip(columns, r)) for r in cur.fetchall()]}
    return out


if __name__ == "__main__":
    json.dump(dump(sys.argv[1]), sys.stdout, default=str)  # timestamps as strings: only uris and statuses are compared
