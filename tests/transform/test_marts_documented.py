"""Every column of every mart, as the warehouse has it, is described in the dbt YAML next to the model
(`dbt_project/models/marts/**/*.yml`): what dagster-dbt shows in the Dagster UI and `dbt docs` shows.

The columns come from a warehouse the pipeline built (a small sandbox account, on DuckDB and on
PostgreSQL), the descriptions from the manifest.json that same `dbt build` wrote: a column added to a
model's SQL without a description, or a description left behind for a column that is gone, fails.
`marts.brevo_contacts` has one column per Brevo attribute of the mapping YAML (the dbt var
`brevo_attributes`): those are described together in the model's description, and excepted by name.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from pipelines.config import Settings
from pipelines.extract import run_extract
from pipelines.mapping import load_mapping
from pipelines.transform import run_transform, target_path
from sandbox.calendly import CalendlyAccount, CalendlySandbox
from tests.warehouses import KINDS, provide

NOW = datetime.now(timezone.utc).replace(microsecond=0)
STATUSES = ["no_show", "rescheduled", "cancelled", "completed", "booked"]


def marts_models(manifest: dict) -> dict[str, dict]:
    """The models under models/marts/, by relation name (schema.alias)."""
    return {f"{node['schema']}.{node['alias']}": node for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node["original_file_path"].startswith("models/marts/")}


def undocumented(model: dict, columns: list[str], excepted: set[str]) -> list[str]:
    """The columns the warehouse has that the model's YAML does not describe, and the YAML columns
    with a description the warehouse does not have (`excepted` names are left out of both)."""
    described = {name.lower(): (column.get("description") or "").strip()
                 for name, column in model["columns"].items()}
    excepted = {name.lower() for name in excepted}
    have = {name.lower() for name in columns} - excepted
    missing = [f"{name}: no description" for name in sorted(have) if not described.get(name)]
    stale = [f"{name}: described, but not a column" for name in sorted(set(described) - have - excepted)]
    return missing + stale


@pytest.fixture(scope="module", params=KINDS)
def built(request, tmp_path_factory):
    """A small account, extracted and transformed: the marts' columns and the build's manifest."""
    account = CalendlyAccount.generate(seed=15, events=60, now=NOW)
    with provide(request.param, tmp_path_factory.mktemp("documented")) as warehouse, \
            CalendlySandbox(account, rate_limit=0) as sandbox:
        settings = Settings(calendly_token=account.tokens["admin"], calendly_api_url=sandbox.url, **warehouse.fields)
        run_extract(settings)
        run_transform(settings, as_of=NOW.isoformat())
        manifest = json.loads((target_path(settings) / "manifest.json").read_text())
        yield warehouse, manifest, settings


def test_every_mart_column_is_described(built):
    warehouse, manifest, settings = built
    attributes = set(load_mapping(settings.mapping_path).dbt_vars()["brevo_attributes"])
    models = marts_models(manifest)
    assert {"marts.bookings", "marts.contacts", "marts.brevo_contacts"} <= set(models)
    assert any(name.startswith("marts.scheduling_") for name in models)
    problems = {}
    for relation, model in sorted(models.items()):
        schema, table = relation.split(".")
        columns = [name for (name,) in warehouse.query(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
            (schema, table))]
        assert columns, f"{relation} is not in the warehouse"
        # brevo_contacts: the mapping's attribute columns, and the attributes the YAML describes as a
        # kind ("every attribute mapped to a phone": SMS), which another mapping may not have.
        excepted = (attributes | {name for name in model["columns"] if name.isupper()}
                    if model["name"] == "brevo_contacts" else set())
        found = undocumented(model, columns, excepted)
        if not model["description"].strip():
            found.insert(0, "(the model): no description")
        if not (model.get("patch_path") or "").split("://")[-1].startswith("models/marts/"):
            found.insert(0, f"(the model): its YAML is not under models/marts/ ({model.get('patch_path')})")
        if found:
            problems[relation] = found
    assert not problems, "marts columns without a description in models/marts/**/*.yml:\n" + "\n".join(
        f"  {relation}.{problem}" for relation, found in problems.items() for problem in found)


def test_a_new_column_without_a_description_is_found(built):
    _, manifest, _ = built
    bookings = marts_models(manifest)["marts.bookings"]
    columns = list(bookings["columns"]) + ["added_last_week"]
    assert undocumented(bookings, columns, set()) == ["added_last_week: no description"]
    assert undocumented(bookings, [c for c in columns if c != "email"], set()) == [
        "added_last_week: no description", "email: described, but not a column"]


@pytest.mark.parametrize("model", ["bookings", "contacts"])
def test_booking_status_has_an_accepted_values_test(built, model):
    """Our spelling, `cancelled`, beside Calendly's `canceled`: a data test holds the five values."""
    _, manifest, _ = built
    tests = [node for node in manifest["nodes"].values() if node["resource_type"] == "test"
             and node.get("attached_node") == f"model.calendly_elt.{model}" and node.get("column_name") == "booking_status"
             and (node.get("test_metadata") or {}).get("name") == "accepted_values"]
    assert len(tests) == 1
    assert sorted(tests[0]["test_metadata"]["kwargs"]["values"]) == sorted(STATUSES)
