"""Constants of the Calendly source: endpoints, page size, defaults and column hints."""

from dlt.extract.hints import make_nested_hints

DEFAULT_API_URL = "https://api.calendly.com"
PAGE_SIZE = 100  # Calendly's maximum `count`

DEFAULT_LOOKBACK_DAYS = 7
DEFAULT_NO_SHOW_WINDOW_DAYS = 7
DEFAULT_MAX_WORKERS = 8
# Above dlt's default of 5: at 10% faults, some request of a few thousand sees five in a row.
DEFAULT_MAX_ATTEMPTS = 8

ADMIN_ROLES = frozenset({"admin", "owner"})

def _col(data_type: str) -> dict:
    # A fresh dict per column: dlt writes the column's name into its hint, so a shared dict would
    # end up naming (and merging) every column that uses it.
    return {"data_type": data_type, "nullable": True}


def _newest_wins() -> dict:
    # The row kept when one load holds the same `uri` twice (an API read and a webhook delivery): dlt's
    # merge deduplicates the staged rows on the primary key, by this column, descending.
    return {"data_type": "timestamp", "nullable": True, "dedup_sort": "desc"}


# Nested objects that are null on most rows (often on the whole first page). dlt only creates the
# flattened columns once a non-null value arrives, so without these hints a warehouse whose history has
# no no-show yet would lack `no_show__uri`, and every downstream model that reads it would break.
INVITEE_COLUMNS = {
    **{name: _col("text") for name in (
        "first_name", "last_name", "timezone", "text_reminder_number", "old_invitee", "new_invitee",
        "routing_form_submission", "no_show__uri", "cancellation__canceled_by", "cancellation__reason",
        "cancellation__canceler_type", "payment__external_id", "payment__provider", "payment__currency",
        "tracking__utm_campaign", "tracking__utm_source", "tracking__utm_medium", "tracking__utm_content",
        "tracking__utm_term", "tracking__salesforce_uuid",
    )},
    **{name: _col("timestamp") for name in (
        "no_show__created_at", "cancellation__created_at", "reconfirmation__created_at",
        "reconfirmation__confirmed_at",
    )},
    "rescheduled": _col("bool"),
    "payment__successful": _col("bool"),
    "payment__amount": _col("double"),
    "updated_at": _newest_wins(),
}

# Added by the extract (phones.py), on the answers that are valid numbers only. dlt's `make_nested_hints`
# fills in column names from the keys, as the root table's `columns` argument does.
INVITEE_NESTED_HINTS = {
    "questions_and_answers": make_nested_hints(
        columns={name: _col("text") for name in ("phone_e164", "phone_country")}),
}

EVENT_COLUMNS = {
    **{name: _col("text") for name in (
        "cancellation__canceled_by", "cancellation__reason", "cancellation__canceler_type",
        "location__type", "location__location", "location__join_url", "location__status",
        "calendar_event__kind", "calendar_event__external_id",
    )},
    "cancellation__created_at": _col("timestamp"),
    "updated_at": _newest_wins(),
}

EVENT_TYPE_COLUMNS = {
    "deleted_at": _col("timestamp"),
    "internal_note": _col("text"),
    "description_plain": _col("text"),
    "description_html": _col("text"),
    "pooling_type": _col("text"),
}

ROUTING_SUBMISSION_COLUMNS = {
    "submitter": _col("text"),
    "submitter_type": _col("text"),
    "result__type": _col("text"),
    "updated_at": _newest_wins(),
}
