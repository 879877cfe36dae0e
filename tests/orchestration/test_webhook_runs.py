"""The real-time path end to end: a booking canceled in the Calendly sandbox is delivered, signed, to the
receiver (uvicorn), lands in SQLite, the sensor starts a run, and BOOKING_STATUS changes in the Brevo
sandbox – with no listing of Calendly, only the webhook's payload."""

import json
from contextlib import ExitStack

import dagster as dg
import duckdb
import pytest
import requests

from orchestration.defs.webhook_runs import JOB_NAME, SENSOR_NAME
from orchestration.resources import CalendlyEltConfig
from pipelines.config import Settings
from pipelines.transform import target_path
from pipelines.webhooks import LandingStore, landing_path
from tests.orchestration.deployment import SandboxDeployment, deployed
from tests.sync.expected import brevo_differences
from tests.webhooks.landed import wait_for_landing
from tests.webhooks.receiver import serving

SIGNING_KEY = "whsec-orchestration-test"


class Deployment(SandboxDeployment):
    def __init__(self, tmp_path, instance: dg.DagsterInstance):
        super().__init__(tmp_path, instance, seed=29, brevo_key="xkeysib-webhook-test")
        self.store = LandingStore(landing_path(Settings.from_env(self.env)))
        self._stack = ExitStack()
        self.receiver_url = self._stack.enter_context(serving(self.store, SIGNING_KEY))

    def subscribe(self) -> None:
        """What `calendly-elt webhooks subscribe` asks Calendly for, organization-wide."""
        response = requests.post(f"{self.calendly.url}/webhook_subscriptions", json={
            "url": self.receiver_url, "scope": "organization", "organization": self.account.organization_uri,
            "events": ["invitee.created", "invitee.canceled", "invitee_no_show.created", "invitee_no_show.deleted"],
            "signing_key": SIGNING_KEY,
        }, headers={"Authorization": f"Bearer {self.account.tokens['admin']}"}, timeout=10)
        assert response.status_code == 201, response.text

    def sensor_tick(self):
        """What the daemon does every few seconds: evaluate the sensor."""
        sensor = self.defs.resolve_sensor_def(SENSOR_NAME)
        context = dg.build_sensor_context(instance=self.instance, definitions=self.defs,
                                          resources={"calendly_elt": CalendlyEltConfig()})
        return sensor.evaluate_tick(context)

    def wait_for_landing(self, count: int) -> None:
        wait_for_landing(self.store, count)

    def close(self):
        self._stack.close()
        super().close()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    with deployed(Deployment, tmp_path_factory, "webhooks") as d:
        assert d.run("calendly_elt").success  # the scheduled run that filled the warehouse and Brevo
        yield d


def _materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def _latest_with_status(warehouse, status: str) -> tuple[str, str]:
    """(invitee uri, email) of the latest booking of a contact whose status is `status`."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("""
            select b.invitee_uri, b.email from marts.bookings b join marts.contacts c using (email)
            where c.booking_status = ?
            qualify row_number() over (partition by b.email order by b.booked_at desc) = 1
            order by b.email limit 1""", [status]).fetchone()


def test_a_cancellation_reaches_brevo_through_webhook_and_sensor_run(deployment):
    d = deployment
    assert d.sensor_tick().skip_message  # nothing has landed
    d.subscribe()
    invitee_uri, email = _latest_with_status(d.warehouse, "booked")
    assert d.brevo_account.contacts()[email]["attributes"]["BOOKING_STATUS"] == "booked"

    d.account.cancel_invitee(invitee_uri, canceler_type="invitee", reason="webhook test")
    d.wait_for_landing(1)
    [request] = d.sensor_tick().run_requests
    assert request.run_key == d.sensor_tick().run_requests[0].run_key  # same deliveries: one run, whatever the tick
    d.calendly.reset_stats()
    d.brevo.reset_stats()
    result = d.run(JOB_NAME, tags=request.tags)

    assert result.success
    # No listing, no read: the payload carried the change. The only requests mint re-booking links, the
    # cancelled contact's among them (newest episode first), which reaches Brevo in the same run.
    stats = d.calendly.stats()
    assert stats["requests"] == stats["by_route"]["scheduling_links"] >= 1
    assert d.brevo_account.contacts()[email]["attributes"]["BOOKING_STATUS"] == "cancelled"
    links = {x["booking_url"]: x["owner"] for x in d.account.scheduling_links()}
    _, invitee = d.account.invitee(invitee_uri.rsplit("/", 1)[1])
    event_type = d.account.event(invitee["event"].rsplit("/", 1)[1])["event_type"]
    assert links[d.brevo_account.contacts()[email]["attributes"]["REBOOK_URL"]] == event_type
    [sync] = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "brevo/contacts"]
    minted = sync.materialization.metadata["rebooking_links_minted"].value
    assert minted == stats["by_route"]["scheduling_links"]  # shown in the UI, as Calendly counted them
    assert sync.materialization.metadata["rebooking_links_refused"].value == 0
    assert sync.materialization.metadata["events_without_contact_properties"].value == 0
    assert brevo_differences(d.warehouse, d.brevo_account) == []
    # The small run: the webhook tables, the models between them and Brevo, and the sync – nothing else.
    materialized = _materialized(result)
    assert {"calendly/invitees", "calendly/scheduled_events", "marts/contacts", "brevo/contacts"} <= materialized
    assert not materialized & {"calendly/event_types", "analytics/snapshot", "analytics/scheduling_report",
                               "marts/scheduling_lead_times"}
    assert d.store.pending() == []
    assert d.sensor_tick().skip_message  # merged: nothing waits
    # The data tests gate the push; the unit tests (SQL on fixed rows) wait for the scheduled run. The
    # one changed contact went by a synchronous POST /contacts, not a queued import.
    results = json.loads((target_path(Settings.from_env(d.env)) / "run_results.json").read_text())["results"]
    ran = {result["unique_id"].split(".")[0] for result in results}
    assert "test" in ran and "unit_test" not in ran
    assert d.brevo.stats()["by_route"]["import"] == 0 and d.brevo.stats()["by_route"]["contact_create"] == 1


def test_a_no_show_and_its_deletion_reach_brevo_and_one_run_waits_at_a_time(deployment):
    d = deployment
    invitee_uri, email = _latest_with_status(d.warehouse, "completed")
    d.account.mark_no_show(invitee_uri)
    d.wait_for_landing(1)
    [request] = d.sensor_tick().run_requests
    assert d.run(JOB_NAME, tags=request.tags).success
    assert d.brevo_account.contacts()[email]["attributes"]["BOOKING_STATUS"] == "no_show"

    # The mark is deleted, and someone books, while a run is created but not started yet (queued behind
    # the pool): that run will merge what is pending when it starts, so the sensor requests no other.
    d.account.unmark_no_show(invitee_uri)
    new_invitee = d.account.add_booking()
    d.wait_for_landing(2)
    waiting = d.instance.create_run_for_job(d.defs.resolve_job_def(JOB_NAME), run_config={})
    try:
        tick = d.sensor_tick()
        assert not tick.run_requests and "already queued" in tick.skip_message
    finally:
        d.instance.delete_run(waiting.run_id)
    [request] = d.sensor_tick().run_requests
    assert d.run(JOB_NAME, tags=request.tags).success
    contacts = d.brevo_account.contacts()
    assert contacts[email]["attributes"]["BOOKING_STATUS"] == "completed"
    new_email = next(i["email"] for i in d.account.truth()["invitees"] if i["uri"] == new_invitee).lower()
    assert contacts[new_email]["attributes"]["BOOKING_STATUS"] == "booked"
    assert brevo_differences(d.warehouse, d.brevo_account) == []
    assert d.store.pending() == []


def test_no_other_subset_of_the_calendly_tables(deployment):
    """They share the event cursor: only the webhook tables may load without the others."""
    result = deployment.run("calendly_elt", asset_selection=[dg.AssetKey(["calendly", "event_types"])])
    assert not result.success
    [failure] = result.get_step_failure_events()
    assert "the only subset is" in str(failure.event_specific_data.error)
