"""Constants of the Calendly source: endpoints, page size, defaults and column hints."""

from ..config import DEFAULT_API_URL  # noqa: F401 – the source's default, the settings' default
from .raw_contract import nested_hints, root_columns

PAGE_SIZE = 100  # Calendly's maximum `count`

DEFAULT_LOOKBACK_DAYS = 7
DEFAULT_NO_SHOW_WINDOW_DAYS = 7
DEFAULT_MAX_WORKERS = 8
# Above dlt's default of 5: at 10% faults, some request of a few thousand sees five in a row.
DEFAULT_MAX_ATTEMPTS = 8

ADMIN_ROLES = frozenset({"admin", "owner"})

def _newest_wins() -> dict:
    # The row kept when one load holds the same `uri` twice (an API read and a webhook delivery): dlt's
    # merge deduplicates the staged rows on the primary key, by this column, descending.
    return {"data_type": "timestamp", "nullable": True, "dedup_sort": "desc"}


# Every documented column, typed, from the API reference (raw_contract.py): a warehouse whose history has
# no no-show, no UTM or no payment yet still has those columns, and every model that reads them works.
EVENT_TYPE_COLUMNS = root_columns("event_types")
EVENT_TYPE_NESTED_HINTS = nested_hints("event_types")
EVENT_COLUMNS = root_columns("scheduled_events", updated_at=_newest_wins())
EVENT_NESTED_HINTS = nested_hints("scheduled_events")
INVITEE_COLUMNS = root_columns("invitees", updated_at=_newest_wins())
# `phone_e164` and `phone_country` are added by the extract (phones.py), on the answers that are valid numbers.
INVITEE_NESTED_HINTS = nested_hints(
    "invitees", extra={("questions_and_answers",): {"phone_e164": "text", "phone_country": "text"}})
MEMBERSHIP_COLUMNS = root_columns("organization_memberships")
ROUTING_FORM_COLUMNS = root_columns("routing_forms")
ROUTING_FORM_NESTED_HINTS = nested_hints("routing_forms")
ROUTING_SUBMISSION_COLUMNS = root_columns("routing_form_submissions", updated_at=_newest_wins())
ROUTING_SUBMISSION_NESTED_HINTS = nested_hints("routing_form_submissions")
