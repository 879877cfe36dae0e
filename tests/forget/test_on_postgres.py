"""The end-to-end erasure (scenario.py) on the PostgreSQL warehouse, with Calendly's deletion asked on a
plan without it: a clear one-line refusal, exit 1, and the local erasure done all the same."""

from tests.forget.scenario import forget_end_to_end
from tests.warehouses import provide


def test_forget_end_to_end_on_postgres(tmp_path, monkeypatch, capsys):
    with provide("postgres", tmp_path / "data") as warehouse:
        forget_end_to_end(tmp_path, warehouse, monkeypatch, capsys)
