"""Contract checks against Brevo's published OpenAPI description (shared/specs/brevo-openapi.yaml),
reusable by any test that talks Brevo: the sandbox's own tests, and tests of the client that
syncs contacts to Brevo (feed them the sandbox's ``request_log``).

    validate_brevo_request("POST", "/contacts/import", {}, body_bytes)
    validate_brevo_response("POST", "/contacts/import", 202, body_bytes)

Paths are relative to the ``/v3`` base (as in the spec's ``servers``), query values are
strings, bodies raw bytes (or None). Both raise an openapi-core / jsonschema validation error
when the message breaks the contract. Statuses no operation declares (401, 429 and 5xx
anywhere; 404/405 off the spec's paths and methods) are checked against the spec's generic
``errorModel`` schema.

The copy of the spec has defects; they are patched in memory below, narrowly, with a comment
each, never by loosening a schema beyond what the spec's own text says.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator

SPEC_PATH = Path(__file__).resolve().parents[3] / "shared/specs/brevo-openapi.yaml"
HOST = "https://api.brevo.com"  # the spec's server is https://api.brevo.com/v3
BASE = "/v3"
# Statuses an operation need not declare: the API answers them anywhere, with an errorModel body.
GENERIC_STATUSES = {401, 429, 500, 502, 503}
OFF_SPEC_STATUSES = {404, 405}  # a path or method the spec does not describe
# The operations the Brevo sandbox serves (patches stay within them).
SERVED = {
    "/account": ["get"], "/contacts/import": ["post"], "/processes/{processId}": ["get"], "/contacts/attributes": ["get"],
    "/contacts/attributes/{attributeCategory}/{attributeName}": ["post"],
    "/contacts/folders": ["get", "post"], "/contacts/lists": ["get", "post"], "/contacts/lists/{listId}": ["get"],
    "/contacts/lists/{listId}/contacts/add": ["post"], "/contacts/lists/{listId}/contacts/remove": ["post"],
    "/contacts": ["post"], "/contacts/{identifier}": ["get", "put", "delete"], "/contacts/batch": ["post"],
    "/events": ["post"],
}


def patch_spec(spec: dict) -> dict:
    """Fix the copy's known defects, narrowly."""
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    patched = []

    # Defect 1: responses without a body are written `content: {}` (201 of createAttribute,
    # 204 of createContact/updateContact/deleteContact/createEvent). openapi-core reads a present-but-empty
    # content map as "a body is required" and fails every empty answer with MissingData; OAS 3.0 means no body.
    # The key is removed, only for the operations the sandbox serves.
    for path, methods in SERVED.items():
        for method in methods:
            for status, response in paths[path][method]["responses"].items():
                if response.get("content") == {}:
                    del response["content"]
                    patched.append(("no body", path, method, status))

    # Defect 2: postContactInfo's `success` and `failure` are `oneOf` [array of emails, array of
    # ids]: an empty array is valid under both, so `"failure": []` (the usual case) can never
    # validate. The intent is "either kind of array": anyOf.
    contacts = schemas["postContactInfo"]["properties"]["contacts"]["properties"]
    for name in ("success", "failure"):
        contacts[name]["anyOf"] = contacts[name].pop("oneOf")
        patched.append(("postContactInfo", name))

    # Defect 3: the bodies of addContactToList / removeContactFromList are `oneOf` objects that
    # declare no `required`, so every body (even {}) matches all branches and oneOf always fails.
    # Each branch is meant to be the object carrying that one property (per the descriptions:
    # "Emails ... OR IDs OR EXT_ID attributes OR 'all'"): each branch now requires its property.
    for action in ("add", "remove"):
        body = paths[f"/contacts/lists/{{listId}}/contacts/{action}"]["post"]["requestBody"]
        for branch in body["content"]["application/json"]["schema"]["oneOf"]:
            assert len(branch["properties"]) == 1, branch
            branch["required"] = list(branch["properties"])
            patched.append((action, branch["required"][0]))

    # Defect 4: createEvent's event_properties values are `anyOf` [string, integer, object,
    # array], while the same property's description says "The following field type are supported:
    # string, number, boolean (true/false), date" (Brevo's current reference lists booleans too).
    # Numbers and booleans are added, nothing else; contact_properties (string or integer, its text
    # silent on other types) is left as it is.
    event_values = paths["/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"][
        "event_properties"]["additionalProperties"]["anyOf"]
    assert "number, boolean" in paths["/events"]["post"]["requestBody"]["content"]["application/json"]["schema"][
        "properties"]["event_properties"]["description"]
    event_values += [{"type": "number"}, {"type": "boolean"}]
    patched.append(("createEvent", "event_properties"))

    assert len(patched) >= 4 + 2 + 7 + 1, patched
    # Not patched: GET /contacts/{identifier} requires `statistics` (an object whose members are
    # all optional): the sandbox answers `"statistics": {}`, valid as is.
    return spec


@functools.lru_cache(maxsize=1)
def brevo_spec() -> dict:
    """The patched spec as a dict (skips the calling test when the file is absent)."""
    if not SPEC_PATH.exists():
        pytest.skip(f"Brevo OpenAPI description not found at {SPEC_PATH}: the repository's sibling "
                    "shared/ folder is missing")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the pure-Python loader takes ~2 s here
    with SPEC_PATH.open("rb") as f:
        return patch_spec(yaml.load(f, Loader=loader))


@functools.lru_cache(maxsize=1)
def brevo_openapi() -> OpenAPI:
    return OpenAPI.from_dict(brevo_spec())


def _full(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError(f"path must start with / and be relative to {BASE}: {path!r}")
    return BASE + path


def _request(method: str, path: str, query: dict | None = None, body: bytes | None = None,
             headers: dict | None = None) -> MockRequest:
    return MockRequest(HOST, method.lower(), _full(path), args=dict(query or {}),
                       headers={"api-key": "xkeysib-contract"} if headers is None else headers,
                       data=body, content_type="application/json")


def validate_brevo_request(method: str, path: str, query: dict | None, body: bytes | None,
                           headers: dict | None = None) -> None:
    """Raise unless this request is one the spec accepts (operation, parameters, body schema).

    ``headers`` defaults to an ``api-key`` header: the security requirement is met unless the
    caller passes its own headers (e.g. {} to check that a request without a key is refused)."""
    brevo_openapi().validate_request(_request(method, path, query, body, headers))


def validate_brevo_response(method: str, path: str, status: int, body: bytes | None):
    """Raise unless this response is one the spec allows for the request; returns the parsed
    JSON body (None when empty)."""
    data = body or b""
    parsed = json.loads(data) if data else None
    try:
        brevo_openapi().validate_response(_request(method, path), MockResponse(data, status_code=status))
    except ResponseNotFound:
        if status not in GENERIC_STATUSES:
            raise
        _generic_error(parsed, status)
    except (PathNotFound, OperationNotFound):
        if status not in GENERIC_STATUSES | OFF_SPEC_STATUSES:
            raise
        _generic_error(parsed, status)
    return parsed


def _generic_error(parsed, status: int) -> None:
    assert parsed is not None, f"{status} without a body"
    OAS30Validator(brevo_spec()["components"]["schemas"]["errorModel"]).validate(parsed)
