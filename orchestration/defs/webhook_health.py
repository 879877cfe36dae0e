"""The webhook subscription's watchdog: an asset check and a sensor over `pipelines.webhooks.health`.

Calendly disables a subscription after a day of failed deliveries, with no alert, and deletes one whose
receiver answers 410; from then on the sensor of webhook_runs.py simply sees nothing land. The check
(`calendly/invitees` · `webhook_subscription`, evaluated with every scheduled run) fails with the one line
`calendly-elt webhooks check` prints. The sensor looks hourly; with CALENDLY_ELT_WEBHOOKS_REPAIR on, it
re-creates the subscription and requests the catch-up: a run of the scheduled job whose tags widen the
extract's windows to cover the gap (ingest/calendly_tables.py reads them), so the same run carries what
changed meanwhile on to the marts and Brevo. Without CALENDLY_WEBHOOK_URL both stand by, with no request.
"""

from typing import Union

import dagster as dg

from orchestration.defs.ingest.calendly_tables import WINDOW_TAGS
from orchestration.defs.scheduled_runs import JOB_NAME
from orchestration.keys import calendly_table_key
from orchestration.resources import CalendlyEltConfig
from orchestration.running import WAREHOUSE_POOL, worth_retrying
from pipelines.config import Settings
from pipelines.errors import CALENDLY, describe

CHECK_NAME = "webhook_subscription"
INVITEES = calendly_table_key("invitees")  # what webhooks keep current between scheduled runs
SENSOR_NAME = "calendly_webhook_health"
REPAIR_TAG = "calendly_elt/webhook_repair"
INTERVAL_SECONDS = 3600
NOT_WATCHED = "CALENDLY_WEBHOOK_URL is not set: no webhook subscription to watch"


def _subscriptions(settings: Settings):
    from pipelines.webhooks.subscriptions import Subscriptions, client_for

    return Subscriptions(client_for(settings))


def _one_line(settings: Settings, exc: Exception) -> dg.Failure:
    return dg.Failure(description=describe(exc, settings.calendly_api_url, settings.secrets, CALENDLY),
                      allow_retries=worth_retrying(exc))


@dg.asset_check(asset=INVITEES, name=CHECK_NAME, pool=WAREHOUSE_POOL, blocking=False,
                description="The Calendly webhook subscription of CALENDLY_WEBHOOK_URL is active, not retrying, "
                            "and has the four invitee events.")
def webhook_subscription(calendly_elt: CalendlyEltConfig) -> dg.AssetCheckResult:
    # In the warehouse pool only because every step of the scheduled job is: it opens no warehouse.
    from pipelines.webhooks.health import check

    settings = calendly_elt.settings()
    if not settings.webhook_url:
        return dg.AssetCheckResult(passed=True, description=NOT_WATCHED)
    try:
        health = check(_subscriptions(settings), settings.webhook_url)
    except Exception as exc:  # one line, secrets masked
        raise _one_line(settings, exc) from None
    return dg.AssetCheckResult(passed=health.healthy, description=health.line,
                               metadata={"problem": health.problem or "none",
                                         "since": health.since.isoformat() if health.since else ""})


def _watch(settings: Settings) -> Union[dg.SkipReason, dg.RunRequest]:
    from pipelines.extract import last_extract_at
    from pipelines.webhooks.health import check, repair
    from pipelines.webhooks.subscriptions import signing_key

    subs = _subscriptions(settings)
    health = check(subs, settings.webhook_url)
    if health.healthy or not health.repairable:
        return dg.SkipReason(health.line)
    if not settings.webhooks_repair:
        return dg.SkipReason(f"{health.line} (CALENDLY_ELT_WEBHOOKS_REPAIR is off: `calendly-elt webhooks check "
                             "--repair` repairs it)")
    repaired = repair(subs, health, signing_key(settings), last_extract_at(settings))
    # No options when no extract ran yet: the run reads all history anyway.
    windows = {tag: str(repaired.extract_options[option]) for tag, option in WINDOW_TAGS.items()
               if option in repaired.extract_options}
    return dg.RunRequest(
        run_key=f"webhook-repair-{repaired.subscription['uri'].rsplit('/', 1)[-1]}",  # one per re-creation
        tags={**windows, REPAIR_TAG: repaired.line(health)[:255]},
    )


# The scheduled job by name: it is defined in scheduled_runs.py, and the code location resolves the name.
@dg.sensor(name=SENSOR_NAME, job_name=JOB_NAME, minimum_interval_seconds=INTERVAL_SECONDS,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description=f"Hourly: is the webhook subscription alive? With CALENDLY_ELT_WEBHOOKS_REPAIR on, re-creates "
                       f"a disabled or missing one and requests a {JOB_NAME} run whose extract windows cover the gap.")
def webhook_health(context: dg.SensorEvaluationContext, calendly_elt: CalendlyEltConfig):
    settings = calendly_elt.settings()
    if not settings.webhook_url:
        return dg.SkipReason(NOT_WATCHED)
    try:
        decision = _watch(settings)
    except Exception as exc:  # the tick fails, showing one line with secrets masked
        raise _one_line(settings, exc) from None
    if isinstance(decision, dg.RunRequest):
        context.log.info(decision.tags[REPAIR_TAG])
    return decision


@dg.definitions
def webhook_health_defs() -> dg.Definitions:
    return dg.Definitions(asset_checks=[webhook_subscription], sensors=[webhook_health])


