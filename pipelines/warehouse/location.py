"""Which warehouse a run writes to, and what each tool needs to reach it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qsl, unquote, urlsplit

import dlt
from dlt.common.destination import Destination

from ..exceptions import ConfigError

_POSTGRES_SCHEMES = ("postgresql", "postgres")
# The profile's outputs (dbt_project/profiles.yml); the selected one comes from this variable.
DBT_TARGET_VAR = "CALENDLY_ELT_DBT_TARGET"
# dbt scrubs the values of DBT_ENV_SECRET_* variables from its logs and artifacts.
DBT_PASSWORD_VAR = "DBT_ENV_SECRET_CALENDLY_ELT_PG_PASSWORD"


@dataclass(frozen=True)
class Warehouse:
    kind: str  # duckdb | postgres
    path: Optional[Path] = None  # the DuckDB file
    # The PostgreSQL URL, password included: never print it (use `name`), nor show it in a repr.
    url: Optional[str] = field(default=None, repr=False)

    @classmethod
    def from_setting(cls, url: Optional[str], path: Path) -> "Warehouse":
        """`url` is WAREHOUSE_URL (None: the DuckDB file at `path`)."""
        if not url:
            return cls("duckdb", path=path)
        scheme = url.split(":", 1)[0].lower()
        if scheme in _POSTGRES_SCHEMES:
            parts = urlsplit(url)
            if not parts.hostname or not parts.path.strip("/"):
                raise ConfigError(f"WAREHOUSE_URL {_redact(url)} needs a host and a database: "
                                  "postgresql://user:password@host:5432/database")
            unsupported = sorted(set(dict(parse_qsl(parts.query))) - {"sslmode"})
            if unsupported:  # dbt-postgres would not get them: one URL must mean the same to every stage
                raise ConfigError(f"WAREHOUSE_URL {_redact(url)}: only ?sslmode= is supported, not "
                                  f"{', '.join(unsupported)} (use PGSSLROOTCERT, PGSSLCERT, … from libpq instead)")
            return cls("postgres", url=url)
        raise ConfigError(f"WAREHOUSE_URL must start with postgresql:// (got {scheme}:…); leave it unset "
                          "for the DuckDB file WAREHOUSE_PATH")

    @classmethod
    def of(cls, warehouse: "Warehouse | Path") -> "Warehouse":
        """`warehouse` itself, or the DuckDB file at a path (what callers that predate WAREHOUSE_URL pass)."""
        return cls("duckdb", path=warehouse) if isinstance(warehouse, Path) else warehouse

    @property
    def absent(self) -> bool:
        """A DuckDB file that no extract has created yet. (A PostgreSQL database is only known by
        connecting: `connect` says what is wrong with it.)"""
        return self.kind == "duckdb" and not self.path.is_file()

    @property
    def name(self) -> str:
        """For messages and logs: the file, or the URL without its password."""
        return str(self.path) if self.kind == "duckdb" else _redact(self.url or "")

    @property
    def password(self) -> Optional[str]:
        if not self.url:
            return None
        return unquote(urlsplit(self.url).password or "") or None

    def destination(self) -> Destination:
        if self.kind == "duckdb":
            return dlt.destinations.duckdb(str(self.path))
        return dlt.destinations.postgres(credentials=self.url)

    def working_dir_name(self) -> str:
        """dlt's folder of pending packages for this warehouse: one per warehouse, so two warehouses
        used from one data folder never finish each other's loads."""
        if self.kind == "duckdb":
            return self.path.stem
        parts = urlsplit(self.url)
        return re.sub(r"[^A-Za-z0-9_.-]", "_", f"postgres-{parts.hostname}-{parts.port or 5432}-{parts.path.strip('/')}")

    def dbt_env(self) -> dict[str, str]:
        """The variables dbt_project/profiles.yml reads for this warehouse (`config.dbt_environment`
        sets them while dbt runs)."""
        if self.kind == "duckdb":
            return {DBT_TARGET_VAR: "duckdb", "WAREHOUSE_PATH": str(self.path)}
        parts = urlsplit(self.url)
        options = dict(parse_qsl(parts.query))
        return {
            DBT_TARGET_VAR: "postgres",
            "CALENDLY_ELT_PG_HOST": parts.hostname,
            "CALENDLY_ELT_PG_PORT": str(parts.port or 5432),
            "CALENDLY_ELT_PG_USER": unquote(parts.username or ""),
            DBT_PASSWORD_VAR: self.password or "",
            "CALENDLY_ELT_PG_DATABASE": unquote(parts.path.strip("/")),
            "CALENDLY_ELT_PG_SSLMODE": options.get("sslmode", "prefer"),
            # libpq's session time zone: dbt-postgres's datediff casts timestamptz to timestamp in it,
            # so on a server set to another zone lead times would move by an hour across DST.
            "PGTZ": "UTC",
        }


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()
