"""The run's view of calendly-elt's configuration (DESIGN.md), and progress lines sent to Dagster's log."""

from __future__ import annotations

from typing import Optional

import dagster as dg

from pipelines.config import Settings
from pipelines.progress import Progress


class CalendlyEltConfig(dg.ConfigurableResource):
    """Read from the environment when a step starts (the variables of DESIGN.md), never at import.
    The fields override paths and URLs only: tokens stay in the environment, as run and resource
    config is shown in the Dagster UI."""

    warehouse_path: Optional[str] = None
    calendly_api_url: Optional[str] = None
    brevo_api_url: Optional[str] = None
    mapping_path: Optional[str] = None

    def settings(self) -> Settings:
        overrides = {"warehouse_path": self.warehouse_path, "calendly_api_url": self.calendly_api_url,
                     "brevo_api_url": self.brevo_api_url, "mapping_path": self.mapping_path}
        # Normalised as the variables are (absolute paths, no trailing slash).
        return Settings.from_env().with_(**{k: v for k, v in overrides.items() if v})


class LoggedProgress(Progress):
    """The CLI's progress lines, in the step's log instead of on stderr."""

    def __init__(self, stage: str, log: dg.DagsterLogManager, interval: float = 5.0) -> None:
        super().__init__(stage, stream=None, interval=interval)
        self._log = log

    def say(self, text: str) -> None:
        self._log.info(text)
