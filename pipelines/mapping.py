"""The mapping YAML (CALENDLY_ELT_CONFIG): Calendly event types and fields → Brevo lists and attributes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .config import PROJECT_ROOT
from .exceptions import ConfigError

DEFAULT_MAPPING = PROJECT_ROOT / "config" / "calendly-elt.yml"

# Attributes whose questions feed a contact column of the marts (dbt var `field_mapping`).
QUESTION_FIELDS = {"COMPANY": "company", "JOB_TITLE": "job_title", "SMS": "phone"}
CONTACT_FIELDS = {"first_name", "last_name", "company", "job_title", "phone", "event_type_name",
                  "start_time", "booking_status"}


@dataclass(frozen=True)
class Mapping:
    field_mapping: dict[str, Any]
    all_invitees_list: str = "Calendly: All invitees"
    event_mapping: dict[str, dict] = field(default_factory=dict)
    source: Path | None = None

    def dbt_vars(self) -> dict[str, Any]:
        """The dbt vars this mapping sets (every dbt invocation passes them: pipelines/transform.py)."""
        return {"field_mapping": self.question_fields()}

    def question_fields(self) -> dict[str, list[str]]:
        """dbt var `field_mapping`: contact column → question texts (lower-cased)."""
        out: dict[str, list[str]] = {}
        for attribute, column in QUESTION_FIELDS.items():
            spec = self.field_mapping.get(attribute)
            if isinstance(spec, dict):
                out[column] = [q.strip().lower() for q in spec["questions"]]
            else:
                out[column] = []  # not mapped: the column stays empty
        return out


def load_mapping(path: Path | None = None) -> Mapping:
    """Read and check the mapping; a mistake is a ConfigError naming the file and the key."""
    path = path or DEFAULT_MAPPING
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"CALENDLY_ELT_CONFIG: no such file {path}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with field_mapping and event_mapping")
    fields = data.get("field_mapping") or {}
    if not isinstance(fields, dict):
        raise ConfigError(f"{path}: field_mapping must map Brevo attributes to a field or to questions")
    for attribute, spec in fields.items():
        if isinstance(spec, dict):
            questions = spec.get("questions")
            if not (isinstance(questions, list) and questions and all(isinstance(q, str) for q in questions)):
                raise ConfigError(f"{path}: field_mapping.{attribute}.questions must be a list of question texts")
        elif spec not in CONTACT_FIELDS:
            raise ConfigError(f"{path}: field_mapping.{attribute}: {spec!r} is not one of "
                              f"{', '.join(sorted(CONTACT_FIELDS))} and not a `questions:` list")
    events = data.get("event_mapping") or {}
    if not isinstance(events, dict) or not all(
            isinstance(v, dict) and ({"list_id", "list_name"} & v.keys()) for v in events.values()):
        raise ConfigError(f"{path}: event_mapping entries need a list_id or a list_name")
    return Mapping(field_mapping=fields, all_invitees_list=str(data.get("all_invitees_list") or
                   "Calendly: All invitees"), event_mapping=events, source=path)
