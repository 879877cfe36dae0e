from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pipelines.config import Settings
from pipelines.extract import run_extract
from sandbox.brevo import BrevoAccount, BrevoSandbox
from sandbox.calendly import CalendlyAccount, CalendlySandbox
from pipelines.transform import run_transform
from tests.warehouses import TestWarehouse

NOW = datetime.now(timezone.utc).replace(microsecond=0)


class Stack:
    """A Calendly sandbox, a Brevo sandbox and a warehouse: the whole job, stage by stage."""

    def __init__(self, tmp_path, events=400, seed=61, warehouse: TestWarehouse | None = None, shape=None,
                 **brevo_options):
        self.calendly_account = CalendlyAccount.generate(seed=seed, events=events, now=NOW, shape=shape)
        self.brevo_account = BrevoAccount(api_key="xkeysib-test-0001")
        self.calendly = CalendlySandbox(self.calendly_account, rate_limit=0).start()
        self.brevo = BrevoSandbox(self.brevo_account, import_seconds=0.05, **brevo_options).start()
        where = warehouse.fields if warehouse else {"warehouse_path": tmp_path / "warehouse.duckdb"}
        self.settings = Settings(calendly_token=self.calendly_account.tokens["admin"],
                                 calendly_api_url=self.calendly.url, **where,
                                 brevo_api_key=self.brevo_account.api_key, brevo_api_url=self.brevo.url)

    def refresh(self):
        # Without dbt's unit tests (fixed rows, not this data: 2-5 s a build); the transform's own tests,
        # `calendly-elt run` on every account shape and the Dagster runs keep them.
        run_extract(self.settings)
        run_transform(self.settings, as_of=NOW.isoformat(), unit_tests=False)

    def with_(self, **changes) -> Settings:
        return self.settings.with_(**changes)

    def stop(self):
        self.calendly.stop()
        self.brevo.stop()


@pytest.fixture
def stack(tmp_path):
    s = Stack(tmp_path)
    yield s
    s.stop()


@pytest.fixture
def any_stack(tmp_path, any_warehouse):
    """The stack on each warehouse in turn."""
    s = Stack(tmp_path, warehouse=any_warehouse)
    yield s
    s.stop()
