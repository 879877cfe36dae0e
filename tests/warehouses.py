"""The two warehouses the end-to-end tests run on: a DuckDB file, and a PostgreSQL database.

PostgreSQL comes from `tests/with_postgres.sh` (which `make test` wraps around pytest): a throwaway
server on loopback whose superuser URL is CALENDLY_ELT_TEST_POSTGRES_URL. Each test (or module)
gets a database of its own, dropped afterwards. Without a server the PostgreSQL leg is skipped with
the reason, unless CALENDLY_ELT_REQUIRE_POSTGRES=1 (CI), where it fails instead.
"""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional
from urllib.parse import urlsplit

import pytest

from pipelines.warehouse import Warehouse, connect

KINDS = ("duckdb", "postgres")


@dataclass(frozen=True)
class TestWarehouse:
    """Settings fields for one warehouse: `Settings(..., **w.fields)`."""
    kind: str
    path: Path  # the DuckDB file; with PostgreSQL, its folder still holds the local files
    url: Optional[str] = None

    __test__ = False  # not a test class, whatever its name

    @property
    def fields(self) -> dict:
        return {"warehouse_path": self.path, "warehouse_url": self.url}

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse.from_setting(self.url, self.path)

    def connect(self, read_only: bool = False):
        return connect(self.warehouse, read_only=read_only)

    def query(self, sql: str, params=None) -> list[tuple]:
        with self.connect() as con:
            return con.execute(sql, params).fetchall()


def _server_url() -> str:
    url = os.environ.get("CALENDLY_ELT_TEST_POSTGRES_URL")
    if url:
        return url
    reason = os.environ.get("CALENDLY_ELT_TEST_POSTGRES_SKIP") or (
        "no PostgreSQL server: run the suite through `make test` (tests/with_postgres.sh starts one), "
        "or set CALENDLY_ELT_TEST_POSTGRES_URL to a superuser URL")
    if os.environ.get("CALENDLY_ELT_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL leg required but unavailable: {reason}")
    pytest.skip(f"PostgreSQL leg skipped: {reason}")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    return _server_url()


def _admin(url: str):
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    return connection


@contextmanager
def provide(kind: str, folder: Path, template: Optional[TestWarehouse] = None) -> Iterator[TestWarehouse]:
    """A fresh warehouse of `kind` whose local files live in `folder`: empty, or a copy of `template`."""
    path = folder / "warehouse.duckdb"
    if kind == "duckdb":
        if template is not None:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(template.path, path)
        yield TestWarehouse(kind, path)
        return
    server = _server_url()
    name = f"calendly_elt_{uuid.uuid4().hex[:12]}"
    admin = _admin(server)
    try:
        copy = f' template "{urlsplit(template.url).path.strip("/")}"' if template is not None else ""
        admin.cursor().execute(f'create database "{name}"{copy}')
        yield TestWarehouse(kind, path, urlsplit(server)._replace(path=f"/{name}").geturl())
    finally:
        admin.cursor().execute(f'drop database if exists "{name}" with (force)')
        admin.close()
