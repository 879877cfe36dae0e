"""WAREHOUSE_URL picks the warehouse; its password never reaches a message, dbt's logs or the CLI."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from pipelines.cli import main
from pipelines.config import Settings
from pipelines.exceptions import ConfigError
from pipelines.warehouse import Warehouse
from pipelines.warehouse.location import DBT_PASSWORD_VAR
from tests.warehouses import _server_url

SECRET = "s3cr%2Ft-pa55"  # percent-encoded in the URL: "s3cr/t-pa55"


def test_unset_is_the_duckdb_file_and_a_postgres_url_is_postgres(tmp_path):
    assert Settings.from_env({"WAREHOUSE_PATH": str(tmp_path / "w.duckdb")}).warehouse == \
        Warehouse("duckdb", path=tmp_path / "w.duckdb")
    url = f"postgresql://elt:{SECRET}@db.internal:6543/calendly?sslmode=require"
    warehouse = Settings.from_env({"WAREHOUSE_URL": url}).warehouse
    assert warehouse.kind == "postgres" and warehouse.password == "s3cr/t-pa55"
    assert warehouse.name == "postgresql://elt:***@db.internal:6543/calendly?sslmode=require"
    env = warehouse.dbt_env()
    assert env["CALENDLY_ELT_DBT_TARGET"] == "postgres" and env[DBT_PASSWORD_VAR] == "s3cr/t-pa55"
    assert (env["CALENDLY_ELT_PG_HOST"], env["CALENDLY_ELT_PG_PORT"], env["CALENDLY_ELT_PG_DATABASE"],
            env["CALENDLY_ELT_PG_SSLMODE"]) == ("db.internal", "6543", "calendly", "require")
    assert not any("s3cr" in value for key, value in env.items() if key != DBT_PASSWORD_VAR)


@pytest.mark.parametrize("url, reason", [
    ("mysql://u:p@h/db", "must start with postgresql://"),
    ("postgresql://u:p@h", "needs a host and a database"),
])
def test_an_unusable_url_says_what_to_write(url, reason):
    with pytest.raises(ConfigError, match=reason) as caught:
        Settings.from_env({"WAREHOUSE_URL": url}).warehouse
    assert ":p@" not in str(caught.value)


def test_a_wrong_password_fails_in_one_line_without_the_password(tmp_path, capsys, monkeypatch):
    server = urlsplit(_server_url())  # skips (or fails in CI) without the test server
    wrong = server._replace(netloc=f"{server.username}:{SECRET}@{server.hostname}:{server.port}").geturl()
    monkeypatch.setenv("WAREHOUSE_URL", wrong)
    monkeypatch.setenv("WAREHOUSE_PATH", str(tmp_path / "data" / "w.duckdb"))
    monkeypatch.setenv("CALENDLY_ACCESS_TOKEN", "unused-token")

    assert main(["sync", "--dry-run"]) == 1

    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "PostgreSQL refused WAREHOUSE_URL" in err and "password authentication failed" in err
    assert SECRET not in err and "s3cr/t" not in err and "***" in err
