"""Reverse sync: `marts.brevo_contacts` (the payload, built by dbt) → Brevo contacts, attributes and lists (only what changed)."""
