"""The mapping YAML (CALENDLY_ELT_CONFIG): Calendly event types and fields → Brevo lists and attributes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .config import PROJECT_ROOT
from .exceptions import ConfigError

DEFAULT_MAPPING = PROJECT_ROOT / "config" / "calendly-elt.yml"

# Attributes whose questions feed a contact column of the marts (dbt var `field_mapping`).
QUESTION_FIELDS = {"COMPANY": "company", "JOB_TITLE": "job_title", "SMS": "phone"}
# The column of marts.contacts behind each contact field the mapping may name (dbt var `brevo_attributes`).
CONTACT_COLUMNS = {"first_name": "first_name", "last_name": "last_name", "company": "company",
                   "job_title": "job_title", "phone": "phone_e164", "event_type_name": "latest_event_type_name",
                   "start_time": "latest_start_time", "booking_status": "booking_status"}
CONTACT_FIELDS = set(CONTACT_COLUMNS)
# marts.brevo_contacts' own columns; one column per mapped attribute sits beside them, named as the attribute.
PAYLOAD_COLUMNS = ("email", "lists", "payload_hash", "email_is_valid", "sms_kept_by", "notes")
# A Brevo attribute name: letters, digits and underscores (it is also a column name).
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Mapping:
    field_mapping: dict[str, Any]
    all_invitees_list: str = "Calendly: All invitees"
    event_mapping: dict[str, dict] = field(default_factory=dict)
    source: Path | None = None

    def dbt_vars(self) -> dict[str, Any]:
        """The dbt vars this mapping sets (every dbt invocation passes them: pipelines/transform.py).
        dbt_project.yml's defaults are those of the shipped mapping (tests/transform/test_mapping.py)."""
        return {
            "field_mapping": self.question_fields(),
            "brevo_attributes": self.brevo_attributes(),
            "brevo_all_invitees_list": self.all_invitees_list,
            "brevo_event_type_lists": self.event_type_lists(),
        }

    def attribute_sources(self) -> dict[str, str]:
        """Brevo attribute → contact field, for every attribute the sync fills (a `questions:`
        attribute only if it is one of QUESTION_FIELDS)."""
        sources = {}
        for attribute, spec in self.field_mapping.items():
            if isinstance(spec, dict):
                if attribute in QUESTION_FIELDS:
                    sources[attribute] = QUESTION_FIELDS[attribute]
            else:
                sources[attribute] = spec
        return sources

    def brevo_attributes(self) -> dict[str, str]:
        """dbt var `brevo_attributes`: Brevo attribute → the marts.contacts column it takes its value from."""
        return {attribute: CONTACT_COLUMNS[source] for attribute, source in self.attribute_sources().items()}

    def event_type_lists(self) -> dict[str, str]:
        """dbt var `brevo_event_type_lists`: event type name → its Brevo list, as `#<list_id>` or a
        list name, for the event types event_mapping names (the others get "Calendly: <name>")."""
        return {str(event_type): f"#{int(spec['list_id'])}" if "list_id" in spec else str(spec["list_name"])
                for event_type, spec in self.event_mapping.items()}

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
    taken = {column.upper() for column in PAYLOAD_COLUMNS}
    for attribute, spec in fields.items():
        if not (isinstance(attribute, str) and _ATTRIBUTE_NAME.fullmatch(attribute)):
            raise ConfigError(f"{path}: field_mapping.{attribute}: a Brevo attribute name is letters, digits "
                              "and underscores, starting with a letter")
        if attribute.upper() in taken:
            raise ConfigError(f"{path}: field_mapping.{attribute}: another attribute has this name, or "
                              f"marts.brevo_contacts has a column of it ({', '.join(PAYLOAD_COLUMNS)})")
        taken.add(attribute.upper())
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
    for event_type, spec in events.items():
        if "list_id" in spec and not str(spec["list_id"]).strip().isdecimal():
            raise ConfigError(f"{path}: event_mapping.{event_type}.list_id must be a Brevo list id (a number)")
    return Mapping(field_mapping=fields, all_invitees_list=str(data.get("all_invitees_list") or
                   "Calendly: All invitees"), event_mapping=events, source=path)
