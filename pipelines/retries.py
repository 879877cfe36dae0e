"""The retrying HTTP session under both API clients (Calendly's and Brevo's): dlt's `Client`, with one
change to what it retries.

dlt retries every `requests.ConnectionError` with exponential backoff, which makes a typo'd host, a
refused port or a name that does not resolve take a minute to fail, after progress lines that look
like work. A connection that could not even be established is not the API being busy: urllib3 retries
it twice within about a second (nothing was sent, so POSTs are safe too), then it fails with a message
naming the setting. Everything the API answers (429, 5xx) and a connection dropped mid-exchange keep
dlt's retries.
"""

from __future__ import annotations

from typing import Optional

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.retry import Retry

# Seconds to establish a connection (the read timeout is each client's own).
CONNECT_TIMEOUT = 5.0
# urllib3's retries of a connection that could not be established: 0.5 s, then 1 s.
CONNECT_RETRIES = Retry(total=None, connect=2, read=0, redirect=0, status=0, other=0, backoff_factor=0.5,
                        raise_on_status=False)


def could_not_connect(exc: Optional[BaseException]) -> bool:
    """A request that never reached the server: refused, unknown host, connect timeout."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if isinstance(exc, requests.ConnectionError) and exc.args else None
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _dropped_connection(response: Optional[requests.Response], exc: Optional[BaseException]) -> bool:
    return isinstance(exc, requests.ConnectionError) and not could_not_connect(exc)


def retrying_session(adapter: HTTPAdapter, *, read_timeout: float, max_attempts: int) -> requests.Session:
    """dlt's retrying session (429, 5xx, read timeouts and dropped connections, with exponential
    backoff), mounted on `adapter`, which must have been built with `max_retries=CONNECT_RETRIES`."""
    from dlt.sources.helpers.requests import Client  # dlt loads in ~1 s: not for every import of errors.py

    session = Client(
        raise_for_status=False,
        request_timeout=(CONNECT_TIMEOUT, read_timeout),
        request_max_attempts=max_attempts,
        request_backoff_factor=0.5,
        request_max_retry_delay=30,
        # dlt's default minus ConnectionError, which `_dropped_connection` decides.
        exceptions=(requests.ReadTimeout, requests.exceptions.ChunkedEncodingError),
        retry_condition=_dropped_connection,
    ).session
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
