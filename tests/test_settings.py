"""The settings: every variable read in one place, normalised as documented, a bad value one ConfigError line."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from pipelines.config import (DEFAULT_SCHEDULE, DEFAULT_WAREHOUSE, PROJECT_ROOT, Settings, child_environment,
                              environment_while)
from pipelines.exceptions import ConfigError

SECRETS = {"CALENDLY_ACCESS_TOKEN": "calendly-token-1", "BREVO_API_KEY": "xkeysib-brevo-2",
           "WAREHOUSE_URL": "postgresql://elt:pg%40pass-3@db.example:5432/warehouse",
           "CALENDLY_WEBHOOK_SIGNING_KEY": "signing-key-4", "CALENDLY_CLIENT_SECRET": "client-secret-5"}


def test_defaults_and_empty_values():
    empty = {name: "" for name in (*SECRETS, "CALENDLY_API_URL", "WAREHOUSE_PATH", "CALENDLY_ELT_CONFIG",
                                   "BREVO_API_URL", "CALENDLY_CLIENT_ID", "CALENDLY_AUTH_URL",
                                   "CALENDLY_OAUTH_TOKEN_FILE", "CALENDLY_ELT_LOG_LEVEL")}
    for env in ({}, empty, {"CALENDLY_ELT_SCHEDULE": "  "}):
        settings = Settings.from_env(env)
        assert settings == Settings()
        assert settings.calendly_token is None and settings.calendly_api_url == "https://api.calendly.com"
        assert settings.warehouse_path == DEFAULT_WAREHOUSE and settings.mapping_path is None
        assert settings.brevo_api_url is None and settings.warehouse_url is None and settings.secrets == []
        assert settings.schedule == DEFAULT_SCHEDULE and settings.log_level == "WARNING"
        assert settings.oauth_token_path == PROJECT_ROOT / "data" / ".calendly_oauth.json"


def test_values_are_normalised(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"CALENDLY_API_URL": "http://proxy.example/calendly//", "BREVO_API_URL": "/",
                                  "WAREHOUSE_PATH": "data/../w.duckdb", "CALENDLY_ELT_CONFIG": "~/mapping.yml",
                                  "CALENDLY_OAUTH_TOKEN_FILE": "tokens.json", "CALENDLY_ELT_SCHEDULE": " */5 * * * * "})
    assert settings.calendly_api_url == "http://proxy.example/calendly" and settings.brevo_api_url is None
    assert settings.warehouse_path == tmp_path.resolve() / "w.duckdb"
    assert settings.mapping_path == Path.home().resolve() / "mapping.yml"
    assert settings.oauth_token_path == tmp_path.resolve() / "tokens.json"
    assert settings.schedule == "*/5 * * * *"
    changed = settings.with_(warehouse_path="x/../other.duckdb", brevo_api_url="http://brevo.example/")
    assert changed.warehouse_path == tmp_path.resolve() / "other.duckdb"
    assert changed.brevo_api_url == "http://brevo.example" and changed.calendly_api_url == settings.calendly_api_url
    assert changed.oauth_token_path == settings.oauth_token_path


def test_secrets_are_masked_and_never_in_a_repr():
    settings = Settings.from_env(SECRETS)
    shown = f"{settings!r} {settings}"
    assert set(settings.secrets) >= {*SECRETS.values(), "pg@pass-3", "pg%40pass-3"} - {SECRETS["WAREHOUSE_URL"]}
    for secret in settings.secrets:
        assert secret not in shown


def test_a_mapping_is_all_that_is_read(monkeypatch):
    monkeypatch.setenv("CALENDLY_ACCESS_TOKEN", "from-the-environment")
    assert Settings.from_env({}).calendly_token is None
    assert Settings(calendly_api_url="http://x").calendly_token is None  # fields given, nothing read
    assert Settings.from_env().calendly_token == "from-the-environment"


def test_a_bad_value_is_one_line_naming_the_variable():
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"WAREHOUSE_PATH": "~no-such-user-of-this-machine/w.duckdb",
                           "CALENDLY_ACCESS_TOKEN": "calendly-token-1"})
    message = str(caught.value)
    assert message.startswith("WAREHOUSE_PATH: ") and "\n" not in message and "calendly-token-1" not in message
    with pytest.raises(ConfigError, match=r"^CALENDLY_API_URL: .*string") as caught:
        Settings(calendly_api_url=42)
    assert "\n" not in str(caught.value)


def test_settings_are_frozen():
    with pytest.raises(ValidationError, match="frozen"):
        Settings().calendly_token = "x"


def test_environment_while_restores_what_was_there(monkeypatch):
    monkeypatch.setenv("CALENDLY_ELT_TEST_KEPT", "before")
    monkeypatch.delenv("CALENDLY_ELT_TEST_NEW", raising=False)
    with environment_while({"CALENDLY_ELT_TEST_KEPT": "during", "CALENDLY_ELT_TEST_NEW": "during"}):
        assert os.environ["CALENDLY_ELT_TEST_KEPT"] == os.environ["CALENDLY_ELT_TEST_NEW"] == "during"
    assert os.environ["CALENDLY_ELT_TEST_KEPT"] == "before" and "CALENDLY_ELT_TEST_NEW" not in os.environ


def test_child_environment(monkeypatch):
    monkeypatch.delenv("RUNTIME__DLTHUB_TELEMETRY", raising=False)
    monkeypatch.setenv("CALENDLY_ELT_TEST_KEPT", "inherited")
    env = child_environment(WAREHOUSE_PATH="/elsewhere.duckdb")
    assert env["RUNTIME__DLTHUB_TELEMETRY"] == "false" and env["CALENDLY_ELT_TEST_KEPT"] == "inherited"
    assert env["WAREHOUSE_PATH"] == "/elsewhere.duckdb" and "RUNTIME__DLTHUB_TELEMETRY" not in os.environ
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "true")
    assert child_environment()["RUNTIME__DLTHUB_TELEMETRY"] == "true"


def test_only_the_settings_module_reads_the_environment():
    readers = []
    for package in ("pipelines", "orchestration"):
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            if path != PROJECT_ROOT / "pipelines" / "config.py" and re.search(r"os\.environ|getenv",
                                                                               path.read_text()):
                readers.append(str(path.relative_to(PROJECT_ROOT)))
    assert readers == []


def test_a_pasted_token_loses_its_line_break_and_a_broken_one_is_refused_unshown():
    settings = Settings.from_env({"CALENDLY_ACCESS_TOKEN": " pat-0123456789\n", "BREVO_API_KEY": "xkeysib-1\r\n"})
    assert settings.calendly_token == "pat-0123456789" and settings.brevo_api_key == "xkeysib-1"
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"BREVO_API_KEY": "xkeysib-first half\nsecond-half"})
    assert str(refused.value).startswith("BREVO_API_KEY: ") and "half" not in str(refused.value)


def test_the_landing_retention_reaches_the_store_and_a_day_is_the_least(tmp_path):
    from pipelines.extract import landing_store
    from pipelines.webhooks import LandingStore, landing_path

    settings = Settings.from_env({"WAREHOUSE_PATH": str(tmp_path / "w.duckdb"),
                                  "CALENDLY_ELT_LANDING_RETENTION_DAYS": "7"})
    LandingStore(landing_path(settings)).close()
    assert landing_store(settings).retention_days == 7
    with pytest.raises(ConfigError, match="^CALENDLY_ELT_LANDING_RETENTION_DAYS: "):
        Settings.from_env({"CALENDLY_ELT_LANDING_RETENTION_DAYS": "0.5"})
