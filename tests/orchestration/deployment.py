"""A deployment for in-process Dagster runs: both sandboxes, a warehouse in a temporary folder, the
environment that points every run at them, and an instance with `make ui`'s pool of one."""

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

import dagster as dg
import pytest
import yaml

from orchestration.definitions import defs as load_defs
from orchestration.dev import DAGSTER_YAML
from sandbox.brevo import BrevoAccount, BrevoSandbox
from sandbox.calendly import CalendlyAccount, CalendlySandbox
from sandbox.calendly.shapes import Shape

NOW = datetime.now(timezone.utc).replace(microsecond=0)


class SandboxDeployment:
    def __init__(self, tmp_path, instance: dg.DagsterInstance, *, seed: int, brevo_key: str, events: int = 300,
                 shape: Shape | None = None):
        self.instance = instance
        self.account = CalendlyAccount.generate(seed=seed, events=events, now=NOW, shape=shape)
        self.brevo_account = BrevoAccount(api_key=brevo_key)
        self.calendly = CalendlySandbox(self.account, rate_limit=0).start()
        self.brevo = BrevoSandbox(self.brevo_account, import_seconds=0.05).start()
        self.warehouse = tmp_path / "data" / "warehouse.duckdb"
        self.env = {"CALENDLY_ACCESS_TOKEN": self.account.tokens["admin"], "CALENDLY_API_URL": self.calendly.url,
                    "BREVO_API_KEY": self.brevo_account.api_key, "BREVO_API_URL": self.brevo.url,
                    "WAREHOUSE_PATH": str(self.warehouse)}
        self.defs = load_defs()

    def run(self, job_name: str, **kwargs) -> dg.ExecuteInProcessResult:
        return self.defs.resolve_job_def(job_name).execute_in_process(instance=self.instance, raise_on_error=False,
                                                                      **kwargs)

    def close(self):
        self.calendly.stop()
        self.brevo.stop()


@contextmanager
def deployed(cls, tmp_path_factory, name: str) -> Iterator:
    """A `cls` deployment whose environment is set for the duration, closed afterwards."""
    with pytest.MonkeyPatch.context() as patch, \
            dg.instance_for_test(overrides=yaml.safe_load(DAGSTER_YAML.read_text())) as instance:
        d = cls(tmp_path_factory.mktemp(name), instance)
        try:
            for key, value in d.env.items():
                patch.setenv(key, value)
            yield d
        finally:
            d.close()
