"""E.164 at extract time: the time zone's country for national numbers, nothing for what is not a number."""

from pipelines.calendly.phones import to_e164, with_phone_numbers


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
