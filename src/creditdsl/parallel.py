"""`run --workers N`: the fold split by subject over N processes, merged to the one-worker bytes.

Public API::

    run_parallel(rulebook_or_plan, events_path, workers, subjects=None, as_of=None,
                 audit_stream=None) -> results.RunResult

How it works. The parent reads the log once, in input order: it decodes each line,
checks (subject, id) for duplicates, places passive lines (invalid, duplicate,
later) on the timeline exactly as :func:`interpreter.run` does, and sends each
valid event's raw line to the worker owning its subject: ``blake2b(subject) mod N``
(a stable hash, unlike Python's salted ``hash``). A log not sorted by time goes
through the same bounded-memory spool as a one-worker run first. Each worker
re-decodes its lines and folds them with its own :class:`runner.Runner`;
every worker starts the calendar-reset chain at the first event of the whole log,
so the chains agree. At the end the parent tells the workers the run's ``as_of``
(the latest valid event, over all workers, unless given).

The order of the one-worker audit. A run takes its decisions in timeline order:
work items are events (at their instant, phase 1, by input line), agenda work
(at its instant, phase 0 before the events of that instant, 2 after, and in the
order it was scheduled) and passive lines (phase 1, at the latest instant read
before them, by input line). "The order it was scheduled" is the order of the
positions of the work that scheduled it, so every work item has a *position*,
a string that sorts like the timeline (made only when something reads it: an audit, or
a warning the parent merges; see :func:`keyed`):

* event: ``T(instant) + "1" + line (12 digits)``
* agenda work: ``T(instant) + phase + origin``, where origin is the position
  of the scheduling work plus the rank of this push within it (6 digits); the
  calendar-reset chain starts from ``"!"``, which sorts first, as it is scheduled
  before anything else; a calendar reset visits subjects in id order, so its
  per-subject part is ``"S" + hex(utf-8 id) + "."``, and the next link of the
  chain is pushed after them (``"T"``).

``T`` is the instant's wall clock at one fixed UTC offset (the rulebook zone's on
2000-01-01), ISO 8601 to the microsecond without the offset, 26 characters
(``agenda.instant_code``); an event written at that offset gives its own `at` text
(selfread.py: about 0.45 s less a worker for a million lines than a computed code). No
position is a proper prefix of another, so string order is timeline order. A
work item's decisions are taken one after another, so each process writes its audit
as one record per work item, keyed by its position, already in position order
(worker_audit.py has the format); the parent merges the records by plain string
order (here ``heapq.merge``; on the self-read path, worker_merge.py) and numbers ``seq``
from 1. Results come back as plain tuples
(``Runner.rows``: much cheaper to pickle than the records) and are merged by subject
id; summary counts are added, warnings are merged by position. ``--workers 1`` is the
plain run; the tests check that N workers give its bytes.

Not with ``--resume`` / ``--save-state`` (the CLI runs those in one process).
"""

from __future__ import annotations

import decimal
import hashlib
import heapq
import multiprocessing
import os
import pickle
import tempfile
from datetime import timezone
from typing import Any, IO

from . import model
from .events import Event, InvalidLine, conflict, content_digest, parse_event
from .expressions import decimal_context
from .interpreter import _subjects, parse_as_of
from .agenda import event_position
from .collector import folding_gc, paused_gc
from .runner import DUPLICATE, EVENT, INVALID, LATER, Runner
from .plan import Plan, compile_plan
from .state import DUPLICATE as SEEN_DUPLICATE
from .state import NEW, seen_check
from .results import LINE_OUTCOMES, RunResult, SubjectResult, Summary
from .worker_audit import GroupWriter, Numbered, follow
from .timeline import Spool

_UTC = timezone.utc
_BATCH = 4096


def partition(subject: str, workers: int) -> int:
    """The worker of a subject: a stable hash (the same in every process and run)."""
    digest = hashlib.blake2b(subject.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % workers


def keyed(plan: Plan, audit: bool) -> bool:
    """Whether a worker gives its work items positions (``Runner.keyed``): for its audit
    records, and for the warnings the parent merges by position (W0501, which only a reset
    ``from`` a subject's field raises). Without either no position is ever read, and making
    them (an event's position, the origin of every push, the code of every piece of timed
    work) was work for nothing: a `--workers 2` run of the bench log without an audit took
    10.70 s against 12.34 s with them (medians of 10 interleaved runs)."""
    return audit or any(reset.from_field is not None for _index, reset in plan.resets)


def worker_failed(conn: Any, exc: BaseException) -> None:
    """A worker's end on an exception: tell the parent (never leave it waiting), then raise.
    Ctrl-C reaches every process of the group and the parent reports it, so a worker ends
    on it quietly (SystemExit: multiprocessing prints no traceback for it)."""
    interrupted = isinstance(exc, KeyboardInterrupt)
    try:
        conn.send_bytes(pickle.dumps(("error", "interrupted" if interrupted else repr(exc))))
    except OSError:  # the parent is gone
        pass
    if interrupted:
        raise SystemExit(130) from None
    raise exc


def _lines(path: str) -> Any:
    number = 0
    with open(path, "rb") as fh:
        for raw in fh:
            number += 1
            stripped = raw.strip()
            if stripped:
                yield number, stripped


def _worker(plan: Plan, index: int, workers: int, conn: Any, subjects: Any, as_of_key: Any,
            audit_path: str | None) -> None:
    with decimal.localcontext(decimal_context()):
        out = None
        try:
            runner = Runner(plan, None)
            runner.keyed = keyed(plan, audit_path is not None)
            if audit_path is not None:
                out = open(audit_path, "w", encoding="utf-8", newline="\n")
                runner.audit = GroupWriter(runner, out, plan.ledger_names)
                runner.raw = runner.audit.raw
                runner.fast = plan.fast_keyed  # its lines hold the merge's numbering hole
            subject_list, _bad = _subjects(subjects)
            for s in subject_list:
                if partition(s.id, workers) == index:
                    runner.add_state(s.id, s.fields)
            tz = plan.tz
            flushed = False
            with folding_gc():  # (collector.folding_gc)
                while True:
                    msg = pickle.loads(conn.recv_bytes())
                    if msg[0] == "batch":
                        for line, raw in msg[1]:
                            if type(raw) is str:  # a subject named only by a `later` line
                                runner.state(raw)
                                continue
                            ev = parse_event(raw, line, tz)
                            runner.state(ev.subject)
                            if runner.agenda:
                                runner.run_agenda((ev.key, 0))
                            runner.event(ev)
                    elif msg[0] == "start":
                        runner.started = True
                        runner.position("!")
                        runner.start_resets(msg[1])
                    elif msg[0] == "flush":  # the first `later` line: work up to as_of runs before it
                        if not flushed:
                            runner.run_agenda((as_of_key, 9))
                            flushed = True
                    else:  # ("end", as_of)
                        as_of = msg[1]
                        if as_of is not None:
                            runner.run_agenda((as_of.astimezone(_UTC), 9))
                        with paused_gc():
                            rows = list(runner.rows(as_of))
                            if runner.audit is not None:
                                runner.audit.close()
                            conn.send_bytes(pickle.dumps((
                                rows, runner.final_summary, list(zip(runner.warn_pos, runner.warnings)),
                            ), protocol=pickle.HIGHEST_PROTOCOL))
                        return
        except BaseException as exc:  # report, never hang the parent
            worker_failed(conn, exc)
        finally:
            if out is not None:
                out.close()


def run_parallel(rulebook: model.Rulebook | Plan, events: str, workers: int, subjects: Any = None,
                 as_of: Any = None, audit_stream: IO[str] | None = None) -> RunResult:
    plan = rulebook if isinstance(rulebook, Plan) else compile_plan(rulebook)
    with decimal.localcontext(decimal_context()):
        return _run_parallel(plan, str(events), workers, subjects, as_of, audit_stream)


def _run_parallel(plan: Plan, events: str, workers: int, subjects: Any, as_of_arg: Any,
                  audit_stream: IO[str] | None) -> RunResult:
    tz = plan.tz
    as_of = parse_as_of(as_of_arg, tz)
    as_of_key = None if as_of is None else as_of.astimezone(_UTC)
    from .selfread import run_self_read

    # the common case, a log sorted by time: every worker reads its own lines. The workers
    # start at once; the parent checks the order meanwhile (and tells them whose each line
    # is), and stops them if it is not
    result = run_self_read(plan, events, workers, subjects, as_of, as_of_key, audit_stream)
    if result is not None:
        return result
    tmp = tempfile.mkdtemp(prefix="creditdsl-workers-")
    audit_paths = [os.path.join(tmp, f"audit-{i}") for i in range(workers + 1)] if audit_stream is not None else None
    ctx = multiprocessing.get_context("fork")
    conns, procs = [], []
    parent_out = None
    try:
        for i in range(workers):
            mine, theirs = ctx.Pipe()
            p = ctx.Process(target=_worker, args=(plan, i, workers, theirs, subjects, as_of_key,
                                                  None if audit_paths is None else audit_paths[i]), daemon=True)
            p.start()
            theirs.close()
            conns.append(mine)
            procs.append(p)
        runner = Runner(plan, None)  # the parent's: passive lines only, keyed for its audit
        runner.keyed = audit_paths is not None
        if audit_paths is not None:
            parent_out = open(audit_paths[workers], "w", encoding="utf-8", newline="\n")
            runner.audit = GroupWriter(runner, parent_out, plan.ledger_names)
            runner.raw = runner.audit.raw
        subject_list, bad_subjects = _subjects(subjects)
        batches: list[list] = [[] for _ in range(workers)]
        owner: dict[str, int] = {}
        seen: dict[str, bytearray] = {}
        summary = runner.summary
        invalid: list[InvalidLine] = []
        running = None
        latest: Event | None = None
        started = False
        later_flushed = False
        spool = Spool()  # not sorted by time (run_self_read takes sorted logs)

        def send(i: int, msg: tuple) -> None:
            conns[i].send_bytes(pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL))

        def dispatch(entry: tuple) -> None:
            nonlocal started, later_flushed
            key, line, kind, item = entry
            if kind == EVENT:
                raw, subject = item
                if not started:
                    started = True
                    for i in range(workers):
                        send(i, ("start", key.astimezone(tz)))
                i = owner[subject]
                batch = batches[i]
                batch.append((line, raw))
                if len(batch) >= _BATCH:
                    send(i, ("batch", batch))
                    batches[i] = []
                return
            if kind == LATER and not later_flushed and as_of_key is not None:
                later_flushed = True
                for i in range(workers):
                    if batches[i]:
                        send(i, ("batch", batches[i]))
                        batches[i] = []
                    send(i, ("flush",))
            if kind == LATER:
                sid = item.subject
                i = owner.get(sid)
                if i is None:
                    i = owner[sid] = partition(sid, workers)
                    seen[sid] = bytearray()
                batches[i].append((line, sid))
            if runner.keyed:
                runner.position(event_position(key, line, runner.code_base))
            runner.passive(kind, item)

        try:
            from .interpreter import _MIN
            running = _MIN
            for number, raw in _lines(events):
                summary.lines += 1
                item = parse_event(raw, number, tz)
                if type(item) is InvalidLine:
                    invalid.append(item)
                    entry = (running, number, INVALID, item)
                else:
                    key = item.key
                    if as_of_key is not None and key > as_of_key:
                        if key > running:
                            running = key
                        entry = (key, number, LATER, item)
                    else:
                        sid = item.subject
                        ids = seen.get(sid)
                        if ids is None:
                            ids = seen[sid] = bytearray()
                            owner[sid] = partition(sid, workers)
                        prior = seen_check(ids, item.id, content_digest(item.fields))
                        if prior == NEW:
                            if key > running:
                                running = key
                            if latest is None or key > latest.key:
                                latest = item
                            entry = (key, number, EVENT, (raw, sid))
                        elif prior == SEEN_DUPLICATE:
                            entry = (running, number, DUPLICATE, item)
                        else:
                            bad = conflict(item, number)
                            invalid.append(bad)
                            entry = (running, number, INVALID, bad)
                if spool is None:
                    dispatch(entry)
                else:
                    spool.add(entry)
            if spool is not None:
                for entry in spool.items():
                    dispatch(entry)
        finally:
            if spool is not None:
                spool.close()
        if as_of is None and latest is not None:
            as_of = latest.at
        for i in range(workers):
            if batches[i]:
                send(i, ("batch", batches[i]))
            send(i, ("end", as_of))
        parts = gather(conns, procs)
        if runner.audit is not None:
            runner.audit.close()
            parent_out.close()
            parent_out = None
            _merge_audits(audit_paths, audit_stream)
    finally:
        if parent_out is not None:
            parent_out.close()
        for p in procs:
            if p.is_alive():
                p.kill()
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)

    return summary_total(plan, as_of, parts, summary, tuple(invalid), bad_subjects)


def summary_total(plan: Plan, as_of: Any, parts: list, summary: Summary | None, invalid: tuple,
                  bad_subjects: list, subjects_out: tuple | None = None) -> RunResult:
    """The run's result from the workers' (subjects, summary, keyed warnings, ...) parts; the
    subjects from ``subjects_out`` when given (merged as they came, selfread.py)."""
    if subjects_out is None:  # subject ids are unique across workers, so tuples compare by their first item
        with paused_gc():
            subjects_out = tuple(SubjectResult(*row) for row in heapq.merge(*(part[0] for part in parts)))
    summary = summary or Summary()
    total = Summary(lines=summary.lines + sum(part[1].lines for part in parts))
    for o in LINE_OUTCOMES:
        setattr(total, o, getattr(summary, o) + sum(getattr(part[1], o) for part in parts))
    tiers: dict[str, int] = {}
    for part in parts:
        for name, n in part[1].tiers.items():
            tiers[name] = tiers.get(name, 0) + n
    total.tiers = {n: tiers[n] for n in plan.tier_names if n in tiers}
    from .diagnostics import error

    run_warnings = [w for _, w in sorted((pw for part in parts for pw in part[2]), key=lambda pw: pw[0])]
    warnings = tuple(error(b.code, f"subjects line {b.line}: {b.reason}") for b in bad_subjects) + tuple(run_warnings)
    return RunResult(plan.rulebook.name, as_of, subjects_out, total, invalid, warnings, None)


def gather(conns: list, procs: list) -> list:
    """Every worker's final message, in worker order (a worker's error is raised here), then
    the workers joined."""
    parts = []
    for i, conn in enumerate(conns):
        data = conn.recv_bytes()
        with paused_gc():
            msg = pickle.loads(data)
        if msg[0] == "error":
            raise RuntimeError(f"worker {i} failed: {msg[1]}")
        parts.append(msg)
    for p in procs:
        p.join()
    return parts


def _merge_audits(paths: list[str], out: IO[str]) -> None:
    numbered = Numbered(out)
    batch = numbered.batch
    for record in heapq.merge(*map(follow, paths)):
        batch.append(record)
        if len(batch) >= 2048:
            numbered.flush()
    numbered.flush()
