"""The fast line reader (events.fast_event) gives parse_event's Event, or declines.

It must never accept a line that the strict path would refuse (a duplicate key above
all) and never read a line differently."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from creditdsl.events import Event, _parse_event, fast_event, parse_event
from creditdsl.values import zone

TZ = zone("Asia/Shanghai")

TRICKY = [
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-01-01T10:00:00+08:00", "id": "e2"}',
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-01-01T10:00:00+08:00", "id" : "e2"}',
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-01-01T10:00:00+08:00", "a": 1, "a" :2}',
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-01-01T10:00:00+08:00", "n": "\\":", "n" :1}',
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-01-01T10:00:00+08:00", "o": {"a": 1, "a": 2}}',
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-01-01T10:00:00+08:00", "evidence": "photo"}',
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-01-01T10:00:00+08:00", "evidence": [1]}',
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-01-01T10:00:00+08:00", "evidence": [{"kind": "v"}]}',
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-01-01T10:00:00.5+08:00"}',
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-01-01T10:00:00+0800"}',
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-01-01 10:00:00+08:00"}',
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-W01-1T10:00:00+08:00"}',
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-13-01T10:00:00+08:00"}',
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-01-01T10:00:00Z"}',
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-01-01T10:00:00-05:00", "n": 1.50}',
    b'{"id": 7, "subject": "p", "type": "x", "at": "2020-01-01T10:00:00+08:00"}',
    b'{"id": "", "subject": "p", "type": "x", "at": "2020-01-01T10:00:00+08:00"}',
    b'{"id": "e1", "subject": "p\\u00e9", "type": "x", "at": "2020-01-01T10:00:00+08:00"}',
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-01-01T10:00:00+08:00", "s": "\\ud800"}',
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-01-01T10:00:00+08:00", "t": "a:b"}',
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-01-01T10:00:00+08:00", "a:b": 1}',
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-01-01T10:00:00+08:00", "big": 1e400}',
    b'{"id": "e1", "subject": "p", "type": "x"}',
    b'[1, 2]',
    b'{"id": "e1", "subject": "p", "type": "x", "at": "2020-01-01T10:00:00+08:00"',
]


def _same(raw: bytes) -> None:
    fast = fast_event(raw, 3, TZ)
    slow = _parse_event(raw, 3, TZ)
    if fast is None:
        return
    assert type(slow) is Event, (raw, slow)
    for name in ("line", "id", "subject", "type", "at", "key", "evidence", "fields"):
        assert getattr(fast, name) == getattr(slow, name), (raw, name)
    assert fast.at.tzinfo is slow.at.tzinfo and fast.at.isoformat() == slow.at.isoformat()
    assert fast.at_text() == slow.at_text() == slow.at.isoformat()  # the audit's `at`
    assert json.dumps(fast.fields, default=str) == json.dumps(slow.fields, default=str)


def test_tricky_lines():
    for raw in TRICKY:
        _same(raw)
        assert type(parse_event(raw, 3, TZ)) is type(_parse_event(raw, 3, TZ))


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=__import__("datetime").datetime(1900, 1, 1)), st.integers(-14 * 60, 14 * 60),
       st.sampled_from(["Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata"]))
def test_the_written_at_is_reused_only_when_it_is_the_local_text(moment, minutes, zone_name):
    """A line's `at` text stands for at.isoformat() in the audit only when the rulebook's
    zone has the line's offset at that instant (a same-looking wall clock is not enough
    when offsets differ by seconds or a day)."""
    sign = "+" if minutes >= 0 else "-"
    text = moment.replace(microsecond=0).isoformat() + f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    raw = json.dumps({"id": "e1", "subject": "p", "type": "x", "at": text}).encode()
    ev = fast_event(raw, 1, zone(zone_name))
    if ev is not None:
        assert ev.at_text() == ev.at.isoformat()
        assert (ev.text is not None) == (ev.at.isoformat() == text)


def test_duplicate_keys_are_never_vouched_for():
    for raw in TRICKY[:5]:
        assert fast_event(raw, 1, TZ) is None


keys = st.sampled_from(["id", "subject", "type", "at", "evidence", "n", "note", "a:b", "o"])
values = st.one_of(
    st.text(max_size=6), st.integers(-10**20, 10**20), st.booleans(), st.none(),
    st.sampled_from(["2020-01-01T10:00:00+08:00", "2020-06-01T23:59:59-03:30", "2020-01-01", "e1", "p"]),
    st.lists(st.sampled_from(["photo", "video", "x:y"]), max_size=3),
    st.dictionaries(st.sampled_from(["kind", "a"]), st.sampled_from(["video", 1]), max_size=2),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(keys, values), min_size=3, max_size=8), st.sampled_from([": ", ":", " : ", ":  "]))
def test_generated_lines(pairs, colon):
    body = ", ".join(json.dumps(k) + colon + json.dumps(v) for k, v in pairs)
    base = {"id": "e1", "subject": "p", "type": "x", "at": "2020-01-01T10:00:00+08:00"}
    head = ", ".join(json.dumps(k) + ": " + json.dumps(v) for k, v in base.items())
    for raw in ("{" + head + ", " + body + "}", "{" + body + "}", "{" + body + ", " + head + "}"):
        _same(raw.encode())


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=6), st.text(min_size=1, max_size=6), st.sampled_from(["littering", "no_such_type"]))
def test_audit_lines_quote_ids_and_subjects_as_json_does(ident, subject, etype):
    """Event.plain lets the audit quote by adding quotes; anything else (non-ASCII, DEL,
    a quote, a backslash, a control character) is escaped exactly as json.dumps does."""
    import io

    from rbbuild import rongcheng

    from creditdsl.interpreter import run
    from creditdsl.results import AuditWriter

    line = json.dumps({"id": ident, "subject": subject, "type": etype, "at": "2020-01-01T10:00:00+08:00"},
                      ensure_ascii=False)  # raw non-ASCII and DEL in the line
    out = io.StringIO()
    plan = rongcheng()
    run(plan, [line], audit=AuditWriter(out, ["credit", "licence"]))
    text = out.getvalue()
    assert f'"event": {json.dumps(ident)}, "subject": {json.dumps(subject)}, ' in text, text
    assert json.loads(text)["event"] == ident
    item = fast_event(line.encode(), 1, TZ)  # None: a backslash; the strict reader's events are not plain
    assert item is None or item.plain == (line.isascii() and "\x7f" not in line)
