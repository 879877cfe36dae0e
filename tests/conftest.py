import os

import pytest

# As the CLI does: no usage telemetry from test runs (and no waiting on an unreachable host).
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


from tests.warehouses import KINDS, provide  # noqa: E402


@pytest.fixture(params=KINDS)
def any_warehouse(request, tmp_path):
    """Each warehouse in turn (the end-to-end tests): a DuckDB file, then a PostgreSQL database."""
    with provide(request.param, tmp_path / "data") as warehouse:
        yield warehouse
