"""Each invitee's phone answer in E.164, by the `phonenumbers` library (Google's libphonenumber).

A number without a country code is read in the country of the invitee's time zone (an invitee in
Europe/London who types "020 7946 0018" means +44 20 7946 0018). A number that is not valid there
gets no E.164 form: it stays in `phone` as given and is left out of what goes to Brevo.
A Python model because no SQL warehouse parses phone numbers; dbt-duckdb runs it in-process.
"""

import phonenumbers
import pyarrow as pa
import pytz


def _country_of_time_zone() -> dict:
    countries = {}
    for country, zones in sorted(pytz.country_timezones.items()):
        for zone in zones:
            countries.setdefault(zone, country)
    return countries


def to_e164(raw, time_zone, countries):
    if not raw:
        return None, None
    try:
        number = phonenumbers.parse(raw, countries.get(time_zone or ""))
    except phonenumbers.NumberParseException:
        return None, None
    if not phonenumbers.is_valid_number(number):
        return None, None
    return (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
            phonenumbers.region_code_for_number(number))


def model(dbt, session):
    dbt.config(materialized="table")
    fields = dbt.ref("int_invitee_fields_mapped").filter("phone is not null")
    invitees = dbt.ref("stg_calendly__invitees").project("invitee_row_id, timezone")
    rows = fields.join(invitees, "invitee_row_id").project("invitee_row_id, phone, timezone").fetchall()
    countries = _country_of_time_zone()
    ids, e164s, regions = [], [], []
    for row_id, phone, time_zone in rows:
        e164, region = to_e164(phone, time_zone, countries)
        ids.append(row_id)
        e164s.append(e164)
        regions.append(region)
    return pa.table({
        "invitee_row_id": pa.array(ids, pa.string()),
        "phone_e164": pa.array(e164s, pa.string()),
        "phone_country": pa.array(regions, pa.string()),
    })
