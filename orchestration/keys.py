"""Asset keys, set in one place so the dlt and dbt translators cannot drift apart.

A Calendly table is `calendly/<table>`; dlt's child tables (`invitees__questions_and_answers`) are
written by their parent's resource, so they share its key. A dbt model is `<schema>/<model>`.
"""

from __future__ import annotations

import dagster as dg

CALENDLY_PREFIX = "calendly"


def calendly_table_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([CALENDLY_PREFIX, table.split("__")[0]])


def dbt_model_key(schema: str, name: str) -> dg.AssetKey:
    return dg.AssetKey([schema, name])


BREVO_CONTACTS = dg.AssetKey(["brevo", "contacts"])
ANALYTICS_SNAPSHOT = dg.AssetKey(["analytics", "snapshot"])
SCHEDULING_REPORT = dg.AssetKey(["analytics", "scheduling_report"])
# The Brevo payload (dbt): the one model the Brevo sync reads.
MARTS_BREVO_CONTACTS = dbt_model_key("marts", "brevo_contacts")
