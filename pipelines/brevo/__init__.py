"""Reverse sync: `marts.contacts` → Brevo contacts, attributes and lists (only what changed)."""
