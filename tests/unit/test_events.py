from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from creditdsl.diagnostics import CODES
from creditdsl.events import Event, InvalidLine, content_digest, decode_line, parse_event, read_events, read_subjects

TZ = ZoneInfo("Asia/Shanghai")


def ev(text: str) -> Event | InvalidLine:
    return parse_event(text.encode(), 7, TZ)


def test_valid_event_with_exact_numbers_and_evidence():
    e = ev('{"id": 5, "subject": 17, "type": "x", "at": "2019-01-07", "amount": 1.10, '
           '"big": 123456789012345678901234567890, "evidence": ["photo", {"kind": "video"}]}')
    assert isinstance(e, Event)
    assert (e.id, e.subject, e.type, e.line) == ("5", "17", "x", 7)
    assert e.at.isoformat() == "2019-01-07T00:00:00+08:00"
    assert e.fields["amount"] == Decimal("1.10") and type(e.fields["amount"]) is Decimal
    assert e.fields["big"] == 123456789012345678901234567890
    assert e.evidence == ("photo", "video")


def test_offset_is_converted_to_rulebook_zone():
    e = ev('{"id": "a", "subject": "s", "type": "x", "at": "2019-01-07T00:00:00Z"}')
    assert e.at.isoformat() == "2019-01-07T08:00:00+08:00"


@pytest.mark.parametrize(
    "text, code",
    [
        ("not json", "E0401"),
        ("[1, 2]", "E0402"),
        ('{"subject": "s", "type": "x", "at": "2019-01-01"}', "E0403"),
        ('{"id": 1.5, "subject": "s", "type": "x", "at": "2019-01-01"}', "E0404"),
        ('{"id": "", "subject": "s", "type": "x", "at": "2019-01-01"}', "E0404"),
        ('{"id": "a", "subject": true, "type": "x", "at": "2019-01-01"}', "E0404"),
        ('{"id": "a", "subject": "s", "type": 3, "at": "2019-01-01"}', "E0404"),
        ('{"id": "a", "subject": "s", "type": "x", "at": "2019-02-30"}', "E0409"),
        ('{"id": "a", "subject": "s", "type": "x", "at": 20190101}', "E0409"),
        ('{"id": "a", "subject": "s", "type": "x", "at": "2019-01-01", "n": NaN}', "E0401"),
        ('{"id": "a", "subject": "s", "type": "x", "at": "2019-01-01", "n": Infinity}', "E0401"),
        ('{"id": "a", "subject": "s", "type": "x", "at": "2019-01-01", "evidence": "photo"}', "E0404"),
        ('{"id": "a", "subject": "s", "type": "x", "at": "2019-01-01", "evidence": [1]}', "E0404"),
        ('{"id": "a", "id": "b", "subject": "s", "type": "x", "at": "2019-01-01"}', "E0406"),
        ('{"id": "a", "subject": "s", "type": "x", "at": "2019-01-01", "o": {"k": 1, "k" : 2}}', "E0406"),
        ('{"id" : "a", "subject": "s", "type": "x", "at": "2019-01-01", "id":"b"}', "E0406"),
    ],
)
def test_invalid_lines(text, code):
    bad = ev(text)
    assert isinstance(bad, InvalidLine), bad
    assert bad.code == code and bad.code in CODES
    assert bad.line == 7 and bad.reason


def test_not_utf8():
    bad = parse_event(b'{"id": "\xff"}', 1, TZ)
    assert isinstance(bad, InvalidLine) and bad.code == "E0408"


def test_colon_inside_string_goes_through_strict_path_and_is_valid():
    e = ev('{"id": "a", "subject": "s", "type": "x", "at": "2019-01-01", "note": "a\\":b"}')
    assert isinstance(e, Event) and e.fields["note"] == 'a":b'


def test_decode_line_strict_numbers_exact():
    value, bad = decode_line(b'{"a" : 0.1, "b": 10000000000000000000000000001}')
    assert bad is None and value == {"a": Decimal("0.1"), "b": 10000000000000000000000000001}


def test_read_events_skips_blank_lines_but_keeps_numbering(tmp_path):
    p = tmp_path / "e.jsonl"
    p.write_text('\n{"id": "a", "subject": "s", "type": "x", "at": "2019-01-01"}\n  \nnope\n')
    items = list(read_events(str(p), TZ))
    assert [type(i).__name__ for i in items] == ["Event", "InvalidLine"]
    assert [i.line for i in items] == [2, 4]


def test_read_events_from_lines():
    items = list(read_events(['{"id": "a", "subject": "s", "type": "x", "at": "2019-01-01"}'], TZ))
    assert isinstance(items[0], Event)


def test_read_subjects(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_text('{"id": 2, "kind": "person"}\n{"id": "1", "kind": "firm"}\n{"kind": "x"}\n'
                 '{"id": "1", "kind": "person"}\n{"id": 2, "kind": "person"}\n')
    subjects, bad = read_subjects(str(p))
    assert [s.id for s in subjects] == ["1", "2"]
    assert subjects[0].fields["kind"] == "firm"
    assert [(b.line, b.code) for b in bad] == [(3, "E0403"), (4, "E0405")]


def test_content_digest_is_parsed_value_identity():
    assert content_digest({"a": 1, "b": [Decimal("1.0")]}) == content_digest({"b": [1], "a": Decimal(1)})
    assert content_digest({"a": "1"}) != content_digest({"a": 1})
    assert content_digest({"a": 1}) != content_digest({"a": 2})


def test_lone_surrogate_escapes_are_invalid_but_pairs_are_text():
    from zoneinfo import ZoneInfo

    from creditdsl.events import InvalidLine, parse_event

    utc = ZoneInfo("UTC")
    bad = parse_event(rb'{"id": "\ud800", "subject": "s", "type": "t", "at": "2020-01-01"}', 3, utc)
    assert isinstance(bad, InvalidLine) and (bad.line, bad.code) == (3, "E0404")
    good = parse_event(rb'{"id": "\ud83d\ude00", "subject": "s", "type": "t", "at": "2020-01-01"}', 4, utc)
    assert good.id == "\U0001F600"
