"""Every resource, registered once for the whole code location."""

import dagster as dg
from dagster_dlt import DagsterDltResource

from orchestration.resources import CalendlyEltConfig
from pipelines.transform import dbt_cli


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "calendly_elt": CalendlyEltConfig(),
            "dlt": DagsterDltResource(),
            "dbt": dbt_cli(),  # the CLI's transform runs dbt the same way
        }
    )
