"""The public configuration (DESIGN.md): every environment variable calendly-elt reads, validated once.

`Settings.from_env()` is the one place that reads the environment (tests pass a mapping instead);
`Settings(field=…)` takes only what it is given. No other module of ours reads `os.environ`: the few
that must write it (dbt's profile, dlt's telemetry, a child process's environment) do it through the
functions at the end of this module.

The warehouse and OAuth packages never import this module: they are handed the values they need, and
`ConfigError` lives in the leaf module `pipelines.exceptions` (tests/test_import_graph.py).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Optional

from pydantic import Field, PrivateAttr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from .exceptions import ConfigError

if TYPE_CHECKING:
    from .oauth import TokenClient
    from .warehouse import Warehouse

__all__ = ["DEFAULT_SCHEDULE", "DEFAULT_WAREHOUSE", "DLT_TELEMETRY", "PROJECT_ROOT", "ConfigError", "Settings",
           "child_environment", "dbt_environment", "dlt_telemetry_off_by_default", "environment_while", "http_url", "variable_help"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_API_URL = "https://api.calendly.com"  # CALENDLY_API_URL's default (here, not in calendly/: no dlt import)
DEFAULT_WAREHOUSE = PROJECT_ROOT / "data" / "warehouse.duckdb"
DEFAULT_SCHEDULE = "0 * * * *"  # hourly
DEFAULT_LOG_LEVEL = "WARNING"
# dlt phones home with anonymous usage data unless told not to; a pipeline that holds customer data
# should not, and on a machine without internet it would only wait for time-outs.
DLT_TELEMETRY = "RUNTIME__DLTHUB_TELEMETRY"

# What `Settings.from_env` reads while it builds a Settings; None (a plain `Settings(...)`): nothing.
_variables: ContextVar[Optional[Mapping[str, str]]] = ContextVar("calendly_elt_variables", default=None)


class _Variables(EnvSettingsSource):
    """pydantic-settings' environment source, over the variables `from_env` was given. An empty
    value counts as unset, as it always has."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self.env_vars = {name: value for name, value in (_variables.get() or {}).items() if value != ""}


def _secret(variable: str, description: str) -> Any:
    """A setting no repr may show (errors.describe also masks it: `Settings.secrets`)."""
    return Field(None, validation_alias=variable, repr=False, description=description)


class Settings(BaseSettings):
    """Every environment variable calendly-elt reads (README.md's table, and the log level), under the
    name the code uses. Secrets stay out of reprs."""

    model_config = SettingsConfigDict(frozen=True, case_sensitive=True, populate_by_name=True, extra="forbid")

    calendly_token: Optional[str] = _secret(
        "CALENDLY_ACCESS_TOKEN", "Calendly personal access token or OAuth access token. Default: the token of "
        "`calendly-elt auth login`.")
    calendly_api_url: str = Field(DEFAULT_API_URL, validation_alias="CALENDLY_API_URL",
                                  description="Calendly API base URL (a proxy in front of it works too).")
    # Not relative to the working directory: `calendly-elt` run from anywhere finds one warehouse.
    warehouse_path: Path = Field(DEFAULT_WAREHOUSE, validation_alias="WAREHOUSE_PATH", description=(
        "DuckDB warehouse file; its folder also holds dlt's working folder, landed webhooks, reports and "
        "OAuth tokens."))
    # None: the commented default shipped in config/.
    mapping_path: Optional[Path] = Field(None, validation_alias="CALENDLY_ELT_CONFIG", description=(
        "YAML mapping: question texts → company, job title, phone; Brevo attributes and lists. "
        "Default: config/calendly-elt.yml."))
    brevo_api_key: Optional[str] = _secret("BREVO_API_KEY", "Brevo API key.")
    brevo_api_url: Optional[str] = Field(None, validation_alias="BREVO_API_URL",  # None: Brevo's own
                                         description="Brevo API base URL. Default: https://api.brevo.com/v3.")
    # WAREHOUSE_URL: a PostgreSQL warehouse (postgresql://…). The folder of `warehouse_path` still
    # holds the local files (dlt's working folder, webhook landing, reports).
    warehouse_url: Optional[str] = _secret(  # holds the password
        "WAREHOUSE_URL", "A PostgreSQL warehouse instead of the DuckDB file: postgresql://user:password@host/db.")
    webhook_signing_key: Optional[str] = _secret(
        "CALENDLY_WEBHOOK_SIGNING_KEY", "The key Calendly signs webhook deliveries with (your choice).")
    # Compared as given with each subscription's callback_url: no trailing slash is added or removed.
    webhook_url: Optional[str] = Field(None, validation_alias="CALENDLY_WEBHOOK_URL", description=(
        "Public URL of `webhooks serve`'s /webhooks/calendly: the subscription `webhooks check` watches."))
    webhooks_repair: bool = Field(False, validation_alias="CALENDLY_ELT_WEBHOOKS_REPAIR", description=(
        "true: the Dagster sensor re-creates a disabled or missing webhook subscription and catches up, "
        "as `webhooks check --repair` does."))
    # At least a day: Calendly retries a delivery for 24 hours, and a retry must find its row (a duplicate).
    landing_retention_days: float = Field(30.0, ge=1, allow_inf_nan=False,
                                          validation_alias="CALENDLY_ELT_LANDING_RETENTION_DAYS", description=(
        "Days a merged or set-aside webhook delivery stays in the landing store (at least 1)."))
    # The OAuth app of `calendly-elt auth login`; once logged in, the token file remembers the client id
    # and the authorization server, so scheduled runs need only the secret (if any).
    oauth_client_id: Optional[str] = Field(None, validation_alias="CALENDLY_CLIENT_ID",
                                           description="Client id of your Calendly OAuth app.")
    oauth_client_secret: Optional[str] = _secret(  # a native app has none (PKCE)
        "CALENDLY_CLIENT_SECRET", "Client secret of your OAuth app (none for a native app).")
    oauth_auth_url: Optional[str] = Field(None, validation_alias="CALENDLY_AUTH_URL",  # None: Calendly's
                                          description="Calendly's authorization server. Default: https://auth.calendly.com.")
    oauth_token_file: Optional[Path] = Field(None, validation_alias="CALENDLY_OAUTH_TOKEN_FILE", description=(
        "Where `auth login` keeps the OAuth tokens (mode 0600). Default: .calendly_oauth.json beside the warehouse."))
    schedule: str = Field(DEFAULT_SCHEDULE, validation_alias="CALENDLY_ELT_SCHEDULE",  # checked by Dagster
                          description="Cron (UTC) of the Dagster schedule.")
    log_level: str = Field(DEFAULT_LOG_LEVEL, validation_alias="CALENDLY_ELT_LOG_LEVEL",
                           description="Log level of the command line (DEBUG, INFO, WARNING, ERROR).")
    # The OAuth access token `require_calendly_token` handed out, so that `secrets` masks it too.
    _oauth_access_token: Optional[str] = PrivateAttr(None)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise _config_error(exc) from None

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        # No .env file, no secrets folder: what is given, then what `from_env` reads.
        return init_settings, _Variables(settings_cls)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """The settings of this process's environment, or of `env` (tests). A value that is not valid
        is one ConfigError naming the variable."""
        reading = _variables.set(os.environ if env is None else env)
        try:
            return cls()
        finally:
            _variables.reset(reading)

    def with_(self, **changes: Any) -> "Settings":
        """A copy with some fields changed, checked and normalised as when it was built."""
        return type(self)(**{**{name: getattr(self, name) for name in type(self).model_fields}, **changes})

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any, info: ValidationInfo) -> Any:
        blank = value == "" or (info.field_name == "schedule" and isinstance(value, str) and not value.strip())
        return cls.model_fields[info.field_name].default if blank else value

    @field_validator("calendly_api_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return http_url(value, DEFAULT_API_URL).rstrip("/")

    @field_validator("brevo_api_url", "oauth_auth_url")
    @classmethod
    def _no_trailing_slash_or_unset(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        example = {"brevo_api_url": "https://api.brevo.com/v3"}.get(info.field_name, "https://auth.calendly.com")
        value = (value or "").strip().rstrip("/")
        return http_url(value, example) if value else None  # "/" alone: unset, as it always was

    @field_validator("webhook_url")
    @classmethod
    def _callback_url(cls, value: Optional[str]) -> Optional[str]:
        return http_url(value, "https://hooks.example.com/webhooks/calendly") if value else None

    @field_validator("warehouse_path", "mapping_path", "oauth_token_file")
    @classmethod
    def _absolute(cls, value: Optional[Path]) -> Optional[Path]:
        if value is None:
            return None
        try:
            return value.expanduser().resolve()
        except RuntimeError as exc:  # ~user of no such user
            raise ValueError(str(exc)) from None

    @field_validator("schedule")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()

    @field_validator("calendly_token", "brevo_api_key", "webhook_signing_key", "oauth_client_id",
                     "oauth_client_secret")
    @classmethod
    def _one_word(cls, value: Optional[str]) -> Optional[str]:
        # A token pasted with its line break is the common case: strip it. One with a space or a line
        # break inside would fail as an HTTP header, whose error shows it: refuse it here, unshown.
        value = value.strip() if value else value
        if value and any(c.isspace() or not c.isprintable() for c in value):
            raise ValueError("contains spaces, line breaks or control characters: copy it again")
        return value or None

    @field_validator("log_level")
    @classmethod
    def _a_level(cls, value: str) -> str:
        if value.strip().upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError(f"{value!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return value.strip().upper()

    @field_validator("warehouse_path")
    @classmethod
    def _a_file(cls, value: Path) -> Path:
        if value.is_dir():
            raise ValueError(f"{value} is a folder: give the DuckDB file's path, such as {value / 'warehouse.duckdb'}")
        return value

    @property
    def warehouse(self) -> "Warehouse":
        """The DuckDB file `warehouse_path`, or the database of `warehouse_url`."""
        from .warehouse import Warehouse

        return Warehouse.from_setting(self.warehouse_url, self.warehouse_path)

    @property
    def secrets(self) -> list[str]:
        """What no message may show (errors.describe masks these)."""
        from urllib.parse import unquote, urlsplit

        try:  # not through `warehouse`, which raises on a URL it refuses: this runs in error handlers
            password = urlsplit(self.warehouse_url or "").password
        except ValueError:
            password = None
        found = [self.calendly_token, self._oauth_access_token, self.brevo_api_key, password and unquote(password), password,
                 self.webhook_signing_key, self.oauth_client_secret]
        return [s for s in found if s]

    @property
    def data_dir(self) -> Path:
        """Local state beside the warehouse file: dlt's working folder, landed webhooks, reports."""
        return self.warehouse_path.parent

    def ensure_data_dir(self) -> Path:
        """`data_dir`, created if need be; a folder that cannot be is WAREHOUSE_PATH's to fix."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            writable = os.access(self.data_dir, os.W_OK | os.X_OK)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(self.data_dir) else ""
            raise ConfigError(f"WAREHOUSE_PATH: cannot create the folder {self.data_dir}: {reason}{where}; "
                              "choose a file in a folder you can write to") from None
        if not writable:
            raise ConfigError(f"WAREHOUSE_PATH: the folder {self.data_dir} is not writable; choose a file in a "
                              "folder you can write to")
        return self.data_dir

    @property
    def analytics_path(self) -> Path:
        """The snapshot analysts open (DESIGN.md): published beside the warehouse after each good run."""
        return self.warehouse_path.parent / "analytics.duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def oauth_token_path(self) -> Path:
        """CALENDLY_OAUTH_TOKEN_FILE, else beside the warehouse (as the webhook landing store is), so each
        warehouse has its own login."""
        from .oauth import TOKEN_FILE_NAME

        return self.oauth_token_file or self.data_dir / TOKEN_FILE_NAME

    def oauth_client(self) -> "TokenClient":
        """The OAuth app `calendly-elt auth login` logs in with."""
        from .oauth import login_client

        return login_client(self.oauth_client_id, self.oauth_client_secret, self.oauth_auth_url)

    def require_calendly_token(self, *, now: Optional[Callable[[], float]] = None) -> str:
        """CALENDLY_ACCESS_TOKEN, else the access token of `calendly-elt auth login` (refreshed first
        if it expires within minutes)."""
        if self.calendly_token:
            return self.calendly_token
        from .oauth import access_token_from_oauth  # may call the token endpoint

        token = access_token_from_oauth(self.oauth_token_path, self.oauth_client_id, self.oauth_client_secret,
                                        **({"now": now} if now else {}))
        if token:
            self._oauth_access_token = token  # a private attribute: the settings themselves stay frozen
            return token
        raise ConfigError(
            "CALENDLY_ACCESS_TOKEN is not set: create a personal access token in Calendly "
            "(Integrations → API & Webhooks) and export it, or run `calendly-elt auth login`")


def variable_help(names: Iterable[str]) -> str:
    """The environment variables `names`, one paragraph each: what it is and its default (the CLI's
    help shows those each command reads)."""
    fields = {field.validation_alias: field for field in Settings.model_fields.values()}
    lines = []
    for name in names:
        field = fields[name]
        default = field.default if isinstance(field.default, str) and field.default else None
        if isinstance(field.default, Path):
            default = str(field.default.relative_to(PROJECT_ROOT)) + " in the repo"
        lines.append(f"[bold]{name}[/bold]  {field.description}" + (f" Default: {default}." if default else ""))
    return "Environment variables:\n\n" + "\n\n".join(lines)


def http_url(value: str, example: str) -> str:
    """An http(s) URL with a host (and a numeric port, if any): a typo fails where it is read – a
    setting, a flag – naming it, not later as a request error. ValueError otherwise."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 – raises on a port that is not a number
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid:
        raise ValueError(f"{value!r} is not an http(s) URL with a host, such as {example}")
    return value.strip()


def _config_error(exc: ValidationError) -> ConfigError:
    """One line naming the variable (never its value: it may be a secret)."""
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    name = str(first["loc"][0]) if first["loc"] else ""
    field = Settings.model_fields.get(name)
    variable = field.validation_alias if field is not None and isinstance(field.validation_alias, str) else name
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    reason = first["msg"].removeprefix("Value error, ")
    return ConfigError(f"{variable or 'settings'}: {reason}{more}")


@contextmanager
def environment_while(variables: Mapping[str, str]) -> Iterator[None]:
    """`variables` in os.environ for the duration (in-process readers such as dbt's profile, and
    subprocesses that inherit it), then as before: a password set here does not outlive its use."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def dbt_environment(warehouse: "Warehouse") -> Any:
    """`warehouse.dbt_env()` – the variables dbt_project/profiles.yml reads – in os.environ while dbt
    runs, then as before: the password and the target do not outlive the run."""
    return environment_while(warehouse.dbt_env())


def dlt_telemetry_off_by_default() -> None:
    """dlt's anonymous telemetry off for this process, unless the environment says otherwise."""
    os.environ.setdefault(DLT_TELEMETRY, "false")


def child_environment(**overrides: str) -> dict[str, str]:
    """This process's environment for a child process, with dlt's telemetry off unless it is set, and
    `overrides`."""
    return {**os.environ, DLT_TELEMETRY: os.environ.get(DLT_TELEMETRY, "false"), **overrides}
