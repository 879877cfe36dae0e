"""The mapping YAML is checked strictly: every mistake is one line `FILE:LINE:COL: KEY: what to fix`,
and a bad file stops `calendly-elt sync` before Brevo hears anything."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from pipelines.config import Settings
from pipelines.exceptions import ConfigError
from pipelines.extract import run_extract
from pipelines.mapping import DEFAULT_MAPPING, Mapping, load_mapping
from pipelines.transform import run_transform
from sandbox.stack import start_sandboxes

TOP_KEYS = "field_mapping, all_invitees_list, event_mapping"


@pytest.mark.parametrize("text, line, column, key, hint", [
    # an unknown top-level key: the allowed ones
    ("field_mapping: {}\nfoo: bar\n", 2, 1, "foo", TOP_KEYS),
    # an unknown key in an event_mapping entry
    ("field_mapping: {}\nevent_mapping:\n  Demo:\n    list_id: 3\n    colour: red\n", 5, 5,
     "event_mapping.Demo.colour", "list_id, list_name"),
    ("field_mapping:\n  COMPANY:\n    question: [Company]\n", 3, 5, "field_mapping.COMPANY.question", "questions"),
    # a list where a mapping is expected
    ("field_mapping:\n  - FIRSTNAME\n", 2, 3, "field_mapping", "expected a mapping"),
    ("field_mapping: {}\nevent_mapping: [Demo]\n", 2, 16, "event_mapping", "expected a mapping"),
    # an unknown contact field: the allowed ones
    ("field_mapping:\n  FIRSTNAME: first_name\n  NICK: nickname\n", 3, 9, "field_mapping.NICK",
     "booking_status, company, event_type_name, first_name, job_title, last_name, phone, start_time"),
    # questions: not a non-empty list of texts
    ("field_mapping:\n  COMPANY:\n    questions: Company\n", 3, 16, "field_mapping.COMPANY.questions",
     "expected a list"),
    ("field_mapping:\n  COMPANY:\n    questions: []\n", 3, 16, "field_mapping.COMPANY.questions",
     "at least one question"),
    ("field_mapping:\n  COMPANY:\n    questions:\n      - Company\n      - 42\n", 5, 9,
     "field_mapping.COMPANY.questions[1]", "quote it"),
    ("field_mapping:\n  COMPANY: {}\n", 2, 12, "field_mapping.COMPANY.questions", "missing"),
    # a bad attribute name, on the key
    ("field_mapping:\n  FIRST NAME: first_name\n", 2, 3, "field_mapping.FIRST NAME", "letters, digits"),
    ("field_mapping:\n  SMS: phone\n  sms: phone\n", 3, 3, "field_mapping.sms", "ignores case"),
    # event_mapping entries: one list, by a numeric id or a name
    ("field_mapping: {}\nevent_mapping:\n  Demo: {}\n", 3, 9, "event_mapping.Demo", "list_id (a number) or as list_name"),
    ("field_mapping: {}\nevent_mapping:\n  Demo: {list_id: 1, list_name: Leads}\n", 3, 9, "event_mapping.Demo",
     "one of the two"),
    ("field_mapping: {}\nevent_mapping:\n  Demo: {list_id: twelve}\n", 3, 19, "event_mapping.Demo.list_id",
     "a number"),
    ("field_mapping: {}\nall_invitees_list: 7\n", 2, 20, "all_invitees_list", "expected a text"),
    # rebooking_links: its keys, an attribute name Brevo takes and no other mapped attribute has, a cap >= 1
    ("field_mapping: {}\nrebooking_links:\n  atribute: X\n", 3, 3, "rebooking_links.atribute",
     "enabled, attribute, max_per_run"),
    ("field_mapping: {}\nrebooking_links:\n  attribute: REBOOK URL\n", 3, 14, "rebooking_links.attribute",
     "letters, digits"),
    ("field_mapping: {}\nrebooking_links:\n  max_per_run: 0\n", 3, 16, "rebooking_links.max_per_run",
     "greater than or equal to 1"),
    ("field_mapping: {}\nrebooking_links: {enabled: yes please}\n", 2, 28, "rebooking_links.enabled", "true or false"),
    ("field_mapping:\n  REBOOK_URL: first_name\n", 2, 3, "field_mapping.REBOOK_URL",
     "the re-booking link fills this attribute"),
    ("field_mapping:\n  LINK: first_name\nrebooking_links: {attribute: link}\n", 3, 30, "rebooking_links.attribute",
     "field_mapping fills this attribute already"),
    # a key written twice (PyYAML alone would keep the second silently)
    ("field_mapping:\n  FIRSTNAME: first_name\nfield_mapping: {}\n", 3, 1, "field_mapping", "written twice"),
    # no field_mapping: contacts would go out with no attributes
    ("event_mapping: {}\n", 1, 1, "field_mapping", "field_mapping: {}"),
    ("# field_mapping:\n#   FIRSTNAME: first_name\nfield_mapping:\n", 3, 15, "field_mapping", "field_mapping: {}"),
    # YAML syntax: a tab, an unclosed bracket (the bracket's place too), a control character
    ("field_mapping:\n\tFIRSTNAME: first_name\n", 2, 1, None, "not valid YAML"),
    ("field_mapping:\n  COMPANY:\n    questions: [Company, Organisation\n", 4, 1, None, "started at 3:16"),
    ("field_mapping:\n  FIRSTNAME: first\x01name\n", 2, 19, None, "U+0001"),
])
def test_a_mistake_is_one_line_with_file_line_column_and_key(tmp_path, text, line, column, key, hint):
    path = tmp_path / "mapping.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_mapping(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}:{column}: " + (f"{key}: " if key else "")), message
    assert hint in message


@pytest.mark.parametrize("text", ["", "\n", "# a mapping, all commented out\n#field_mapping:\n#  X: first_name\n"])
def test_an_empty_file_is_an_error_not_a_sync_without_attributes(tmp_path, text):
    path = tmp_path / "mapping.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="no field_mapping") as err:
        load_mapping(path)
    assert str(err.value).startswith(f"{path}:1:1: ") and "no attributes" in str(err.value)


def test_rebooking_links_default_on_and_switched_off_frees_the_attribute(tmp_path):
    links = load_mapping(DEFAULT_MAPPING).rebooking_links
    assert (links.enabled, links.attribute, links.max_per_run) == (True, "REBOOK_URL", 100)
    path = tmp_path / "mapping.yml"
    path.write_text("field_mapping:\n  REBOOK_URL: first_name\nrebooking_links: {enabled: false, max_per_run: 5}\n")
    mapping = load_mapping(path)
    assert not mapping.rebooking_links.enabled and mapping.rebooking_links.max_per_run == 5
    assert mapping.brevo_attributes() == {"REBOOK_URL": "first_name"}


def test_an_explicit_empty_field_mapping_sends_no_attributes(tmp_path):
    path = tmp_path / "mapping.yml"
    path.write_text("field_mapping: {}\nevent_mapping:\n")
    mapping = load_mapping(path)
    assert mapping.brevo_attributes() == {} and mapping.event_type_lists() == {}
    assert mapping.all_invitees_list == "Calendly: All invitees"


def test_the_first_mistake_is_reported_and_the_rest_counted(tmp_path):
    path = tmp_path / "mapping.yml"
    path.write_text("field_mapping:\n  A: nickname\nfoo: 1\nbar: 2\n")
    with pytest.raises(ConfigError, match=r":2:6: field_mapping\.A: .*\(and 2 more mistakes\)$"):
        load_mapping(path)


def test_event_types_and_list_ids_written_as_numbers(tmp_path):
    path = tmp_path / "mapping.yml"
    path.write_text("field_mapping: {}\nevent_mapping:\n  2024: {list_id: 7}\n  Demo: {list_id: ' 12'}\n")
    assert load_mapping(path).event_type_lists() == {"2024": "#7", "Demo": "#12"}


def test_the_shipped_mapping_reads_as_plain_yaml_does():
    """Checking the shipped file changes nothing it says: the vars are those of the file read as is."""
    data = yaml.safe_load(DEFAULT_MAPPING.read_text())
    plain = Mapping(field_mapping=data["field_mapping"], all_invitees_list=data["all_invitees_list"],
                    event_mapping=data["event_mapping"] or {})
    assert load_mapping().dbt_vars() == plain.dbt_vars()


# ----------------------------------------------------------------------- the command, end to end

@pytest.fixture(scope="module")
def synced_nothing_yet(tmp_path_factory):
    """Running sandboxes (a small solo account) and a warehouse built from it; Brevo not yet called."""
    tmp = tmp_path_factory.mktemp("mapping_e2e")
    with start_sandboxes("solo", events=30, seed=5, rate_limit=0, import_seconds=0.05) as sandboxes:
        env = sandboxes.env()
        settings = Settings(calendly_token=env["CALENDLY_ACCESS_TOKEN"], calendly_api_url=env["CALENDLY_API_URL"],
                            warehouse_path=tmp / "warehouse.duckdb")
        run_extract(settings)
        run_transform(settings, select="+brevo_contacts +booking_transitions")  # only what the sync reads
        bad = tmp / "u.yml"
        bad.write_text("foo: bar\n")
        base = {key: value for key, value in os.environ.items() if key not in ("WAREHOUSE_URL", "CALENDLY_ELT_CONFIG")}
        yield sandboxes, {**base, "WAREHOUSE_PATH": str(settings.warehouse_path), **env}, bad


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("args", [("sync",), ("sync", "--dry-run")])
def test_a_bad_mapping_stops_the_sync_before_brevo_hears_anything(synced_nothing_yet, args):
    sandboxes, env, bad = synced_nothing_yet
    before = sandboxes.brevo.stats()["requests"]
    done = _cli(*args, env={**env, "CALENDLY_ELT_CONFIG": str(bad)})
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("calendly-elt sync: ")
    assert f"{bad}:1:1: foo: unknown key" in done.stderr
    assert sandboxes.brevo.stats()["requests"] == before == 0


def test_the_same_sync_with_the_shipped_mapping_sends(synced_nothing_yet):
    """The control: this warehouse and this Brevo do sync, so the test above saw the mapping stop it."""
    sandboxes, env, _ = synced_nothing_yet
    done = _cli("sync", env=env)
    assert done.returncode == 0, done.stderr
    assert sandboxes.brevo.stats()["requests"] > 0 and sandboxes.brevo_account.contacts()
