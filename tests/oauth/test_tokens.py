"""The token file: private, replaced atomically, and a clear message when it is missing or damaged."""

from __future__ import annotations

import os
import stat

import pytest

from pipelines.oauth import OAuthError, StoredTokens, TokenSet, TokenStore


def sample(refresh: str = "r-secret") -> StoredTokens:
    return StoredTokens(TokenSet("a-secret", refresh, 1_900_000_000.0, "https://api.calendly.com/users/U"),
                        "client", "https://auth.calendly.com")


def test_round_trip_is_private_and_atomic(tmp_path):
    store = TokenStore(tmp_path / "new" / "tokens.json")
    old_umask = os.umask(0)  # even a permissive umask must not open the file up
    try:
        store.save(sample())
        store.save(sample("r2"))
    finally:
        os.umask(old_umask)
    assert store.load() == sample("r2")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert os.listdir(store.path.parent) == ["tokens.json"]  # no temporary file left
    assert "secret" not in repr(store.load())


def test_widened_permissions_are_closed_again(tmp_path):
    store = TokenStore(tmp_path / "tokens.json")
    store.save(sample())
    store.path.chmod(0o644)
    store.load()
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


@pytest.mark.parametrize("content", [None, b"{not json", b"[]", b'{"format": 1, "tokens": {}}'])
def test_missing_or_damaged_file_says_log_in(tmp_path, content):
    store = TokenStore(tmp_path / "tokens.json")
    if content is not None:
        store.path.write_bytes(content)
    with pytest.raises(OAuthError, match=r"run `calendly-elt auth login`") as info:
        store.load()
    assert str(tmp_path) in str(info.value)
