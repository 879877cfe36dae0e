"""Transform: every dbt model an asset, every dbt test an asset check (error-severity ones blocking)."""


from typing import Iterator

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.resources import CalendlyEltConfig
from orchestration.running import DBT_UNIT_TESTS_TAG, WAREHOUSE_POOL, WAREHOUSE_RETRY
from orchestration.transform_project import CalendlyDbtTranslator, dbt_project, manifest
from pipelines.transform import TransformFailed, start_build


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
        # The CLI's transform stage, with the selection and the events of this run.
        try:
            build = start_build(calendly_elt.settings(), dbt=dbt, context=context,
                                unit_tests=context.run.tags.get(DBT_UNIT_TESTS_TAG) != "skip")
            yield from build.invocation.stream()
            build.summary()
        except TransformFailed as failed:
            # A failed test or a broken model fails the same way until the data or code changes; a lock
            # held by another process (an analyst on the live file) may be gone at the next attempt.
            raise dg.Failure(description=f"dbt build: {failed}", allow_retries=failed.retryable) from None

    return dbt_models


@dg.definitions
def transform() -> dg.Definitions:
    return dg.Definitions(assets=[build_dbt_models()])
