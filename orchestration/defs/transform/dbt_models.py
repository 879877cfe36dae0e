"""Transform: every dbt model an asset, every dbt test an asset check (error-severity ones blocking)."""


import json
import os
from typing import Iterator

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.resources import CalendlyEltConfig
from orchestration.running import WAREHOUSE_POOL, WAREHOUSE_RETRY
from orchestration.transform_project import CalendlyDbtTranslator, dbt_project, manifest_path
from pipelines.mapping import load_mapping


def _failure(run_results: dict) -> dg.Failure:
    """A failing test fails again until the data changes: no retry. An error (a lock held by
    another process, a crash) may pass on the next attempt."""
    failed = [r["unique_id"].split(".")[-1] for r in run_results.get("results", []) if r["status"] == "fail"]
    errors = [r["unique_id"].split(".")[-1] for r in run_results.get("results", []) if r["status"] == "error"]
    if errors:
        return dg.Failure(description=f"dbt build: {len(errors)} errors ({', '.join(errors[:5])})")
    return dg.Failure(description=f"dbt build: {len(failed)} tests failed ({', '.join(failed[:5])}); "
                                  "the assets downstream of them are not updated", allow_retries=False)


def build_dbt_models() -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=manifest_path(),
        project=dbt_project(),
        dagster_dbt_translator=CalendlyDbtTranslator(),
        pool=WAREHOUSE_POOL,
        retry_policy=WAREHOUSE_RETRY,
    )
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                   calendly_elt: CalendlyEltConfig) -> Iterator:
        settings = calendly_elt.settings()
        if not settings.warehouse_path.exists():
            raise dg.Failure(description=f"no warehouse at {settings.warehouse_path}: materialize calendly/* first",
                             allow_retries=False)
        # dbt runs in a subprocess whose profile reads the warehouse from WAREHOUSE_PATH
        # (dbt_project/profiles.yml); dagster-dbt hands it this process's environment.
        os.environ["WAREHOUSE_PATH"] = str(settings.warehouse_path)
        variables = {"field_mapping": load_mapping(settings.mapping_path).question_fields()}
        # One target folder, not dagster-dbt's one per run, which would pile up a copy per hourly run.
        target = dbt_project().project_dir / "target" / "dagster"
        invocation = dbt.cli(["build", "--vars", json.dumps(variables)], context=context,
                             target_path=target, raise_on_error=False)
        yield from invocation.stream()
        if not invocation.is_successful():
            raise _failure(invocation.get_artifact("run_results.json"))

    return dbt_models


@dg.definitions
def transform() -> dg.Definitions:
    return dg.Definitions(assets=[build_dbt_models()])
