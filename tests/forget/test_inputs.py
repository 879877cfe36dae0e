"""`calendly-elt forget` refuses what is not an address before doing anything, in one line."""

from __future__ import annotations

import pytest

from pipelines import cli
from pipelines.erasure.emails import checked_emails
from pipelines.exceptions import ConfigError


def test_addresses_are_trimmed_lower_cased_and_deduplicated():
    assert checked_emails([" Ada@Example.ORG", "ada@example.org", "bob@x.io"]) == ["ada@example.org", "bob@x.io"]


@pytest.mark.parametrize("given", ["ada", "ada@", "@example.org", "ada@example", "a b@example.org", "  "])
def test_an_invalid_address_is_refused(given):
    with pytest.raises(ConfigError, match="nothing was erased"):
        checked_emails(["ok@example.org", given])


def test_the_cli_says_so_in_one_line_and_touches_nothing(tmp_path, monkeypatch, capsys):
    warehouse = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("WAREHOUSE_PATH", str(warehouse))
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    assert cli.main(["forget", "ada@example.org", "not-an-address"]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["calendly-elt forget: 'not-an-address' is not an email address: "
                                        "nothing was erased"]
    assert list(tmp_path.iterdir()) == []
    assert cli.main(["forget"]) == 2  # no address at all: a usage error
    assert cli.main(["forget", "ada@example.org"]) == 1  # no warehouse: nothing to erase, said so
    assert "no warehouse" in capsys.readouterr().err
