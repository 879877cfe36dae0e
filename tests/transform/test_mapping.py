"""The mapping YAML: the shipped default loads, and every mistake is one ConfigError naming the key."""

import pytest

from pipelines.exceptions import ConfigError
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


@pytest.mark.parametrize("text, key", [
    ("field_mapping: [1, 2]", "field_mapping"),
    ("field_mapping:\n  COMPANY:\n    questions: []\n", "field_mapping.COMPANY.questions"),
    ("field_mapping:\n  FIRSTNAME: nickname\n", "field_mapping.FIRSTNAME"),
    ("event_mapping:\n  Demo: {colour: red}\n", "event_mapping"),
    ("field_mapping: {a: [unclosed\n", "not valid YAML"),
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
