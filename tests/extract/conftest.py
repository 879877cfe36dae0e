from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipelines.config import Settings
from sandbox.calendly import CalendlyAccount, CalendlySandbox
from tests.warehouses import TestWarehouse

NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "data" / "warehouse.duckdb"


def settings_for(account: CalendlyAccount, sandbox: CalendlySandbox, warehouse: Path | TestWarehouse,
                 role: str = "admin") -> Settings:
    fields = warehouse.fields if isinstance(warehouse, TestWarehouse) else {"warehouse_path": warehouse}
    return Settings(calendly_token=account.tokens[role], calendly_api_url=sandbox.url, **fields)


@pytest.fixture
def account_3000() -> CalendlyAccount:
    """A fresh account each time: a test changes it (and runs once per warehouse)."""
    return CalendlyAccount.generate(seed=11, events=3000, now=NOW)
