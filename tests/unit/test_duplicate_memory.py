"""The duplicate check's memory (state.seen_lookup): digest tokens and line tokens.

A log file read in one pass registers each id with the byte offset of its line (a line
token); the line's content digest is computed only when the id comes again, and before
the state is saved. These tests pin that the outcome is the digest path's."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as hs
from rbbuild import rongcheng

from creditdsl import savestate
from creditdsl.events import content_digest
from creditdsl.interpreter import run
from creditdsl.results import AuditCollector, result_json
from creditdsl.state import (
    DUPLICATE, NEW, CONFLICT, digest_token, line_token, normalized, resolve_tokens, seen_check, seen_lookup,
    token_offset,
)


def _line(ident: str, day: str, **extra: object) -> str:
    return json.dumps({"id": ident, "subject": "p", "type": "littering", "at": f"2019-01-{day}T10:00:00+08:00", **extra})


def test_tokens_never_mix_up():
    assert token_offset(line_token(0)) == 0
    assert token_offset(line_token(123_456_789)) == 123_456_789
    assert line_token(1 << 40) is None  # past a terabyte: the digest is stored instead
    bad = b"\xff\xff\xff" + bytes(13)
    assert digest_token(bad)[:3] == b"\xff\xff\xfe" and token_offset(digest_token(bad)) is None
    plain = bytes(range(16))
    assert digest_token(plain) == plain[:8]


def test_seen_lookup_registers_then_gives_the_first_token():
    seen = bytearray()
    assert seen_lookup(seen, "e1", line_token(7)) is None
    assert len(seen) == 24
    assert seen_lookup(seen, "e1", line_token(99)) == line_token(7)
    assert seen_lookup(seen, "e2", b"12345678") is None
    assert seen_check(seen, "e3", b"abcdefgh-digest!") == NEW
    assert seen_check(seen, "e3", b"abcdefgh-digest!") == DUPLICATE
    assert seen_check(seen, "e3", b"other---digest!!") == CONFLICT


def test_resolve_and_normalize_tokens():
    seen = bytearray()
    seen_lookup(seen, "e1", line_token(40))
    seen_lookup(seen, "e2", b"12345678")
    resolve_tokens(seen, lambda offset: bytes([offset]) * 16)
    assert seen[16:24] == bytes([40]) * 8 and seen[40:48] == b"12345678"
    old = bytearray()  # a state file's record whose digest starts like a line token
    seen_lookup(old, "e2", b"\xff\xff\xff\x00\x00\x00\x00\x05")
    assert normalized(old)[16:24] == b"\xff\xff\xfe\x00\x00\x00\x00\x05"


def _run_file(tmp_path, lines: list[str], **kw):
    log = tmp_path / "events.jsonl"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return run(rongcheng(), str(log), **kw)


def test_a_file_log_finds_duplicates_by_content_not_by_spelling(tmp_path):
    first = _line("e1", "07", amount=1)
    respelt = json.dumps(dict(reversed(list(json.loads(first).items())))).replace(": 1", ": 1.0")
    other = _line("e1", "08")
    result = _run_file(tmp_path, [first, first, respelt, other])
    assert result.summary.applied == 1 and result.summary.duplicate == 2 and result.summary.invalid == 1
    assert [(b.line, b.code) for b in result.invalid] == [(4, "E0405")]


def test_saved_state_holds_digests_not_offsets(tmp_path):
    first = _line("e1", "07")
    result = _run_file(tmp_path, [_line("e0", "06"), first], save_state=True)
    (subject,) = result.state["subjects"]
    seen = bytes.fromhex(subject["seen"])
    tokens = [seen[pos:pos + 8] for pos in range(16, len(seen), 24)]
    assert all(token_offset(t) is None for t in tokens)
    assert digest_token(content_digest(json.loads(first))) in tokens
    # a resumed run still knows e1's content: the same line is a duplicate, another an E0405
    saved = tmp_path / "state.json"
    savestate.write_state(result.state, saved)
    state = savestate.read_state(saved)
    log = tmp_path / "more.jsonl"
    log.write_text(first + "\n" + _line("e1", "09") + "\n", encoding="utf-8")
    again = run(rongcheng(), str(log), resume=state)
    assert again.summary.duplicate == 1 and [b.code for b in again.invalid] == ["E0405"]


def _variant(line: str, how: int) -> str:
    """The same event spelt another way (key order, number form), or with other content."""
    obj = json.loads(line)
    if how == 0:
        return line
    if how == 1:
        return json.dumps(dict(reversed(list(obj.items())))).replace('"amount": 2', '"amount": 2.00')
    obj["amount"] = 3
    return json.dumps(obj)


@settings(max_examples=60, deadline=None)
@given(hs.lists(hs.tuples(hs.integers(0, 5), hs.integers(1, 20), hs.sampled_from(["p", "q"]),
                          hs.lists(hs.integers(0, 2), max_size=2)), min_size=1, max_size=12))
def test_a_file_and_the_same_lines_in_memory_agree_on_duplicates(tmp_path_factory, spec):
    """Line tokens (a log file read in one pass) decide duplicates exactly as content digests
    (lines given in memory): same result, same audit, same invalid lines."""
    lines = []
    for ident, day, subject, repeats in sorted(spec, key=lambda s: s[1]):
        first = json.dumps({"id": f"e{ident}", "subject": subject, "type": "littering",
                            "at": f"2019-01-{day:02d}T10:00:00+08:00", "amount": 2})
        lines.append(first)
        lines.extend(_variant(first, how) for how in repeats)
    log = tmp_path_factory.mktemp("dup") / "events.jsonl"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    audits = [AuditCollector(), AuditCollector()]
    got = [run(rongcheng(), source, audit=a) for source, a in zip((str(log), list(lines)), audits)]
    assert result_json(got[0]) == result_json(got[1])
    names = ["credit", "licence"]
    assert audits[0].lines(names) == audits[1].lines(names)
    assert got[0].summary.duplicate == got[1].summary.duplicate
    assert [(b.line, b.code) for b in got[0].invalid] == [(b.line, b.code) for b in got[1].invalid]
