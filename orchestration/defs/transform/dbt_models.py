"""Transform: every dbt model an asset, every dbt test an asset check (error-severity ones blocking)."""


import json
from pathlib import Path
from typing import Iterator

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.resources import CalendlyEltConfig
from orchestration.running import WAREHOUSE_POOL, WAREHOUSE_RETRY
from orchestration.transform_project import CalendlyDbtTranslator, dbt_project, manifest
from pipelines.mapping import load_mapping
from pipelines.warehouse import dbt_environment


# Failures worth another attempt: DuckDB's words for a file another process holds, PostgreSQL's for a
# server that is restarting or unreachable, and for lock waits and deadlocks.
_LOCKED = ("could not set lock", "conflicting lock", "connection refused", "the database system is starting up",
           "server closed the connection", "could not connect to server", "deadlock detected",
           "lock timeout", "could not serialize access")


def _failure(invocation, run_results: Path) -> dg.Failure:
    """A failed test or a broken model fails the same way until the data or code changes: no retry.
    A lock held by another process (an analyst on the live file) may be gone at the next attempt."""
    if not run_results.exists():  # dbt stopped before running any node (lock, parse error, bad vars)
        message = str(invocation.get_error() or "dbt build failed")
        return dg.Failure(description=f"dbt build stopped before running anything: {message[-2000:]}",
                          allow_retries=any(word in message.lower() for word in _LOCKED))
    results = json.loads(run_results.read_text()).get("results", [])
    failed = [r["unique_id"].split(".")[-1] for r in results if r["status"] == "fail"]
    errors = [r for r in results if r["status"] == "error"]
    if errors:
        names = ", ".join(r["unique_id"].split(".")[-1] for r in errors[:5])
        locked = any(word in (r.get("message") or "").lower() for r in errors for word in _LOCKED)
        return dg.Failure(description=f"dbt build: {len(errors)} errors ({names}): {errors[0].get('message')}",
                          allow_retries=locked)
    return dg.Failure(description=f"dbt build: {len(failed)} tests failed ({', '.join(failed[:5])}); the Brevo "
                                  "sync, the snapshot and the report keep their last good state",
                      allow_retries=False)


def build_dbt_models() -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=manifest(),
        project=dbt_project(),
        dagster_dbt_translator=CalendlyDbtTranslator(),
        pool=WAREHOUSE_POOL,
        retry_policy=WAREHOUSE_RETRY,
    )
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                   calendly_elt: CalendlyEltConfig) -> Iterator:
        settings = calendly_elt.settings()
        warehouse = settings.warehouse
        if warehouse.absent:
            raise dg.Failure(description=f"no warehouse at {warehouse.name}: materialize calendly/* first",
                             allow_retries=False)
        variables = {"field_mapping": load_mapping(settings.mapping_path).question_fields()}
        # One target folder, not dagster-dbt's one per run, which would pile up a copy per hourly run.
        target = dbt_project().project_dir / "target" / "dagster"
        run_results = target / "run_results.json"
        run_results.unlink(missing_ok=True)  # dbt writes it only if it got as far as running nodes
        # dbt runs in a subprocess whose profile reads the warehouse from the environment
        # (dbt_project/profiles.yml); dagster-dbt hands it this process's environment.
        with dbt_environment(warehouse):
            invocation = dbt.cli(["build", "--vars", json.dumps(variables)], context=context,
                                 target_path=target, raise_on_error=False)
            yield from invocation.stream()
        if not invocation.is_successful():
            raise _failure(invocation, run_results)

    return dbt_models


@dg.definitions
def transform() -> dg.Definitions:
    return dg.Definitions(assets=[build_dbt_models()])
