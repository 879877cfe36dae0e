"""How every asset that opens the warehouse runs: one at a time, and again after a transient failure.

DuckDB allows one writing process per file, so these assets share a concurrency pool whose limit is
one (`orchestration/dagster.yaml`, `make ui`). The retry covers what the pool cannot: a lock held by
a process outside Dagster (an analyst who opened the live file instead of the snapshot).
"""

import requests

import dagster as dg

from pipelines.exceptions import ConfigError
from pipelines.errors import causes

WAREHOUSE_POOL = "warehouse"
# A job tagged `skip` runs dbt without its unit tests (pipelines.transform.start_build says why).
DBT_UNIT_TESTS_TAG = "calendly_elt/dbt_unit_tests"

WAREHOUSE_RETRY = dg.RetryPolicy(
    max_retries=3,
    delay=20,
    backoff=dg.Backoff.EXPONENTIAL,
    jitter=dg.Jitter.PLUS_MINUS,
)


def worth_retrying(exc: BaseException) -> bool:
    """A bad key, a missing permission or a wrong setting fails the same way every time. Looks
    through the same chain as the one-line messages (dlt wraps what failed in its step errors)."""
    return not any(isinstance(e, ConfigError) or _client_error(e) for e in causes(exc))


def _client_error(exc: BaseException) -> bool:
    if not isinstance(exc, requests.HTTPError) or exc.response is None:
        return False
    return 400 <= exc.response.status_code < 500 and exc.response.status_code not in (408, 429)
