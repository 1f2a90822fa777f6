"""One subject's mutable state: small, slotted, never copied per event.

The interpreter folds every subject independently (a run can be split by subject),
so everything a decision reads lives here:

* ``bal``: ledger balances, a list indexed like ``rulebook.ledgers``;
* ``fines``: total fines (Decimal);
* ``lists``: list name → membership term token (None: until an ``unlist``);
* ``cap``: the worst permanent tier cap (an index into ``rulebook.tiers``, -1 = none);
  ``tcaps``: temporary caps, token → tier index; both are a shared read-only empty
  mapping until written (``own_lists``, ``own_tcaps``);
* ``counters``: one slot per limit and per capped ledger of a rule (``Plan.counter_slot``):
  ``[period_key, count]`` (calendar) or a list of UTC instants (rolling ``within``);
  caps hold totals (a list, not a dict: created at the first use, see :func:`counters`);
* ``hist``: event type → sorted UTC instants, kept only for types that ``count()`` reads
  and only as far back as its longest window;
* ``seen``: the duplicate check's memory (see :func:`seen_check`): 24 bytes per event id;
* ``pending``: revert token → ledger index (a reset cancels the ledger's tokens);
* ``trig``: the remembered value of each trigger's condition;
* ``remedy``: remedy event type → (UTC instant, line) of the latest one (grace);
* ``now``: the instant of the evaluation in progress (read by ``count()``);
* ``tier``: a cache of the current tier index (``DIRTY`` after any change).
"""

from __future__ import annotations

import hashlib
import struct
from bisect import bisect_right
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Callable, Mapping

DIRTY = -2


_NO_FIELDS: dict = {}  # shared by subjects without a subjects-file line (never written)
EMPTY: Mapping = MappingProxyType({})  # lists and tcaps of a subject until written
_ZERO = Decimal(0)


def _lazy(name: str) -> property:
    """A dict slot created at its first use (most subjects never use most of them)."""
    slot = "_" + name

    def get(self: Any) -> dict:
        d = getattr(self, slot)
        if d is None:
            d = {}
            setattr(self, slot, d)
        return d

    def set_(self: Any, value: dict) -> None:
        setattr(self, slot, value)

    return property(get, set_)


class SubjectState:
    __slots__ = (
        "id", "fields", "bal", "fines", "lists", "cap", "tcaps", "counts",
        "_hist", "seen", "_pending", "trig", "now", "tier", "anniversary", "_remedy",
    )

    hist = _lazy("hist")
    pending = _lazy("pending")
    remedy = _lazy("remedy")  # remedy event type → (utc instant, line) of the latest

    def __init__(self, subject_id: str, fields: dict | None, starts: list[Decimal]):
        self.id = subject_id
        self.fields = fields if fields is not None else _NO_FIELDS
        self.bal = list(starts)
        self.fines = _ZERO
        self.lists: Mapping[str, Any] = EMPTY
        self.cap = -1
        self.tcaps: Mapping[int, int] = EMPTY
        self.counts: list | None = None
        self._hist = self._pending = self._remedy = None
        self.seen = b""  # immutable: exactly 24 bytes a record, no spare room (see register)
        self.trig: list[bool] | None = None
        self.now: datetime | None = None
        self.tier = DIRTY
        self.anniversary: Any = None  # per ledger with `reset: ... from`: next reset scheduled?

    def own_lists(self) -> dict[str, Any]:
        """``lists``, to write to."""
        if self.lists is EMPTY:
            self.lists = {}
        return self.lists  # type: ignore[return-value]

    def own_tcaps(self) -> dict[int, int]:
        """``tcaps``, to write to."""
        if self.tcaps is EMPTY:
            self.tcaps = {}
        return self.tcaps  # type: ignore[return-value]

    def drop_pending(self, index: int) -> None:
        """A reset of ledger ``index``: its pending reverts are cancelled."""
        pending = self._pending
        if pending:
            for token in [t for t, i in pending.items() if i == index]:
                del pending[token]

    def has_pending(self, index: int) -> bool:
        pending = self._pending
        return bool(pending) and index in pending.values()

    def record(self, event_type: str, key: datetime, keep_after: datetime | None) -> None:
        """Remember an event of a type that ``count()`` reads; forget what no window reaches."""
        keys = self.hist.get(event_type)
        if keys is None:
            self.hist[event_type] = [key]
            return
        keys.append(key)
        if len(keys) >= 64 and keep_after is not None:
            drop = bisect_right(keys, keep_after)
            if drop > len(keys) // 2:
                del keys[:drop]


def counters(st: SubjectState, slots: int) -> list:
    """The subject's counter slots (``slots`` of them: ``len(plan.counter_keys)``)."""
    c = st.counts
    if c is None:
        c = st.counts = [None] * slots
    return c


def period_counter(counters: list, slot: int, period_key: Any) -> list:
    """The ``[period_key, value]`` cell of a calendar counter, reset when the period changed."""
    cell = counters[slot]
    if cell is None or cell[0] != period_key:
        cell = counters[slot] = [period_key, 0]
    return cell


def window(counters: list, slot: int) -> list:
    """The list of a rolling counter (``within``)."""
    cell = counters[slot]
    if cell is None:
        cell = counters[slot] = []
    return cell


NEW, DUPLICATE, CONFLICT = 0, 1, 2
_RECORD = 24
# a fresh 128-bit blake2b: copying a made one is cheaper than making one (keyword arguments)
_blake16 = hashlib.blake2b(digest_size=16).copy
_LINE_TAG = b"\xff\xff\xff"  # a token that names a line of the log by its byte offset
_LINE_LIMIT = 1 << 40
_pack = struct.Struct(">Q").pack
_LINE_BITS = 0xFFFFFF << 40


def digest_token(digest: bytes) -> bytes:
    """The 8-byte token of a content digest: its first 64 bits, never starting like a line
    token (a digest starting ff ff ff has its third byte made fe: 2**-24 of digests lose
    one bit)."""
    token = digest[:8]
    return _LINE_TAG[:2] + b"\xfe" + token[3:] if token[:3] == _LINE_TAG else token


def line_token(offset: int) -> bytes | None:
    """The token naming the line at byte ``offset`` of the log being read (None past 1 TB)."""
    return _pack(_LINE_BITS | offset) if offset < _LINE_LIMIT else None


def token_offset(token: bytes) -> int | None:
    """The byte offset a line token names (None: a digest token)."""
    return int.from_bytes(token[3:], "big") if token[:3] == _LINE_TAG else None


def seen_lookup(seen: bytearray, event_id: str, token: bytes) -> bytes | None:
    """Register an event id of one subject with its token (None), or give the first one's.

    ``seen`` holds one 24-byte record per id: a 128-bit blake2b hash of the id, then an
    8-byte token: the first 64 bits of the content digest (events.content_digest, see
    :func:`digest_token`), or, while a log file is read, the byte offset of the id's first
    line (:func:`line_token`): that line's digest is computed only if the id comes again
    (``interpreter``), and before the state is saved (:func:`resolve_tokens`). Bounds: two
    different ids of one subject share a hash with probability below m**2 / 2**129 for m
    ids (10**-20 for a billion ids); a repeated id with other content passes for a
    duplicate with probability 2**-64 (2**-63 for the 2**-24 of digests with a lost bit)."""
    key, pos = _find(seen, event_id)
    if pos < 0:
        seen += key + token
        return None
    return bytes(seen[pos + 16:pos + _RECORD])


def _id_hash(event_id: str) -> bytes:
    """The 128-bit blake2b hash of an event id that its record starts with."""
    h = _blake16()
    h.update(event_id.encode("utf-8", "surrogatepass"))
    return h.digest()


def _find(seen: bytes | bytearray, event_id: str) -> tuple[bytes, int]:
    """The id's 128-bit hash and the offset of its record in ``seen`` (-1: none)."""
    key = _id_hash(event_id)
    pos = seen.find(key)
    while pos >= 0 and pos % _RECORD:  # a match across two records is not a record
        pos = seen.find(key, pos + 1)
    return key, pos


def register_line(st: SubjectState, event_id: str, offset: int) -> bool:
    """Runner.duplicate_check's common case, for the loops that read a log file: an id the
    subject has not used (its hash matches nowhere in the records) is registered with the
    line token of ``offset``: True. False: nothing done (a possible repeat, or past 1 TB):
    ask Runner.duplicate_check."""
    seen = st.seen
    key = _id_hash(event_id)
    if offset < _LINE_LIMIT and seen.find(key) < 0:
        st.seen = seen + key + _pack(_LINE_BITS | offset)
        return True
    return False


def register(st: SubjectState, event_id: str, token: bytes) -> bytes | None:
    """seen_lookup on the subject's own records (``st.seen``, bytes: a new object per new
    id, the size of its records exactly, where a bytearray keeps room to grow)."""
    seen = st.seen
    key, pos = _find(seen, event_id)
    if pos < 0:
        st.seen = b"".join((seen, key, token))
        return None
    return seen[pos + 16:pos + _RECORD]


def seen_check(seen: bytearray, event_id: str, digest: bytes) -> int:
    """Register an event id with its content digest, or compare with the first (whose token
    must be a digest token) in a bytearray of records: NEW, DUPLICATE (same digest) or
    CONFLICT. (A subject's own records: Runner.duplicate_check.)"""
    token = digest_token(digest)
    prior = seen_lookup(seen, event_id, token)
    if prior is None:
        return NEW
    return DUPLICATE if prior == token else CONFLICT


def resolve_tokens(seen: bytearray, digest_at: Callable[[int], bytes]) -> None:
    """Replace every line token of ``seen`` by the digest token of the line it names."""
    for pos in range(16, len(seen), _RECORD):
        offset = token_offset(seen[pos:pos + 8])
        if offset is not None:
            seen[pos:pos + 8] = digest_token(digest_at(offset))


def normalized(seen: bytearray) -> bytearray:
    """``seen`` read from a state file: tokens are digests (one written before digest_token
    existed may start like a line token; it is made a digest token)."""
    for pos in range(16, len(seen), _RECORD):
        if seen[pos:pos + 3] == _LINE_TAG:
            seen[pos + 2] = 0xFE
    return seen


def seen_from_ids(ids: dict[str, bytes]) -> bytearray:
    """The records of an older state file's ``{id: digest}`` map."""
    out = bytearray()
    for event_id, digest in ids.items():
        seen_check(out, event_id, digest)
    return out
