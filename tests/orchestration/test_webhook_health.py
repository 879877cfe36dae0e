"""The webhook watchdog in Dagster, on the sandboxes: the check fails with the one line when Calendly disabled
the subscription (failing deliveries, or the sandbox's knob); the sensor reports it, and with
CALENDLY_ELT_WEBHOOKS_REPAIR on re-creates it and requests a calendly_elt run whose tags widen the extract's
windows: that one run brings a no-show marked meanwhile, on an event that ended outside the default windows,
into the warehouse and on to Brevo."""

import socket
import time
from datetime import timedelta

import dagster as dg
import duckdb
import pytest
import requests

from orchestration.defs.ingest.calendly_tables import WINDOW_TAGS
from orchestration.defs.scheduled_runs import JOB_NAME
from orchestration.defs.webhook_health import CHECK_NAME, INVITEES, SENSOR_NAME
from orchestration.resources import CalendlyEltConfig
from pipelines.config import Settings
from pipelines.extract import run_extract
from tests.orchestration.deployment import NOW, SandboxDeployment, deployed

SIGNING_KEY = "whsec-health-test"
EVENTS = ["invitee.created", "invitee.canceled", "invitee_no_show.created", "invitee_no_show.deleted"]


class Deployment(SandboxDeployment):
    def __init__(self, tmp_path, instance: dg.DagsterInstance):
        super().__init__(tmp_path, instance, seed=31, brevo_key="xkeysib-health-test", events=80)
        self._dead = socket.socket()  # bound, never listening: every delivery is refused
        self._dead.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._dead.getsockname()[1]}/webhooks/calendly"
        self.env.update({"CALENDLY_WEBHOOK_URL": self.url, "CALENDLY_WEBHOOK_SIGNING_KEY": SIGNING_KEY})
        hub = self.calendly.webhooks  # Calendly's day of retries, in a second
        hub.retry_delays, hub.disable_after = (0.1,) * 30, 1.0

    def subscribe(self) -> dict:
        r = requests.post(f"{self.calendly.url}/webhook_subscriptions", json={
            "url": self.url, "scope": "organization", "organization": self.account.organization_uri,
            "events": EVENTS, "signing_key": SIGNING_KEY}, headers=self._auth(), timeout=10)
        assert r.status_code == 201, r.text
        return r.json()["resource"]

    def served(self, uri: str) -> requests.Response:
        return requests.get(uri.replace(self.account.base_uri, self.calendly.url), headers=self._auth(), timeout=10)

    def _auth(self) -> dict:
        return {"Authorization": f"Bearer {self.account.tokens['admin']}"}

    def evaluate_check(self) -> dg.AssetCheckEvaluation:
        """The check alone, as the scheduled run evaluates it."""
        job = self.defs.resolve_job_def("calendly_elt").get_subset(
            asset_selection=set(), asset_check_selection={dg.AssetCheckKey(INVITEES, CHECK_NAME)})
        result = job.execute_in_process(instance=self.instance, raise_on_error=False)
        assert result.success
        [evaluation] = result.get_asset_check_evaluations()
        return evaluation

    def sensor_tick(self):
        sensor = self.defs.resolve_sensor_def(SENSOR_NAME)
        context = dg.build_sensor_context(instance=self.instance, definitions=self.defs,
                                          resources={"calendly_elt": CalendlyEltConfig()})
        return sensor.evaluate_tick(context)

    def close(self):
        self._dead.close()
        super().close()


@pytest.fixture
def deployment(tmp_path_factory):
    with deployed(Deployment, tmp_path_factory, "webhook_health") as d:
        yield d


def invitee_row(warehouse, uri: str) -> tuple:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select status, no_show__uri from calendly_raw.invitees where uri = ?", [uri]).fetchone()


def test_failing_deliveries_disable_the_subscription_and_the_check_fails(deployment):
    d = deployment
    missing = d.evaluate_check()
    assert not missing.passed and missing.description == f"missing: no webhook subscription calls {d.url}"
    hook = d.subscribe()
    assert d.evaluate_check().passed
    d.account.add_booking()  # delivered to a closed port: refused, retried, disabled after a second
    deadline = time.monotonic() + 10
    while d.served(hook["uri"]).json()["resource"]["state"] != "disabled":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    started = d.served(hook["uri"]).json()["resource"]["retry_started_at"]
    failed = d.evaluate_check()
    assert not failed.passed
    assert failed.description == (f"disabled (deliveries failing since {started[:19]}Z): Calendly no longer "
                                  f"calls {d.url}")
    assert f"{failed.description} (CALENDLY_ELT_WEBHOOKS_REPAIR is off" in d.sensor_tick().skip_message


def test_the_sensor_repairs_and_one_widened_run_brings_the_gap_to_the_warehouse_and_brevo(deployment, monkeypatch):
    d = deployment
    settings = Settings.from_env(d.env)
    email = "late.no-show@example.com"  # their only booking: the contact's status is this booking's
    late = d.account.add_booking(start_time=NOW - timedelta(days=10), email=email)
    run_extract(settings)  # the scheduled runs so far
    hook = d.subscribe()
    twelve_days_ago = (NOW - timedelta(days=12)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    d.calendly.webhooks.disable(hook["uri"].rsplit("/", 1)[1], retry_started_at=twelve_days_ago)
    d.account.mark_no_show(late)
    canceled = d.account.add_booking()
    d.account.cancel_invitee(canceled)
    run_extract(settings)  # a regular run: the no-show is outside its windows
    assert invitee_row(d.warehouse, late) == ("active", None)
    failed = d.evaluate_check()
    assert not failed.passed and failed.description.startswith(f"disabled (deliveries failing since "
                                                               f"{twelve_days_ago[:19]}Z)")

    monkeypatch.setenv("CALENDLY_ELT_WEBHOOKS_REPAIR", "true")
    [request] = d.sensor_tick().run_requests
    assert d.served(hook["uri"]).status_code == 404  # deleted, then re-created at the same URL
    assert request.job_name in (None, JOB_NAME) and d.defs.resolve_sensor_def(SENSOR_NAME).job_name == JOB_NAME
    windows = {option: float(request.tags[tag]) for tag, option in WINDOW_TAGS.items()}
    assert windows["lookback_days"] > 19 and windows["no_show_window_days"] > 19
    assert d.evaluate_check().passed
    assert "healthy" in d.sensor_tick().skip_message  # repaired once

    result = d.run(JOB_NAME, tags=request.tags)
    assert result.success
    status, no_show = invitee_row(d.warehouse, late)
    assert status == "active" and no_show is not None
    assert invitee_row(d.warehouse, canceled)[0] == "canceled"
    assert d.brevo_account.contacts()[email]["attributes"]["BOOKING_STATUS"] == "no_show"  # the same run
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {INVITEES.to_user_string(), "marts/contacts", "brevo/contacts"} <= materialized


def test_a_window_tag_that_is_not_a_number_of_days_fails_the_run_in_one_line(deployment):
    d = deployment
    for value in ("-1", "two weeks", "nan"):
        result = d.run(JOB_NAME, tags={"calendly_elt/no_show_window_days": value})
        assert not result.success
        [failure] = result.get_step_failure_events()
        assert str(failure.event_specific_data.error.message).strip() == (
            f"dagster._core.definitions.events.Failure: run tag calendly_elt/no_show_window_days={value!r} is "
            "not a number of days: give a non-negative number, such as 7.5")
    assert not d.warehouse.exists()  # refused before anything was read


def test_the_webhook_run_leaves_the_subscription_check_to_the_scheduled_run():
    """The seconds-long run that carries a delivery to Brevo makes no Calendly request for the check."""
    from orchestration.definitions import defs as load_defs
    from orchestration.defs.webhook_runs import webhook_selection

    graph = load_defs().resolve_asset_graph()
    check = dg.AssetCheckKey(INVITEES, CHECK_NAME)
    assert check in graph.asset_check_keys
    assert check not in webhook_selection().resolve_checks(graph)
    assert check in dg.AssetSelection.all().resolve_checks(graph)
