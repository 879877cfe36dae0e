"""The run's view of calendly-elt's configuration (DESIGN.md), and progress lines sent to Dagster's log."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
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
        settings = Settings.from_env()
        overrides = {
            "warehouse_path": Path(self.warehouse_path).expanduser().resolve() if self.warehouse_path else None,
            "calendly_api_url": self.calendly_api_url.rstrip("/") if self.calendly_api_url else None,
            "brevo_api_url": self.brevo_api_url.rstrip("/") if self.brevo_api_url else None,
            "mapping_path": Path(self.mapping_path).expanduser().resolve() if self.mapping_path else None,
        }
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})


class LoggedProgress(Progress):
    """The CLI's progress lines, in the step's log instead of on stderr."""

    def __init__(self, stage: str, log: dg.DagsterLogManager, interval: float = 5.0) -> None:
        super().__init__(stage, stream=None, interval=interval)
        self._log = log

    def say(self, text: str) -> None:
        self._log.info(text)
