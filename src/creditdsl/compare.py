"""Several rulebooks side by side (LANGUAGE.md §12 "Several rulebooks"; STYLE.md §2.7).

Public API::

    compare_runs(rulebooks, events, subjects=None, as_of=None) -> Comparison

No I/O beyond reading the event and subjects files once; no rich. ``render.compare``
turns both into tables and JSON, ``render.html`` into the offline report.

**compare.** The event file is read once, as raw lines, and every rulebook runs
over the same lines: each reads naive times (and a date-only ``as_of``) in its
own timezone and counts its own calendar periods. Per subject: the tier,
ledgers, fines and lists under each scheme; ``differs`` is true exactly when
the tiers, the ledger balances (name → value), the fines or the list
memberships (as sets) are not the same under every scheme; ``because`` lists
the events some scheme scores differently from another. An event's *score*
under a scheme comes from that run's audit: the ``applied`` and ``triggered``
decisions carrying the event's id (its rules and the triggers it fired, a
deferred rule once its grace ran out), with their ledger changes summed (as
applied, before any later revert), fines, listings and unlistings; an event
is in ``because`` when these are not the same under every scheme. A subject
that one run never meets (all its events fall after that scheme's ``as_of``)
is shown in that scheme's start state. Migration matrices count subjects by
(tier under the first, tier under the second) for every pair in argument
order; rows and columns are the schemes' tiers best first, then ``(none)``
when some subject has no tier. Distributions count every declared tier (zeros
included), then ``(none)`` when some subject has no tier.

``diff_rulebooks`` (the structural diff) lives in :mod:`creditdsl.diff`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Sequence

from . import model as m
from .events import Event, InvalidLine, Subject, parse_event, read_subjects
from .results import Decision, RunResult

NONE_KEY = "(none)"
_SCORING = frozenset(("applied", "triggered"))
_UTC_NAME = "UTC"


# ================================================================ compare


@dataclass(frozen=True)
class Scheme:
    """One rulebook of a comparison and its run."""

    name: str
    path: str
    tiers: tuple[str, ...]  # declared tier names, best first
    ledgers: tuple[str, ...]  # ledger names in declaration order
    result: RunResult


@dataclass(frozen=True)
class Score:
    """What one scheme did with one event (see the module docstring)."""

    rules: tuple[str, ...] = ()
    changes: tuple[tuple[str, Decimal], ...] = ()
    fine: Decimal = Decimal(0)
    listed: tuple[str, ...] = ()
    unlisted: tuple[str, ...] = ()

    def same_as(self, other: "Score") -> bool:
        return (
            self.rules == other.rules
            and dict(self.changes) == dict(other.changes)
            and self.fine == other.fine
            and set(self.listed) == set(other.listed)
            and set(self.unlisted) == set(other.unlisted)
        )

    @property
    def empty(self) -> bool:
        return not self.rules


@dataclass(frozen=True)
class Because:
    """An event that the schemes score differently: one Score per scheme."""

    event: str
    type: str
    line: int | None
    scores: tuple[Score, ...]

    def to_json(self) -> dict:
        return {
            "event": self.event,
            "type": self.type,
            "rules": [list(s.rules) for s in self.scores],
            "changes": [dict(s.changes) for s in self.scores],
        }


@dataclass(frozen=True)
class SubjectRow:
    subject: str
    tiers: tuple[str | None, ...]
    ledgers: tuple[tuple[tuple[str, Decimal], ...], ...]
    fines: tuple[Decimal, ...]
    lists: tuple[tuple[str, ...], ...]
    differs: bool
    because: tuple[Because, ...]

    def to_json(self) -> dict:
        return {
            "subject": self.subject,
            "tiers": list(self.tiers),
            "ledgers": [dict(x) for x in self.ledgers],
            "fines": list(self.fines),
            "lists": [list(x) for x in self.lists],
            "differs": self.differs,
            "because": [b.to_json() for b in self.because],
        }


@dataclass(frozen=True)
class Migration:
    """Subjects counted by (tier under scheme ``first``, tier under scheme ``second``)."""

    first: int
    second: int
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]  # counts[row][column]

    def matrix(self) -> dict[str, dict[str, int]]:
        return {r: dict(zip(self.columns, self.counts[i])) for i, r in enumerate(self.rows)}

    @property
    def diagonal(self) -> bool:
        """Every subject keeps its tier (only cells with the same name on both sides count)."""
        return all(n == 0 or r == c for i, r in enumerate(self.rows) for c, n in zip(self.columns, self.counts[i]))


@dataclass(frozen=True)
class Comparison:
    schemes: tuple[Scheme, ...]
    subjects: tuple[SubjectRow, ...]
    migrations: tuple[Migration, ...]
    distributions: tuple[tuple[tuple[str, int], ...], ...]
    invalid: tuple[InvalidLine, ...] = ()  # invalid event lines (the same for every scheme)
    bad_subjects: tuple[InvalidLine, ...] = ()  # invalid subjects-file lines

    @property
    def differs(self) -> bool:
        return any(s.differs for s in self.subjects)

    def to_json(self) -> dict:
        """The ``compare --format json`` document (issue 6)."""
        names = [s.name for s in self.schemes]
        return {
            "rulebooks": names,
            "subjects": [s.to_json() for s in self.subjects],
            "migration": [
                {"from": names[mg.first], "to": names[mg.second], "matrix": mg.matrix()} for mg in self.migrations
            ],
            "distribution": [dict(d) for d in self.distributions],
        }


class _Scores:
    """An audit sink keeping, per (subject, event id), what the scheme scored."""

    def __init__(self) -> None:
        self.by_event: dict[tuple[str, str], list] = {}
        self.lines: dict[tuple[str, str], int] = {}

    def __call__(self, d: Decision) -> None:
        if d.outcome not in _SCORING or d.event is None or d.subject is None:
            return
        key = (d.subject, d.event)
        acc = self.by_event.get(key)
        if acc is None:
            acc = self.by_event[key] = [[], {}, Decimal(0), [], []]
        if d.rule is not None and d.rule not in acc[0]:
            acc[0].append(d.rule)
        for name, amount in d.changes or ():
            acc[1][name] = acc[1].get(name, Decimal(0)) + amount
        if d.fine is not None:
            acc[2] += d.fine
        acc[3].extend(x for x in d.listed if x not in acc[3])
        acc[4].extend(x for x in d.unlisted if x not in acc[4])
        if d.line is not None and key not in self.lines:
            self.lines[key] = d.line

    def score(self, key: tuple[str, str]) -> Score:
        acc = self.by_event.get(key)
        if acc is None:
            return Score()
        return Score(tuple(acc[0]), tuple(acc[1].items()), acc[2], tuple(acc[3]), tuple(acc[4]))


def read_lines(events: Any) -> list[bytes]:
    """The raw lines of an event log, read once: a path, ``"-"`` (stdin) or an iterable of lines.

    Blank lines are kept so that every run numbers the lines alike. Opening a
    missing file raises OSError (the CLI reports E0501 before calling)."""
    if isinstance(events, (str, os.PathLike)):
        if str(events) == "-":
            return list(sys.stdin.buffer)
        with open(events, "rb") as fh:
            return list(fh)
    return [x.encode("utf-8", "surrogatepass") if isinstance(x, str) else x for x in events]


def _read_subjects(subjects: Any) -> tuple[list[Subject], list[InvalidLine]]:
    if subjects is None:
        return [], []
    if isinstance(subjects, (str, os.PathLike)):
        return read_subjects(subjects)
    out = [s if isinstance(s, Subject) else Subject(str(s["id"]), dict(s)) for s in subjects]
    return out, []


def _event_types(lines: list[bytes]) -> dict[tuple[str, str], tuple[str, int]]:
    """(subject, id) → (type, line) of the first valid line with that identity."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(_UTC_NAME)
    out: dict[tuple[str, str], tuple[str, int]] = {}
    for number, raw in enumerate(lines, 1):
        raw = raw.strip()
        if not raw:
            continue
        ev = parse_event(raw, number, tz)
        if isinstance(ev, Event):
            out.setdefault((ev.subject, ev.id), (ev.type, ev.line))
    return out


def load_rulebook(rulebook: Any) -> m.Rulebook:
    """A compiled rulebook as given, or loaded (inheritance resolved) from its path."""
    if isinstance(rulebook, m.Rulebook):
        return rulebook
    from .pipeline import load

    return load(os.fspath(rulebook))[0]


def _start_row(rb: m.Rulebook, result: RunResult, subject: str) -> Any:
    """A subject the run never met, in the scheme's start state (tier from a one-subject run)."""
    from . import interpreter

    solo = interpreter.run(rb, [], subjects=[Subject(subject, {"id": subject})], as_of=result.as_of)
    return solo.subjects[0]


def compare_runs(
    rulebooks: Sequence[Any],
    events: Any,
    subjects: Any = None,
    as_of: Any = None,
) -> Comparison:
    """Run the same event lines under every rulebook (models or paths) and line the results up.

    Raises diagnostics.CreditDslError as ``interpreter.run`` does (E0503 for a bad
    ``as_of``); bad event lines are ``invalid``, listed in ``Comparison.invalid``."""
    from . import interpreter

    models = [load_rulebook(rb) for rb in rulebooks]
    lines = read_lines(events)
    subject_list, bad_subjects = _read_subjects(subjects)
    runs: list[tuple[RunResult, _Scores]] = []
    for rb in models:
        sink = _Scores()
        result = interpreter.run(rb, lines, subjects=subject_list, as_of=as_of, audit=sink)
        runs.append((result, sink))
    schemes = tuple(
        Scheme(rb.name, rb.path, tuple(t.name for t in rb.tiers), tuple(lg.name for lg in rb.ledgers), result)
        for rb, (result, _) in zip(models, runs)
    )

    ids = sorted({s.subject for result, _ in runs for s in result.subjects})
    per_run: list[dict[str, Any]] = []
    for rb, (result, _) in zip(models, runs):
        known = {s.subject: s for s in result.subjects}
        for sid in ids:
            if sid not in known:
                known[sid] = _start_row(rb, result, sid)
        per_run.append(known)

    types = _event_types(lines)
    scored: dict[str, set[tuple[str, str]]] = {}
    for _, sink in runs:
        for key in sink.by_event:
            scored.setdefault(key[0], set()).add(key)

    rows = []
    for sid in ids:
        results = [known[sid] for known in per_run]
        tiers = tuple(r.tier for r in results)
        ledgers = tuple(r.ledgers for r in results)
        fines = tuple(r.fines for r in results)
        lists = tuple(r.lists for r in results)
        differs = not (
            len(set(tiers)) <= 1
            and all(dict(x) == dict(ledgers[0]) for x in ledgers)
            and len(set(fines)) <= 1
            and all(set(x) == set(lists[0]) for x in lists)
        )
        because = []
        for key in scored.get(sid, ()):
            scores = tuple(sink.score(key) for _, sink in runs)
            if all(s.same_as(scores[0]) for s in scores):
                continue
            etype, line = types.get(key, ("", None))
            for _, sink in runs:
                if key in sink.lines:
                    line = sink.lines[key] if line is None else min(line, sink.lines[key])
            because.append(Because(key[1], etype, line, scores))
        because.sort(key=lambda b: (b.line is None, b.line or 0, b.event))
        rows.append(SubjectRow(sid, tiers, ledgers, fines, lists, differs, tuple(because)))

    migrations = []
    for i in range(len(schemes)):
        for j in range(i + 1, len(schemes)):
            migrations.append(_migration(schemes, rows, i, j))
    distributions = tuple(_distribution(sc, [r.tiers[k] for r in rows]) for k, sc in enumerate(schemes))
    return Comparison(
        schemes, tuple(rows), tuple(migrations), distributions,
        tuple(runs[0][0].invalid) if runs else (), tuple(bad_subjects),
    )


def _axis(scheme: Scheme, tiers: Iterable[str | None]) -> tuple[str, ...]:
    return scheme.tiers + ((NONE_KEY,) if any(t is None for t in tiers) else ())


def _migration(schemes: tuple[Scheme, ...], rows: list[SubjectRow], i: int, j: int) -> Migration:
    row_keys = _axis(schemes[i], (r.tiers[i] for r in rows))
    col_keys = _axis(schemes[j], (r.tiers[j] for r in rows))
    counts = [[0] * len(col_keys) for _ in row_keys]
    ri = {k: n for n, k in enumerate(row_keys)}
    ci = {k: n for n, k in enumerate(col_keys)}
    for r in rows:
        a, b = r.tiers[i], r.tiers[j]
        counts[ri[NONE_KEY if a is None else a]][ci[NONE_KEY if b is None else b]] += 1
    return Migration(i, j, row_keys, col_keys, tuple(tuple(c) for c in counts))


def _distribution(scheme: Scheme, tiers: list[str | None]) -> tuple[tuple[str, int], ...]:
    keys = _axis(scheme, tiers)
    return tuple((k, sum(1 for t in tiers if (NONE_KEY if t is None else t) == k)) for k in keys)


# ================================================================ diff
