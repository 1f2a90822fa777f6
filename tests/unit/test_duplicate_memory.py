"""The duplicate check's memory (state.seen_lookup): digest tokens and line tokens.

A log file read in one pass registers each id with the byte offset of its line (a line
token); the line's content digest is computed only when the id comes again, and before
the state is saved. These tests pin that the outcome is the digest path's."""

from __future__ import annotations

import json

from rbbuild import rongcheng

from creditdsl import savestate
from creditdsl.events import content_digest
from creditdsl.interpreter import run
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
