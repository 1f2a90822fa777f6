import decimal
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from rbbuild import expr

from creditdsl.events import parse_event
from creditdsl.expressions import Env, Skip, compile_expression, decimal_context
from creditdsl.state import SubjectState

TZ = ZoneInfo("UTC")


def evaluate(text: str, fields: str = "", subject: dict | None = None, lists=(), hist=None):
    env = Env({"credit": 0, "points": 1}, TZ)
    env.tier_of = lambda st: "B"
    fn = compile_expression(expr(text), env)
    st = SubjectState("s", subject or {"kind": "person"}, [Decimal(1000), Decimal(3)])
    for name in lists:
        st.own_lists()[name] = None
    line = '{"id": "e", "subject": "s", "type": "t", "at": "2021-03-10T12:00:00"' + fields + "}"
    ev = parse_event(line.encode(), 1, TZ)
    st.now = ev.at
    for typ, keys in (hist or {}).items():
        st.hist[typ] = keys
    with decimal.localcontext(decimal_context()):
        return fn(st, ev)


@pytest.mark.parametrize(
    "text, fields, expected",
    [
        ("credit + 1", "", Decimal(1001)),
        ("-(event.months * 10)", ', "months": 3', Decimal(-30)),
        ("min(floor(event.amount / 100), 10)", ', "amount": 3000', Decimal(10)),
        ("min(floor(event.amount / 100), 10)", ', "amount": 350.5', Decimal(3)),
        ("ceil(event.x)", ', "x": -1.5', Decimal(-1)),
        ("floor(event.x)", ', "x": -1.5', Decimal(-2)),
        ("round(event.x, 0)", ', "x": 2.5', Decimal(2)),
        ("round(event.x, 1)", ', "x": 0.35', Decimal("0.4")),
        ("round(event.x)", ', "x": 3.5', Decimal(4)),
        ("abs(event.x)", ', "x": -2', Decimal(2)),
        ("max(credit, points, 7)", "", Decimal(1000)),
        ("1 / 3", "", Decimal(1) / Decimal(3)),
        ("credit >= 960 and points < 12", "", True),
        ("credit > 2000 or not points == 3", "", False),
        ('event.kind in ["a", "b"]', ', "kind": "b"', True),
        ('event.kind not in ["a", "b"]', ', "kind": "b"', False),
        ('subject.kind == "person"', "", True),
        ('tier == "B"', "", True),
        ('listed("dishonest")', "", False),
        ("event.distance_km > 1", ', "distance_km": 3', True),
    ],
)
def test_values(text, fields, expected):
    assert evaluate(text, fields) == expected


def test_listed_reads_state():
    assert evaluate('listed("dishonest")', lists=["dishonest"]) is True


def test_count_window_is_half_open_on_the_left():
    at = lambda d: datetime(2021, 3, d, 12, tzinfo=timezone.utc)  # noqa: E731
    hist = {"t": [at(3), at(4), at(10)]}
    # window (t - 7 days, t] = (Mar 3 12:00, Mar 10 12:00]: Mar 3 is out
    assert evaluate('count("t", "7 days")', hist=hist) == 2
    assert evaluate('count("t", "1 week")', hist=hist) == 2
    assert evaluate('count("other", "7 days")', hist=hist) == 0


@pytest.mark.parametrize(
    "text, fields, reason",
    [
        ("event.amount + 1", "", "missing field event.amount"),
        ("subject.licence_date", "", "missing field subject.licence_date"),
        ("credit / event.n", ', "n": 0', "division by zero in `credit / event.n`"),
        ("event.n + 1", ', "n": "x"', "type mismatch in `event.n + 1`: string + number"),
        ("event.n > 1", ', "n": "x"', "type mismatch in `event.n > 1`: string > number"),
        ("event.n and true", ', "n": 1', "type mismatch in `event.n and true`: number and ..."),
        ("event.n == 1", ', "n": "1"', "type mismatch in `event.n == 1`: string == number"),
    ],
)
def test_skips(text, fields, reason):
    with pytest.raises(Skip) as info:
        evaluate(text, fields)
    assert info.value.reason == reason


def test_null_field_is_missing():
    with pytest.raises(Skip, match="missing field event.n"):
        evaluate("event.n + 1", ', "n": null')
