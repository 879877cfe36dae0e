"""After `auth login`, the extract needs no personal access token: Settings falls back to OAuth."""

import pytest

from pipelines.config import Settings
from pipelines.exceptions import ConfigError
from pipelines.extract import run_extract
from pipelines.oauth import login
from tests.oauth.conftest import follow


def test_extract_runs_on_the_oauth_login_when_no_access_token_is_set(sandbox, client, tmp_path, monkeypatch):
    monkeypatch.delenv("CALENDLY_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("CALENDLY_OAUTH_TOKEN_FILE", raising=False)
    settings = Settings(calendly_token=None, calendly_api_url=sandbox.url,
                        warehouse_path=tmp_path / "data" / "warehouse.duckdb")
    with pytest.raises(ConfigError, match="calendly-elt auth login"):
        settings.require_calendly_token()

    from pipelines.oauth import TokenStore
    store = TokenStore(settings.oauth_token_path)
    login(store, client, open_browser=follow)

    summary = run_extract(settings)
    assert summary.rows_loaded.get("scheduled_events", 0) > 0
    # The OAuth access token it used is a secret like CALENDLY_ACCESS_TOKEN: messages mask it.
    access_token = store.load().tokens.access_token
    assert access_token in settings.secrets
    from pipelines.errors import CALENDLY, describe
    assert access_token not in describe(RuntimeError(f"refused {access_token}"), sandbox.url, settings.secrets,
                                        CALENDLY)
