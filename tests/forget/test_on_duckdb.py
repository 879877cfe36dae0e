"""The end-to-end erasure (scenario.py) on the DuckDB warehouse, with Calendly's deletion on an Enterprise
plan: accepted, recorded by the sandbox, and its anonymized rows kept out."""

from tests.forget.scenario import forget_end_to_end
from tests.warehouses import provide


def test_forget_end_to_end_on_duckdb(tmp_path, monkeypatch, capsys):
    with provide("duckdb", tmp_path / "data") as warehouse:
        forget_end_to_end(tmp_path, warehouse, monkeypatch, capsys)
