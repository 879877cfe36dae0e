"""The HTTP client of the Calendly source: dlt's RESTClient on dlt's retrying session, paced."""

from __future__ import annotations

from typing import Callable

from dlt.common.jsonpath import compile_path
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator

from ..pacing import PacedAdapter, RateLimitPacer


def calendly_client(api_url: str, access_token: str, pacer: RateLimitPacer, *,
                    max_workers: int, max_attempts: int, timeout: float = 60,
                    on_send: Callable[[], None] | None = None) -> RESTClient:
    """A RESTClient whose pages follow `pagination.next_page` (a full URL, as Calendly returns it).

    dlt's `Client` retries 429, 5xx, resets and timeouts with exponential backoff; the paced
    adapter keeps 429s from happening.
    """
    session = Client(
        raise_for_status=False,
        request_timeout=timeout,
        request_max_attempts=max_attempts,
        request_backoff_factor=0.5,
        request_max_retry_delay=30,
    ).session
    # One pooled keep-alive connection per thread that may call at once (workers + listing threads).
    adapter = PacedAdapter(pacer, on_send, pool_connections=2, pool_maxsize=2 * max_workers + 4)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return RESTClient(
        base_url=api_url.rstrip("/"),
        auth=BearerTokenAuth(access_token),
        paginator=JSONLinkPaginator(next_url_path="pagination.next_page"),
        # Compiled once: given as a string, dlt parses the jsonpath again for every page, which cost
        # more CPU than the HTTP exchange itself on a fast network (measured: 2.05 vs 1.3 ms a request).
        data_selector=compile_path("collection"),
        session=session,
    )
