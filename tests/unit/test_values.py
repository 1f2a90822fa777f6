from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from creditdsl import values
from creditdsl.values import Duration, ValueError_

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize("text,expected", [("-3", "-3"), ("+0.5", "0.5"), ("1000", "1000"), (".5", "0.5")])
def test_decimals_are_exact(text, expected):
    assert values.format_decimal(values.parse_decimal(text)) == expected


@pytest.mark.parametrize("text", ["1e3", "nan", "1.2.3", "", "0x10", "1" * 29])
def test_bad_decimals_are_refused(text):
    with pytest.raises(ValueError_):
        values.parse_decimal(text)


def test_format_decimal_has_no_exponent_or_trailing_zeros():
    assert values.format_decimal(Decimal("1E+3")) == "1000"
    assert values.format_decimal(Decimal("999.50")) == "999.5"
    assert values.format_decimal(Decimal("-0.0")) == "0"


def test_months_clamp_to_month_end():
    jan31 = datetime(2021, 1, 31, 10, tzinfo=BERLIN)
    assert Duration(1, "month").add(jan31) == datetime(2021, 2, 28, 10, tzinfo=BERLIN)
    leap = datetime(2020, 2, 29, tzinfo=BERLIN)
    assert Duration(2, "year").add(leap).date() == date(2022, 2, 28)
    assert Duration(4, "year").add(leap).date() == date(2024, 2, 29)


def test_days_keep_local_time_across_daylight_saving():
    before = datetime(2021, 3, 27, 9, 0, tzinfo=BERLIN)
    after = Duration(1, "day").add(before)
    assert after.hour == 9 and after.date() == date(2021, 3, 28)
    assert (after.astimezone(timezone.utc) - before.astimezone(timezone.utc)).total_seconds() == 23 * 3600
    assert Duration(2, "week").add(before).date() == date(2021, 4, 10)


def test_datetimes_read_in_the_rulebook_zone_unless_offset():
    assert values.parse_datetime("2018-07-01", BERLIN) == datetime(2018, 7, 1, tzinfo=BERLIN)
    assert values.parse_datetime("2018-07-01T09:30", BERLIN).hour == 9
    with_offset = values.parse_datetime("2018-07-01T09:30:00+08:00", BERLIN)
    assert with_offset.utcoffset().total_seconds() == 8 * 3600
    assert values.parse_datetime("2018-07-01T01:00:00Z").tzinfo == timezone.utc


@pytest.mark.parametrize("text", ["2019-02-30", "2019-13-01", "2019-01-01T25:00", "yesterday", "2019-01-01T10:00+25:00"])
def test_impossible_dates_are_refused(text):
    with pytest.raises(ValueError_):
        values.parse_datetime(text, BERLIN)


@pytest.mark.parametrize("text", ["0 days", "3 fortnights", "1.5 days", "1001 years"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError_):
        values.parse_duration(text)


def test_unknown_zone_is_refused():
    with pytest.raises(ValueError_):
        values.zone("Asia/Shanghia")
    with pytest.raises(ValueError_):
        values.zone("../etc/passwd")
    assert values.zone("Asia/Shanghai").key == "Asia/Shanghai"


def test_iso_weeks_start_monday():
    sunday = datetime(2019, 1, 13, 23, tzinfo=BERLIN)
    monday = datetime(2019, 1, 14, 0, tzinfo=BERLIN)
    assert values.period_key(sunday, "week") != values.period_key(monday, "week")
    assert values.period_start(sunday, "week").date() == date(2019, 1, 7)
    assert values.next_period_start(sunday, "quarter").date() == date(2019, 4, 1)


@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)),
    st.integers(1, 40),
    st.integers(1, 40),
    st.sampled_from(["day", "week", "month", "year"]),
)
def test_duration_arithmetic_is_monotone(start, a, b, unit):
    start = start.replace(tzinfo=BERLIN)
    small, large = sorted((a, b))
    assert Duration(small, unit).add(start) <= Duration(large, unit).add(start)
    assert Duration(a, unit).add(start) > start


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10**9, max_value=10**9))
def test_decimal_text_round_trips(value):
    assert Decimal(values.format_decimal(value)) == value


@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)),
    st.sampled_from(["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Pacific/Apia", "UTC", None]),
    st.booleans(),
    st.integers(-400, 400),
    st.sampled_from(["day", "week"]),
)
@example(datetime(2021, 3, 27, 2, 30), "Europe/Berlin", False, 1, "day")  # into the spring gap
@example(datetime(2021, 10, 30, 2, 30), "Europe/Berlin", True, 1, "day")  # into the autumn fold
@example(datetime(2011, 12, 29, 12, 0), "Pacific/Apia", False, 1, "day")  # into the skipped day
def test_days_and_weeks_move_the_wall_clock_as_localize_does(start, zone_name, fold, n, unit):
    """Duration.add for days and weeks adds to the aware instant (wall clock, fold 0) instead
    of going through replace() and localize(); it must give localize's instant, gap and fold
    rules included (Lord Howe moves by half an hour, Apia skipped a day)."""
    tz = None if zone_name is None else ZoneInfo(zone_name)
    instant = start.replace(tzinfo=tz, fold=int(fold))
    days = n if unit == "day" else 7 * n
    expected = values.localize(instant.replace(tzinfo=None) + timedelta(days=days), tz)
    got = Duration(n, unit).add(instant)
    assert (got.replace(tzinfo=None), got.tzinfo, got.fold) == (expected.replace(tzinfo=None), expected.tzinfo, expected.fold)
    assert tz is None or got.utcoffset() == expected.utcoffset()
