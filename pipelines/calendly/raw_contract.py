"""The raw schema contract: every column Calendly documents exists, typed, in `calendly_raw`, and every
table exists, whatever the account holds (a new account, a token without admin rights, no routing forms,
no UTM anywhere).

dlt creates a column when a row first carries a non-null value, and a table when a row first reaches
it. So the columns of `raw_schema.py` (generated from the API reference) become the resources' column
and nested-table hints; the source declares every table in its schema; and after each load the tables
that no row reached yet are created from that schema by dlt's own schema migration. Fields Calendly
adds later still arrive as new columns (dlt's default `evolve` contract); a value whose type differs
from its column's lands in a variant column (`column__v_text`), which `type_changes` reports.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

import dlt
from dlt.common.schema import Schema
from dlt.common.schema.utils import normalize_table_identifiers
from dlt.extract.hints import make_nested_hints
from dlt.sources import DltResource

from .raw_schema import RAW_TABLES

# The columns dlt's normalizer adds to every row (root tables) and to every nested row, with the hints
# it gives them. Declared with the rest so that a table created before any row has them: dlt cannot
# add a NOT NULL or unique column to an existing table later.
_ROOT_SYSTEM = {
    "_dlt_load_id": {"data_type": "text", "nullable": False},
    "_dlt_id": {"data_type": "text", "nullable": False, "unique": True, "row_key": True},
}
_NESTED_SYSTEM = {
    "_dlt_root_id": {"data_type": "text", "nullable": False, "root_key": True},
    "_dlt_parent_id": {"data_type": "text", "nullable": False, "parent_key": True},
    "_dlt_list_idx": {"data_type": "bigint", "nullable": False},
    "_dlt_id": {"data_type": "text", "nullable": False, "unique": True, "row_key": True},
}


def _typed(columns: dict[str, str]) -> dict[str, dict]:
    # A fresh dict per column: dlt writes the column's name into its hint.
    return {name: {"data_type": data_type, "nullable": True} for name, data_type in columns.items()}


def root_columns(table: str, **overrides: dict) -> dict[str, dict]:
    """The `columns` hint of a raw table: documented columns, dlt's own, and `overrides` by name."""
    return {**_typed(RAW_TABLES[table]["columns"]), **{k: dict(v) for k, v in _ROOT_SYSTEM.items()}, **overrides}


def nested_hints(table: str, extra: Optional[dict[tuple, dict[str, str]]] = None) -> dict[tuple, Any]:
    """The `nested_hints` of a raw table: each nested table's documented columns (plus `extra` ones,
    by path) and dlt's own."""
    extra = extra or {}
    return {
        path: make_nested_hints(columns={**_typed(columns), **_typed(extra.get(path, {})),
                                         **{k: dict(v) for k, v in _NESTED_SYSTEM.items()}})
        for path, columns in RAW_TABLES[table]["nested"].items()
    }


def declare_tables(schema: Schema, resources: Iterable[DltResource]) -> None:
    """Put every table of `resources` (root and nested) into the source's schema, so that it is known
    even when no row reaches it in this run (a transformer whose parent yielded nothing never runs)."""
    for resource in resources:
        root = normalize_table_identifiers(resource.compute_table_schema(), schema.naming)
        tables = [root] + resource.compute_nested_table_schemas(root["name"], schema.naming)
        for table in tables:
            if table["name"] not in schema.tables:
                schema.update_table(normalize_table_identifiers(table, schema.naming))


def create_missing_tables(pipeline: dlt.Pipeline) -> list[str]:
    """Create, with their columns, the raw tables and columns that no row has reached yet. dlt's load
    creates only the tables its package has rows for; its schema migration, forced, adds what the
    warehouse lacks and leaves the rest alone (it compares with the warehouse's catalog).
    Returns the tables it touched."""
    schema = pipeline.default_schema
    contract = _contract_tables(schema)
    names = [name for name in schema.data_table_names() if name in contract]
    with pipeline.destination_client() as client:
        client.initialize_storage()
        applied = client.update_stored_schema(only_tables=names, force=True) or {}
    return sorted(applied)


def _contract_tables(schema: Schema) -> set[str]:
    names = set()
    for table, spec in RAW_TABLES.items():
        names.add(schema.naming.normalize_table_identifier(table))
        for path in spec["nested"]:
            names.add(schema.naming.shorten_fragments(table, *path))
    return names


def type_changes(load_info: Any) -> list[str]:
    """`table.column` for each variant column this load created: a value whose type is not its
    column's (a field Calendly changed from a number to a string) lands beside it, in
    `column__v_<type>`, instead of failing the load."""
    found = []
    for package in getattr(load_info, "load_packages", None) or []:
        for table_name, table in (package.schema_update or {}).items():
            for column_name, column in table.get("columns", {}).items():
                if column.get("variant"):
                    found.append(f"{table_name}.{column_name} ({column.get('data_type')})")
    return sorted(set(found))
