"""Constants of the Calendly source: endpoints, page size, defaults and column hints."""

DEFAULT_API_URL = "https://api.calendly.com"
PAGE_SIZE = 100  # Calendly's maximum `count`

DEFAULT_LOOKBACK_DAYS = 7
DEFAULT_NO_SHOW_WINDOW_DAYS = 7
DEFAULT_MAX_WORKERS = 8
# Above dlt's default of 5: at 10% faults, some request of a few thousand sees five in a row.
DEFAULT_MAX_ATTEMPTS = 8

ADMIN_ROLES = frozenset({"admin", "owner"})

# Nested objects that are null on most rows (often on the whole first page). dlt only creates the
# flattened columns once a non-null value arrives, so without these hints a warehouse whose history has
# no no-show yet would lack `no_show__uri`, and every downstream model that reads it would break.
_TEXT = {"data_type": "text", "nullable": True}
_TS = {"data_type": "timestamp", "nullable": True}
_BOOL = {"data_type": "bool", "nullable": True}

INVITEE_COLUMNS = {
    "first_name": _TEXT,
    "last_name": _TEXT,
    "timezone": _TEXT,
    "text_reminder_number": _TEXT,
    "old_invitee": _TEXT,
    "new_invitee": _TEXT,
    "routing_form_submission": _TEXT,
    "rescheduled": _BOOL,
    "no_show__uri": _TEXT,
    "no_show__created_at": _TS,
    "cancellation__canceled_by": _TEXT,
    "cancellation__reason": _TEXT,
    "cancellation__canceler_type": _TEXT,
    "reconfirmation__created_at": _TS,
    "reconfirmation__confirmed_at": _TS,
    "payment__external_id": _TEXT,
    "payment__provider": _TEXT,
    "payment__amount": {"data_type": "double", "nullable": True},
    "payment__currency": _TEXT,
    "payment__successful": _BOOL,
    **{f"tracking__{k}": _TEXT for k in (
        "utm_campaign", "utm_source", "utm_medium", "utm_content", "utm_term", "salesforce_uuid",
    )},
}

EVENT_COLUMNS = {
    "cancellation__canceled_by": _TEXT,
    "cancellation__reason": _TEXT,
    "cancellation__canceler_type": _TEXT,
    "location__type": _TEXT,
    "location__location": _TEXT,
    "location__join_url": _TEXT,
}

ROUTING_SUBMISSION_COLUMNS = {
    "submitter": _TEXT,
    "submitter_type": _TEXT,
    "result__type": _TEXT,
}
