"""The public configuration (DESIGN.md): environment variables and their defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from .calendly.settings import DEFAULT_API_URL

if TYPE_CHECKING:
    from .warehouse import Warehouse

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WAREHOUSE = PROJECT_ROOT / "data" / "warehouse.duckdb"


class ConfigError(Exception):
    """A setting the user has to fix; the message says which."""


@dataclass(frozen=True)
class Settings:
    calendly_token: str | None
    calendly_api_url: str
    warehouse_path: Path
    mapping_path: Path | None = None  # None: the commented default shipped in config/
    brevo_api_key: str | None = None
    brevo_api_url: str | None = None  # None: https://api.brevo.com/v3
    # WAREHOUSE_URL: a PostgreSQL warehouse (postgresql://…). The folder of `warehouse_path` still
    # holds the local files (dlt's working folder, webhook landing, reports).
    warehouse_url: str | None = field(default=None, repr=False)  # holds the password

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        warehouse = env.get("WAREHOUSE_PATH")
        return cls(
            calendly_token=env.get("CALENDLY_ACCESS_TOKEN") or None,
            calendly_api_url=(env.get("CALENDLY_API_URL") or DEFAULT_API_URL).rstrip("/"),
            # Not relative to the working directory: `calendly-elt` run from anywhere finds one warehouse.
            warehouse_path=Path(warehouse).expanduser().resolve() if warehouse else DEFAULT_WAREHOUSE,
            mapping_path=Path(env["CALENDLY_ELT_CONFIG"]).expanduser().resolve()
            if env.get("CALENDLY_ELT_CONFIG") else None,
            brevo_api_key=env.get("BREVO_API_KEY") or None,
            brevo_api_url=(env.get("BREVO_API_URL") or "").rstrip("/") or None,
            warehouse_url=env.get("WAREHOUSE_URL") or None,
        )

    @property
    def warehouse(self) -> "Warehouse":
        """The DuckDB file `warehouse_path`, or the database of `warehouse_url`."""
        from .warehouse import Warehouse  # it imports ConfigError from here

        return Warehouse.from_setting(self.warehouse_url, self.warehouse_path)

    @property
    def secrets(self) -> list[str]:
        """What no message may show (errors.describe masks these)."""
        from urllib.parse import unquote, urlsplit

        try:  # not through `warehouse`, which raises on a URL it refuses: this runs in error handlers
            password = urlsplit(self.warehouse_url or "").password
        except ValueError:
            password = None
        found = [self.calendly_token, self.brevo_api_key, password and unquote(password), password,
                 os.environ.get("CALENDLY_WEBHOOK_SIGNING_KEY"), os.environ.get("CALENDLY_CLIENT_SECRET")]
        return [s for s in found if s]

    @property
    def data_dir(self) -> Path:
        """Local state beside the warehouse file: dlt's working folder, landed webhooks, reports."""
        return self.warehouse_path.parent

    @property
    def analytics_path(self) -> Path:
        """The snapshot analysts open (DESIGN.md): published beside the warehouse after each good run."""
        return self.warehouse_path.parent / "analytics.duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    def require_calendly_token(self) -> str:
        """CALENDLY_ACCESS_TOKEN, else the access token of `calendly-elt auth login` (refreshed first
        if it expires within minutes)."""
        if self.calendly_token:
            return self.calendly_token
        from .oauth import access_token_from_oauth  # it imports this module; may call the token endpoint

        token = access_token_from_oauth({**os.environ, "WAREHOUSE_PATH": str(self.warehouse_path)})
        if token:
            return token
        raise ConfigError(
            "CALENDLY_ACCESS_TOKEN is not set: create a personal access token in Calendly "
            "(Integrations → API & Webhooks) and export it, or run `calendly-elt auth login`")
