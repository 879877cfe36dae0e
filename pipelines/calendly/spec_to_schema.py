"""Generates `raw_schema.py`, the raw tables' columns, from Calendly's OpenAPI description.

    python -m pipelines.calendly.spec_to_schema [SPEC] [--check]

SPEC defaults to `../shared/specs/calendly-openapi.yaml` beside the repository; `spec_supplement.yaml`
adds the fields Calendly documents today that the copy lacks. `--check` writes nothing and exits 1
when the committed module differs from what the spec gives (the test suite runs the same check).

The columns follow dlt's relational normalizer, so they are the names and tables dlt itself would
make from the data: objects flatten into `parent__child` columns, arrays become nested tables
(`invitees__questions_and_answers`; an array of scalars stores them in `value`), and `oneOf`
variants (an event's location, a submission's result) contribute the union of their fields. An object
that holds an array inside a flattened object is one JSON column (dlt's nested-table hints cannot
name a table below a flattened object).
"""

from __future__ import annotations

import argparse
import copy
import pprint
import sys
from pathlib import Path
from typing import Any

import yaml
from dlt.common.normalizers.naming.snake_case import NamingConvention

HERE = Path(__file__).resolve().parent
DEFAULT_SPEC = HERE.parents[2] / "shared" / "specs" / "calendly-openapi.yaml"
SUPPLEMENT = HERE / "spec_supplement.yaml"
OUTPUT = HERE / "raw_schema.py"

# Raw table -> the list endpoint whose `collection` items it holds.
RESOURCES = {
    "event_types": "/event_types",
    "scheduled_events": "/scheduled_events",
    "invitees": "/scheduled_events/{uuid}/invitees",
    "organization_memberships": "/organization_memberships",
    "routing_forms": "/routing_forms",
    "routing_form_submissions": "/routing_form_submissions",
}

_NAMING = NamingConvention()
_SCALARS = {"boolean": "bool", "integer": "bigint", "number": "double"}
_STRING_FORMATS = {"date-time": "timestamp", "date": "date"}

Columns = dict[str, str]
Nested = dict[tuple[str, ...], Columns]


def _deep_merge(base: dict, extra: dict) -> dict:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def load_spec(path: Path) -> dict:
    spec = yaml.safe_load(path.read_text())
    _deep_merge(spec["components"]["schemas"], yaml.safe_load(SUPPLEMENT.read_text()))
    return spec


class _Walker:
    def __init__(self, spec: dict) -> None:
        self.schemas = spec["components"]["schemas"]

    def resolve(self, node: dict) -> dict:
        """`$ref`s followed; `allOf`, `oneOf` and `anyOf` merged into one object of all their fields."""
        while "$ref" in node:
            node = self.schemas[node["$ref"].rsplit("/", 1)[-1]]
        parts = [self.resolve(n) for key in ("allOf", "oneOf", "anyOf") for n in node.get(key, ())]
        if not parts:
            return node
        merged: dict = {k: v for k, v in node.items() if k not in ("allOf", "oneOf", "anyOf")}
        for part in parts:
            for key, value in part.items():
                if key == "properties":
                    props = merged.setdefault("properties", {})
                    for name, prop in value.items():
                        props[name] = self._union(props[name], prop) if name in props else prop
                elif key not in merged:
                    merged[key] = value
        return merged

    def _union(self, a: dict, b: dict) -> dict:
        """One field in two variants: objects merge; scalars of different types fall back to text."""
        a, b = self.resolve(a), self.resolve(b)
        if a.get("type") == b.get("type") == "object":
            return self.resolve({"oneOf": [a, b]})
        if self.scalar(a) == self.scalar(b):
            return a
        if "properties" in b and "properties" not in a:
            a, b = b, a  # keep the object's fields; the scalar lands beside them (see columns())
        return {**a, "x-also-scalar": True}

    def scalar(self, node: dict) -> str:
        kind = node.get("type", "string")
        if kind == "string":
            return _STRING_FORMATS.get(node.get("format", ""), "text")
        if kind == "object":
            return "json"  # a free-form object: no documented fields to flatten
        return _SCALARS.get(kind, "text")

    def _holds_array(self, node: dict) -> bool:
        return any(self.resolve(p).get("type") == "array" for p in node["properties"].values())

    def columns(self, node: dict, prefix: tuple = (), nested_path: tuple = ()) -> tuple[Columns, Nested]:
        """Columns of one table from an object schema, and the nested tables under it (by path)."""
        node = self.resolve(node)
        columns: Columns = {}
        nested: Nested = {}
        for name, prop in node.get("properties", {}).items():
            path = prefix + (_NAMING.normalize_identifier(name),)
            prop = self.resolve(prop)
            kind = prop.get("type")
            if kind == "array":
                items = self.resolve(prop.get("items", {}))
                table_path = nested_path + path
                if items.get("type", "object") == "object" and "properties" in items:
                    cols, deeper = self.columns(items, (), table_path)
                else:
                    cols, deeper = {"value": self.scalar(items)}, {}
                nested[table_path] = cols
                nested.update(deeper)
            elif "properties" in prop and self._holds_array(prop):
                # dlt's nested-table hints name tables directly under a table, not under a flattened
                # object: an object holding a list (a conference's dial-in numbers) is kept as JSON.
                columns["__".join(path)] = "json"
            elif "properties" in prop:
                cols, deeper = self.columns(prop, path, nested_path)
                columns.update(cols)
                nested.update(deeper)
                if prop.get("x-also-scalar"):
                    columns["__".join(path)] = "text"  # e.g. a result `value` that is a URI or an object
            else:
                columns["__".join(path)] = self.scalar(prop)
        return columns, nested


def raw_tables(spec: dict) -> dict[str, dict[str, Any]]:
    """{table: {"columns": {column: dlt type}, "nested": {path: {column: dlt type}}}}."""
    walker = _Walker(spec)
    out = {}
    for table, endpoint in RESOURCES.items():
        response = spec["paths"][endpoint]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        collection = walker.resolve(response)["properties"]["collection"]
        columns, nested = walker.columns(walker.resolve(collection)["items"])
        out[table] = {"columns": dict(sorted(columns.items())),
                      "nested": {path: dict(sorted(cols.items())) for path, cols in sorted(nested.items())}}
    return out


def render(tables: dict) -> str:
    body = pprint.pformat(tables, width=110, sort_dicts=False)
    return (
        '"""GENERATED by `python -m pipelines.calendly.spec_to_schema` from Calendly\'s OpenAPI description\n'
        "(plus spec_supplement.yaml): do not edit. The raw tables' columns and dlt data types, by table; `nested`\n"
        'holds the nested tables by their path under the table (dlt names them `table__path`)."""\n\n'
        f"RAW_TABLES = {body}\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec", nargs="?", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("--check", action="store_true", help="compare with the committed module, write nothing")
    args = parser.parse_args(argv)
    text = render(raw_tables(load_spec(args.spec)))
    if args.check:
        if OUTPUT.read_text() != text:
            print(f"{OUTPUT.name} differs from {args.spec}: run python -m pipelines.calendly.spec_to_schema",
                  file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
