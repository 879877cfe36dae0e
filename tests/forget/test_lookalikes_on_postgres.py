"""The lookalike erasure (lookalikes.py) on the PostgreSQL warehouse, Calendly's deletion refused with a 404."""

from tests.forget.lookalikes import lookalikes_end_to_end
from tests.warehouses import provide


def test_lookalikes_on_postgres(tmp_path, monkeypatch, capsys):
    with provide("postgres", tmp_path / "data") as warehouse:
        lookalikes_end_to_end(tmp_path, warehouse, monkeypatch, capsys)
