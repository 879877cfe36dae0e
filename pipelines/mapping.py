"""The mapping YAML (CALENDLY_ELT_CONFIG): Calendly event types and fields → Brevo lists and attributes.

The file is checked strictly, against the pydantic models below (the sync loads it before it reads the
warehouse or calls Brevo, the transform before dbt starts): an unknown key at any level, a value of the wrong type, an attribute name Brevo would
refuse, an unknown contact field, an empty `questions:`, an event type without list_id or list_name, a
duplicate key – each is a ConfigError of one line, `FILE:LINE:COLUMN: KEY.PATH: what to fix`, placed
on the key or value at fault (the positions come from PyYAML's node tree). YAML syntax errors read
the same way.

Attribute names (`field_mapping`'s keys, `rebooking_links.attribute`) are upper-cased here, once, as
the file is loaded: Brevo's spec says they "should be passed in capital letter", and everything after
(dbt's columns, the attributes and contact_properties sent, their creation) uses the loaded names.
Names that differ only in case are refused before that, where they are written.

An empty file, or one of comments only, is an error, and so is a file without `field_mapping`: the
sync would otherwise send every contact with no attributes, silently (and resend them all once the
file is fixed). Writing `field_mapping: {}` sends none on purpose, and is allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any, Literal, Optional, Union

import yaml
from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag,
                      ValidationError, field_validator, model_validator)
from pydantic_core import PydanticCustomError
from typing_extensions import Annotated

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
PAYLOAD_COLUMNS = ("email", "lists", "payload_hash", "email_is_valid", "sms_kept_by", "notes",
                   "rebook_invitee_uri", "rebook_event_type_uri", "rebook_bookable")
# A Brevo attribute name: letters, digits and underscores (it is also a column name).
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
ALL_INVITEES_LIST = "Calendly: All invitees"
_NO_ATTRIBUTES = ("contacts would go to Brevo with no attributes: map them as config/calendly-elt.yml does, "
                  "or write `field_mapping: {}` to send none")


@dataclass(frozen=True)
class BookingEvents:
    """`booking_events:` – the Brevo custom events sent per booking transition (docs/sync.md)."""
    enabled: bool = True
    completed: bool = False  # calendly_completed too: one more event per meeting held, off by default
    events_since: datetime | None = None  # None: from the first sync that sends events (kept in the state)

    def transitions(self) -> tuple[str, ...]:
        """The transitions of marts.booking_transitions that are sent."""
        if not self.enabled:
            return ()
        return ("booked", "cancelled", "rescheduled", "no_show") + (("completed",) if self.completed else ())


@dataclass(frozen=True)
class RebookingLinks:
    """`rebooking_links:` – a single-use Calendly scheduling link per re-booking episode (a contact whose
    latest booking is cancelled or a no-show), in a Brevo attribute (docs/sync.md)."""
    enabled: bool = True
    attribute: str = "REBOOK_URL"
    # Links minted by one run at most (and at most half the window's X-RateLimit-Limit): a first sync
    # with thousands of episodes leaves the rest to later runs instead of spending the extract's budget.
    max_per_run: int = 100


@dataclass(frozen=True)
class Mapping:
    field_mapping: dict[str, Any]
    all_invitees_list: str = ALL_INVITEES_LIST
    event_mapping: dict[str, dict] = field(default_factory=dict)
    source: Path | None = None
    booking_events: BookingEvents = field(default_factory=BookingEvents)
    rebooking_links: RebookingLinks = field(default_factory=RebookingLinks)

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


# ------------------------------------------------------------------------------- the file's schema

def _attribute_name(name: str) -> str:
    if not _ATTRIBUTE_NAME.fullmatch(name):
        raise PydanticCustomError("attribute_name", "a Brevo attribute name is letters, digits and "
                                  "underscores, starting with a letter")
    if name.upper() in {column.upper() for column in PAYLOAD_COLUMNS}:
        raise PydanticCustomError("attribute_name", "marts.brevo_contacts has a column of this name "
                                  "({columns}): rename the attribute", {"columns": ", ".join(PAYLOAD_COLUMNS)})
    return name


def _list_id(value: Any) -> Any:
    """A Brevo list id: a positive number, written bare or quoted ('12')."""
    if value is None or (type(value) is int and value > 0):
        return value
    if isinstance(value, str) and value.strip().isdecimal() and int(value) > 0:
        return int(value)
    raise PydanticCustomError("list_id", "a Brevo list id is a number, such as 12 (got {got}); a list by "
                              "name is `list_name:`", {"got": repr(value)})


def _number_as_text(value: Any) -> Any:
    """An event type named `2024` is written unquoted: YAML reads a number, the name is its text."""
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _timestamp(value: Any) -> Any:
    """An instant with its offset (`2026-05-01T00:00:00Z`, quoted or not), or a date (midnight UTC)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise PydanticCustomError("timestamp", "not a date and time: write it as 2026-05-01T00:00:00Z "
                                      "or 2026-05-01T09:00:00+02:00") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(0), timezone.utc)
    if isinstance(value, datetime) and value.tzinfo is None:
        raise PydanticCustomError("timestamp", "give the offset, as in 2026-05-01T00:00:00Z: without it the "
                                  "instant is ambiguous")
    return value


class _Strict(BaseModel):
    # Strict: a YAML value is taken as written, never converted (`12` is not the text "12").
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class QuestionsSpec(_Strict):
    questions: Annotated[list[str], Field(min_length=1)]


class EventListSpec(_Strict):
    list_id: Annotated[Optional[int], BeforeValidator(_list_id)] = None
    list_name: Annotated[Optional[str], Field(min_length=1)] = None

    @model_validator(mode="after")
    def _one_list(self) -> "EventListSpec":
        if (self.list_id is None) == (self.list_name is None):
            raise PydanticCustomError("event_list", "give the Brevo list as list_id (a number) or as "
                                      "list_name, one of the two")
        return self


class BookingEventsSpec(_Strict):
    enabled: bool = True
    completed: bool = False
    events_since: Annotated[Optional[datetime], BeforeValidator(_timestamp)] = None


class RebookingLinksSpec(_Strict):
    enabled: bool = True
    attribute: Annotated[str, AfterValidator(_attribute_name)] = RebookingLinks.attribute
    max_per_run: Annotated[int, Field(ge=1)] = RebookingLinks.max_per_run


# A field_mapping value: a contact field's name, or `questions:`. The tags only route the value to its
# model; they appear in pydantic's error locations, and _key_path drops them.
_FIELD_TAG, _QUESTIONS_TAG = "<contact field>", "<questions>"
FieldSpec = Annotated[
    Union[Annotated[Literal[tuple(sorted(CONTACT_FIELDS))], Tag(_FIELD_TAG)],
          Annotated[QuestionsSpec, Tag(_QUESTIONS_TAG)]],
    Discriminator(lambda value: _QUESTIONS_TAG if isinstance(value, dict) else _FIELD_TAG)]


class MappingFile(_Strict):
    field_mapping: dict[Annotated[str, AfterValidator(_attribute_name)], FieldSpec]
    all_invitees_list: Annotated[str, Field(min_length=1)] = ALL_INVITEES_LIST
    event_mapping: Optional[dict[Annotated[str, BeforeValidator(_number_as_text)], EventListSpec]] = None
    booking_events: Optional[BookingEventsSpec] = None
    rebooking_links: Optional[RebookingLinksSpec] = None

    @model_validator(mode="after")
    def _rebook_attribute_is_its_own(self) -> "MappingFile":
        links = self.rebooking_links or RebookingLinksSpec()
        taken = {a.upper(): a for a in self.field_mapping}
        if links.enabled and links.attribute.upper() in taken:
            if self.rebooking_links is not None and "attribute" in self.rebooking_links.model_fields_set:
                raise PydanticCustomError("rebook_attribute", "field_mapping fills this attribute already: give "
                                          "the re-booking link another one", {"at": "rebooking_links.attribute"})
            raise PydanticCustomError("rebook_attribute", "the re-booking link fills this attribute (rebooking_links"
                                      ".attribute's default): map another one, or set rebooking_links.attribute",
                                      {"at": f"field_mapping.{taken[links.attribute.upper()]}"})
        return self

    @field_validator("field_mapping")
    @classmethod
    def _distinct_ignoring_case(cls, fields: dict[str, Any]) -> dict[str, Any]:
        seen: set[str] = set()
        for attribute in fields:
            if attribute.upper() in seen:  # Brevo's attribute names ignore case
                raise PydanticCustomError("duplicate_attribute", "another attribute has this name in other "
                                          "letter case; Brevo ignores case", {"key": attribute})
            seen.add(attribute.upper())
        return fields


# The keys each level of the file may have, for "unknown key" errors: by the first key of the location.
_ALLOWED_KEYS = {None: MappingFile, "field_mapping": QuestionsSpec, "event_mapping": EventListSpec,
                 "booking_events": BookingEventsSpec, "rebooking_links": RebookingLinksSpec}


# ------------------------------------------------------------------------------------ loading it

def load_mapping(path: Path | None = None) -> Mapping:
    """Read and check the mapping; a mistake is a one-line ConfigError `FILE:LINE:COL: KEY: what to fix`."""
    path = path or DEFAULT_MAPPING
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"CALENDLY_ELT_CONFIG: no such file {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"CALENDLY_ELT_CONFIG: cannot read {path} as UTF-8 text: {exc}") from None
    try:
        root, data = _parse(text)
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml_error(path, text, exc)) from None
    if (twice := _written_twice(root)) is not None:  # PyYAML keeps the last silently
        key_node, key = twice
        raise ConfigError(f"{path}:{key_node.start_mark.line + 1}:{key_node.start_mark.column + 1}: {key}: "
                          "this key is written twice in one mapping: keep one")
    if data is None:  # empty, only comments, or a bare `---`
        raise ConfigError(f"{path}:1:1: the file has no field_mapping (it is empty or only comments), so "
                          + _NO_ATTRIBUTES)
    try:
        spec = MappingFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_schema_error(path, root, exc)) from None
    links = spec.rebooking_links.model_dump() if spec.rebooking_links else {}
    if "attribute" in links:
        links["attribute"] = links["attribute"].upper()
    return Mapping(
        field_mapping={name.upper(): value if isinstance(value, str) else {"questions": list(value.questions)}
                       for name, value in spec.field_mapping.items()},
        all_invitees_list=spec.all_invitees_list,
        event_mapping={name: {"list_id": entry.list_id} if entry.list_id is not None else {"list_name": entry.list_name}
                       for name, entry in (spec.event_mapping or {}).items()},
        source=path,
        booking_events=BookingEvents(**spec.booking_events.model_dump()) if spec.booking_events else BookingEvents(),
        rebooking_links=RebookingLinks(**links))


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (where each key and value is written: its marks) and the data it makes."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        return root, loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()


def _yaml_error(path: Path, text: str, exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML refuses: placed by its offset only
        line, column = text.count("\n", 0, exc.position) + 1, exc.position - text.rfind("\n", 0, exc.position)
        return f"{path}:{line}:{column}: not valid YAML: the character U+{exc.character:04X}: {exc.reason}"
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
    problem, context = getattr(exc, "problem", None), getattr(exc, "context", None) or ""
    if context and exc.context_mark and exc.context_mark is not mark:
        context += f" started at {exc.context_mark.line + 1}:{exc.context_mark.column + 1}"
    return f"{where}: not valid YAML: {problem or context or exc}" + (f" ({context})" if problem and context else "")


def _written_twice(node: yaml.Node | None, key: str = "", seen: set[int] | None = None) -> tuple[yaml.Node, str] | None:
    """The first key written a second time in a mapping of the tree, and its key path."""
    seen = set() if seen is None else seen
    if node is None or id(node) in seen:  # an alias: a node met already
        return None
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        return next(filter(None, (_written_twice(item, f"{key}[{n}]", seen) for n, item in enumerate(node.value))), None)
    if isinstance(node, yaml.MappingNode):
        names: set[str] = set()
        for key_node, value in node.value:
            name = f"{key}.{key_node.value}" if key else str(key_node.value)
            if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
                if key_node.value in names:
                    return key_node, name
                names.add(key_node.value)
            if (twice := _written_twice(value, name, seen)) is not None:
                return twice
    return None


def _schema_error(path: Path, root: yaml.Node, exc: ValidationError) -> str:
    """The first mistake in the file (a missing key after a wrong one), placed on its node."""
    found = []
    for error in exc.errors():
        loc = _key_path(error)
        on_key = error["type"] in ("extra_forbidden", "duplicate_attribute") or "[key]" in error["loc"] \
            or error.get("ctx", {}).get("at", "").startswith("field_mapping.")
        node, key = _locate(root, loc, on_key)
        found.append(((error["type"] == "missing", node.start_mark.line, node.start_mark.column), node, key, loc, error))
    found.sort(key=lambda item: item[0])
    _, node, key, loc, error = found[0]
    more = f" (and {len(found) - 1} more mistake{'s' * (len(found) > 2)})" if len(found) > 1 else ""
    return (f"{path}:{node.start_mark.line + 1}:{node.start_mark.column + 1}: {key or 'the file'}: "
            f"{_explain(loc, error)}{more}")


def _key_path(error: dict) -> tuple:
    """The error's location as keys and list indices of the file: without the union's tags and
    pydantic's `[key]`, with the key a custom error names."""
    loc = tuple(part for part in error["loc"] if part not in (_FIELD_TAG, _QUESTIONS_TAG, "[key]"))
    if error["type"] == "rebook_attribute":  # a check across two keys: placed on the one it names
        return tuple(error["ctx"]["at"].split("."))
    return loc + (error["ctx"]["key"],) if error["type"] == "duplicate_attribute" else loc


def _locate(root: yaml.Node, loc: tuple, on_key: bool) -> tuple[yaml.Node, str]:
    """The YAML node of `loc` – its value, or its key if `on_key`; for a key not in the file (a missing
    one), the deepest node of `loc` that is – and `loc` written as in the file: `a.b[0]`."""
    at, node, key = root, root, ""
    for n, part in enumerate(loc):
        in_list = isinstance(node, yaml.SequenceNode) and isinstance(part, int)
        key += f"[{part}]" if in_list else f".{part}" if key else str(part)
        hit = None
        if in_list and part < len(node.value):
            hit = (None, node.value[part])
        elif isinstance(node, yaml.MappingNode):
            hit = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)), None)
        node = hit[1] if hit else None
        if hit:
            at = hit[0] if on_key and n == len(loc) - 1 and hit[0] is not None else hit[1]
    return at, key


def _explain(loc: tuple, error: dict) -> str:
    """What to fix, in the words of the file."""
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        model = _ALLOWED_KEYS[loc[0] if len(loc) > 1 else None]
        return f"unknown key; the keys here are {', '.join(model.model_fields)}"
    if kind == "literal_error":  # a field_mapping value that is not a contact field
        return (f"{_describe(value)} is not a contact field: use one of {', '.join(sorted(CONTACT_FIELDS))}, "
                "or `questions: [question texts]`")
    if loc == ("field_mapping",) and (kind == "missing" or value is None):
        return f"{'missing' if kind == 'missing' else 'empty'}: " + _NO_ATTRIBUTES
    if kind == "missing":
        return "missing: this key is required here"
    if kind == "too_short" and loc[-1] == "questions":
        return "an empty list: give at least one question text"
    if kind in ("too_short", "string_too_short"):
        return "empty: give a value"
    expected = {"dict_type": "a mapping (`key: value` lines)", "model_type": "a mapping (`key: value` lines)",
                "list_type": "a list ([a, b] or `- a` lines)", "string_type": "a text",
                "bool_type": "true or false"}.get(kind)
    if expected:
        quote = "; quote it" if kind == "string_type" and isinstance(value, (int, float, bool)) else ""
        return f"expected {expected}, got {_describe(value)}{quote}"
    return error["msg"]  # our own errors (PydanticCustomError) already say what to fix


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return repr(value) if isinstance(value, str) else f"{value!r} ({type(value).__name__})"
