"""Calendly webhooks: a signed receiver that lands deliveries outside the warehouse (DESIGN.md: webhooks
never write to DuckDB; a later stage merges what landed)."""

from .landing import LandingStore, landing_path
from .signature import SignatureError, digest, sign, verify

__all__ = ["LandingStore", "SignatureError", "digest", "landing_path", "sign", "verify"]
