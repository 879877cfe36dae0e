"""The `calendly_forget` Dagster job: run config `{emails: [...], calendly: bool}`, one op in the warehouse
pool calling the stage the CLI calls; its log names no address (Dagster's event log outlives the erasure)."""

from __future__ import annotations

import dagster as dg
import pytest

from orchestration.defs.erasure import JOB_NAME
from pipelines.config import Settings
from pipelines.extract import run_extract
from tests.forget.everywhere import holding, warehouse_text
from tests.orchestration.deployment import SandboxDeployment, deployed


class Deployment(SandboxDeployment):
    def __init__(self, tmp_path, instance: dg.DagsterInstance):
        super().__init__(tmp_path, instance, seed=31, brevo_key="xkeysib-forget-job", events=30)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    with deployed(Deployment, tmp_path_factory, "forget") as d:
        run_extract(Settings.from_env(d.env))  # the marts: the job's own rebuild
        yield d


def _config(emails, calendly=False) -> dict:
    return {"ops": {"forget_people": {"config": {"emails": emails, "calendly": calendly}}}}


def test_the_job_erases_in_the_warehouse_pool_and_logs_no_address(deployment):
    d = deployment
    job = d.defs.resolve_job_def(JOB_NAME)
    assert {node.definition.pool for node in job.graph.node_dict.values()} == {"warehouse"}
    settings = Settings.from_env(d.env)
    email = sorted(i["email"].lower() for i in d.account.truth()["invitees"])[0]
    assert holding(warehouse_text(settings), email)
    result = d.run(JOB_NAME, run_config=_config([email.upper()]))
    assert result.success
    assert holding(warehouse_text(settings), email) == []
    logged = " ".join(e.message or "" for e in d.instance.all_logs(result.run_id))
    assert "1 person erased" in logged and email.lower() not in logged.lower()


def test_an_invalid_address_fails_the_run_in_one_line(deployment):
    result = deployment.run(JOB_NAME, run_config=_config(["not-an-address"]))
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert failure.step_failure_data.user_failure_data.description == \
        "'not-an-address' is not an email address: nothing was erased"
