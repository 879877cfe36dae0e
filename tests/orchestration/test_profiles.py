"""The scheduled Dagster job on accounts unlike the default one: a brand-new account with nothing
booked, and an enterprise one (many hosts, two of them gone, a deleted event type, webinars of 100+
invitees whose invitee lists page). Every asset materializes and every check passes, warnings included."""

import dagster as dg
import pytest

from sandbox.calendly.shapes import PROFILES
from tests.extract.truth import differences
from tests.orchestration.deployment import SandboxDeployment, deployed
from tests.sync.expected import brevo_differences

# The enterprise profile's shape, at a size a test can afford (its webinars still page).
EVENTS = {"empty": 0, "enterprise": 150}


def _deployment_for(profile: str):
    class Deployment(SandboxDeployment):
        def __init__(self, tmp_path, instance: dg.DagsterInstance):
            super().__init__(tmp_path, instance, seed=31, brevo_key="xkeysib-profiles-test",
                             events=EVENTS[profile], shape=PROFILES[profile].shape)
    return Deployment


@pytest.mark.parametrize("profile", sorted(EVENTS))
def test_the_scheduled_job_is_green(profile, tmp_path_factory):
    with deployed(_deployment_for(profile), tmp_path_factory, profile) as deployment:
        result = deployment.run("calendly_elt")
        assert result.success
        graph = deployment.defs.get_repository_def().asset_graph
        materialized = {e.asset_key for e in result.get_asset_materialization_events()}
        assert materialized == set(graph.get_all_asset_keys())
        failed = [f"{c.asset_key.to_user_string()}:{c.check_name} ({c.severity.value})"
                  for c in result.get_asset_check_evaluations() if not c.passed]
        assert failed == []
        assert differences(deployment.warehouse, deployment.account.truth()) == []
        assert brevo_differences(deployment.warehouse, deployment.brevo_account) == []
        if profile == "enterprise":
            assert deployment.calendly.stats()["by_route"]["invitees"] > len(deployment.account.truth()["scheduled_events"])
