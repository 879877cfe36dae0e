"""Every resource, registered once for the whole code location."""

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_dlt import DagsterDltResource

from orchestration.resources import CalendlyEltConfig
from orchestration.transform_project import dbt_project


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "calendly_elt": CalendlyEltConfig(),
            "dlt": DagsterDltResource(),
            # The dbt installed beside this interpreter: PATH need not include the virtualenv.
            "dbt": DbtCliResource(project_dir=dbt_project(), dbt_executable=str(Path(sys.executable).parent / "dbt")),
        }
    )
