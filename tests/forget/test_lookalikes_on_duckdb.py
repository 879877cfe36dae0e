"""The lookalike erasure (lookalikes.py) on the DuckDB warehouse, Calendly's deletion on an Enterprise plan and
Brevo's answers."""

from tests.forget.lookalikes import lookalikes_end_to_end
from tests.warehouses import provide


def test_lookalikes_on_duckdb(tmp_path, monkeypatch, capsys):
    with provide("duckdb", tmp_path / "data") as warehouse:
        lookalikes_end_to_end(tmp_path, warehouse, monkeypatch, capsys)
