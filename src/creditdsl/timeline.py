"""Ordering the input in bounded memory (LANGUAGE.md §10: events in order of `at`, ties in input order).

Public API::

    scan_sorted(path, tz, owners=None) -> bool
                                      one cheap pass: are the `at` values of the file in order?
                                      (``owners`` is told every line's subject on the way:
                                      `--workers`, selfread.Owners)
    Spool(tmpdir=None)                collects timeline items; yields them sorted by (key, line)
        .add(item_tuple)              item_tuple = (key, line, kind, record)
        .items() -> Iterator          in (key, line) order; spilled runs are merged
        .close()                      removes the temporary files

A log sorted by time (the common case) is folded as it is read, line by line: the
interpreter asks :func:`scan_sorted` first, which decodes only the `at` field of each
line (a typed msgspec struct) and compares it with the previous one (as text when both
are written in one format with one explicit UTC offset, else as instants). The scan is
conservative: it looks at every line whose `at` can be read, valid event or not, so
"sorted" implies that the valid events are in order; "not sorted" only costs speed.

Anything else goes through a :class:`Spool`: up to ``CHUNK`` items are kept in memory;
beyond that each full chunk is sorted and pickled to a temporary file (a run), and the
runs are merged with :func:`heapq.merge`. Memory is then O(CHUNK) items plus what
the per-subject state must remember; the cost is one pickle and one unpickle per item
(about 8.5 µs for both, for an event) and the temporary disk space of the log's parsed
form.
"""

from __future__ import annotations

import heapq
import os
import pickle
import tempfile
from datetime import timezone
from pathlib import Path
from typing import Any, Iterator

import msgspec

CHUNK = 50_000  # items kept in memory before a sorted run is spilled
_BATCH = 2_000  # items per pickle record in a run file

_UTC = timezone.utc


class _At(msgspec.Struct):
    at: str


class _AtSubject(msgspec.Struct):
    at: str
    subject: str


_at_only = msgspec.json.Decoder(_At)
_at_subject = msgspec.json.Decoder(_AtSubject)


def _explicit_offset(text: str) -> bool:
    n = len(text)
    return (n == 25 and text[19] in "+-" and text[22] == ":") or (n == 20 and text[19] == "Z")


def scan_sorted(path: str | Path, tz: Any, owners: Any = None) -> bool:
    """True if every line's readable `at` is at or after the previous readable one.

    ``owners``, if given, has a list ``pending`` and a method ``flush()``: for every line
    read, in order, its `subject` is appended to ``pending`` when a typed decode of `at` and
    `subject` (both strings) reads the line, else None (a blank line too); ``flush()`` is
    called every 65,536 lines (it takes what is pending). A scan that finds the file
    unsorted stops there."""
    from .events import _parse_at, parse_event
    from .values import ValueError_

    decode = _at_only.decode if owners is None else _at_subject.decode
    note = None if owners is None else owners.pending.append
    lines = 0
    prev_text: str | None = None
    prev_key = None  # parsed lazily
    # when prev_text is written with an explicit offset: its offset (or Z) and separator; a
    # text with the same tail has the same length and offset, and compares as text
    tail: str | None = None
    sep = ""
    with open(path, "rb") as fh:
        for raw in fh:
            if note is not None:
                if lines and not lines & 65535:  # 65,536 lines since the last flush
                    owners.flush()
                lines += 1
            try:
                value = decode(raw)
            except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, ValueError, RecursionError):
                if note is not None:
                    note(None)
                stripped = raw.strip()
                if not stripped:
                    continue
                item = parse_event(stripped, 0, tz)
                if not hasattr(item, "key"):
                    continue
                key = item.key
                text = None
            else:
                text = value.at
                if note is not None:
                    note(value.subject)
                if text[19:] == tail and text[10] == sep:
                    if text < prev_text:  # type: ignore[operator]
                        return False
                    prev_text, prev_key = text, None
                    continue
                try:
                    key = _parse_at(text, tz).astimezone(_UTC)
                except (ValueError_, OverflowError, ValueError):
                    continue  # an invalid line: it does not take part in the order
            if prev_key is None and prev_text is not None:
                try:
                    prev_key = _parse_at(prev_text, tz).astimezone(_UTC)
                except (ValueError_, OverflowError, ValueError):
                    return False  # it was compared as text but is no instant: sort, to be safe
            if prev_key is not None and key < prev_key:
                return False
            prev_text, prev_key = text, key
            tail = None
            if text is not None and _explicit_offset(text):
                tail, sep = text[19:], text[10]
    return True


def _sort_key(item: tuple) -> tuple:
    return (item[0], item[1])


class Spool:
    """Timeline items in memory up to CHUNK, then sorted runs in temporary files."""

    def __init__(self, tmpdir: str | None = None):
        self.buffer: list[tuple] = []
        self.runs: list[str] = []
        self.tmpdir = tmpdir

    def add(self, item: tuple) -> None:
        self.buffer.append(item)
        if len(self.buffer) >= CHUNK:
            self._spill()

    def _spill(self) -> None:
        self.buffer.sort(key=_sort_key)
        fd, path = tempfile.mkstemp(prefix="creditdsl-run-", suffix=".pickle", dir=self.tmpdir)
        self.runs.append(path)
        with os.fdopen(fd, "wb") as fh:
            buf = self.buffer
            for i in range(0, len(buf), _BATCH):
                pickle.dump(buf[i:i + _BATCH], fh, protocol=pickle.HIGHEST_PROTOCOL)
        self.buffer = []

    @staticmethod
    def _read(path: str) -> Iterator[tuple]:
        with open(path, "rb") as fh:
            while True:
                try:
                    batch = pickle.load(fh)
                except EOFError:
                    return
                yield from batch

    def items(self) -> Iterator[tuple]:
        self.buffer.sort(key=_sort_key)
        if not self.runs:
            yield from self.buffer
            return
        if self.buffer:
            self._spill()
        yield from heapq.merge(*(self._read(p) for p in self.runs), key=_sort_key)

    def close(self) -> None:
        for path in self.runs:
            try:
                os.unlink(path)
            except OSError:
                pass
        self.runs = []
