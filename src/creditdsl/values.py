"""The language's value types, pure and exact.

* Numbers are :class:`decimal.Decimal` with 28 significant digits (the default
  context); never binary floats.
* :class:`Duration` is a calendar duration: ``N days`` is the same local time N
  days later (across a daylight-saving change too), ``N weeks`` is 7N days, and
  months and years clamp to the month's end (31 January + 1 month = 28/29
  February; 29 February + 2 years = 28 February).
* Dates and datetimes are read in the rulebook's timezone unless an offset is
  given; a date alone is the start of that day.

>>> from datetime import datetime
>>> from zoneinfo import ZoneInfo
>>> Duration(1, "month").add(datetime(2021, 1, 31, tzinfo=ZoneInfo("UTC"))).date().isoformat()
'2021-02-28'
>>> format_decimal(Decimal("1E+3")), format_decimal(Decimal("999.50"))
('1000', '999.5')
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DurationUnit = Literal["day", "week", "month", "year"]
Period = Literal["day", "week", "month", "quarter", "year"]
PERIODS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")

# Documented bounds on literals (docs/language.md "Bounds").
MAX_NUMBER_DIGITS = 28
MAX_DURATION_COUNT = 1000


class ValueError_(ValueError):
    """A literal that does not parse; the message is the user-facing reason."""


@dataclass(frozen=True, slots=True)
class Duration:
    count: int
    unit: DurationUnit

    def __str__(self) -> str:
        return f"{self.count} {self.unit}{'' if self.count == 1 else 's'}"

    def add(self, instant: datetime, times: int = 1) -> datetime:
        """``instant`` + this duration × ``times``, in wall-clock time of its zone."""
        n = self.count * times
        unit = self.unit
        if unit == "day" or unit == "week":
            days = n if unit == "day" else 7 * n
            delta = _DAYS.get(days)
            if delta is None:
                delta = _DAYS[days] = timedelta(days)
            # an aware datetime plus a timedelta: the wall clock moved, the zone kept, fold 0 —
            # localize's `aware`, without replace() (keyword arguments cost ~3 µs a call here)
            moved = instant + delta
            if moved.tzinfo is None:
                return moved
            back = moved.astimezone(timezone.utc).astimezone(moved.tzinfo)
            return back if back != moved else moved  # one tzinfo: the wall clocks are compared
        tz = instant.tzinfo
        local = add_months(instant.replace(tzinfo=None), n if unit == "month" else 12 * n)
        return localize(local, tz) if tz is not None else local

    def subtract(self, instant: datetime) -> datetime:
        return self.add(instant, -1)


_DAYS: dict[int, timedelta] = {}  # Duration.add: a timedelta per number of days


def add_months(value: datetime, months: int) -> datetime:
    total = value.year * 12 + (value.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


def localize(naive: datetime, tz: tzinfo | None) -> datetime:
    """Attach ``tz`` to a wall-clock time; a gap (DST) moves forward, a fold takes the first."""
    if tz is None:
        return naive
    aware = naive.replace(tzinfo=tz, fold=0)
    # Normalise non-existent times (spring-forward gap) by a round trip through UTC.
    roundtrip = aware.astimezone(timezone.utc).astimezone(tz)
    if roundtrip.replace(tzinfo=None) != naive:
        return roundtrip
    return aware


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str | None

    def __str__(self) -> str:
        return f"{format_decimal(self.amount)} {self.currency}" if self.currency else format_decimal(self.amount)


_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)\Z")


def parse_decimal(text: str) -> Decimal:
    """An exact decimal literal: ``-3``, ``+0.5``, ``1000`` (no exponent, no float)."""
    text = text.strip()
    if not _NUMBER_RE.match(text):
        raise ValueError_(f"`{text}` is not a number")
    digits = len(text.lstrip("+-").replace(".", "").lstrip("0"))
    if digits > MAX_NUMBER_DIGITS:
        raise ValueError_(f"`{text}` has more than {MAX_NUMBER_DIGITS} significant digits")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid text
        raise ValueError_(f"`{text}` is not a number") from None


_DURATION_RE = re.compile(r"(\d+)\s+(day|week|month|year)s?\Z")


def parse_duration(text: str) -> Duration:
    m = _DURATION_RE.match(text.strip())
    if not m:
        raise ValueError_(f"`{text.strip()}` is not a duration")
    count = int(m.group(1))
    if count < 1:
        raise ValueError_("a duration must be at least 1")
    if count > MAX_DURATION_COUNT:
        raise ValueError_(f"a duration of more than {MAX_DURATION_COUNT} units is out of bounds")
    return Duration(count, m.group(2))  # type: ignore[arg-type]


_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_DATETIME_RE = re.compile(
    r"(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?\Z"
)


def parse_date(text: str) -> date:
    text = text.strip()
    if not _DATE_RE.match(text):
        raise ValueError_(f"`{text}` is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError_(f"`{text}` is not a valid date: {exc}") from None


def parse_datetime(text: str, tz: tzinfo | None = None) -> datetime:
    """A datetime literal; naive times take ``tz``; a date alone is the start of that day."""
    text = text.strip()
    if _DATE_RE.match(text):
        return localize(datetime.combine(parse_date(text), time()), tz)
    m = _DATETIME_RE.match(text)
    if not m:
        raise ValueError_(f"`{text}` is not a date or datetime")
    day, hh, mm, ss, frac, offset = m.groups()
    try:
        d = date.fromisoformat(day)
        micro = int((frac or ".0")[1:].ljust(6, "0"))
        value = datetime(d.year, d.month, d.day, int(hh), int(mm), int(ss or 0), micro)
    except ValueError as exc:
        raise ValueError_(f"`{text}` is not a valid datetime: {exc}") from None
    if offset:
        if offset == "Z":
            return value.replace(tzinfo=timezone.utc)
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            raise ValueError_(f"`{text}` has an impossible UTC offset")
        return value.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
    return localize(value, tz)


def zone(name: str) -> ZoneInfo:
    """An IANA zone (tzdata ships them everywhere); raises ValueError_ for unknown names."""
    try:
        if not re.fullmatch(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*", name):
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError_(f"`{name}` is not an IANA timezone") from None


def format_decimal(value: Decimal) -> str:
    """Exact text without exponent or trailing zeros: ``999.5``, ``1000``, ``-3``."""
    if value == 0:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def period_start(instant: datetime, period: str) -> datetime:
    """The start of the calendar period holding ``instant`` (in its own zone); weeks are ISO."""
    local = instant.replace(tzinfo=None)
    day = local.date()
    if period == "day":
        start = day
    elif period == "week":
        start = day - timedelta(days=day.weekday())
    elif period == "month":
        start = day.replace(day=1)
    elif period == "quarter":
        start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    elif period == "year":
        start = day.replace(month=1, day=1)
    else:  # pragma: no cover - the grammar admits only PERIODS
        raise ValueError(period)
    return localize(datetime.combine(start, time()), instant.tzinfo)


def period_key(instant: datetime, period: str) -> tuple[int, int]:
    """A hashable key of the calendar period holding ``instant`` (wall-clock, its own zone).

    Keys are shared: every counter of one period holds the same tuple (memory per subject)."""
    if period == "month":
        key = (instant.year, instant.month)
    elif period == "day":
        key = (instant.year, instant.timetuple().tm_yday)
    elif period == "week":
        iso = instant.isocalendar()
        key = (iso[0], iso[1])
    elif period == "quarter":
        key = (instant.year, (instant.month - 1) // 3)
    else:
        key = (instant.year, 0)
    shared = _PERIOD_KEYS.get(key)
    if shared is None:
        if len(_PERIOD_KEYS) > 100_000:
            _PERIOD_KEYS.clear()
        shared = _PERIOD_KEYS[key] = key
    return shared


_PERIOD_KEYS: dict[tuple[int, int], tuple[int, int]] = {}


def next_period_start(instant: datetime, period: str) -> datetime:
    """The first instant of the next calendar period after the one holding ``instant``."""
    start = period_start(instant, period)
    step = {
        "day": Duration(1, "day"),
        "week": Duration(1, "week"),
        "month": Duration(1, "month"),
        "quarter": Duration(3, "month"),
        "year": Duration(1, "year"),
    }[period]
    return step.add(start)
