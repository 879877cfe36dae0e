"""The real-time path end to end: a booking canceled in the Calendly sandbox is delivered, signed, to the
receiver (uvicorn), lands in SQLite, the sensor starts a run, and BOOKING_STATUS changes in the Brevo
sandbox – with no listing of Calendly, only the webhook's payload."""

import threading
import time
from datetime import datetime, timezone

import dagster as dg
import duckdb
import pytest
import requests
import uvicorn
import yaml

from orchestration.defs.webhook_runs import JOB_NAME, SENSOR_NAME
from orchestration.definitions import defs as load_defs
from orchestration.dev import DAGSTER_YAML
from orchestration.resources import CalendlyEltConfig
from pipelines.config import Settings
from pipelines.sandbox.brevo import BrevoAccount, BrevoSandbox
from pipelines.sandbox.calendly import CalendlyAccount, CalendlySandbox
from pipelines.webhooks import LandingStore, landing_path
from pipelines.webhooks.app import create_app
from tests.sync.expected import brevo_differences

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SIGNING_KEY = "whsec-orchestration-test"


class Receiver:
    """`calendly-elt webhooks serve`'s app under uvicorn, on a thread of this process."""

    def __init__(self, store: LandingStore):
        config = uvicorn.Config(create_app(SIGNING_KEY, store), host="127.0.0.1", port=0, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the receiver did not start"
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/webhooks/calendly"

    def stop(self):
        self.server.should_exit = True
        self.thread.join(10)


class Deployment:
    def __init__(self, tmp_path, instance: dg.DagsterInstance):
        self.instance = instance
        self.account = CalendlyAccount.generate(seed=29, events=300, now=NOW)
        self.brevo_account = BrevoAccount(api_key="xkeysib-webhook-test")
        self.calendly = CalendlySandbox(self.account, rate_limit=0).start()
        self.brevo = BrevoSandbox(self.brevo_account, import_seconds=0.05).start()
        self.warehouse = tmp_path / "data" / "warehouse.duckdb"
        self.env = {"CALENDLY_ACCESS_TOKEN": self.account.tokens["admin"], "CALENDLY_API_URL": self.calendly.url,
                    "BREVO_API_KEY": self.brevo_account.api_key, "BREVO_API_URL": self.brevo.url,
                    "WAREHOUSE_PATH": str(self.warehouse)}
        self.store = LandingStore(landing_path(Settings.from_env(self.env)))
        self.receiver = Receiver(self.store)
        self.defs = load_defs()

    def subscribe(self) -> None:
        """What `calendly-elt webhooks subscribe` asks Calendly for, organization-wide."""
        response = requests.post(f"{self.calendly.url}/webhook_subscriptions", json={
            "url": self.receiver.url, "scope": "organization", "organization": self.account.organization_uri,
            "events": ["invitee.created", "invitee.canceled", "invitee_no_show.created", "invitee_no_show.deleted"],
            "signing_key": SIGNING_KEY,
        }, headers={"Authorization": f"Bearer {self.account.tokens['admin']}"}, timeout=10)
        assert response.status_code == 201, response.text

    def run(self, job_name: str, **kwargs) -> dg.ExecuteInProcessResult:
        return self.defs.resolve_job_def(job_name).execute_in_process(instance=self.instance, raise_on_error=False,
                                                                      **kwargs)

    def sensor_tick(self):
        """What the daemon does every few seconds: evaluate the sensor."""
        sensor = self.defs.resolve_sensor_def(SENSOR_NAME)
        context = dg.build_sensor_context(instance=self.instance, definitions=self.defs,
                                          resources={"calendly_elt": CalendlyEltConfig()})
        return sensor.evaluate_tick(context)

    def wait_for_landing(self, count: int, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while self.store.pending_summary().count < count:
            assert time.monotonic() < deadline, f"{count} deliveries did not land in {timeout}s"
            time.sleep(0.05)

    def close(self):
        self.receiver.stop()
        self.calendly.stop()
        self.brevo.stop()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch, \
            dg.instance_for_test(overrides=yaml.safe_load(DAGSTER_YAML.read_text())) as instance:
        d = Deployment(tmp_path_factory.mktemp("webhooks"), instance)
        for name, value in d.env.items():
            patch.setenv(name, value)
        assert d.run("calendly_elt").success  # the scheduled run that filled the warehouse and Brevo
        yield d
        d.close()


def _materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def _latest_booked(warehouse) -> tuple[str, str]:
    """(invitee uri, email) of a contact whose latest booking is booked (future and active)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("""
            select b.invitee_uri, b.email from marts.bookings b join marts.contacts c using (email)
            where c.booking_status = 'booked'
            qualify row_number() over (partition by b.email order by b.booked_at desc) = 1
            order by b.email limit 1""").fetchone()


def test_a_cancellation_reaches_brevo_through_webhook_and_sensor_run(deployment):
    d = deployment
    assert d.sensor_tick().skip_message  # nothing has landed
    d.subscribe()
    invitee_uri, email = _latest_booked(d.warehouse)
    assert d.brevo_account.contacts()[email]["attributes"]["BOOKING_STATUS"] == "booked"

    d.account.cancel_invitee(invitee_uri, canceler_type="invitee", reason="webhook test")
    d.wait_for_landing(1)
    [request] = d.sensor_tick().run_requests
    assert request.run_key == d.sensor_tick().run_requests[0].run_key  # same deliveries: one run, whatever the tick
    d.calendly.reset_stats()
    d.brevo.reset_stats()
    result = d.run(JOB_NAME, tags=request.tags)

    assert result.success
    assert d.calendly.stats()["requests"] == 0  # no listing, no read: the payload carried the change
    assert d.brevo_account.contacts()[email]["attributes"]["BOOKING_STATUS"] == "cancelled"
    assert brevo_differences(d.warehouse, d.brevo_account) == []
    # The small run: the webhook tables, the models between them and Brevo, and the sync – nothing else.
    materialized = _materialized(result)
    assert {"calendly/invitees", "calendly/scheduled_events", "marts/contacts", "brevo/contacts"} <= materialized
    assert not materialized & {"calendly/event_types", "analytics/snapshot", "analytics/scheduling_report",
                               "marts/scheduling_lead_times"}
    assert d.store.pending() == []
    assert d.sensor_tick().skip_message  # merged: nothing waits


def _latest_completed(warehouse) -> tuple[str, str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("""
            select b.invitee_uri, b.email from marts.bookings b join marts.contacts c using (email)
            where c.booking_status = 'completed'
            qualify row_number() over (partition by b.email order by b.booked_at desc) = 1
            order by b.email limit 1""").fetchone()


def test_a_no_show_and_its_deletion_reach_brevo_and_one_run_waits_at_a_time(deployment):
    d = deployment
    invitee_uri, email = _latest_completed(d.warehouse)
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
