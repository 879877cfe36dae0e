"""The asset graph, pinned: a renamed table, an orphaned dbt source or a broken edge fails here."""

import socket

import dagster as dg
import pytest

from orchestration.definitions import defs as load_defs

RAW = [f"calendly/{t}" for t in (
    "event_types", "organization_memberships", "scheduled_events", "invitees", "routing_forms",
    "routing_form_submissions")]
ENDS = {"brevo/contacts", "analytics/snapshot", "analytics/scheduling_report"}

# Every edge but the snapshot's (it copies every dbt model; pinned by its own test below).
EDGES = {
    ("calendly/event_types", "staging/stg_calendly__event_type_questions"),
    ("calendly/event_types", "staging/stg_calendly__event_types"),
    ("calendly/invitees", "staging/stg_calendly__invitee_answers"),
    ("calendly/invitees", "staging/stg_calendly__invitees"),
    ("calendly/organization_memberships", "staging/stg_calendly__organization_memberships"),
    ("calendly/routing_form_submissions", "staging/stg_calendly__routing_form_answers"),
    ("calendly/routing_form_submissions", "staging/stg_calendly__routing_form_submissions"),
    ("calendly/routing_forms", "calendly/routing_form_submissions"),
    ("calendly/routing_forms", "staging/stg_calendly__routing_forms"),
    ("calendly/scheduled_events", "calendly/invitees"),
    ("calendly/scheduled_events", "staging/stg_calendly__event_memberships"),
    ("calendly/scheduled_events", "staging/stg_calendly__scheduled_events"),
    ("marts/bookings", "marts/contacts"),
    ("marts/bookings", "marts/scheduling_event_types_weekly"),
    ("marts/bookings", "marts/scheduling_geography"),
    ("marts/bookings", "marts/scheduling_hosts_weekly"),
    ("marts/bookings", "marts/scheduling_lead_times"),
    ("marts/bookings", "marts/scheduling_utm"),
    ("marts/bookings", "marts/scheduling_weekday_hour"),
    ("marts/bookings", "marts/brevo_contacts"),
    ("marts/bookings", "marts/booking_transitions"),
    ("marts/booking_transitions", "brevo/contacts"),
    ("marts/brevo_contacts", "brevo/contacts"),
    ("marts/contacts", "marts/brevo_contacts"),
    ("marts/scheduling_event_types_weekly", "analytics/scheduling_report"),
    ("marts/scheduling_geography", "analytics/scheduling_report"),
    ("marts/scheduling_hosts_weekly", "analytics/scheduling_report"),
    ("marts/scheduling_lead_times", "analytics/scheduling_report"),
    ("marts/scheduling_utm", "analytics/scheduling_report"),
    ("marts/scheduling_weekday_hour", "analytics/scheduling_report"),
    ("staging/int_event_hosts_aggregated", "marts/bookings"),
    ("staging/int_invitee_fields_mapped", "marts/bookings"),
    ("staging/int_invitees_statused", "marts/bookings"),
    ("staging/int_routing_answers_aggregated", "marts/bookings"),
    ("staging/stg_calendly__event_memberships", "staging/int_event_hosts_aggregated"),
    ("staging/stg_calendly__event_memberships", "marts/scheduling_hosts_weekly"),  # names of hosts who left
    ("staging/stg_calendly__event_types", "marts/bookings"),
    ("staging/stg_calendly__event_types", "marts/brevo_contacts"),  # can a re-booking link's type be booked
    ("staging/stg_calendly__invitee_answers", "staging/int_invitee_fields_mapped"),
    ("staging/stg_calendly__invitees", "marts/bookings"),
    ("staging/stg_calendly__invitees", "marts/booking_transitions"),  # the cancel and reschedule links
    ("staging/stg_calendly__invitees", "staging/int_invitees_statused"),
    ("staging/stg_calendly__organization_memberships", "marts/scheduling_hosts_weekly"),
    ("staging/stg_calendly__routing_form_answers", "staging/int_routing_answers_aggregated"),
    ("staging/stg_calendly__routing_form_submissions", "staging/int_routing_answers_aggregated"),
    ("staging/stg_calendly__routing_forms", "staging/int_routing_answers_aggregated"),
    ("staging/stg_calendly__scheduled_events", "marts/bookings"),
    ("staging/stg_calendly__scheduled_events", "staging/int_event_hosts_aggregated"),
    ("staging/stg_calendly__scheduled_events", "staging/int_invitees_statused"),
}


@pytest.fixture(scope="module")
def defs():
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("CALENDLY_ELT_SCHEDULE", raising=False)
        return load_defs()


@pytest.fixture(scope="module")
def graph(defs):
    return defs.get_repository_def().asset_graph


def _edges(graph):
    return {(parent.to_user_string(), key.to_user_string())
            for key in graph.get_all_asset_keys() for parent in graph.get(key).parent_keys}


def test_definitions_load_without_a_request_or_credentials(monkeypatch):
    for name in ("CALENDLY_ACCESS_TOKEN", "BREVO_API_KEY", "WAREHOUSE_PATH", "CALENDLY_API_URL"):
        monkeypatch.delenv(name, raising=False)

    def no_network(*args, **kwargs):
        raise AssertionError("loading the definitions opened a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    defs = load_defs()
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("calendly_elt") is not None


def test_asset_keys_are_pinned(graph):
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    expected = {a for a, _ in EDGES} | {b for _, b in EDGES} | ENDS
    assert keys == expected


def test_lineage_edges_are_pinned(graph):
    assert _edges(graph) - {e for e in _edges(graph) if e[1] == "analytics/snapshot"} == EDGES


def test_lineage_runs_from_calendly_to_brevo_and_the_report_with_no_orphan(graph):
    keys = {key.to_user_string(): key for key in graph.get_all_asset_keys()}
    roots = {name for name, key in keys.items() if not graph.get(key).parent_keys}
    leaves = {name for name, key in keys.items() if not graph.get(key).child_keys}
    # Only Calendly tables start the graph: a dbt source that missed its ingest asset would be a root.
    assert roots <= set(RAW) and roots == {"calendly/event_types", "calendly/organization_memberships",
                                           "calendly/scheduled_events", "calendly/routing_forms"}
    assert leaves == ENDS
    assert all(not graph.get(keys[name]).is_external for name in keys)
    # The path analysts and Brevo depend on, step by step.
    edges = _edges(graph)
    for edge in [("calendly/invitees", "staging/stg_calendly__invitees"),
                 ("staging/stg_calendly__invitees", "marts/bookings"),
                 ("marts/bookings", "marts/contacts"),
                 ("marts/contacts", "marts/brevo_contacts"),
                 ("marts/brevo_contacts", "brevo/contacts"),
                 ("marts/scheduling_weekday_hour", "analytics/scheduling_report")]:
        assert edge in edges


def test_the_snapshot_copies_every_dbt_model(graph):
    parents = {p.to_user_string() for p in graph.get(dg.AssetKey(["analytics", "snapshot"])).parent_keys}
    models = {k.to_user_string() for k in graph.get_all_asset_keys() if k.path[0] in ("staging", "marts")}
    assert parents == models


def test_warehouse_assets_share_a_pool_of_one_and_retry(defs, graph):
    job = defs.resolve_job_def("calendly_elt")
    pools = {node.name: node.definition.pool for node in job.graph.node_dict.values()}
    assert pools and set(pools.values()) == {"warehouse"}, pools
    for key in graph.get_all_asset_keys():
        assets_def = graph.get(key).assets_def
        assert assets_def.node_def.retry_policy is not None or assets_def.op.retry_policy is not None


def test_job_runs_everything_and_the_schedule_is_hourly_unless_configured(defs, graph, monkeypatch):
    job = defs.resolve_job_def("calendly_elt")
    selected = job.asset_layer.selected_asset_keys
    assert selected == set(graph.get_all_asset_keys())
    schedule = defs.resolve_schedule_def("calendly_elt_schedule")
    assert schedule.cron_schedule == "0 * * * *"
    monkeypatch.setenv("CALENDLY_ELT_SCHEDULE", "*/15 * * * *")
    assert load_defs().resolve_schedule_def("calendly_elt_schedule").cron_schedule == "*/15 * * * *"
    monkeypatch.setenv("CALENDLY_ELT_SCHEDULE", "every hour")
    with pytest.raises(Exception) as raised:
        load_defs()
    chain, error = [], raised.value
    while error is not None:
        chain.append(str(error))
        error = error.__cause__
    assert any("CALENDLY_ELT_SCHEDULE='every hour' is not a cron string" in text for text in chain), chain


def test_dbt_tests_are_blocking_checks_and_raw_tables_have_row_count_and_freshness_checks(defs, graph):
    checks = {key for key in graph.asset_check_keys}
    contacts = dg.AssetKey(["marts", "contacts"])
    contact_checks = [graph.get_check_spec(k) for k in checks if k.asset_key == contacts]
    assert any(spec.blocking for spec in contact_checks), "error-severity dbt tests must block"
    for table in RAW:
        key = dg.AssetKey(table.split("/"))
        names = {k.name for k in checks if k.asset_key == key}
        assert {"row_count", "freshness_check"} <= names, (table, names)
    # Freshness is the sensor's job, not the run's: inside a run it would judge the state before it.
    job_checks = defs.resolve_job_def("calendly_elt").asset_layer.asset_graph.asset_check_keys
    assert not any(k.name == "freshness_check" for k in job_checks)
