"""E.164 at extract time: the time zone's country for national numbers, nothing for what is not a number;
and the one-time fill for answers loaded before."""

from pipelines import phones_backfill
from pipelines.calendly.phones import to_e164, with_phone_numbers
from pipelines.extract import run_extract
from sandbox.calendly import CalendlyAccount, CalendlySandbox

from .conftest import settings_for


def test_a_national_number_is_read_in_the_time_zones_country():
    assert to_e164("020 7946 0018", "Europe/London") == ("+442079460018", "GB")
    assert to_e164("(415) 555-0100", "America/Los_Angeles") == ("+14155550100", "US")
    assert to_e164("+49 30 901820", "America/New_York") == ("+4930901820", "DE")  # a country code wins


def test_what_is_not_a_valid_number_gets_nothing():
    for raw in ("12", "n/a", "555", "Acme Corp", "", None, 4155550100, "call me: " + "1" * 80):
        assert to_e164(raw, "America/New_York") == (None, None)
    assert to_e164("020 7946 0018", "Mars/Olympus") == (None, None)  # no country to read it in


def test_only_valid_answers_carry_the_e164_form():
    invitee = {"timezone": "Europe/London", "questions_and_answers": [
        {"question": "Company", "answer": "Acme", "position": 0},
        {"question": "Phone", "answer": "020 7946 0018", "position": 1},
        {"question": "Other phone", "answer": "12", "position": 2},
    ]}
    answers = with_phone_numbers(invitee)["questions_and_answers"]
    assert "phone_e164" not in answers[0] and "phone_e164" not in answers[2]
    assert (answers[1]["phone_e164"], answers[1]["phone_country"]) == ("+442079460018", "GB")
    assert with_phone_numbers({"timezone": None}) == {"timezone": None}


def test_answers_loaded_before_the_change_get_their_e164_forms(any_warehouse):
    """A warehouse from before phones moved into the extract: its answers lack the E.164 form."""
    account = CalendlyAccount.generate(seed=31, events=120)
    with CalendlySandbox(account, rate_limit=0) as sandbox:
        settings = settings_for(account, sandbox, any_warehouse)
        run_extract(settings)
    query = "select count(*) from calendly_raw.invitees__questions_and_answers where phone_e164 is not null"
    [(valid,)] = any_warehouse.query(query)
    assert valid > 0 and not phones_backfill.pending(settings)
    with any_warehouse.connect() as con:
        con.execute("update calendly_raw.invitees__questions_and_answers set phone_e164 = null, phone_country = null")

    assert phones_backfill.fill(settings) == valid
    assert any_warehouse.query(query) == [(valid,)]
