"""Analytics: the snapshot analysts open, published after every run that rebuilt the marts."""


import dagster as dg

from orchestration.keys import ANALYTICS_SNAPSHOT
from orchestration.resources import CalendlyEltConfig
from orchestration.running import WAREHOUSE_POOL, WAREHOUSE_RETRY
from orchestration.transform_project import model_keys
from pipelines.snapshot import publish


def build_snapshot() -> dg.AssetsDefinition:
    @dg.asset(
        key=ANALYTICS_SNAPSHOT,
        deps=model_keys("staging") + model_keys("marts"),  # it copies both
        group_name="analytics",
        kinds={"duckdb", "postgres"},
        description="What analysts query. DuckDB: `analytics.duckdb` beside the warehouse, every schema copied, "
                    "then renamed into place, so analysts never hold a lock a run needs. PostgreSQL: the schema "
                    "`analytics`, the staging and mart relations copied and swapped in one transaction.",
        pool=WAREHOUSE_POOL,
        retry_policy=WAREHOUSE_RETRY,
    )
    def analytics_snapshot(context: dg.AssetExecutionContext, calendly_elt: CalendlyEltConfig) -> dg.MaterializeResult:
        settings = calendly_elt.settings()
        snapshot = publish(settings)
        context.log.info(snapshot.line())
        return dg.MaterializeResult(metadata={
            "where": snapshot.where,
            "tables": snapshot.tables,
            "dagster/row_count": snapshot.rows,
            "megabytes": round(snapshot.bytes / 1e6, 1),
        })

    return analytics_snapshot


@dg.definitions
def analytics_snapshot() -> dg.Definitions:
    return dg.Definitions(assets=[build_snapshot()])
