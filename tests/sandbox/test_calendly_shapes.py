"""Account profiles and shape knobs of the Calendly sandbox: each knob does what it says, as a client
of the API sees it; every profile is deterministic and takes the mutations; the CLI serves a
profile with its plan's rate limit. (Their conformance to the spec is in test_calendly_contract.)"""

import json
import re
import types

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines import cli
from sandbox.calendly import CalendlySandbox, quirks
from sandbox.calendly.shapes import CANCELLATIONS, PROFILES, Shape

from .conftest import local, make_account, session
from .test_calendly_sandbox import by_uri, served, walk
from .test_calendly_webhooks import ALL_EVENTS, Receiver, payload_schema, spec, subscribe  # noqa: F401 (fixtures)

NON_LATIN = re.compile(r"[\u0400-\u04ff\u0600-\u06ff\u3040-\u30ff\u4e00-\u9fff\U0001f300-\U0001faff]")


def small(name: str, events: int = 60, seed: int = 7):
    """Profile ``name`` with few events (the knobs, not the volume, are under test)."""
    profile = PROFILES[name]
    return make_account(seed=seed, events=min(profile.events, events), shape=profile.shape)


def served_with(shape: Shape, events: int = 60, seed: int = 7) -> tuple:
    """(account, what a client extracting it through the API gets)."""
    account = make_account(seed=seed, events=events, shape=shape)
    with CalendlySandbox(account, rate_limit=None) as sb:
        return account, served(sb, account)


# ---------------------------------------------------------------------------- shapes and profiles
def test_the_default_shape_is_the_team_account():
    """Shape() reproduces the account generated before there were shapes (checked by hash against
    the code before the change; the existing tests' exact figures depend on it)."""
    base = make_account(seed=7)
    for other in (make_account(seed=7, shape=Shape()), make_account(seed=7, shape=PROFILES["team"].shape)):
        assert other.truth() == base.truth() and other.tokens == base.tokens and other.users == base.users
    assert PROFILES["team"].shape == Shape() and Shape().knobs() == {}
    # the old keyword arguments still work, as overrides of the shape
    assert make_account(seed=7, hosts=3, routing_forms=1).truth() == \
        make_account(seed=7, shape=Shape(hosts=3, routing_forms=1)).truth()
    assert make_account(seed=7, hosts=3, shape=Shape(hosts=9, utm=False)).shape == Shape(hosts=3, utm=False)


@pytest.mark.parametrize("name", PROFILES)
def test_every_profile_is_deterministic_and_takes_mutations(name):
    a, b = small(name), small(name)
    assert a.truth() == b.truth() and a.tokens == b.tokens and a.users == b.users
    assert small(name, seed=8).truth() != a.truth()
    # mutations: the same seed on the same account changes the same rows, and the API keeps up
    changes = a.apply_random_changes(seed=4, cancels=2, reschedules=2, no_shows=2, new_bookings=3)
    assert b.apply_random_changes(seed=4, cancels=2, reschedules=2, no_shows=2, new_bookings=3) == changes
    booked = a.add_booking()
    a.mark_no_show(booked)
    a.unmark_no_show(booked)
    a.cancel_invitee(booked, canceler_type="host")
    if a.truth()["routing_forms"]:
        a.add_routing_form_submission()
    with CalendlySandbox(a, rate_limit=None) as sb:
        assert served(sb, a) == listed(a.truth())


def listed(truth: dict) -> dict:
    """The truth as the listings show it: deleted event types are only served by uri."""
    return dict(truth, event_types=[t for t in truth["event_types"] if t["deleted_at"] is None])


def test_shape_refuses_impossible_knobs():
    for bad in (dict(hosts=0), dict(departed_hosts=5), dict(null_timezones=1.5), dict(cancellations="all"),
                dict(group_size=(10, 5)), dict(routing_forms=-1)):
        with pytest.raises(ValueError):
            Shape(**bad)


# ---------------------------------------------------------------------------- profiles
def test_empty_account_has_nothing_booked_yet():
    account = small("empty")
    with CalendlySandbox(account, rate_limit=None) as sb:
        s, org = session(account.tokens["admin"]), account.organization_uri
        body = s.get(f"{sb.url}/scheduled_events", params={"organization": org}).json()
        assert body["collection"] == [] and body["pagination"]["count"] == 0 and body["pagination"]["next_page"] is None
        assert s.get(f"{sb.url}/routing_forms", params={"organization": org}).json()["collection"] == []
        memberships = s.get(f"{sb.url}/organization_memberships", params={"organization": org}).json()["collection"]
        assert [m["role"] for m in memberships] == ["owner"]
        assert s.get(f"{sb.url}/event_types", params={"organization": org}).json()["collection"]
        assert set(account.tokens) == {"admin"}
        # the first booking arrives
        uri = account.add_booking()
        events = s.get(f"{sb.url}/scheduled_events", params={"organization": org}).json()["collection"]
        assert len(events) == 1 and s.get(local(sb, uri)).json()["resource"]["event"] == events[0]["uri"]
    with pytest.raises(ValueError):
        account.add_routing_form_submission()


def test_solo_account_is_one_owner_without_questions_or_forms():
    account, api = served_with(PROFILES["solo"].shape)
    owner = account.users["owner"]["uri"]
    assert [m["role"] for m in api["organization_memberships"]] == ["owner"] and set(account.tokens) == {"admin"}
    assert api["routing_forms"] == [] and api["scheduled_events"]
    assert all(m["user"] == owner for e in api["scheduled_events"] for m in e["event_memberships"])
    assert {t["pooling_type"] for t in api["event_types"]} == {None}  # a team's pooled types need two hosts
    assert all(t["custom_questions"] == [] for t in api["event_types"])
    assert all(i["questions_and_answers"] == [] for i in api["invitees"])


def test_enterprise_group_events_page_past_100_invitees():
    account = small("enterprise", events=80)
    truth = account.truth()
    assert len(truth["organization_memberships"]) == 25 - 2 and len(truth["routing_forms"]) == 4
    with CalendlySandbox(account, rate_limit=None) as sb:
        s = session(account.tokens["admin"])
        big = next(e for e in truth["scheduled_events"] if e["invitees_counter"]["total"] > 100)
        first = s.get(local(sb, big["uri"]) + "/invitees", params={"count": 100}).json()
        assert first["pagination"]["count"] == 100 and first["pagination"]["next_page"]
        rest = walk(s, first["pagination"]["next_page"], None)
        assert len(first["collection"]) + len(rest) == big["invitees_counter"]["total"] <= big["invitees_counter"]["limit"]


# ---------------------------------------------------------------------------- each knob, as served
def test_no_utm_means_every_tracking_value_is_null():
    _, api = served_with(Shape(utm=False))
    rows = api["invitees"] + api["routing_form_submissions"]
    assert rows and all(v is None for r in rows for v in r["tracking"].values())
    _, team = served_with(Shape())
    assert any(v is not None for r in team["invitees"] for v in r["tracking"].values())


def test_null_timezones():
    _, api = served_with(Shape(null_timezones=0.3), events=120)
    share = sum(i["timezone"] is None for i in api["invitees"]) / len(api["invitees"])
    assert 0.15 <= share <= 0.45
    rows = by_uri(api["invitees"])  # a rescheduled booking keeps the timezone it had
    assert all(rows[i["old_invitee"]]["timezone"] == i["timezone"] for i in api["invitees"] if i["old_invitee"])


def test_unknown_timezones():
    _, api = served_with(Shape(unknown_timezones=0.3), events=120)
    odd = [i["timezone"] for i in api["invitees"] if i["timezone"] in quirks.UNKNOWN_TIMEZONES]
    assert 0.15 <= len(odd) / len(api["invitees"]) <= 0.45 and "" in odd


def test_cancellations_none_and_only():
    _, calm = served_with(Shape(cancellations="none"), events=120)
    assert {i["status"] for i in calm["invitees"]} == {"active"} and not any(i["rescheduled"] for i in calm["invitees"])
    assert {e["status"] for e in calm["scheduled_events"]} == {"active"}
    assert any(i["no_show"] for i in calm["invitees"])  # no-shows are their own knob
    _, gone = served_with(Shape(cancellations="only"), events=120)
    assert {i["status"] for i in gone["invitees"]} == {"canceled"} and not any(i["no_show"] for i in gone["invitees"])
    assert {e["status"] for e in gone["scheduled_events"]} == {"canceled"}
    assert all(e["cancellation"] for e in gone["scheduled_events"])
    assert {i["cancellation"]["canceler_type"] for i in gone["invitees"]} == {"host", "invitee"}


def test_no_no_shows():
    _, api = served_with(Shape(no_shows=False), events=120)
    assert not any(i["no_show"] for i in api["invitees"])
    assert any(i["status"] == "canceled" for i in api["invitees"])


def test_no_custom_questions():
    account, api = served_with(Shape(custom_questions=False))
    assert all(t["custom_questions"] == [] for t in api["event_types"])
    assert api["invitees"] and all(i["questions_and_answers"] == [] for i in api["invitees"])
    uri = account.add_booking()
    assert by_uri(account.truth()["invitees"])[uri]["questions_and_answers"] == []


def test_deleted_event_types_are_fetchable_but_not_listed():
    account = make_account(events=120, shape=Shape(deleted_event_types=2))
    truth = account.truth()
    deleted = [t for t in truth["event_types"] if t["deleted_at"]]
    assert len(deleted) == 2 and all(not t["active"] and t["updated_at"] == t["deleted_at"] for t in deleted)
    with CalendlySandbox(account, rate_limit=None) as sb:
        s, org = session(account.tokens["admin"]), account.organization_uri
        api = served(sb, account)
        assert {t["uri"] for t in api["event_types"]} == {t["uri"] for t in truth["event_types"]} - \
            {t["uri"] for t in deleted}
        for t in deleted:
            assert s.get(local(sb, t["uri"])).json()["resource"] == t
            booked = [i for e in api["scheduled_events"] if e["event_type"] == t["uri"] for i in api["invitees"]
                      if i["event"] == e["uri"]]
            assert booked and max(i["created_at"] for i in booked) <= t["deleted_at"] <= "2025-06-02T15"
        inactive = s.get(f"{sb.url}/event_types", params={"organization": org, "active": "false"}).json()
        assert [t["name"] for t in inactive["collection"]] == ["Legacy Consultation"]
    with pytest.raises(ValueError):
        account.add_booking(event_type_uri=deleted[0]["uri"])


def test_departed_hosts_lose_their_membership_and_keep_their_events():
    account = make_account(events=120, shape=Shape(departed_hosts=1))
    (gone,) = account.departed_users
    assert gone["uri"] not in account.tokens_by_user and gone not in account.users.values()
    with CalendlySandbox(account, rate_limit=None) as sb:
        s, org = session(account.tokens["admin"]), account.organization_uri
        api = served(sb, account)
        assert len(api["organization_memberships"]) == 4
        assert gone["uri"] not in {m["user"]["uri"] for m in api["organization_memberships"]}
        hosted = [e for e in api["scheduled_events"] if gone["uri"] in {m["user"] for m in e["event_memberships"]}]
        assert hosted and all(m["user_name"] == gone["name"] for e in hosted for m in e["event_memberships"]
                              if m["user"] == gone["uri"])
        assert s.get(local(sb, gone["uri"])).status_code == 200  # still a Calendly user, elsewhere
        r = s.get(f"{sb.url}/scheduled_events", params={"organization": org, "user": gone["uri"]})
        assert r.status_code == 403 and r.json()["message"] == "This user is not in your organization"
        invitations = s.get(f"{sb.url}/organizations/{org.rsplit('/', 1)[1]}/invitations").json()["collection"]
        assert gone["uri"] not in {i["user"] for i in invitations}
    # their round-robin type books the hosts who stayed
    added = account.apply_random_changes(seed=9, cancels=0, reschedules=5, no_shows=0, new_bookings=40)
    new_events = {by_uri(account.truth()["invitees"])[u]["event"] for u in added["added"]}
    events = by_uri(account.truth()["scheduled_events"])
    assert all(gone["uri"] not in {m["user"] for m in events[e]["event_memberships"]} for e in new_events)


def test_long_and_non_latin_text():
    _, api = served_with(Shape(long_answers=True), events=120)
    answers = [qa["answer"] for i in api["invitees"] for qa in i["questions_and_answers"]]
    names = [i["name"] for i in api["invitees"]]
    assert max(map(len, names)) >= quirks.LONG
    assert max(map(len, answers)) >= quirks.LONG  # a company answer, or a free-text one
    assert any(NON_LATIN.search(n) for n in names) and any(NON_LATIN.search(a) for a in answers)
    assert any("\n" in a and NON_LATIN.search(a) for a in answers)
    assert any(len(a) < 200 and re.search("[À-ÿ]", a) for a in answers + names)  # accents
    sub_answers = [qa["answer"] or "" for s in api["routing_form_submissions"] for qa in s["questions_and_answers"]]
    assert any(NON_LATIN.search(a) or len(a) >= quirks.LONG for a in sub_answers)


def test_unknown_fields_on_every_resource_with_a_drifting_type():
    account, api = served_with(Shape(unknown_fields=True), events=120)
    nested = {"event_types": lambda r: r["profile"], "scheduled_events": lambda r: r["event_memberships"][0],
              "invitees": lambda r: r["tracking"], "organization_memberships": lambda r: r["user"],
              "routing_forms": lambda r: r["questions"][0], "routing_form_submissions": lambda r: r["tracking"]}
    for table, rows in api.items():
        assert rows, table
        for r in rows:
            assert set(quirks.TOP_LEVEL) <= set(r), (table, r["uri"])
            assert isinstance(r[quirks.NEW_STRING], str) and isinstance(r[quirks.NEW_OBJECT], dict)
            assert isinstance(r[quirks.NEW_LIST], list) and all(isinstance(x, dict) for x in r[quirks.NEW_LIST])
            assert isinstance(nested[table](r)[quirks.NESTED], str)
        kinds = [type(r[quirks.DRIFTING]) for r in rows]
        # a number on most rows, a string on a few (on one of two in a two-row table)
        assert 0 < kinds.count(str) <= kinds.count(int) == len(kinds) - kinds.count(str), table
    assert any(r[quirks.NEW_LIST] for r in api["invitees"])
    # what the mutations create looks the same
    uri = account.add_booking()
    inv = by_uri(account.truth()["invitees"])[uri]
    assert set(quirks.TOP_LEVEL) <= set(inv) and quirks.NESTED in inv["tracking"]


def test_webhook_payloads_of_a_rough_account_conform(payload_schema):  # noqa: F811 (fixture)
    """Deliveries carry the same resources: null timezones and undocumented fields included."""
    account = make_account(seed=5, events=120, shape=PROFILES["messy"].shape)
    with Receiver() as receiver, CalendlySandbox(account, rate_limit=None) as sb:
        subscribe(sb, account.tokens["admin"], receiver.url, events=ALL_EVENTS)
        changes = account.apply_random_changes(seed=6, cancels=3, reschedules=2, no_shows=2, new_bookings=3)
        account.add_routing_form_submission()
        expected = 3 + 2 * 2 + 2 + 3 + 1
        assert sum(map(len, changes.values())) == 3 + 2 + 2 + 3
        deliveries = [json.loads(r["body"]) for r in receiver.wait_for(expected)]
    for d in deliveries:
        payload_schema.validate(d)
    assert all(quirks.NEW_STRING in d["payload"] for d in deliveries)


# ---------------------------------------------------------------------------- the CLI
def test_sandbox_command_serves_the_profile_with_its_rate_limit(monkeypatch, capsys):
    """`calendly-elt sandbox --profile solo`: the first line names the profile, the API answers
    with Calendly Free's 50 requests per minute, and no member token is offered."""
    seen = {}

    def stop_after_one_request(_seconds):  # stands in for the command's wait for Ctrl-C
        out = capsys.readouterr().out
        seen["out"] = out
        url = re.search(r"Calendly sandbox: (\S+)", out).group(1)
        token = re.search(r"CALENDLY_ACCESS_TOKEN=(\S+)", out).group(1)
        seen["response"] = session(token).get(f"{url}/users/me")
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "time", types.SimpleNamespace(sleep=stop_after_one_request))
    assert cli.main(["sandbox", "--profile", "solo", "--port", "0", "--brevo-port", "0"]) == 0
    first = seen["out"].splitlines()[0]
    assert "profile solo" in first and "300 events" in first and "50 requests/minute" in first
    assert "member without admin rights" not in seen["out"]
    assert seen["response"].status_code == 200 and seen["response"].headers["X-RateLimit-Limit"] == "50"
    commands = cli.command().commands
    args = commands["sandbox"].make_context("sandbox", ["--profile", "enterprise", "--events", "10",
                                                        "--rate-limit", "7"]).params
    assert (args["profile"], args["events"], args["rate_limit"]) == ("enterprise", 10, 7)
    demo = commands["demo"].make_context("demo", ["--profile", "empty"]).params
    assert demo["profile"] == "empty" and demo["events"] is None
    assert cli.main(["sandbox", "--profile", "nope"]) == 2  # a usage error, as before


def test_sandbox_command_pins_now_and_serves_the_same_account_twice(monkeypatch, capsys):
    """`--now` pins the instant the history is generated around: two sandboxes of the same seed and
    `--now` serve the same events, and the first line says which instant it was."""
    served_events = []

    def list_events_and_stop(_seconds):
        out = capsys.readouterr().out
        served_events.append((out.splitlines()[0], list_scheduled_events(out)))
        raise KeyboardInterrupt

    def list_scheduled_events(out):
        url = re.search(r"Calendly sandbox: (\S+)", out).group(1)
        token = re.search(r"CALENDLY_ACCESS_TOKEN=(\S+)", out).group(1)
        http = session(token)
        me = http.get(f"{url}/users/me").json()["resource"]
        page = http.get(f"{url}/scheduled_events", params={"user": me["uri"], "count": 100, "sort": "start_time:asc"})
        return [(e["uri"], e["start_time"], e["status"]) for e in page.json()["collection"]]

    monkeypatch.setattr(cli, "time", types.SimpleNamespace(sleep=list_events_and_stop))
    for _ in range(2):
        assert cli.main(["sandbox", "--profile", "solo", "--events", "40", "--now", "2025-06-02T17:00:00Z",
                         "--port", "0", "--brevo-port", "0"]) == 0
    (first_line, events), (_, again) = served_events
    assert "now 2025-06-02T17:00:00Z" in first_line
    assert events and events == again
    assert cli.main(["sandbox", "--now", "tomorrow"]) == 2


# ---------------------------------------------------------------------------- any combination
@st.composite
def any_shape(draw) -> Shape:
    hosts = draw(st.integers(1, 7))
    return Shape(hosts=hosts, routing_forms=draw(st.integers(0, 3)), custom_questions=draw(st.booleans()),
                 utm=draw(st.booleans()), null_timezones=draw(st.sampled_from([0.0, 0.3, 1.0])),
                 cancellations=draw(st.sampled_from(CANCELLATIONS)), no_shows=draw(st.booleans()),
                 deleted_event_types=draw(st.integers(0, 3)), departed_hosts=draw(st.integers(0, min(3, hosts - 1))),
                 long_answers=draw(st.booleans()), unknown_fields=draw(st.booleans()),
                 group_size=draw(st.sampled_from([None, (1, 2), (101, 110)])))


@settings(max_examples=40, deadline=None)
@given(shape=any_shape(), events=st.sampled_from([0, 1, 3, 40]), seed=st.integers(0, 2**31),
       days=st.sampled_from([(365, 90), (365, 0), (0, 90)]))
def test_any_shape_gives_a_consistent_account_that_takes_mutations(shape, events, seed, days):
    """No combination of knobs breaks generation, the history's invariants or the mutations."""
    account = make_account(seed=seed, events=events, shape=shape, past_days=days[0], future_days=days[1])
    truth = account.truth()
    assert len(truth["organization_memberships"]) == shape.hosts - shape.departed_hosts
    rows: dict = {}
    for i in truth["invitees"]:
        rows.setdefault(i["event"], []).append(i)
        assert i["created_at"] <= i["updated_at"]
    for e in truth["scheduled_events"]:
        counter, active = e["invitees_counter"], sum(i["status"] == "active" for i in rows[e["uri"]])
        assert counter["total"] == len(rows[e["uri"]]) <= counter["limit"] and counter["active"] == active
        assert (e["status"] == "canceled") == (active == 0) == ("cancellation" in e)
    statuses = {i["status"] for i in truth["invitees"]}
    assert statuses <= {"none": {"active"}, "only": {"canceled"}, "some": {"active", "canceled"}}[shape.cancellations]
    account.apply_random_changes(seed=seed, cancels=2, reschedules=2, no_shows=2, new_bookings=3)
    if truth["routing_forms"]:
        account.add_routing_form_submission()
    twin = make_account(seed=seed, events=events, shape=shape, past_days=days[0], future_days=days[1])
    assert twin.truth() == truth


def test_a_plan_without_routing_forms_refuses_to_list_them():
    account = make_account(seed=7, events=20, shape=Shape(routing_forms=0, routing_forms_on_plan=False))
    with CalendlySandbox(account, rate_limit=None) as sb:
        response = session(account.tokens["admin"]).get(f"{sb.url}/routing_forms",
                                                        params={"organization": account.organization_uri})
        assert response.status_code == 403 and response.json()["title"] == "Permission Denied"
    with pytest.raises(ValueError):
        Shape(routing_forms=1, routing_forms_on_plan=False)
