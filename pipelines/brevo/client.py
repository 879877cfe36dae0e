"""The HTTP client of the Brevo sync: dlt's RESTClient on dlt's retrying session, paced by Brevo's
`x-sib-ratelimit-*` headers (the same pacer as the Calendly source)."""

from __future__ import annotations

from typing import Any, Iterator

from dlt.common.jsonpath import compile_path
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import APIKeyAuth
from dlt.sources.helpers.rest_client.paginators import OffsetPaginator

from ..pacing import PacedAdapter, RateLimitPacer
from ..retries import CONNECT_RETRIES, retrying_session
from .settings import LIST_PAGE, RATE_LIMIT_HEADERS


class BrevoClient:
    def __init__(self, api_url: str, api_key: str, max_attempts: int = 8) -> None:
        self.pacer = RateLimitPacer(header_names=RATE_LIMIT_HEADERS)
        self.requests_sent = 0
        adapter = PacedAdapter(self.pacer, self._count, pool_maxsize=4, max_retries=CONNECT_RETRIES)
        session = retrying_session(adapter, read_timeout=60, max_attempts=max_attempts)
        self.rest = RESTClient(base_url=api_url.rstrip("/"),
                               auth=APIKeyAuth(name="api-key", api_key=api_key, location="header"),
                               session=session)

    def _count(self) -> None:
        self.requests_sent += 1

    def get(self, path: str, **params: Any) -> Any:
        response = self.rest.get(path, params=params or None)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: Any) -> None:
        """POST where only success matters (contacts, attributes, events): any 2xx is success and its
        body is not read – Brevo documents 201/204, but a 200 "Created" or a 202 with text says the same."""
        self.rest.post(path, json=body).raise_for_status()

    def create(self, path: str, body: Any) -> dict:
        """POST whose answer the caller needs (the `id` of a new list or folder)."""
        response = self.rest.post(path, json=body)
        response.raise_for_status()
        return _object(response, f"POST {path}")

    def post_raw(self, path: str, data: bytes) -> dict:
        """POST an already serialised JSON body (imports are sized by their bytes before sending);
        the answer is the import's process."""
        response = self.rest.request(path, method="POST", data=data, headers={"Content-Type": "application/json"})
        response.raise_for_status()
        return _object(response, f"POST {path}")

    def pages(self, path: str, key: str) -> Iterator[dict]:
        """Every item of a `limit`/`offset` listing (folders, lists), `count` being the total."""
        paginator = OffsetPaginator(limit=LIST_PAGE, total_path="count")
        for page in self.rest.paginate(path, paginator=paginator, data_selector=compile_path(key)):
            yield from page


def _object(response, request: str) -> dict:
    """A 2xx answer's JSON object, or a one-line error saying what came instead."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ValueError(f"{request} answered {response.status_code} without the JSON object expected: "
                         f"{response.text[:100]!r}")
    return body


def refusal(request: str, exc: Exception) -> str:
    """One line for the state tables: Brevo's own words for a refusal (`400 duplicate_parameter: …`),
    else the body as text (any JSON that is not Brevo's error object), else the exception's first line."""
    response = getattr(exc, "response", None)
    if response is not None:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and ("code" in body or "message" in body):
            text = f"{response.status_code} {body.get('code', '')}: {body.get('message', '')}"
        else:
            text = f"{response.status_code} {response.text[:200]}"
    else:
        text = str(exc)
    return f"{request} failed: {text}".splitlines()[0][:500]
