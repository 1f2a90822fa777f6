"""The interpreter: one loop over a timeline of events (and, later, scheduled work).

Public API::

    run(rulebook, events, subjects=(), as_of=None, audit=None) -> results.RunResult

    rulebook  model.Rulebook (or a plan.Plan compiled from one)
    events    a path, "-" (stdin), an iterable of JSON lines (str/bytes), or an iterable of
              already-read events.Event / events.InvalidLine records
    subjects  a path of a subjects file, or an iterable of events.Subject / dicts with "id"
    as_of     None (the latest valid event time), a datetime, a date (start of that day in the
              rulebook's timezone) or the text of either
    audit     None, or a callable taking each results.Decision in the order decisions are taken
              (results.AuditWriter streams them as JSON lines; results.AuditCollector keeps them)

Raises diagnostics.CreditDslError (E0502) for rulebook features not supported yet, and
(E0503) for a malformed ``as_of``; bad event lines never raise: they are `invalid` lines,
listed in ``RunResult.invalid`` for the caller to report as ``FILE:LINE: reason``.

Shape of a run: read every line in input order (checking each (subject, id) for duplicates
in the subject's own state), order the valid events by (at, input order) (a stable sort,
skipped when the input is already ordered), then fold: for each timeline item, first run
the agenda's work due before it (a heap of (instant, phase, sequence); phase 0 = reverts,
expiries, list-term ends, resets; phase 1 = events; phase 2 = grace deadlines), then the
item. Each event touches only its subject's state, so the fold is per subject.

The rules of an event type run as generated code (codegen.py) when the plan has it,
else through the general loop of ``Runner.event`` (runner.py, which holds the run's
mutable context and the effects of rules); timed work is agenda.py's. A log file sorted by
time is folded as it is read (``_fold_stream``), with the duplicate memory's line tokens.
"""

from __future__ import annotations

import decimal
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from . import model, savestate
from .diagnostics import CreditDslError, error
from .events import Event, InvalidLine, Subject, conflict, fast_event, parse_event, read_events, read_subjects
from .expressions import decimal_context
from .plan import Plan, compile_plan
from .results import Decision, RunResult
from .codegen import UNNAMED
from .collector import folding_gc
from .runner import DUPLICATE, EVENT, INVALID, LATER, Runner
from .state import NEW, register_line
from .state import DUPLICATE as SEEN_DUPLICATE
from .timeline import Spool, scan_sorted
from .values import ValueError_, localize, parse_datetime

_UTC = timezone.utc
_MIN = datetime.min.replace(tzinfo=_UTC)


def parse_as_of(value: Any, tz: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return localize(value, tz) if value.tzinfo is None else value.astimezone(tz)
    if isinstance(value, date):
        return localize(datetime.combine(value, time()), tz)
    try:
        return parse_datetime(str(value), tz).astimezone(tz)
    except ValueError_ as exc:
        raise CreditDslError([error("E0503", f"bad --as-of: {exc}")]) from None


def _items(events: Any, tz: Any) -> Iterator[Event | InvalidLine]:
    if isinstance(events, (str, Path)):
        yield from read_events(events, tz)
        return
    number = 0
    for item in events:
        if isinstance(item, (Event, InvalidLine)):
            yield item
            continue
        number += 1
        raw = item.encode("utf-8", "surrogatepass") if isinstance(item, str) else item
        raw = raw.strip()
        if raw:
            yield parse_event(raw, number, tz)


def _subjects(subjects: Any) -> tuple[list[Subject], list[InvalidLine]]:
    if subjects is None:
        return [], []
    if isinstance(subjects, (str, Path)):
        return read_subjects(subjects)
    out = []
    for s in subjects:
        if isinstance(s, Subject):
            out.append(s)
        else:
            out.append(Subject(str(s["id"]), dict(s)))
    return out, []


class _Fold:
    """One timeline item at a time: the agenda's work due before an event, then the item."""

    __slots__ = ("runner", "as_of_key", "flushed")

    def __init__(self, runner: Runner, as_of_key: datetime | None):
        self.runner = runner
        self.as_of_key = as_of_key
        self.flushed = False

    def __call__(self, entry: tuple) -> None:
        key, _line, kind, item = entry
        runner = self.runner
        if kind == EVENT:
            if runner.agenda:
                runner.run_agenda((key, 0))
            runner.event(item)
        else:
            if kind == LATER and not self.flushed and self.as_of_key is not None:
                runner.run_agenda((self.as_of_key, 9))
                self.flushed = True
            runner.passive(kind, item)


def _fold_stream(runner: Runner, path: str, tz: Any, as_of_key: Any, invalid: list,
                 fold: _Fold) -> tuple[Event | None, int]:
    """_run's loop for a file sorted by time (no spool, no line offset), with fewer steps;
    returns the latest valid event and the number of the last line read that was not blank."""
    summary = runner.summary
    agenda = runner.agenda
    state = runner.state
    event = runner.event
    states = runner.states
    plan = runner.plan
    simple = not (runner.keyed or plan.resets or plan.triggers)
    timed = bool(plan.watch)  # st.now is read by count() only
    fast_of = runner.fast.get
    # a type without generated code is one the rulebook does not name, unless the plan has no
    # generated code (CREDITDSL_NO_CODEGEN): then every event takes Runner.event
    unknown = runner.fast.get(UNNAMED)
    latest: Event | None = None
    number = last = offset = counted = 0
    runner.log_path = path
    with open(path, "rb") as fh:
        for raw in fh:
            number += 1
            start = offset
            offset += len(raw)
            item = fast_event(raw, number, tz)
            if item is None:
                stripped = raw.strip()
                if not stripped:
                    continue
                last = number
                item = parse_event(stripped, number, tz)
                if type(item) is InvalidLine:
                    counted += 1
                    invalid.append(item)
                    fold((None, number, INVALID, item))
                    continue
            counted += 1
            last = number
            key = item.key
            if as_of_key is not None and key > as_of_key:
                state(item.subject)  # named by a valid event: it appears (§11)
                fold((key, number, LATER, item))
                continue
            st = states.get(item.subject) or state(item.subject)
            if not register_line(st, item.id, start):  # not plainly a new id
                seen = runner.duplicate_check(st, item, start)
                if seen == SEEN_DUPLICATE:
                    fold((None, number, DUPLICATE, item))
                    continue
                if seen != NEW:
                    bad = conflict(item, number)
                    invalid.append(bad)
                    fold((None, number, INVALID, bad))
                    continue
            latest = item  # sorted input: no valid event before it is later
            if agenda and agenda[0][0] <= key and agenda[0][:2] <= (key, 0):
                runner.run_agenda((key, 0))
            fast = simple and (fast_of(item.type) or unknown)
            if fast and runner.started:  # Runner.event's common case, inlined
                if timed:
                    st.now = item.at
                    fast(runner, st, item)
                    st.now = None  # read during the fold only; not keeping the instant alive
                else:
                    fast(runner, st, item)
            else:
                event(item)
    summary.lines += counted
    return latest, last


def run(
    rulebook: model.Rulebook | Plan,
    events: Any,
    subjects: Any = None,
    as_of: Any = None,
    audit: Callable[[Decision], None] | None = None,
    resume: dict | str | Path | None = None,
    save_state: bool = False,
) -> RunResult:
    plan = rulebook if isinstance(rulebook, Plan) else compile_plan(rulebook)
    try:
        with decimal.localcontext(decimal_context()):
            return _run(plan, events, subjects, as_of, audit, resume, save_state)
    finally:
        flush = getattr(audit, "flush", None)
        if flush is not None:
            flush()


def _run(plan: Plan, events: Any, subjects: Any, as_of_arg: Any, audit: Any,
         resume: Any = None, save_state: bool = False) -> RunResult:
    tz = plan.tz
    as_of = parse_as_of(as_of_arg, tz)
    as_of_key = None if as_of is None else as_of.astimezone(_UTC)
    runner = Runner(plan, audit)
    saved_as_of, offset = None, 0
    if resume is not None:
        data = savestate.read_state(resume) if isinstance(resume, (str, Path)) else resume
        saved_as_of, offset = savestate.restore(runner, data)
    last_line = offset
    subject_list, bad_subjects = _subjects(subjects)
    for s in subject_list:
        if s.id not in runner.states:
            runner.add_state(s.id, s.fields)
    invalid: list[InvalidLine] = []
    summary = runner.summary
    stream = isinstance(events, (str, Path)) and str(events) != "-" and scan_sorted(events, tz)
    spool = None if stream else Spool()
    fold = _Fold(runner, as_of_key)
    agenda = runner.agenda
    running = _MIN  # latest instant read so far: where passive lines stand
    latest: Event | None = None
    try:
        with folding_gc():
            if stream and not offset:  # the common case: a file sorted by time, one pass
                latest, last_line = _fold_stream(runner, str(events), tz, as_of_key, invalid, fold)
            for item in () if stream and not offset else _items(events, tz):
                summary.lines += 1
                if offset:
                    if type(item) is InvalidLine:
                        invalid.append(item)
                        item = InvalidLine(item.line + offset, item.code, item.reason, item.id, item.subject, item.at)
                    else:
                        item.line += offset
                last_line = item.line
                if type(item) is InvalidLine:
                    if not offset:
                        invalid.append(item)
                    entry = (running, item.line, INVALID, item)
                else:
                    key = item.key
                    if as_of_key is not None and key > as_of_key:
                        if key > running:
                            running = key
                        runner.state(item.subject)  # named by a valid event: it appears (§11)
                        entry = (key, item.line, LATER, item)
                    else:
                        st = runner.state(item.subject)
                        seen = runner.duplicate_check(st, item)
                        if seen == NEW:
                            if key > running:
                                running = key
                            if latest is None or key > latest.key:
                                latest = item
                            entry = (key, item.line, EVENT, item)
                        elif seen == SEEN_DUPLICATE:
                            entry = (running, item.line, DUPLICATE, item)
                        else:
                            bad = conflict(item, item.line - offset)
                            invalid.append(bad)
                            entry = (running, item.line, INVALID, bad if not offset else InvalidLine(
                                item.line, bad.code, bad.reason, bad.id, bad.subject, bad.at))
                if spool is not None:
                    spool.add(entry)
                elif entry[2] == EVENT:  # _Fold, inlined for the common case
                    if agenda and agenda[0][:2] <= (entry[0], 0):
                        runner.run_agenda((entry[0], 0))
                    runner.event(item)
                else:
                    fold(entry)
            if spool is not None:
                for entry in spool.items():
                    fold(entry)
    finally:
        if spool is not None:
            spool.close()
    if as_of is None and latest is not None:
        as_of = latest.at
        as_of_key = latest.key
    if as_of is None and saved_as_of is not None:
        as_of = saved_as_of.astimezone(tz)
        as_of_key = saved_as_of.astimezone(_UTC)
    if as_of_key is not None:
        runner.run_agenda((as_of_key, 9))
    subjects_out = runner.finish(as_of, release=not save_state)
    warnings = tuple(
        error(b.code, f"subjects line {b.line}: {b.reason}") for b in bad_subjects
    ) + tuple(runner.warnings)
    state = savestate.dump(runner, as_of, last_line) if save_state else None
    return RunResult(plan.rulebook.name, as_of, subjects_out, runner.final_summary, tuple(invalid), warnings, state)
