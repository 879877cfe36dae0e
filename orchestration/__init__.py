"""Dagster definitions for calendly-elt: one asset graph from the Calendly tables to Brevo and the report."""
