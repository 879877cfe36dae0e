"""Turn any failure of a stage into one line that says what to fix, with no secret in it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Iterator
from urllib.parse import urlsplit

import requests

from .exceptions import ConfigError
from .retries import CONNECT_TIMEOUT, could_not_connect
from .warehouse.connection import (WarehouseUnavailable, held_by_another_process, not_a_warehouse,
                                   postgres_refused)


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what dlt wrapped in it (`PipelineStepFailed.exception`) and its causes."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        # urllib3's MaxRetryError, inside requests' ConnectionError, holds the socket's error in `reason`.
        inner = [getattr(e, "reason", None), e.args[0] if e.args else None]
        todo += [getattr(e, "exception", None), e.__cause__, e.__context__,
                 *(i for i in inner if isinstance(i, BaseException))]


def _first(exc: BaseException, kinds: tuple[type, ...]) -> BaseException | None:
    return next((e for e in causes(exc) if isinstance(e, kinds)), None)


def _calendly_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    if not isinstance(body, dict):  # some other API, or a proxy's error page
        return response.reason or ""
    return f"{body.get('title', '')}: {body.get('message', '')}".strip(": ")


@dataclass(frozen=True)
class Service:
    """Whose API a stage talks to, and the settings that fix it."""
    name: str = "Calendly"
    key_var: str = "CALENDLY_ACCESS_TOKEN"
    key_kind: str = "a valid personal access token or OAuth access token"
    url_var: str = "CALENDLY_API_URL"
    default_url: str = "https://api.calendly.com"


CALENDLY = Service()
BREVO = Service("Brevo", "BREVO_API_KEY", "a valid Brevo API key", "BREVO_API_URL", "https://api.brevo.com/v3")


def describe(exc: BaseException, api_url: str = "", secrets: Iterable[str | None] = (),
             service: Service = CALENDLY) -> str:
    """One line for the user. Secrets are masked even if some library put them in a message."""
    return _mask(_describe(exc, api_url, service), secrets)


def _describe(exc: BaseException, api_url: str, service: Service) -> str:
    if (config := _first(exc, (ConfigError, WarehouseUnavailable))) is not None:
        return str(config)
    # DuckDB's lock conflict, wherever it surfaced (dlt's load, our connection, dbt's message).
    for problem in (held_by_another_process, not_a_warehouse):
        if (found := next(filter(None, (problem(str(e)) for e in causes(exc))), None)) is not None:
            return found
    if (pg := next((e for e in causes(exc) if type(e).__module__.startswith("psycopg2")
                    and type(e).__name__ == "OperationalError"), None)) is not None:
        return str(postgres_refused((str(pg).strip().splitlines() or [type(pg).__name__])[0]))
    from .transform import TransformFailed  # noqa: PLC0415 – errors must not import dbt eagerly

    if (failed := _first(exc, (TransformFailed,))) is not None:
        return str(failed)
    if (http := _first(exc, (requests.HTTPError,))) is not None and http.response is not None:
        response = http.response
        path = urlsplit(response.url).path or "/"
        detail = _calendly_message(response)
        status = response.status_code
        if status == 401:
            return (f"{service.name} rejected the key (401 {detail}): set {service.key_var} to "
                    f"{service.key_kind}")
        if status == 403 and service is CALENDLY:
            return (f"the token may not read {path} (403 {detail}): use a token of an organization owner "
                    "or admin, or one whose user has access")
        if status == 404:
            return (f"{api_url or 'the API'} answered 404 for {path}: check {service.url_var} "
                    f"({service.name}'s is {service.default_url})")
        if status == 429:
            return f"{service.name} kept rate-limiting {path} (429) after every retry: try again in a minute"
        if status >= 500:
            return f"{service.name} kept failing on {path} (HTTP {status}) after every retry: try again later"
        return f"{service.name} refused {path} (HTTP {status} {detail})"
    if (conn := _first(exc, (requests.ConnectionError, requests.Timeout))) is not None:
        if could_not_connect(conn):
            return (f"could not reach {api_url or 'the API'} ({_socket_reason(conn)}): check "
                    f"{service.url_var} and the network")
        return (f"could not reach {api_url or 'the API'} ({type(conn).__name__}) after every retry: check "
                f"{service.url_var} and the network")
    if (bad := _first(exc, (json.JSONDecodeError, requests.JSONDecodeError))) is not None:
        return (f"the API returned a page that is not valid JSON ({bad}); this run's data was not loaded "
                "and the next run starts from the same point")
    root = list(causes(exc))[-1]
    return f"{type(root).__name__}: {root}".splitlines()[0]


def _socket_reason(exc: BaseException) -> str:
    text = " ".join(str(e) for e in causes(exc)).lower()
    if "name or service not known" in text or "nodename nor servname" in text or "name resolution" in text \
            or "getaddrinfo failed" in text:
        return "its host name does not resolve"
    if "refused" in text:
        return "connection refused"
    if "timed out" in text or isinstance(exc, requests.ConnectTimeout):
        return f"no answer within {CONNECT_TIMEOUT:g} s"
    return type(exc).__name__


def _mask(text: str, secrets: Iterable[str | None]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
