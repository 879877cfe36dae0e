"""Erasure on demand: the `calendly_forget` job, run with the emails in its config (docs/erasure.md).

It calls the stage `calendly-elt forget` calls (`pipelines.forget.run_forget`), in the warehouse pool
(DuckDB has one writer: it waits for a scheduled run to finish instead of failing on the lock). The
addresses are in the run's config, hence in Dagster's run storage: docs/erasure.md says what that means.
"""

from typing import List

import dagster as dg

from orchestration.resources import CalendlyEltConfig, LoggedProgress
from orchestration.running import WAREHOUSE_POOL, WAREHOUSE_RETRY, worth_retrying
from pipelines.config import Settings
from pipelines.errors import CALENDLY, describe

JOB_NAME = "calendly_forget"


class ForgetConfig(dg.Config):
    emails: List[str]
    calendly: bool = False  # also request Calendly's own deletion (Enterprise)


def _one_line(settings: Settings, exc: Exception) -> dg.Failure:
    from pipelines.forget import ErasureIncomplete

    text = str(exc) if isinstance(exc, ErasureIncomplete) else describe(exc, settings.calendly_api_url,
                                                                          settings.secrets, CALENDLY)
    return dg.Failure(description=text, allow_retries=worth_retrying(exc) and not isinstance(exc, ErasureIncomplete))


@dg.op(pool=WAREHOUSE_POOL, retry_policy=WAREHOUSE_RETRY,
       description="Erase the configured people from the warehouse, marts, snapshot, sync state, webhook store, "
                   "dlt's files and Brevo; with `calendly`, request Calendly's deletion too.")
def forget_people(context: dg.OpExecutionContext, config: ForgetConfig, calendly_elt: CalendlyEltConfig) -> None:
    from pipelines.erasure.emails import checked_emails
    from pipelines.forget import run_forget

    try:
        emails = checked_emails(config.emails)
        settings = calendly_elt.settings()
    except Exception as exc:  # an invalid address: one line, nothing done
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    try:
        summary = run_forget(settings, emails, calendly=config.calendly,
                             progress=LoggedProgress("forget", context.log))
    except Exception as exc:
        raise _one_line(settings, exc) from None
    for line in summary.lines(named=False):  # Dagster's event log outlives the erasure: no addresses in it
        context.log.info(line)
    context.add_output_metadata({"run_id": summary.run_id, "people": len(summary.people),
                                 "rows_removed": sum(sum(p.rows.values()) for p in summary.people)})
    if summary.failed:
        problems = [summary.calendly_refused] if summary.calendly_refused else []
        problems += [f"Brevo: {p.brevo}".replace(p.email, f"person {i}")
                     for i, p in enumerate(summary.people, 1) if p.brevo.startswith("failed")]
        raise dg.Failure(description="erased locally, but " + "; ".join(problems), allow_retries=False)


@dg.definitions
def erasure() -> dg.Definitions:
    job = dg.GraphDefinition(name=JOB_NAME, node_defs=[forget_people]).to_job(
        description="Erase people by email (run config: ops.forget_people.config.emails, calendly).",
        executor_def=dg.in_process_executor)
    return dg.Definitions(jobs=[job])
