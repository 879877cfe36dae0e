"""How every asset that opens the warehouse runs: one at a time, and again after a transient failure.

DuckDB allows one writing process per file, so these assets share a concurrency pool whose limit is
one (`orchestration/dagster.yaml`, `make ui`). The retry covers what the pool cannot: a lock held by
a process outside Dagster (an analyst who opened the live file instead of the snapshot).
"""

import requests

import dagster as dg

from pipelines.config import ConfigError

WAREHOUSE_POOL = "warehouse"

WAREHOUSE_RETRY = dg.RetryPolicy(
    max_retries=3,
    delay=20,
    backoff=dg.Backoff.EXPONENTIAL,
    jitter=dg.Jitter.PLUS_MINUS,
)


def worth_retrying(exc: BaseException) -> bool:
    """A bad key, a missing permission or a wrong setting fails the same way every time."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ConfigError):
            return False
        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            status = exc.response.status_code
            if 400 <= status < 500 and status not in (408, 429):
                return False
        exc = exc.__cause__ or exc.__context__
    return True
