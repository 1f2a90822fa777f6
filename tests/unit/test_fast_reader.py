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
    assert json.dumps(fast.fields, default=str) == json.dumps(slow.fields, default=str)


def test_tricky_lines():
    for raw in TRICKY:
        _same(raw)
        assert type(parse_event(raw, 3, TZ)) is type(_parse_event(raw, 3, TZ))


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
