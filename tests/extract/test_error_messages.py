"""`describe` turns failures into one line, whatever shape the error response has."""

import json

import pytest
import requests

from pipelines.errors import describe


def _http_error(status: int, body: bytes, url="https://api.example.com/users/me") -> requests.HTTPError:
    response = requests.Response()
    response.status_code, response._content, response.url, response.reason = status, body, url, "Reason"
    return requests.HTTPError(response=response)


@pytest.mark.parametrize("body", [b'["not", "an", "object"]', b'"Not Found"', b"null", b"<html>502</html>", b""])
def test_any_error_body_gives_one_line(body):
    for status in (401, 403, 404, 500):
        line = describe(_http_error(status, body), "https://api.example.com")
        assert "\n" not in line and str(status) in line


def test_secrets_are_masked_even_inside_messages():
    exc = RuntimeError("boom with token pat-SECRET-123456")
    assert "pat-SECRET-123456" not in describe(exc, secrets=["pat-SECRET-123456"])


def test_malformed_json_page():
    try:
        json.loads("{truncated")
    except json.JSONDecodeError as exc:
        line = describe(exc)
    assert "not valid JSON" in line and "next run" in line
