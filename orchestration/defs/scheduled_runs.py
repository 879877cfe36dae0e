"""The job that runs the whole graph in order, its schedule, and the freshness checks that watch it."""


from functools import cache

import dagster as dg

from orchestration.defs.ingest.calendly_tables import table_keys
from orchestration.schedule import TIMEZONE, longest_gap, run_cron

JOB_NAME = "calendly_elt"


@cache
def freshness_checks() -> tuple:
    """Each raw table must have loaded within two scheduled intervals: one failed run that the next
    tick repairs is not yet an alarm. Evaluated by their sensor, not inside a run (jobs leave them out)."""
    return tuple(dg.build_last_update_freshness_checks(
        assets=table_keys(),
        lower_bound_delta=2 * longest_gap(run_cron()),
        severity=dg.AssetCheckSeverity.WARN,
    ))


@dg.definitions
def scheduled_runs() -> dg.Definitions:
    cron = run_cron()
    freshness = list(freshness_checks())
    job = dg.define_asset_job(
        JOB_NAME,
        selection=dg.AssetSelection.all() - dg.AssetSelection.checks(*freshness),
        description="Calendly → calendly_raw → dbt (staging, marts, tests) → Brevo sync, snapshot and report.",
        # Every step opens the warehouse, one at a time (pool `warehouse`): steps in processes of
        # their own would only add an interpreter start-up each.
        executor_def=dg.in_process_executor,
    )
    return dg.Definitions(
        jobs=[job],
        schedules=[dg.ScheduleDefinition(
            job=job, cron_schedule=cron, execution_timezone=TIMEZONE,
            default_status=dg.DefaultScheduleStatus.RUNNING)],
        asset_checks=freshness,
        sensors=[dg.build_sensor_for_freshness_checks(
            freshness_checks=freshness, default_status=dg.DefaultSensorStatus.RUNNING)],
    )
