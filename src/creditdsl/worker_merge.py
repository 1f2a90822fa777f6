"""The parent's merge of the `--workers` audit files into the one-worker order (issue 9).

Public API (for selfread.py)::

    merge(paths, out, failed=None)      the workers' (group, passive) files, merged and numbered
    MergeThread(paths, out, failed)     merge() in a thread, while the workers write the files

The order. Group records (worker_audit.py) sort by position, and so does the one-worker
timeline, except for passive lines (invalid, duplicate), which the workers key by their
line: a passive line's place in the one-worker order is after the decisions of the
events above it and before anything after them. The one-worker run takes timed work when
the next event arrives (or at the first `later` line, or at the end), so the merge holds
the timed work that comes after an event record (an event's or a `later` line's key has
the phase character ``1`` at index 26, then its line), and when the next event record
comes, writes the passive lines whose line is below that event's, then the held work,
then the event's decisions; at the end, the rest of the passive lines, then the held work.

A read's worth at a time. The merge reads each worker's group file a read at a time
(``worker_audit.follow_chunks``, up to 1 MB): the records no later record can precede,
those at or below the least of the live workers' last records read, are sorted together
(timsort merges the workers' sorted runs in C) and placed; when no passive line is above
the last event record among them, they go out in that order (one list extend), so the
merge does no Python work per record but taking each text and numbering (``Numbered``).
On the bench's 1,000,000 events: 1.54–1.59 s of the merge thread's CPU, against 2.06–2.14 s
for a ``heapq.merge`` of the records placed one by one (three interleaved runs each).
"""

from __future__ import annotations

import heapq
import os
import threading
from bisect import bisect_right
from typing import IO, Iterator

from .agenda import CODE_WIDTH
from .worker_audit import US, Numbered, follow, follow_chunks


class MergeThread(threading.Thread):
    """merge() in a thread of the parent, reading the workers' files as they grow; then it
    removes them."""

    def __init__(self, paths: list[tuple[str, str]], out: IO[str], failed: threading.Event):
        super().__init__(name="creditdsl-merge", daemon=True)
        self.args_ = (paths, out, failed)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            merge(*self.args_)
        except BaseException as exc:  # raised in the parent's thread by done()
            self.error = exc
            self.args_[2].set()
            return
        # merged: remove the files here, while the workers build their results, rather than
        # after (freeing a 200 MB file's blocks took about 0.27 s on the bench machine)
        for pair in self.args_[0]:
            for path in pair:
                try:
                    os.unlink(path)
                except OSError:  # run_self_read removes what is left
                    pass

    def done(self) -> None:
        if self.error is not None:
            raise self.error


def merge(paths: list[tuple[str, str]], out: IO[str], failed: threading.Event | None = None) -> None:
    """The workers' audits in the one-worker order (see the module's docstring), a read's
    worth of records at a time: the records that no later record can precede (those at or
    below the least of the live workers' last records read) are sorted together (timsort
    merges the workers' sorted runs in C) and written in that order, unless a passive line
    falls among them (:func:`_place`)."""
    numbered = Numbered(out)
    passive = heapq.merge(*(follow(pair[1], failed) for pair in paths))
    state = _Placing(numbered, passive)
    sources = [follow_chunks(pair[0], failed) for pair in paths]
    pending: list[list[bytes]] = [[] for _ in paths]  # each worker's records read, not yet placed
    live = list(range(len(paths)))  # the workers whose file may still bring records
    while live:
        for i in tuple(live):  # a frontier needs a record of every live worker
            if not pending[i]:
                chunk = next(sources[i], None)
                if chunk is None:
                    live.remove(i)
                else:
                    pending[i] = chunk
        if live:  # a worker's later records come after its last one read
            frontier = min([pending[i][-1] for i in live])
            take: list[bytes] = []
            for recs in pending:
                if recs:
                    k = bisect_right(recs, frontier)
                    take += recs[:k]
                    del recs[:k]
        else:
            take = [record for recs in pending for record in recs]
        take.sort()  # (positions are unique: no two records compare equal)
        _place(state, take)
    state.finish()


class _Placing:
    """The merge's output side: the numbered writer, the passive lines (merged, as they come),
    and the timed work held since the last event record."""

    def __init__(self, numbered: Numbered, passive: Iterator[bytes]):
        self.numbered = numbered
        self.passive = passive
        self.pend = next(passive, None)  # the next passive record (or heartbeat) not placed
        self.work: list[bytes] = []

    def passive_below(self, line: bytes) -> list[bytes]:
        """The passive lines above ``line`` not yet placed (heartbeats skipped), taken."""
        found = []
        pend, passive = self.pend, self.passive
        while pend is not None and pend[:12] < line:
            if pend[12] == _US_BYTE:  # not a heartbeat
                found.append(pend)
            pend = next(passive, None)
        self.pend = pend
        return found

    def finish(self) -> None:
        """Passive lines after the last event, then the work up to as_of."""
        batch = self.numbered.batch
        batch += self.passive_below(b"\xff")
        batch += self.work
        self.numbered.flush()


def _place(state: _Placing, records: list[bytes]) -> None:
    """Sorted records into the output: the one-worker run takes timed work when the next
    event arrives, so timed work after the last event record is held; at an event record,
    the passive lines above its line come first, then the held work, then the event. When
    no passive line is above the last event record's line, that is plain record order."""
    last = len(records) - 1
    while last >= 0 and records[last][CODE_WIDTH] != _EVENT_PHASE:
        last -= 1
    work = state.work
    if last < 0:  # no event: all held
        work += records
        return
    batch = state.numbered.batch
    found = state.passive_below(records[last][CODE_WIDTH + 1:CODE_WIDTH + 13])
    if not found:
        batch += work
        batch += records[:last + 1]
    else:
        at = 0
        for record in records[:last + 1]:
            if record[CODE_WIDTH] != _EVENT_PHASE:
                work.append(record)
                continue
            line = record[CODE_WIDTH + 1:CODE_WIDTH + 13]
            while at < len(found) and found[at][:12] < line:
                batch.append(found[at])
                at += 1
            batch += work
            work.clear()
            batch.append(record)
    work[:] = records[last + 1:]
    if len(batch) >= 2048:
        state.numbered.flush()


_EVENT_PHASE, _US_BYTE = ord("1"), ord(US)  # bytes: an index gives a number
