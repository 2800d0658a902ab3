import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.errors import InvalidInput
from scheduling.timeparse import format_minutes, parse_time_of_day, parse_window


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("9", 540), ("9:30", 570), ("09:30", 570), ("9am", 540), ("9 AM", 540),
        ("5:15 pm", 1035), ("5:15pm", 1035), ("17:00", 1020), ("24:00", 1440),
        ("12am", 0), ("12pm", 720), ("12:30 a.m.", 30), ("0:00", 0), ("23:59", 1439),
        (" 8.45 ", 525), ("0", 0),
    ],
)
def test_accepted_forms(text, minutes):
    assert parse_time_of_day(text) == minutes


@pytest.mark.parametrize(
    "text", ["25:00", "24:01", "12:60", "13pm", "0am", "noon", "", "9:5", "-1", "9::30", "99"]
)
def test_rejected_forms_say_what_to_type(text):
    with pytest.raises(InvalidInput) as info:
        parse_time_of_day(text)
    assert "is not a time of day" in info.value.user_message
    assert "9am" in info.value.user_message


def test_midnight_end_is_only_an_end():
    with pytest.raises(InvalidInput):
        parse_time_of_day("24:00", allow_end_of_day=False)
    assert parse_window("22:00", "24:00") == (1320, 1440)


def test_end_before_start_is_explained():
    with pytest.raises(InvalidInput, match="must be after the start"):
        parse_window("17:00", "9:00")
    with pytest.raises(InvalidInput, match="must be after the start"):
        parse_window("9", "9")


def test_format_minutes():
    assert format_minutes(0) == "00:00"
    assert format_minutes(570) == "09:30"
    assert format_minutes(1440) == "24:00"


@given(st.text(max_size=30))
def test_any_text_parses_into_range_or_gives_a_user_message(text):
    try:
        minutes = parse_time_of_day(text)
    except InvalidInput as exc:
        assert exc.user_message
    else:
        assert 0 <= minutes <= 1440


@given(st.integers(0, 1439))
def test_formatted_minutes_parse_back(minutes):
    assert parse_time_of_day(format_minutes(minutes)) == minutes
