"""The audit files `--workers` processes write for the parent's merge, and their reading.

Public API (for parallel.py and selfread.py)::

    GroupWriter(runner, stream, ledger_names)   a worker's decisions, one record per work item
    PassiveWriter(stream, group_writer)         passive lines keyed by line, with heartbeats
    follow(path, failed) -> Iterator[bytes]     a file's records as another process writes it
    follow_chunks(path, failed)                 the same, a list of records per read
    Numbered(out)                               merged records' texts, numbered and written

The format. A file is a sequence of *records*, each ``RS key US LF text`` (RS ``\\x1e``,
US ``\\x1f``, LF a newline: a writer joins a record's key and lines with newlines, so no
line is copied to put its key before it), and ends with ``RS GS`` (GS ``\\x1d``).
``text`` is one or more audit lines, each written ``{"seq": %d, ...}`` and ended by a
newline, with every other ``%`` doubled: the parent numbers a whole batch of merged texts
with one ``%`` (``batch % (seq+1, ..., seq+n)``, n = its newlines) instead of formatting
line by line. Audit lines never hold a raw control character (JSON escapes them), so no
separator occurs in a text and no newline inside a line.
A worker's generated folds (``Plan.fast_keyed``) write the hole themselves, so a line
reaches ``GroupWriter.raw`` ready unless it has a number (from the general path) or a ``%``
of its own (an id, a rule name): only those are rewritten (``_seq_hole``: 0.5 µs a line,
about 0.3–0.45 s of each worker's 13 s on the 1,000,000-event bench log when every line
went through it).

* A group file (GroupWriter): the key is the position of a work item (parallel.py), and
  the record holds all its decisions (a work item's decisions are taken one after another).
  No position is a proper prefix of another and US sorts below every key character, so
  plain string order of records is position order: the records of N files, each already
  in order, merged by that order are the one-worker order of the work items
  (worker_merge.py).
* A passive file (PassiveWriter, selfread.py): the key is the line number (12 digits); a
  *heartbeat* ``RS line FS`` (FS ``\\x1c``) says every passive line up to ``line`` is
  written, so a merge reading the file as it grows need not wait for a passive line that
  may never come.

Writers flush their file at every batch, so the parent can merge while the workers fold.
"""

from __future__ import annotations

import threading
import time
from itertools import chain
from typing import IO, Any, Iterator

from .results import Decision, _str, decision_json

RS, US, FS = "\x1e", "\x1f", "\x1c"
_END = b"\x1e\x1d"  # the last record of a file


def _seq_hole(line: str, head: str = "", end: str = "\n") -> str:
    """``head`` (a record's ``RS key US``, or nothing), then an audit line (``{"seq": N, ...}``)
    with its number made ``%d`` and its other ``%`` doubled, then ``end``: one string."""
    rest = line[line.index(","):]
    if "%" in rest:
        rest = rest.replace("%", "%%")
    return f'{head}{{"seq": %d{rest}{end}'


class GroupWriter:
    """A worker's audit: a record per work item (``runner.pos``), its decisions in it."""

    def __init__(self, runner: Any, stream: IO[str], ledger_names: tuple[str, ...]):
        self.runner = runner
        self.stream = stream
        self.names = tuple(_str(n) for n in ledger_names)
        self.pending: list[str] = []
        self.last: str | None = None

    def __call__(self, d: Decision) -> None:
        d.seq = 0
        self.raw(decision_json(d, self.names))

    def raw(self, line: str) -> None:
        # the generated folds of a worker (Plan.fast_keyed) write the hole themselves: a line
        # from elsewhere has its number, and one with a `%` of its own needs it doubled
        if line[8] != "%" or line.find("%", 10) != -1:
            line = _seq_hole(line, end="")
        pos = self.runner.pos
        if pos != self.last:  # the line starts a record
            self.last = pos
            self.pending.append(f"{RS}{pos}{US}")  # (flush joins with newlines)
        self.pending.append(line)
        if len(self.pending) >= 4096:
            self.flush()

    def flush(self) -> None:
        """Write what is pending through to the file (the parent may be reading it)."""
        if self.pending:
            self.pending.append("")  # the last line's newline
            self.stream.write("\n".join(self.pending))
            self.pending = []
        self.stream.flush()

    def close(self) -> None:
        self.flush()
        self.stream.write(_END.decode())
        self.stream.flush()


class PassiveWriter:
    """Passive lines (invalid, duplicate) keyed by their line (set ``line`` before each)."""

    def __init__(self, stream: IO[str], groups: GroupWriter):
        self.stream = stream
        self.groups = groups
        self.names = groups.names
        self.pending: list[str] = []
        self.line = 0

    def __call__(self, d: Decision) -> None:
        d.seq = 0
        self.pending.append(_seq_hole(decision_json(d, self.names), f"{RS}{self.line:012d}{US}\n"))

    def heartbeat(self, line: int) -> None:
        """Every line up to ``line`` is read: write what is pending in both files."""
        self.pending.append(f"{RS}{line:012d}{FS}")
        self.stream.write("".join(self.pending))
        self.pending = []
        self.stream.flush()
        self.groups.flush()

    def close(self, line: int) -> None:
        self.heartbeat(line)
        self.stream.write(_END.decode())
        self.stream.flush()


def follow_chunks(path: str, failed: threading.Event | None = None) -> Iterator[list[bytes]]:
    """The records of a file (bytes, without their RS), a list for every read that completes
    some, as another process writes the file, up to its end; waits while there is nothing
    new, and stops early once ``failed`` is set (a worker failed: the caller raises)."""
    with open(path, "rb") as fh:
        tail = b""
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                if tail == _END:
                    return
                if failed is not None and failed.is_set():
                    return
                time.sleep(0.002)
                continue
            # the records before the last RS are whole; what follows it may be cut short
            records = (tail + chunk if tail else chunk).split(b"\x1e")
            tail = b"\x1e" + records.pop()
            if len(records) > 1:
                del records[0]  # what came before the first RS: nothing
                yield records
            if tail == _END:
                return


def follow(path: str, failed: threading.Event | None = None) -> Iterator[bytes]:
    """The records of a file one by one (:func:`follow_chunks`)."""
    return chain.from_iterable(follow_chunks(path, failed))


class Numbered:
    """Records in output order (``key US LF text``, as ``follow`` gives them), their texts
    numbered from 1 and written in batches: append records to ``batch`` (the same list all
    along), ``flush()`` when it is long, and at the end. A batch's texts are joined (each
    taken from its record by ``partition``: 0.38 s against 0.65 s for a join with RS and a
    regular-expression substitution of the keys, on the 1M-event bench's records) and its
    lines numbered by one ``%``."""

    def __init__(self, out: IO[str]):
        self.seq = 0
        self.batch: list[bytes] = []
        buffer = getattr(out, "buffer", None)
        if buffer is not None and str(getattr(out, "encoding", "")).lower().replace("-", "") == "utf8":
            out.flush()  # then its bytes (audit lines are ASCII: JSON escapes the rest)
            self.write = buffer.write
        else:
            self.write = lambda text: out.write(text.decode("utf-8"))

    def flush(self) -> None:
        batch = self.batch
        text = b"".join([record.partition(b"\x1f\n")[2] for record in batch])
        batch.clear()
        n = text.count(b"\n")
        self.write(text % tuple(range(self.seq + 1, self.seq + n + 1)))
        self.seq += n
