"""Activation: `marts.brevo_contacts` (the payload, built by dbt) → Brevo, only the contacts that are
new, changed or failed before; then `marts.booking_transitions` → Brevo custom events, each once."""


from typing import Iterator

import dagster as dg

from orchestration.keys import BREVO_CONTACTS, MARTS_BREVO_CONTACTS, dbt_model_key
from orchestration.resources import CalendlyEltConfig, LoggedProgress
from orchestration.running import WAREHOUSE_POOL, WAREHOUSE_RETRY, worth_retrying
from pipelines.brevo.sync import run_sync
from pipelines.errors import BREVO, describe

REJECTIONS_CHECK = "no_failed_contacts"
# The transitions the sync sends as Brevo custom events (pipelines/brevo/events.py).
MARTS_BOOKING_TRANSITIONS = dbt_model_key("marts", "booking_transitions")


@dg.asset(
    key=BREVO_CONTACTS,
    deps=[MARTS_BREVO_CONTACTS, MARTS_BOOKING_TRANSITIONS],  # the sync reads these two tables only
    group_name="activation",
    kinds={"brevo"},
    description="Contacts pushed to Brevo (attributes and lists), and a custom event per booking transition; "
                "per-contact outcomes in brevo_sync.sync_log, per-event in brevo_sync.event_state.",
    check_specs=[dg.AssetCheckSpec(
        REJECTIONS_CHECK, asset=BREVO_CONTACTS,
        description="every contact and booking event sent was accepted; failed ones stay pending and are sent "
                    "by the next run")],
    output_required=False,  # no BREVO_API_KEY: nothing to push to, so nothing is materialized
    pool=WAREHOUSE_POOL,
    retry_policy=WAREHOUSE_RETRY,
)
def brevo_contacts(context: dg.AssetExecutionContext, calendly_elt: CalendlyEltConfig) -> Iterator:
    settings = calendly_elt.settings()
    if not settings.brevo_api_key:
        context.log.warning("BREVO_API_KEY is not set: the Brevo sync is skipped")
        # The check is a required output even when the asset is not materialized.
        yield dg.AssetCheckResult(check_name=REJECTIONS_CHECK, passed=True,
                                  description="skipped: BREVO_API_KEY is not set")
        return
    try:
        summary = run_sync(settings, LoggedProgress("sync", context.log))
    except Exception as exc:
        reason = describe(exc, settings.brevo_api_url or BREVO.default_url, settings.secrets, BREVO)
        raise dg.Failure(description=reason,
                         allow_retries=worth_retrying(exc)) from None
    context.log.info(summary.line())
    yield dg.MaterializeResult(metadata={
        "synced": summary.synced,
        "created": summary.creates,
        "updated": summary.updates,
        "unchanged": summary.skipped,
        "failed": summary.failed,
        "invalid_emails": summary.invalid,
        "imports": summary.imports,
        "requests": summary.requests,
        "events_sent": summary.events.sent,
        "events_failed": summary.events.failed,
        "events_left": summary.events.left,
        "events_without_contact_properties": summary.events.without_properties,
        "rebooking_links_minted": summary.links.minted,
        "rebooking_links_refused": summary.links.refused,
        "rebooking_links_left": summary.links.left,
        "sync_run_id": summary.run_id,
    })
    failed_events = summary.events.failed + summary.events.left
    yield dg.AssetCheckResult(
        check_name=REJECTIONS_CHECK,
        passed=summary.failed == 0 and failed_events == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"failed": summary.failed, "events_failed": failed_events},
        description=None if summary.failed == 0 and failed_events == 0 else
        f"{summary.failed} contacts and {failed_events} booking events failed or left; see brevo_sync.sync_log "
        f"and brevo_sync.event_state for run {summary.run_id}",
    )


@dg.definitions
def activation() -> dg.Definitions:
    return dg.Definitions(assets=[brevo_contacts])
