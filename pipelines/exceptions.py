"""Exceptions that any layer may raise and any other may catch.

A leaf of the import graph: this module imports nothing of ours, so the settings, the warehouse, OAuth
and every stage can share these classes without importing one another (tests/test_import_graph.py).
"""

from __future__ import annotations

__all__ = ["ConfigError"]


class ConfigError(Exception):
    """A setting the user has to fix; the message says which."""
