"""Reading events and subjects (LANGUAGE.md §10, §12 "Events"); never raises for bad data.

Public functions::

    read_events(source, tz) -> Iterator[Event | InvalidLine]
        source: a path (str/Path), "-" for stdin, or an iterable of lines (str or bytes).
        tz: the rulebook's zone (naive `at` values are read in it).
        Yields one item per non-blank line, in input order; `line` is the 1-based line
        number in the input (blank lines are skipped but still counted for numbering).
    read_subjects(source) -> tuple[list[Subject], list[InvalidLine]]
    parse_event(raw: bytes, line: int, tz) -> Event | InvalidLine      (one line)
    content_digest(obj) -> bytes                                       (duplicate identity)

Duplicates are *not* decided here: identity is per (subject, id) and belongs to the
subject's state (``state.SubjectState.seen``), so a run can be split by subject and
resumed; the interpreter checks it in input order.

Decoding has two paths:

* **fast**: ``msgspec`` with ``float_hook=Decimal`` (exact decimals; integers stay exact
  Python ints). msgspec keeps the *last* of duplicate keys silently, so the fast path
  only vouches for a line when the number of ``"<whitespace>:`` sequences in the raw
  bytes equals the number of keys in the decoded value (summed over nested objects).
  Every key in the text is followed by such a sequence, so a duplicate key makes the
  raw count exceed the decoded count; colons inside strings can only make the raw
  count larger too. Any mismatch (rare: a ``":`` inside a string value) goes to
* **strict**: stdlib ``json`` with ``object_pairs_hook`` refusing duplicate keys,
  ``parse_float=Decimal``, exact ints, and NaN/Infinity refused. The strict path
  also produces the error message for every line the fast path rejects.
"""

from __future__ import annotations

import decimal
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Iterator

import msgspec

from .values import ValueError_, parse_datetime

MAX_LINE_BYTES = 1_000_000  # documented bound (E0407)

_UTC = timezone.utc
_KEY_RE = re.compile(rb'"[ \t\r\n]*:')
_fast = msgspec.json.Decoder(float_hook=Decimal)
_REQUIRED = ("id", "subject", "type", "at")


class Event(msgspec.Struct, eq=False):
    """A valid event line. ``fields`` is the whole decoded object (``event.FIELD``).

    A msgspec Struct rather than a dataclass: built once per line, and its constructor is C."""

    line: int
    id: str
    subject: str
    type: str
    at: datetime  # aware, in the rulebook's zone
    key: datetime  # the same instant in UTC (ordering key)
    evidence: tuple[str, ...]
    fields: dict
    text: str | None = None  # ``at`` as written, when that is at.isoformat() (audit lines)
    plain: bool = False  # id and subject are JSON strings as they are: quoted by adding quotes

    def at_text(self) -> str:
        """``at.isoformat()``, without formatting it again when the line had that text."""
        return self.text or self.at.isoformat()


@dataclass(slots=True, eq=False)
class InvalidLine:
    """A line that is not a valid event; unreadable fields are None."""

    line: int
    code: str  # an E04xx code of diagnostics.CODES
    reason: str
    id: str | None = None
    subject: str | None = None
    at: datetime | None = None


def conflict(item: "Event", line: int) -> InvalidLine:
    """The invalid line (E0405) of an event whose (subject, id) came before with other content."""
    return InvalidLine(line, "E0405", f"event `{item.id}` of subject `{item.subject}` seen before with other content",
                       item.id, item.subject, item.at)


@dataclass(slots=True, eq=False)
class Subject:
    id: str
    fields: dict


class _DuplicateKey(Exception):
    pass


def _pairs(pairs: list) -> dict:
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _strict(text: str) -> Any:
    return json.loads(text, object_pairs_hook=_pairs, parse_float=Decimal, parse_constant=_no_constant)


def _key_count(value: Any) -> int:
    if type(value) is dict:
        n = len(value)
        for v in value.values():
            t = type(v)
            if t is dict or t is list:
                n += _key_count(v)
        return n
    if type(value) is list:
        n = 0
        for v in value:
            t = type(v)
            if t is dict or t is list:
                n += _key_count(v)
        return n
    return 0


def _vouch(raw: bytes, value: dict) -> bool:
    """True if the decoded object has as many keys as the text: no duplicate key was dropped.

    Cheap form first: when no colon follows whitespace, every key in the text is followed
    by exactly one ``":`` sequence, and other ``":`` sequences can only sit inside strings,
    so ``raw.count(b'":')`` equal to the decoded key count proves there was no duplicate.
    Otherwise the regex counts ``"<whitespace>:`` sequences (same argument)."""
    n = len(value)
    for v in value.values():
        t = type(v)
        if t is dict or t is list:
            n += _key_count(v)
    if b" :" not in raw and b"\t:" not in raw and b"\r:" not in raw and b"\n:" not in raw:
        return raw.count(b'":') == n
    return len(_KEY_RE.findall(raw)) == n


def decode_line(raw: bytes) -> tuple[Any, InvalidLine | None]:
    """Decode one line; returns (value, None) or (None, InvalidLine with line 0)."""
    if len(raw) > MAX_LINE_BYTES:
        return None, InvalidLine(0, "E0407", f"line longer than {MAX_LINE_BYTES} bytes")
    try:
        value = _fast.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, ValueError, RecursionError, ArithmeticError):
        value = None
    else:
        if type(value) is not dict or _vouch(raw, value):
            return value, None
    # strict path: anything the fast path could not vouch for
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, InvalidLine(0, "E0408", "line is not UTF-8")
    try:
        return _strict(text), None
    except _DuplicateKey as exc:
        return None, InvalidLine(0, "E0406", f"duplicate JSON key `{exc.args[0]}`")
    except RecursionError:
        return None, InvalidLine(0, "E0401", "not JSON: nested too deeply")
    except ArithmeticError:  # decimal.InvalidOperation: an exponent beyond what Decimal holds
        return None, InvalidLine(0, "E0404", "a number is out of range (its exponent is too large to hold)")
    except ValueError as exc:
        msg = str(exc).split(":", 1)[0] if isinstance(exc, json.JSONDecodeError) else str(exc)
        return None, InvalidLine(0, "E0401", f"not JSON: {msg}")


def _ident(value: Any) -> str | None:
    """id/subject: a non-empty string, or an integer read as its decimal string."""
    t = type(value)
    if t is str:
        return value if value else None
    if t is int:
        return str(value)
    return None


def _check_numbers(value: Any) -> bool:
    """False if any number is not finite (1e400 is finite as a Decimal; NaN cannot parse)."""
    t = type(value)
    if t is Decimal:
        return value.is_finite()
    if t is dict:
        return all(_check_numbers(v) for v in value.values())
    if t is list:
        return all(_check_numbers(v) for v in value)
    return True


_at_cache: dict[tuple[str, Any], datetime] = {}
_fromiso = datetime.fromisoformat


def _parse_at(text: str, tz: tzinfo) -> datetime:
    if len(text) == 25 and text[19] in "+-" and text[22] == ":" and text[10] in "T " and text[4] == "-" \
            and text[7] == "-" and text[13] == ":" and text[16] == ":" and text.isascii():
        # the common "2018-07-03T10:00:00+08:00": the C parser, same value as parse_datetime
        try:
            value = _fromiso(text)
        except ValueError:
            pass
        else:
            return value if value.tzinfo is tz else value.astimezone(tz)
    key = (text, tz)
    hit = _at_cache.get(key)
    if hit is not None:
        return hit
    value = parse_datetime(text, tz)
    if value.tzinfo is not tz:
        value = value.astimezone(tz)
    if len(_at_cache) > 200_000:
        _at_cache.clear()
    _at_cache[key] = value
    return value


def parse_event(raw: bytes, line: int, tz: tzinfo) -> Event | InvalidLine:
    ev = fast_event(raw, line, tz)
    if ev is not None:
        return ev
    return _parse_event(raw, line, tz)


def _parse_event(raw: bytes, line: int, tz: tzinfo) -> Event | InvalidLine:
    value, bad = decode_line(raw)
    if bad is not None:
        bad.line = line
        return bad
    if type(value) is not dict:
        return InvalidLine(line, "E0402", "not a JSON object")
    if b"\\u" in raw and _LONE_SURROGATE.search(raw):
        try:
            msgspec.json.encode(value)
        except UnicodeEncodeError:
            return InvalidLine(line, "E0404", "a string holds a lone surrogate escape (`\\udXXX`): not Unicode text")
    ident = _ident(value.get("id"))
    subject = _ident(value.get("subject"))
    for name in _REQUIRED:
        if name not in value:
            return InvalidLine(line, "E0403", f"missing required field `{name}`", ident, subject)
    if ident is None:
        return InvalidLine(line, "E0404", "`id` must be a non-empty string or an integer", None, subject)
    if subject is None:
        return InvalidLine(line, "E0404", "`subject` must be a non-empty string or an integer", ident)
    etype = value["type"]
    if type(etype) is not str or not etype:
        return InvalidLine(line, "E0404", "`type` must be a non-empty string", ident, subject)
    at_text = value["at"]
    if type(at_text) is not str:
        return InvalidLine(line, "E0409", "`at` must be an ISO 8601 date or datetime string", ident, subject)
    try:
        at = _parse_at(at_text, tz)
    except ValueError_ as exc:
        return InvalidLine(line, "E0409", f"bad `at`: {exc}", ident, subject)
    except (OverflowError, ValueError):
        return InvalidLine(line, "E0409", f"bad `at`: `{at_text}` is out of range", ident, subject)
    evidence: tuple[str, ...] = ()
    if "evidence" in value:
        ev = value["evidence"]
        if type(ev) is not list:
            return InvalidLine(line, "E0404", "`evidence` must be a list", ident, subject, at)
        kinds = []
        for item in ev:
            if type(item) is str:
                kinds.append(item)
            elif type(item) is dict and type(item.get("kind")) is str:
                kinds.append(item["kind"])
            else:
                return InvalidLine(
                    line, "E0404", "`evidence` items must be strings or objects with a string `kind`",
                    ident, subject, at,
                )
        evidence = tuple(kinds)
    for v in value.values():
        t = type(v)
        if (t is Decimal and not v.is_finite()) or ((t is dict or t is list) and not _check_numbers(v)):
            return InvalidLine(line, "E0404", "a number is not finite", ident, subject, at)
    return Event(line, ident, subject, etype, at, at.astimezone(_UTC), evidence, value)


def fast_event(raw: bytes, line: int, tz: tzinfo) -> Event | None:
    """The common line, read with as few steps as possible; None: ask :func:`_parse_event`.

    Vouches for a line with no backslash, string `id`/`subject`/`type`, an `at` in the form
    ``2018-07-03T10:00:00+08:00`` and as many colons as decoded top-level keys plus the
    at's three. Why that proves there was no duplicate key: every key in the text has its
    colon, nested keys and colons inside strings only add to the count, and the at has
    exactly three; a duplicate takes one key from the decoded count. So equal counts mean
    every colon is a top-level key's or the at's, and no key was dropped. Same Event as
    _parse_event gives."""
    # a backslash, tested with an int: for a bytes argument, bytes.__contains__ (3.11) first
    # tries it as an int and raises and clears a TypeError every time
    if 92 in raw or len(raw) > MAX_LINE_BYTES:
        return None
    try:
        value = _decode(raw)
    except Exception:
        return None
    if type(value) is not dict or raw.count(b":") != len(value) + 3:
        return None
    ident = value.get("id")
    subject = value.get("subject")
    etype = value.get("type")
    at_text = value.get("at")
    if type(ident) is not str or type(subject) is not str or type(etype) is not str or type(at_text) is not str \
            or not ident or not subject or not etype or len(at_text) != 25:
        return None
    evidence: tuple[str, ...] = ()
    if "evidence" in value:
        ev = value["evidence"]
        if type(ev) is not list:
            return None
        for kind in ev:
            if type(kind) is not str:
                return None
        evidence = tuple(ev)
    if at_text[4::3] not in _AT_SHAPES or not at_text.isascii():  # characters 4, 7, 10, ..., 22
        return None
    try:
        written = _fromiso(at_text)
    except ValueError:
        return None
    at = written.astimezone(tz)
    # the same wall clock (day, hour, minute, second) means the same offset: the text is at's
    same = at.second == written.second and at.minute == written.minute and at.hour == written.hour \
        and at.day == written.day
    # an ASCII line without backslash or DEL: its strings hold no quote, backslash or control
    # character (msgspec refuses raw control characters), so results.quote(s) == '"' + s + '"'
    return Event(line, ident, subject, etype, at, written.astimezone(_UTC), evidence, value,
                 at_text if same else None, raw.isascii() and 127 not in raw)  # DEL


_decode = _fast.decode
_AT_SHAPES = ("--T::+:", "--T::-:")


def _lines(source: str | Path | Iterable[str | bytes]) -> Iterator[bytes]:
    if isinstance(source, (str, Path)):
        if str(source) == "-":
            yield from sys.stdin.buffer
            return
        with open(source, "rb") as fh:
            yield from fh
        return
    for item in source:
        yield item.encode("utf-8", "surrogatepass") if isinstance(item, str) else item


def read_events(source: str | Path | Iterable[str | bytes], tz: tzinfo) -> Iterator[Event | InvalidLine]:
    """Events and invalid lines in input order (see the module docstring).

    Opening a missing file raises OSError (a CLI error, not a bad line)."""
    number = 0
    for raw in _lines(source):
        number += 1
        stripped = raw.strip()
        if not stripped:
            continue
        yield parse_event(stripped, number, tz)


def read_subjects(source: str | Path | Iterable[str | bytes]) -> tuple[list[Subject], list[InvalidLine]]:
    """Subjects (``{"id": ..., "kind": ..., ...}``) and the invalid lines of a subjects file.

    A subject listed twice keeps its first line; the second is invalid (E0405) unless identical."""
    subjects: dict[str, Subject] = {}
    bad: list[InvalidLine] = []
    number = 0
    for raw in _lines(source):
        number += 1
        stripped = raw.strip()
        if not stripped:
            continue
        value, err = decode_line(stripped)
        if err is not None:
            err.line = number
            bad.append(err)
            continue
        if type(value) is not dict:
            bad.append(InvalidLine(number, "E0402", "not a JSON object"))
            continue
        if "id" not in value:
            bad.append(InvalidLine(number, "E0403", "missing required field `id`"))
            continue
        ident = _ident(value["id"])
        if ident is None:
            bad.append(InvalidLine(number, "E0404", "`id` must be a non-empty string or an integer"))
            continue
        if not _check_numbers(value):
            bad.append(InvalidLine(number, "E0404", "a number is not finite", ident))
            continue
        if ident in subjects:
            if content_digest(subjects[ident].fields) != content_digest(value):
                bad.append(InvalidLine(number, "E0405", f"subject `{ident}` listed again with other fields", ident))
            continue
        subjects[ident] = Subject(ident, value)
    return sorted(subjects.values(), key=lambda s: s.id), bad


def _canon(value: Any) -> Any:
    t = type(value)
    if t is dict:
        return {k: _canon(v) for k, v in value.items()}
    if t is list:
        return [_canon(v) for v in value]
    if t is Decimal or (t is int):
        return _canon_number(Decimal(value))
    return value


# normalize() exactly as a run's context does it (28 digits, exponents within ±999,999),
# but refusing to round or overflow: such numbers take the exact form below instead
_CANON = decimal.Context(prec=28, traps=[decimal.Inexact, decimal.Overflow, decimal.InvalidOperation])


def _canon_number(d: Decimal) -> msgspec.Raw:
    """The canonical text of a number: ``str(d.normalize())`` (so ``1.0`` and ``1`` agree),
    or, when that would round (more than 28 significant digits) or overflow, the exact
    ``#digits e exponent`` (no other value encodes to a ``#``)."""
    if not d:
        return _ZERO
    try:
        return msgspec.Raw(str(d.normalize(_CANON)).encode())
    except ArithmeticError:
        sign, digits, exponent = d.as_tuple()
        text = "".join(map(str, digits)).rstrip("0")
        exponent += len(digits) - len(text)
        return msgspec.Raw(f"#{'-' if sign else ''}{text}e{exponent}".encode())


_ZERO = msgspec.Raw(b"0")


def _plain(value: Any) -> bool:
    """No number anywhere (so the canonical form is the value itself)."""
    for v in (value.values() if type(value) is dict else value):
        t = type(v)
        if t is Decimal or t is int:
            return False
        if (t is dict or t is list) and not _plain(v):
            return False
    return True


_LONE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def content_digest(value: Any) -> bytes:
    """A 128-bit digest of a parsed JSON value: key order and number spelling do not matter
    (``1.0`` equals ``1``), so equal digests mean the same parsed value (up to 2^-64 odds
    of collision among a billion lines)."""
    if type(value) is dict and _plain(value):
        return _blake(_encode(value, order="sorted"), digest_size=16).digest()
    blob = msgspec.json.encode(_canon(value), order="sorted")
    return hashlib.blake2b(blob, digest_size=16).digest()


_blake = hashlib.blake2b
_encode = msgspec.json.encode
