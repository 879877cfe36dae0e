"""The mapping YAML: the shipped default loads, and every mistake is one ConfigError naming the key."""

import pytest
import yaml

from pipelines.exceptions import ConfigError
from pipelines.config import PROJECT_ROOT
from pipelines.mapping import load_mapping


def test_the_shipped_default_maps_the_usual_questions():
    fields = load_mapping().question_fields()
    assert "job title" in fields["job_title"] and "role" in fields["job_title"]
    assert "company name" in fields["company"]
    assert "phone number" in fields["phone"]


def test_question_texts_are_matched_lower_cased(tmp_path):
    path = tmp_path / "m.yml"
    path.write_text("field_mapping:\n  JOB_TITLE:\n    questions: ['  Your ROLE ']\n")
    assert load_mapping(path).question_fields() == {"company": [], "job_title": ["your role"], "phone": []}


def test_dbt_project_defaults_are_the_shipped_mappings_vars():
    """`make manifest` and dbt run by hand use dbt_project.yml's vars; every pipeline run passes
    Mapping.dbt_vars(). For the shipped mapping they are the same, so a model cannot differ."""
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project" / "dbt_project.yml").read_text())
    assert project["vars"] == load_mapping().dbt_vars()


def test_dbt_vars_name_attributes_by_mart_column_and_lists_by_event_type(tmp_path):
    path = tmp_path / "m.yml"
    path.write_text("field_mapping:\n  PRENOM: first_name\n  RDV: start_time\n  MOBILE: phone\n"
                    "  SMS:\n    questions: [Phone]\n  INDUSTRY:\n    questions: [Industry]\n"
                    "all_invitees_list: Everyone\n"
                    "event_mapping:\n  Product Demo: {list_id: '12'}\n  Intro Call: {list_name: Warm leads}\n")
    variables = load_mapping(path).dbt_vars()
    # INDUSTRY: questions feed only COMPANY, JOB_TITLE and SMS, so it is not sent.
    assert variables["brevo_attributes"] == {"PRENOM": "first_name", "RDV": "latest_start_time",
                                             "MOBILE": "phone_e164", "SMS": "phone_e164"}
    assert variables["brevo_all_invitees_list"] == "Everyone"
    assert variables["brevo_event_type_lists"] == {"Product Demo": "#12", "Intro Call": "Warm leads"}
    assert variables["field_mapping"] == {"company": [], "job_title": [], "phone": ["phone"]}


@pytest.mark.parametrize("text, key", [
    ("field_mapping: [1, 2]", "field_mapping"),
    ("field_mapping:\n  COMPANY:\n    questions: []\n", "field_mapping.COMPANY.questions"),
    ("field_mapping:\n  FIRSTNAME: nickname\n", "field_mapping.FIRSTNAME"),
    ("event_mapping:\n  Demo: {colour: red}\n", "event_mapping"),
    ("field_mapping: {a: [unclosed\n", "not valid YAML"),
    ("field_mapping:\n  FIRST NAME: first_name\n", "field_mapping.FIRST NAME"),  # also a column name
    ("field_mapping:\n  Lists: first_name\n", "field_mapping.Lists"),  # a column of marts.brevo_contacts
    ("field_mapping:\n  SMS: phone\n  sms: phone\n", "field_mapping.sms"),  # Brevo ignores case
    ("event_mapping:\n  Demo: {list_id: twelve}\n", "event_mapping.Demo.list_id"),
])
def test_mistakes_name_the_key(tmp_path, text, key):
    path = tmp_path / "m.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")) as err:
        load_mapping(path)
    assert "\n" not in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_mapping(tmp_path / "nope.yml")
