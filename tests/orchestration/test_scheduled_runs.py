"""The whole graph, materialized in-process by scheduled runs against the sandboxes."""

import subprocess
import sys
from datetime import datetime, timezone

import dagster as dg
import duckdb
import pytest

from tests.extract.truth import differences
from tests.orchestration.deployment import SandboxDeployment, deployed
from tests.sync.expected import brevo_differences
from tests.warehouses import provide

# An analyst's session: opens the snapshot read-only, then queries it until told to stop.
ANALYST = r"""
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
first = con.execute("select count(*) from marts.bookings where booking_status = 'cancelled'").fetchone()[0]
print("ready", first, flush=True)
queries = 0
while sys.stdin.readline().strip() != "stop":
    assert con.execute("select count(*) from marts.bookings where booking_status = 'cancelled'").fetchone()[0] == first
    queries += 1
print("done", queries, flush=True)
"""


class Deployment(SandboxDeployment):
    def __init__(self, tmp_path, instance: dg.DagsterInstance):
        super().__init__(tmp_path, instance, seed=23, brevo_key="xkeysib-orchestration-test")
        self.snapshot = tmp_path / "data" / "analytics.duckdb"
        self.report = tmp_path / "data" / "reports" / "scheduling_report.html"

    def scheduled_run(self) -> dg.ExecuteInProcessResult:
        """What the daemon does on a tick: evaluate the schedule, run what it requests."""
        instance = self.instance
        schedule = self.defs.resolve_schedule_def("calendly_elt_schedule")
        tick = schedule.evaluate_tick(dg.build_schedule_context(instance=instance,
                                                                scheduled_execution_time=datetime.now(timezone.utc)))
        [request] = tick.run_requests
        job = self.defs.resolve_job_def(schedule.job_name)
        return job.execute_in_process(instance=instance, run_config=request.run_config, tags=request.tags,
                                      raise_on_error=False)

@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    with deployed(Deployment, tmp_path_factory, "orchestration") as d:
        yield d


def _materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def _failed_checks(result) -> list[str]:
    return [f"{c.asset_key.to_user_string()}:{c.check_name}" for c in result.get_asset_check_evaluations()
            if not c.passed]


def test_a_scheduled_run_materializes_the_whole_graph(deployment):
    result = deployment.scheduled_run()
    assert result.success
    graph = deployment.defs.get_repository_def().asset_graph
    assert _materialized(result) == {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert _failed_checks(result) == []
    # Brevo holds what the marts say, computed independently of the sync's code.
    assert brevo_differences(deployment.warehouse, deployment.brevo_account) == []
    # The report: a page with its charts, and the key numbers in the materialization.
    assert deployment.report.exists() and deployment.report.read_text().count("<svg") >= 5
    [report] = [e for e in result.get_asset_materialization_events()
                if e.asset_key == dg.AssetKey(["analytics", "scheduling_report"])]
    key_numbers = report.materialization.metadata["key_numbers"].value
    with duckdb.connect(str(deployment.snapshot), read_only=True) as con:
        bookings = con.execute("select count(*) from marts.bookings").fetchone()[0]
        tables = {r[0] for r in con.execute("select table_schema from information_schema.tables").fetchall()}
    assert f"{bookings:,}" in key_numbers
    assert tables == {"calendly_raw", "staging", "marts"}


def test_an_analyst_holding_the_snapshot_open_does_not_block_the_next_run(deployment):
    if not deployment.snapshot.exists():
        deployment.scheduled_run()
    analyst = subprocess.Popen([sys.executable, "-c", ANALYST, str(deployment.snapshot)], text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    ready, before = analyst.stdout.readline().split()
    assert ready == "ready"
    deployment.account.apply_random_changes(seed=3, cancels=15, reschedules=0, no_shows=0, new_bookings=0)
    analyst.stdin.write("query\n" * 50)
    analyst.stdin.flush()

    result = deployment.scheduled_run()

    analyst.stdin.write("query\n" * 50 + "stop\n")
    analyst.stdin.flush()
    done, queries = analyst.stdout.readline().split()
    assert analyst.wait(timeout=30) == 0 and done == "done" and int(queries) == 100
    assert result.success and "analytics/snapshot" in _materialized(result)
    # A new session sees the new snapshot, the same numbers as the live warehouse.
    query = "select count(*) from marts.bookings where booking_status = 'cancelled'"
    with duckdb.connect(str(deployment.snapshot), read_only=True) as con:
        after = con.execute(query).fetchone()[0]
    with duckdb.connect(str(deployment.warehouse), read_only=True) as con:
        assert con.execute(query).fetchone()[0] == after
    assert after > int(before)


def test_a_token_without_admin_rights_and_no_brevo_key_still_run_green(deployment, monkeypatch):
    """Routing forms load nothing for a member (and for accounts without them), and without a Brevo
    key the sync is skipped: neither may fail the run."""
    if not deployment.snapshot.exists():
        deployment.scheduled_run()
    monkeypatch.setenv("CALENDLY_ACCESS_TOKEN", deployment.account.tokens["member"])
    monkeypatch.delenv("BREVO_API_KEY")
    deployment.brevo.reset_stats()

    result = deployment.scheduled_run()

    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert "brevo/contacts" not in _materialized(result)
    assert "analytics/snapshot" in _materialized(result)
    assert _failed_checks(result) == []
    assert deployment.brevo.stats()["requests"] == 0


def test_a_failing_dbt_test_stops_the_brevo_sync_and_keeps_the_last_snapshot(deployment):
    if not deployment.snapshot.exists():
        deployment.scheduled_run()
    # A duplicated raw row of an old booking, one no incremental run re-reads: the invitee key is no
    # longer unique, which dbt's tests catch from staging onward.
    with duckdb.connect(str(deployment.warehouse)) as con:
        con.execute("""
            insert into calendly_raw.invitees
            select i.* from calendly_raw.invitees i
            join calendly_raw.scheduled_events e on e.uri = i.event
            where e.start_time < now() - interval 60 days
            limit 1""")
    published = deployment.snapshot.stat().st_mtime_ns
    deployment.brevo.reset_stats()

    result = deployment.scheduled_run()

    assert not result.success
    # A failed test fails again until the data changes: not retried.
    assert not [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    failed = _failed_checks(result)
    assert "staging/stg_calendly__invitees:unique_stg_calendly__invitees_invitee_uri" in failed, failed
    assert "brevo/contacts" not in _materialized(result)
    assert deployment.brevo.stats()["requests"] == 0
    assert deployment.snapshot.stat().st_mtime_ns == published



@pytest.fixture(scope="module")
def postgres_deployment(tmp_path_factory):
    """The same deployment with WAREHOUSE_URL set: every resource must follow that one setting."""
    with provide("postgres", tmp_path_factory.mktemp("postgres")) as warehouse:
        class OnPostgres(Deployment):
            def __init__(self, tmp_path, instance):
                super().__init__(tmp_path, instance)
                self.env["WAREHOUSE_URL"] = warehouse.url
                self.postgres = warehouse

        with deployed(OnPostgres, tmp_path_factory, "orchestration-postgres") as d:
            yield d


def test_a_scheduled_run_on_postgresql_materializes_the_whole_graph(postgres_deployment):
    """(Incremental runs on PostgreSQL: tests/extract/test_backfill_and_incremental.py, sync: tests/sync.)"""
    d = postgres_deployment
    graph = d.defs.get_repository_def().asset_graph
    result = d.scheduled_run()
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert _materialized(result) == {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert _failed_checks(result) == []
    assert differences(d.postgres.warehouse, d.account.truth()) == []
    assert brevo_differences(d.postgres.warehouse, d.brevo_account) == []
    # Nothing went to a DuckDB file; the analysts' copy is the `analytics` schema, as fresh as the marts.
    assert not d.warehouse.exists() and not d.snapshot.exists()
    query = "select count(*) from {}.bookings where booking_status = 'cancelled'"
    assert d.postgres.query(query.format("analytics")) == d.postgres.query(query.format("marts"))
    assert d.report.exists() and d.report.read_text().count("<svg") >= 5
