"""The raw schema contract: generated from the API reference, kept in step with it, and in the warehouse
whatever the account holds (here: a token that sees no routing forms, and no UTM in any row)."""

from __future__ import annotations

import io
import os

import duckdb
import pytest

from pipelines.calendly import spec_to_schema
from pipelines.calendly.raw_schema import RAW_TABLES
from pipelines.extract import run_extract
from pipelines.progress import Progress
from sandbox.calendly import CalendlyAccount, CalendlySandbox
from sandbox.calendly.shapes import Shape

from .conftest import NOW, settings_for

SPEC = spec_to_schema.DEFAULT_SPEC


def _spec_or_skip() -> dict:
    if not SPEC.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI runs beside shared/: {SPEC} is missing")
        pytest.skip(f"the API reference is not beside this clone ({SPEC})")
    return spec_to_schema.load_spec(SPEC)


def test_generated_module_matches_the_spec():
    _spec_or_skip()
    assert spec_to_schema.main([str(SPEC), "--check"]) == 0, "run: python -m pipelines.calendly.spec_to_schema"


def _documented_fields(spec: dict, endpoint: str) -> dict[str, dict]:
    """The fields of a list endpoint's items, read straight from the spec (a walk independent of the
    generator's: only `$ref`s and `oneOf` at the top)."""
    schemas = spec["components"]["schemas"]

    def resolve(node: dict) -> dict:
        while "$ref" in node:
            node = schemas[node["$ref"].rsplit("/", 1)[-1]]
        return node

    response = resolve(spec["paths"][endpoint]["get"]["responses"]["200"]["content"]["application/json"]["schema"])
    return resolve(resolve(response["properties"]["collection"])["items"])["properties"]


@pytest.mark.parametrize("table", sorted(spec_to_schema.RESOURCES))
def test_every_documented_field_has_a_column_or_a_nested_table(table):
    spec = _spec_or_skip()
    columns, nested = RAW_TABLES[table]["columns"], RAW_TABLES[table]["nested"]
    missing = []
    for field, node in _documented_fields(spec, spec_to_schema.RESOURCES[table]).items():
        flattened = any(c == field or c.startswith(f"{field}__") for c in columns)
        if not (flattened or (field,) in nested):
            missing.append(field)
    assert missing == []
    # Nothing invented: every column's top-level field is documented.
    documented = set(_documented_fields(spec, spec_to_schema.RESOURCES[table]))
    assert {c.split("__")[0] for c in columns} <= documented
    assert {path[0] for path in nested} <= documented


def test_types_follow_the_spec():
    invitees = RAW_TABLES["invitees"]["columns"]
    assert invitees["no_show__created_at"] == "timestamp"
    assert invitees["rescheduled"] == "bool"
    assert invitees["payment__amount"] == "double"
    assert invitees["tracking__utm_source"] == "text"
    assert RAW_TABLES["invitees"]["nested"][("questions_and_answers",)] == {
        "answer": "text", "position": "double", "question": "text"}
    # Variants of a oneOf: a submission's result is a URI or a message object.
    submissions = RAW_TABLES["routing_form_submissions"]["columns"]
    assert {"result__value", "result__value__headline", "result__value__body"} <= set(submissions)


_DUCKDB_TYPES = {"text": "VARCHAR", "timestamp": "TIMESTAMP WITH TIME ZONE", "double": "DOUBLE",
                 "bool": "BOOLEAN", "bigint": "BIGINT", "json": "JSON", "date": "DATE"}
_POSTGRES_TYPES = {"text": "character varying", "timestamp": "timestamp with time zone", "double": "double precision",
                   "bool": "boolean", "bigint": "bigint", "json": "json", "date": "date"}


def _expected_columns() -> dict[str, dict[str, str]]:
    out = {}
    for table, spec in RAW_TABLES.items():
        out[table] = spec["columns"]
        for path, columns in spec["nested"].items():
            out["__".join((table, *path))] = columns
    return out


def test_every_contract_table_and_column_exists_for_a_token_that_sees_little(any_warehouse):
    """A member token: no routing forms (the API refuses them to non-admins), and few events; no row of
    this account carries a payment or a reconfirmation. Every documented table and column is there anyway,
    typed as the spec says, after the first run and after an incremental one."""
    account = CalendlyAccount.generate(seed=5, events=30, now=NOW)
    with CalendlySandbox(account, rate_limit=0) as sandbox:
        settings = settings_for(account, sandbox, any_warehouse, role="member")
        for _ in range(2):
            run_extract(settings)
            found: dict[str, dict[str, str]] = {}
            for table, column, data_type in any_warehouse.query(
                    "select table_name, column_name, data_type from information_schema.columns "
                    "where table_schema = 'calendly_raw'"):
                found.setdefault(table, {})[column] = data_type
            types = _DUCKDB_TYPES if any_warehouse.kind == "duckdb" else _POSTGRES_TYPES
            for table, columns in _expected_columns().items():
                assert table in found, f"calendly_raw.{table} missing"
                assert {c: found[table].get(c) for c in columns} == {c: types[t] for c, t in columns.items()}, table
            assert any_warehouse.query("select count(*) from calendly_raw.routing_forms") == [(0,)]
            assert any_warehouse.query("select count(*) from calendly_raw.invitees where payment__amount is not null") \
                == [(0,)]



def test_a_plan_without_routing_forms_loads_the_rest_with_one_warning(tmp_path):
    """An admin whose plan has no routing forms: Calendly answers 403 to the listing. The run goes on,
    says so in one line, and the routing-form tables exist, empty."""
    account = CalendlyAccount.generate(seed=5, events=20, now=NOW, shape=Shape(routing_forms=0, routing_forms_on_plan=False))
    with CalendlySandbox(account, rate_limit=0) as sandbox:
        settings = settings_for(account, sandbox, tmp_path / "warehouse.duckdb")
        said = io.StringIO()
        summary = run_extract(settings, Progress("extract", stream=said))
    assert summary.rows_loaded["invitees"] == len(account.truth()["invitees"])
    [warning] = [line for line in said.getvalue().splitlines() if line.startswith("warning:")]
    assert "routing forms" in warning and "403" in warning
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from calendly_raw.routing_form_submissions").fetchone() == (0,)
