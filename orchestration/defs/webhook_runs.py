"""The real-time path: when webhook deliveries land, a small run merges them and pushes what changed.

The run is the webhook subset of `calendly/*` (no API listing, see ingest/calendly_tables.py), the dbt
models between those tables and Brevo, and the Brevo sync. Snapshot, report and scheduling marts wait
for the scheduled run. The sensor reads only the landing store (SQLite), never the warehouse.
"""

import dagster as dg

from orchestration.defs.ingest.calendly_tables import WEBHOOK_TABLES
from orchestration.defs.scheduled_runs import freshness_checks
from orchestration.keys import BREVO_CONTACTS
from orchestration.resources import CalendlyEltConfig
from orchestration.running import DBT_UNIT_TESTS_TAG
from orchestration.defs.webhook_health import webhook_subscription
from pipelines.webhooks import LandingStore, landing_path

JOB_NAME = "calendly_webhooks"
SENSOR_NAME = "calendly_webhook_deliveries"
# How often the daemon looks at the landing store (one cheap SQLite query): the floor of the latency.
INTERVAL_SECONDS = 5
WAITING = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING]


def webhook_selection() -> dg.AssetSelection:
    landed = dg.AssetSelection.assets(*WEBHOOK_TABLES)
    # Neither the freshness checks nor the subscription's health (two Calendly requests) belong in
    # the seconds-long run that carries one delivery to Brevo: the scheduled run evaluates them.
    return (landed | (landed.downstream() & dg.AssetSelection.assets(BREVO_CONTACTS).upstream())) \
        - dg.AssetSelection.checks(*freshness_checks(), webhook_subscription)


@dg.definitions
def webhook_runs() -> dg.Definitions:
    job = dg.define_asset_job(
        JOB_NAME,
        selection=webhook_selection(),
        description="Landed Calendly webhooks → calendly_raw (merge, no listing) → the marts Brevo reads → "
                    "Brevo sync.",
        executor_def=dg.in_process_executor,
        tags={DBT_UNIT_TESTS_TAG: "skip"},  # the scheduled run and CI run them: seconds saved per delivery
    )

    @dg.sensor(name=SENSOR_NAME, job=job, minimum_interval_seconds=INTERVAL_SECONDS,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description="Starts a calendly_webhooks run when webhook deliveries wait in the landing store.")
    def webhook_deliveries(context: dg.SensorEvaluationContext, calendly_elt: CalendlyEltConfig):
        path = landing_path(calendly_elt.settings())
        if not path.exists():
            return dg.SkipReason(f"no webhook has landed yet ({path} does not exist)")
        pending = LandingStore(path).pending_summary()
        if not pending.count:
            return dg.SkipReason("no webhook delivery waits")
        # A run that has not started yet will merge everything pending when it does: no second one.
        if context.instance.get_runs_count(dg.RunsFilter(job_name=JOB_NAME, statuses=WAITING)):
            return dg.SkipReason(f"{pending.count:,} deliveries wait for the run already queued")
        return dg.RunRequest(
            run_key=f"landed-{pending.newest}",  # one run per newest delivery, whatever the tick
            tags={"calendly_elt/webhook_deliveries": str(pending.count)},
        )

    return dg.Definitions(jobs=[job], sensors=[webhook_deliveries])
