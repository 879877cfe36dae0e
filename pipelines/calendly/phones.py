"""Phone answers in E.164, by the `phonenumbers` library (Google's libphonenumber), at extract time.

A number without a country code is read in the country of the invitee's time zone (an invitee in
Europe/London who types "020 7946 0018" means +44 20 7946 0018). A number that is not valid there
gets no E.164 form: it stays in `answer` as given and is left out of what goes to Brevo.

Here rather than in dbt: SQL cannot parse phone numbers, and a dbt Python model runs on a few
adapters only (DuckDB, Snowflake, BigQuery, Databricks – not PostgreSQL). So every answer that could
be a number gets `phone_e164` and `phone_country` in `invitees__questions_and_answers`, and the
field mapping (a dbt var, changeable without a re-extract) picks which answer is the phone.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import phonenumbers
import pytz

_MIN_DIGITS = 4  # the shortest national numbers (Niue, Saint Helena) have 4 digits
_MAX_LENGTH = 64  # an answer longer than this is prose, not a number


@lru_cache(maxsize=1)
def _country_of_time_zone() -> dict[str, str]:
    countries: dict[str, str] = {}
    for country, zones in sorted(pytz.country_timezones.items()):
        for zone in zones:
            countries.setdefault(zone, country)
    return countries


def to_e164(raw: Any, time_zone: str | None) -> tuple[str | None, str | None]:
    """(E.164 number, its region) of a valid number, else (None, None)."""
    if not isinstance(raw, str) or len(raw) > _MAX_LENGTH or sum(c.isdigit() for c in raw) < _MIN_DIGITS:
        return None, None
    try:
        number = phonenumbers.parse(raw, _country_of_time_zone().get(time_zone or ""))
    except phonenumbers.NumberParseException:
        return None, None
    if not phonenumbers.is_valid_number(number):
        return None, None
    return (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
            phonenumbers.region_code_for_number(number))


def with_phone_numbers(invitee: dict) -> dict:
    """The invitee, each answer that is a valid phone number carrying its E.164 form and region."""
    for answer in invitee.get("questions_and_answers") or ():
        e164, region = to_e164(answer.get("answer"), invitee.get("timezone"))
        if e164:
            answer["phone_e164"], answer["phone_country"] = e164, region
    return invitee
