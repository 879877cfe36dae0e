"""Analytics: the scheduling report (HTML with charts) over the `scheduling_*` marts."""


import dagster as dg

from orchestration.keys import SCHEDULING_REPORT
from orchestration.resources import CalendlyEltConfig
from orchestration.running import WAREHOUSE_POOL, WAREHOUSE_RETRY
from orchestration.transform_project import model_keys


def build_scheduling_report() -> dg.AssetsDefinition:
    @dg.asset(
        key=SCHEDULING_REPORT,
        deps=model_keys("marts", "scheduling_"),
        group_name="analytics",
        kinds={"html"},
        description="Bookings per week, cancellation and no-show rates, lead times, a weekday × hour heat map "
                    "and UTM attribution: `reports/scheduling_report.html` beside the warehouse.",
        pool=WAREHOUSE_POOL,
        retry_policy=WAREHOUSE_RETRY,
    )
    def scheduling_report(context: dg.AssetExecutionContext, calendly_elt: CalendlyEltConfig) -> dg.MaterializeResult:
        from pipelines.report import build_report  # matplotlib: not for every process that loads the code

        settings = calendly_elt.settings()
        report = build_report(settings.warehouse, settings.reports_dir)
        context.log.info(f"report: {report.path}")
        return dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(report.path)),
            "key_numbers": dg.MetadataValue.md(report.markdown()),
        })

    return scheduling_report


@dg.definitions
def scheduling_report() -> dg.Definitions:
    return dg.Definitions(assets=[build_scheduling_report()])
