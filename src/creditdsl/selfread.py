"""`--workers N` on a log sorted by time: every worker reads the file itself (issue 9).

Public API::

    run_self_read(plan, path, workers, subjects, as_of, as_of_key, audit_stream)
        -> results.RunResult | None     (None: the log is not sorted by time after all)
    Owners(path, workers)               the owners file, written by the parent's scan

The parent does not decode the log's events. Each worker reads every line but decodes
only its own: the worker of a line is ``parallel.partition(subject)``, and the parent
tells it, in the *owners file*: one byte per line, written by the parent's sortedness
scan as it goes (``timeline.scan_sorted`` decodes each line's `at` and `subject` with a
typed msgspec struct, the parser of the full decode, so for a valid event it is the
decoded subject; see :class:`Owners`). The scan runs far ahead of the folds (about 1.5 µs
a line, against about 15 µs for a line a worker folds), so a worker seldom waits for it;
before, each worker decoded the subject of every line itself, twice the work in all. A
line whose subject that decode cannot read (``UNKNOWN``) is decoded by every worker
(rare) and belongs to the worker of its decoded subject, or to worker 0 when it is not a
valid event. (A search of the line's bytes for ``"subject": "`` was tried: fewer
instructions under callgrind, but slower on the machine, 1.34 against 1.04 µs a line.)
A worker reads the log a heartbeat's worth of lines at a time (4,096), beside as many
owner bytes, and picks its own lines with ``itertools.compress`` (about 0.4 s less a
worker for a million lines than a Python test of each line's owner). Every worker also
decodes lines from the top until the first valid event at or before ``as_of`` (the start
of the calendar-reset chain, the same in all of them).

Each worker writes its decisions as records keyed by position (worker_audit.py) and
its passive lines (invalid, duplicate) to a second file keyed by line number;
``later`` lines are keyed by their own instant, as in the parent-dispatch path. The
parent merges them in a thread while the workers fold, reading their files as they grow
(worker_merge.py has the order); a worker flushes both files every 4,096 lines read,
with a heartbeat in the passive file, so the merge never waits for more than that. If a
worker fails, the merge stops and the parent raises.
"""

from __future__ import annotations

import decimal
import heapq
import multiprocessing
import os
import pickle
import tempfile
import threading
import time
from datetime import timezone
from itertools import accumulate, compress, count, islice
from typing import IO, Any, Iterator

from .events import Event, InvalidLine, conflict, fast_event, parse_event
from .expressions import decimal_context
from .interpreter import _subjects
from .agenda import event_position
from .codegen import UNNAMED
from .collector import folding_gc, paused_gc
from .runner import DUPLICATE, INVALID, LATER, Runner
from .parallel import keyed, partition, summary_total, worker_failed
from .plan import Plan
from .results import RunResult, SubjectResult
from .state import DUPLICATE as SEEN_DUPLICATE
from .state import NEW, register_line
from .timeline import scan_sorted
from .worker_audit import GroupWriter, PassiveWriter
from .worker_merge import MergeThread

_UTC = timezone.utc
HEARTBEAT = 4095  # a mask (2**k - 1): a heartbeat each time the lines read are a multiple of 4,096
RESULT_CHUNK = 8192  # subjects' results a worker sends in one message


UNKNOWN = 255  # an owner byte: the line's subject could not be read (every worker decodes it)


class _OwnerOf(dict):
    """subject -> its worker, computed on first sight (None -> UNKNOWN)."""

    def __init__(self, workers: int):
        super().__init__({None: UNKNOWN})
        self.workers = workers

    def __missing__(self, subject: str) -> int:
        own = self[subject] = partition(subject, self.workers)
        return own


class Owners:
    """The parent's side of the owners file: one byte per line of the log, in order, the
    worker of the line's subject (``UNKNOWN``: none read). The sortedness scan
    (``timeline.scan_sorted``) appends every line's subject to ``pending`` and calls
    ``flush()`` every 65,536 lines, so the workers, which wait for the file, never wait long.
    ``close()`` ends it: it makes ``path + ".end"`` after the last byte (``_owner_chunks``)."""

    def __init__(self, path: str, workers: int):
        self.path = path
        self.fh = open(path, "wb")
        self.owner_of = _OwnerOf(workers).__getitem__
        self.pending: list[str | None] = []

    def flush(self) -> None:
        self.fh.write(bytes(map(self.owner_of, self.pending)))
        self.fh.flush()
        self.pending.clear()

    def close(self) -> None:
        self.flush()
        self.fh.close()
        open(self.path + ".end", "wb").close()


def _owner_chunks(path: str, parent: int, size: int) -> Iterator[bytes]:
    """The owners file in pieces of ``size`` bytes (the last may be shorter), as the parent
    writes it; the caller reads that many lines of the log for each. It ends where the
    parent's scan ended (``path + ".end"`` exists: a log that grew after the scan is read only
    as far as the scan read it, in every worker), and ends the worker if the parent is gone."""
    held = b""
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(1 << 16)
            if not chunk:
                if os.path.exists(path + ".end"):  # made after the last byte was written
                    chunk = fh.read()
                    if not chunk:
                        break
                elif os.getppid() != parent:
                    raise SystemExit(1)
                else:
                    time.sleep(0.001)
                    continue
            held += chunk
            whole = len(held) - len(held) % size
            for at in range(0, whole, size):
                yield held[at:at + size]
            held = held[whole:]
    if held:
        yield held


def _worker(plan: Plan, index: int, workers: int, conn: Any, path: str, subjects: Any, as_of_key: Any,
            audit_paths: tuple[str, str] | None, owners_path: str, parent: int) -> None:  # noqa: C901
    with decimal.localcontext(decimal_context()):
        files = []
        try:
            runner = Runner(plan, None)
            runner.keyed = positions = keyed(plan, audit_paths is not None)
            keyed_out = passive_out = None
            if audit_paths is not None:
                files = [open(p, "w", encoding="utf-8", newline="\n") for p in audit_paths]
                keyed_out = GroupWriter(runner, files[0], plan.ledger_names)
                passive_out = PassiveWriter(files[1], keyed_out)
                runner.audit = keyed_out
                runner.raw = keyed_out.raw
                runner.fast = plan.fast_keyed  # its lines hold the merge's numbering hole
            for s in _subjects(subjects)[0]:
                if partition(s.id, workers) == index:
                    runner.add_state(s.id, s.fields)
            tz = plan.tz
            summary = runner.summary
            invalid: list[InvalidLine] = []
            latest: Event | None = None
            agenda = runner.agenda
            flushed = False
            simple = not (plan.resets or plan.triggers)
            timed = bool(plan.watch)  # st.now is read by count() only
            unknown = runner.fast.get(UNNAMED)  # as in interpreter._fold_stream
            fast_of = runner.fast.get
            read = offset = 0  # lines read, bytes read
            runner.log_path = path  # line tokens in the duplicate memory (Runner.duplicate_check)
            states = runner.states
            started = False
            beat = HEARTBEAT
            code_base = runner.code_base
            code_at = _offset_text(runner.code_offset)  # an `at` written at it is its instant code
            mine = bytes(int(b in (index, UNKNOWN)) for b in range(256))  # owner byte -> read it?
            with folding_gc(), open(path, "rb") as fh:  # (collector.folding_gc)
                # the log a heartbeat's worth of lines at a time (their owners, then as many lines):
                # once the reset chain has started, only the worker's own lines (and those
                # without an owner) are picked, by itertools.compress, in C
                for owned in _owner_chunks(owners_path, parent, beat + 1):
                    if passive_out is not None:  # the merge reads as we go
                        passive_out.heartbeat(read)
                    lines = list(islice(fh, len(owned)))
                    starts = list(accumulate(map(len, lines), initial=offset))
                    picked = zip(lines, owned, count(read + 1), starts)
                    if started:
                        picked = compress(picked, owned.translate(mine))
                    read += len(lines)
                    offset = starts[-1]
                    for raw, own, number, start in picked:
                        if own != index and started and own != UNKNOWN:
                            continue
                        if own == UNKNOWN:
                            own = None
                        item = fast_event(raw, number, tz)
                        if item is None:
                            stripped = raw.strip()
                            if not stripped:
                                continue
                            item = parse_event(stripped, number, tz)
                            if type(item) is InvalidLine:
                                if own is None:
                                    own = 0
                                if own == index:
                                    summary.lines += 1
                                    invalid.append(item)
                                    _passive(runner, passive_out, keyed_out, INVALID, item)
                                continue
                        if own is None:
                            own = partition(item.subject, workers)
                        key = item.key
                        if not started and (as_of_key is None or key <= as_of_key):
                            started = runner.started = True  # the first event of the log starts the reset chain
                            runner.position("!")
                            runner.start_resets(item.at)
                        if own != index:
                            continue
                        summary.lines += 1
                        if as_of_key is not None and key > as_of_key:
                            runner.state(item.subject)
                            if not flushed:
                                flushed = True
                                runner.run_agenda((as_of_key, 9))
                            if positions:
                                runner.position(event_position(key, number, code_base))
                            runner.passive(LATER, item)
                            continue
                        st = states.get(item.subject) or runner.state(item.subject)
                        if not register_line(st, item.id, start):  # not plainly a new id
                            seen = runner.duplicate_check(st, item, start)
                            if seen == SEEN_DUPLICATE:
                                _passive(runner, passive_out, keyed_out, DUPLICATE, item)
                                continue
                            if seen != NEW:
                                bad = conflict(item, number)
                                invalid.append(bad)
                                _passive(runner, passive_out, keyed_out, INVALID, bad)
                                continue
                        latest = item  # sorted input: no valid event before it is later
                        if agenda and agenda[0][0] <= key and agenda[0][:2] <= (key, 0):
                            runner.run_agenda((key, 0))
                        fast = simple and (fast_of(item.type) or unknown)
                        if fast:  # Runner.event's common case, inlined
                            if positions:
                                text = item.text
                                if text is not None and text.endswith(code_at):  # event_position, its own `at` as code
                                    runner.pos = "%.19s.0000001%012d" % (text, number)
                                else:
                                    runner.pos = event_position(key, number, code_base)
                                runner.sub = 0
                            if timed:
                                st.now = item.at
                                fast(runner, st, item)
                                st.now = None
                            else:
                                fast(runner, st, item)
                        else:
                            runner.event(item)
            if passive_out is not None:
                passive_out.close(read)  # no passive line after the last line
            conn.send_bytes(pickle.dumps(("done", None if latest is None else (latest.key, latest.at))))
            as_of = pickle.loads(conn.recv_bytes())
            if as_of is not None:
                runner.run_agenda((as_of.astimezone(_UTC), 9))
            if keyed_out is not None:
                keyed_out.close()
            for f in files:  # before the results: the merge's unlink then frees their blocks
                f.close()
            with paused_gc():  # the results in chunks as they are read: the parent merges them meanwhile
                # the states are not dropped as their rows are read (release): the process ends
                # with os._exit once the results are sent (multiprocessing's fork start), so
                # freeing them one by one was work for nothing (about 0.11 s of each worker's
                # part of the serial tail on the bench log), and the rows go out in chunks
                rows = runner.rows(as_of)
                while chunk := list(islice(rows, RESULT_CHUNK)):
                    conn.send_bytes(pickle.dumps(("rows", chunk), protocol=pickle.HIGHEST_PROTOCOL))
                conn.send_bytes(pickle.dumps(("end", runner.final_summary, list(zip(runner.warn_pos, runner.warnings)),
                                              invalid), protocol=pickle.HIGHEST_PROTOCOL))
        except BaseException as exc:  # report, never hang the parent
            worker_failed(conn, exc)
        finally:
            for f in files:
                f.close()


def _offset_text(offset: Any) -> str:
    """``+08:00`` for 8 hours: how an `at` text ends at that offset (none when it has seconds)."""
    minutes, seconds = divmod(int(abs(offset.total_seconds())), 60)
    if seconds:
        return "never"  # (no 25-character `at` text ends with it)
    return f"{'-' if offset.total_seconds() < 0 else '+'}{minutes // 60:02d}:{minutes % 60:02d}"


def _passive(runner: Runner, passive_out: Any, keyed_out: Any, kind: int, item: Any) -> None:
    if passive_out is None:
        runner.passive(kind, item)
        return
    passive_out.line = item.line
    runner.audit, runner.raw = passive_out, None  # Runner.emit writes to runner.raw when set
    try:
        runner.passive(kind, item)
    finally:
        runner.audit, runner.raw = keyed_out, keyed_out.raw


def run_self_read(plan: Plan, events: str, workers: int, subjects: Any, as_of: Any, as_of_key: Any,
                  audit_stream: IO[str] | None) -> RunResult | None:
    """The run, or None (nothing written) if the parent's scan, run once the workers have
    started, finds that the log is not sorted by time after all."""
    if not 1 <= workers < UNKNOWN:
        raise ValueError(f"workers: {workers} (1 to {UNKNOWN - 1})")
    tmp = tempfile.mkdtemp(prefix="creditdsl-workers-")
    paths = [(os.path.join(tmp, f"audit-{i}"), os.path.join(tmp, f"passive-{i}")) for i in range(workers)]
    for pair in paths:  # the merge may open them before the workers do
        for p in pair:
            open(p, "wb").close()
    owners_path = os.path.join(tmp, "owners")
    ctx = multiprocessing.get_context("fork")
    conns, procs = [], []
    failed = threading.Event()
    merge = owners = None
    try:
        owners = Owners(owners_path, workers)
        for i in range(workers):
            mine, theirs = ctx.Pipe()
            p = ctx.Process(target=_worker, args=(plan, i, workers, theirs, events, subjects, as_of_key,
                                                  None if audit_stream is None else paths[i], owners_path,
                                                  os.getpid()), daemon=True)
            p.start()
            theirs.close()
            conns.append(mine)
            procs.append(p)
        # the sortedness scan tells the workers whose every line is, as it goes
        if not scan_sorted(events, plan.tz, owners):
            return None  # (the workers are stopped below)
        owners.close()
        if audit_stream is not None:  # merged while the workers fold
            merge = MergeThread(paths, audit_stream, failed)
            merge.start()
        latest = None
        for i, conn in enumerate(conns):
            msg = pickle.loads(conn.recv_bytes())
            if msg[0] == "error":
                raise RuntimeError(f"worker {i} failed: {msg[1]}")
            if msg[1] is not None and (latest is None or msg[1][0] > latest[0]):
                latest = msg[1]
        if as_of is None and latest is not None:
            as_of = latest[1]
        for conn in conns:
            conn.send_bytes(pickle.dumps(as_of))
        parts: list = [None] * workers  # each worker's last message: summary, warnings, invalid lines
        with paused_gc():  # subject ids are unique across workers: rows compare by their first item
            subjects_out = tuple(SubjectResult(*row) for row in heapq.merge(
                *(_streamed(conn, i, parts) for i, conn in enumerate(conns))))
        for p in procs:
            p.join()
        if merge is not None:
            merge.join()
            merge.done()
    except BaseException:
        failed.set()
        if merge is not None:
            merge.join()
        raise
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join()
        if owners is not None:
            owners.fh.close()  # (closed already unless the scan failed or found no order)
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)
    _bad, bad_subjects = _subjects(subjects)
    invalid = tuple(heapq.merge(*(part[3] for part in parts), key=lambda b: b.line))
    return summary_total(plan, as_of, parts, 0, invalid, bad_subjects, subjects_out)


def _streamed(conn: Any, index: int, parts: list) -> Iterator[tuple]:
    """Worker ``index``'s result rows as its messages bring them (chunks of RESULT_CHUNK, so
    the parent merges them while the workers still read and pickle theirs: about 0.4 s of
    the bench's serial tail); its last message (summary, warnings, invalid lines) goes to
    ``parts[index]``."""
    while True:
        msg = pickle.loads(conn.recv_bytes())
        if msg[0] == "rows":
            yield from msg[1]
        elif msg[0] == "error":
            raise RuntimeError(f"worker {index} failed: {msg[1]}")
        else:
            parts[index] = msg
            return
