"""Several rulebooks side by side (LANGUAGE.md §12 "Several rulebooks"; STYLE.md §2.7).

Public API::

    compare_runs(rulebooks, events, subjects=None, as_of=None) -> Comparison
    diff_rulebooks(old, new) -> list[Edit]

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

**diff.** Both rulebooks are loaded with inheritance resolved and aligned by
name: the header, ledgers, tiers (conditions changed; positions moved, i.e.
not on a longest common subsequence of the common tiers), sanctions,
privileges, lists, rules and triggers are ``added``, ``removed``, ``changed``
(one edit per field: ``on``, ``where``, ``except``, ``requires``, ``limit``,
``cap``, ``group``, ``grace``, each ledger's change, ``fine``, ``tier``,
``list``, ``unlist``, ``note``, ``source``) or ``moved``; kept items give no
edit, so ``diff_rulebooks(a, a) == []``. When the two schemes share no rule
name (two unrelated municipal schemes), rules are aligned by event type
instead: one ``event`` edit per event type either scheme handles, saying what
each does with it (``added``: only the new one handles it; ``removed``: only
the old one; ``changed``: both, differently).
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
from .source import Span
from .values import format_decimal

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


def _load(rulebook: Any) -> m.Rulebook:
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

    models = [_load(rb) for rb in rulebooks]
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


@dataclass(frozen=True)
class Edit:
    """One structural difference: ``kind`` is added, removed, changed or moved."""

    kind: str
    section: str  # rulebook, ledger, tier, sanctions, privileges, list, rule, trigger, event
    name: str
    field: str | None = None
    old: str | None = None
    new: str | None = None
    old_span: Span | None = None
    new_span: Span | None = None

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "section": self.section,
            "name": self.name,
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "old_at": None if self.old_span is None else str(self.old_span),
            "new_at": None if self.new_span is None else str(self.new_span),
        }


def diff_json(old: m.Rulebook, new: m.Rulebook, edits: Sequence[Edit]) -> dict:
    """The ``diff --format json`` document."""
    return {
        "old": {"rulebook": old.name, "path": old.path},
        "new": {"rulebook": new.name, "path": new.path},
        "edits": [e.to_json() for e in edits],
    }


# ---------------------------------------------------------------- text of model parts


def _expr(e: m.Expression | None) -> str | None:
    return None if e is None else e.text


def _labels(labels: Iterable[str]) -> str:
    return "[" + ", ".join(labels) + "]"


def _limit(x: m.Limit | None) -> str | None:
    if x is None:
        return None
    return f"{x.count} per {x.period}" if x.period else f"{x.count} within {x.within}"


def _cap(x: m.Cap | None) -> str | None:
    if x is None:
        return None
    amount = format_decimal(x.amount)
    return f"{amount} per {x.period}" if x.period else f"{amount} within {x.within}"


def _requires(x: m.Requirement | None) -> str | None:
    if x is None:
        return None
    return " or ".join(" and ".join(f"{e.count} {e.kind}" for e in alt) for alt in x.alternatives)


def _grace(x: m.Grace | None) -> str | None:
    if x is None:
        return None
    return f"{x.duration} unless {', '.join(x.unless)}"


def _change(x: m.LedgerChange | None) -> str | None:
    if x is None:
        return None
    if x.amount is None:
        return "reset"
    return x.amount.text + (f" for {x.duration}" if x.duration is not None else "")


def _fine(x: m.Fine | None) -> str | None:
    if x is None:
        return None
    return x.amount.text + (f" {x.currency}" if x.currency else "")


def _tier_cap(x: m.TierCap | None) -> str | None:
    if x is None:
        return None
    return x.tier + (f" for {x.duration}" if x.duration is not None else "")


def _effect_fields(e: m.Effects, ledgers: Sequence[str]) -> list[tuple[str, str | None, Any]]:
    """(field, text, compared value) of effects; ``ledgers`` fixes which ledger fields appear."""
    changes = {c.ledger: c for c in e.changes}
    out: list[tuple[str, str | None, Any]] = [(n, _change(changes.get(n)), changes.get(n)) for n in ledgers]
    out += [
        ("fine", _fine(e.fine), e.fine),
        ("tier", _tier_cap(e.tier_cap), e.tier_cap),
        ("list", _labels(e.list) if e.list else None, e.list),
        ("unlist", _labels(e.unlist) if e.unlist else None, e.unlist),
    ]
    return out


def _rule_fields(r: m.Rule, ledgers: Sequence[str]) -> list[tuple[str, str | None, Any]]:
    return [
        ("on", ", ".join(r.on), r.on),
        ("where", _expr(r.where), r.where),
        ("except", _expr(r.except_), r.except_),
        ("requires", _requires(r.requires), r.requires),
        ("limit", _limit(r.limit), r.limit),
        ("cap", _cap(r.cap), r.cap),
        ("group", r.group, r.group),
        ("grace", _grace(r.grace), r.grace),
        *_effect_fields(r.effects, ledgers),
        ("note", r.note, r.note),
        ("source", r.source, r.source),
    ]


def _trigger_fields(t: m.Trigger, ledgers: Sequence[str]) -> list[tuple[str, str | None, Any]]:
    return [
        ("when", _expr(t.when), t.when),
        *_effect_fields(t.effects, ledgers),
        ("note", t.note, t.note),
        ("source", t.source, t.source),
    ]


def _ledger_fields(x: m.Ledger) -> list[tuple[str, str | None, Any]]:
    reset = None
    if x.reset is not None:
        reset = x.reset.every + (f" from subject.{x.reset.from_field}" if x.reset.from_field else "")
    return [
        ("start", format_decimal(x.start), x.start),
        ("floor", None if x.floor is None else format_decimal(x.floor), x.floor),
        ("ceiling", None if x.ceiling is None else format_decimal(x.ceiling), x.ceiling),
        ("reset", reset, x.reset),
        ("expire", None if x.expire is None else str(x.expire), x.expire),
    ]


def _list_fields(x: m.ListDef) -> list[tuple[str, str | None, Any]]:
    return [
        ("for", None if x.term is None else str(x.term), x.term),
        ("tier", x.tier, x.tier),
        ("sanctions", _labels(x.sanctions) if x.sanctions else None, x.sanctions),
        ("privileges", _labels(x.privileges) if x.privileges else None, x.privileges),
        ("note", x.note, x.note),
    ]


def _describe(fields: list[tuple[str, str | None, Any]], skip: tuple[str, ...] = ("note", "source")) -> str:
    return ", ".join(f"{k} {v}" for k, v, _ in fields if v is not None and k not in skip)


def describe_rule(r: m.Rule) -> str:
    """What a rule does, in one line: ``on littering, credit -3, fine 50 yuan``."""
    return _describe(_rule_fields(r, [c.ledger for c in r.effects.changes]))


def _describe_trigger(t: m.Trigger) -> str:
    return _describe(_trigger_fields(t, [c.ledger for c in t.effects.changes]))


# ---------------------------------------------------------------- alignment


def _by_name(items: Sequence[Any], key: str = "name") -> dict[str, Any]:
    return {getattr(x, key): x for x in items}


def _field_edits(section: str, name: str, old_fields: list, new_fields: list,
                 old_span: Span | None, new_span: Span | None) -> list[Edit]:
    out = []
    for (field, old_text, old_value), (_, new_text, new_value) in zip(old_fields, new_fields):
        if old_value != new_value:
            out.append(Edit("changed", section, name, field, old_text, new_text, old_span, new_span))
    return out


def _named(section: str, old_items: Sequence[Any], new_items: Sequence[Any], fields: Any, describe: Any,
           key: str = "name") -> list[Edit]:
    """Removed and changed in the old order, then added in the new order."""
    old_map, new_map = _by_name(old_items, key), _by_name(new_items, key)
    out: list[Edit] = []
    for name, a in old_map.items():
        b = new_map.get(name)
        if b is None:
            out.append(Edit("removed", section, name, None, describe(a), None, a.span, None))
        elif a != b:
            out += _field_edits(section, name, *fields(a, b), a.span, b.span)
    for name, b in new_map.items():
        if name not in old_map:
            out.append(Edit("added", section, name, None, None, describe(b), None, b.span))
    return out


def _ledgers_of(*effects: m.Effects) -> list[str]:
    names: list[str] = []
    for e in effects:
        for c in e.changes:
            if c.ledger not in names:
                names.append(c.ledger)
    return names


def _lcs(a: list[str], b: list[str]) -> set[str]:
    """The names on one longest common subsequence of ``a`` and ``b`` (both of distinct names)."""
    n, k = len(a), len(b)
    table = [[0] * (k + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(k - 1, -1, -1):
            table[i][j] = table[i + 1][j + 1] + 1 if a[i] == b[j] else max(table[i + 1][j], table[i][j + 1])
    keep: set[str] = set()
    i = j = 0
    while i < n and j < k:
        if a[i] == b[j]:
            keep.add(a[i])
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return keep


def _tiers(old: m.Rulebook, new: m.Rulebook) -> list[Edit]:
    def text(t: m.Tier) -> str:
        return "otherwise" if t.condition is None else t.condition.text

    out = _named(
        "tier", old.tiers, new.tiers,
        lambda a, b: ([("condition", text(a), a.condition)], [("condition", text(b), b.condition)]),
        text,
    )
    old_names = [t.name for t in old.tiers]
    new_names = [t.name for t in new.tiers]
    common_old = [x for x in old_names if x in new_names]
    common_new = [x for x in new_names if x in old_names]
    keep = _lcs(common_old, common_new)
    old_map, new_map = _by_name(old.tiers), _by_name(new.tiers)
    for name in common_new:
        if name not in keep:
            out.append(Edit(
                "moved", "tier", name, "position", str(old_names.index(name) + 1), str(new_names.index(name) + 1),
                old_map[name].span, new_map[name].span,
            ))
    return out


def _header(old: m.Rulebook, new: m.Rulebook) -> list[Edit]:
    out = []
    for field in ("name", "jurisdiction", "effective", "until", "timezone", "currency", "source"):
        a, b = getattr(old, field), getattr(new, field)
        if a != b:
            out.append(Edit(
                "changed", "rulebook", old.name, "rulebook" if field == "name" else field,
                None if a is None else str(a), None if b is None else str(b),
            ))
    return out


def _event_edits(old: m.Rulebook, new: m.Rulebook) -> list[Edit]:
    """Unrelated schemes: per event type either handles, what each does with it."""
    types: list[str] = []
    for r in (*old.rules, *new.rules):
        types.extend(t for t in r.on if t not in types)
    out = []
    for t in types:
        a = [r for r in old.rules if t in r.on]
        b = [r for r in new.rules if t in r.on]

        def text(rules: list[m.Rule]) -> str | None:
            return "; ".join(f"`{r.name}`: {describe_rule(r)}" for r in rules) if rules else None

        kind = "added" if not a else "removed" if not b else "changed"
        if a and b and [r.model_dump() for r in a] == [r.model_dump() for r in b]:
            continue
        out.append(Edit(kind, "event", t, None, text(a), text(b),
                        a[0].span if a else None, b[0].span if b else None))
    return out


def diff_rulebooks(old: Any, new: Any) -> list[Edit]:
    """The structural edits from ``old`` to ``new`` (models or paths; see the module docstring)."""
    a, b = _load(old), _load(new)
    out = _header(a, b)
    out += _named("ledger", a.ledgers, b.ledgers, lambda x, y: (_ledger_fields(x), _ledger_fields(y)),
                  lambda x: _describe(_ledger_fields(x)))
    out += _tiers(a, b)
    for section in ("sanctions", "privileges"):
        out += _named(
            section, getattr(a, section), getattr(b, section),
            lambda x, y: ([("labels", _labels(x.labels), x.labels)], [("labels", _labels(y.labels), y.labels)]),
            lambda x: _labels(x.labels), key="target",
        )
    out += _named("list", a.lists, b.lists, lambda x, y: (_list_fields(x), _list_fields(y)),
                  lambda x: _describe(_list_fields(x), skip=("note",)) or "until unlisted")
    related = bool({r.name for r in a.rules} & {r.name for r in b.rules}) or not a.rules or not b.rules
    if related:
        out += _named(
            "rule", a.rules, b.rules,
            lambda x, y: (_rule_fields(x, _ledgers_of(x.effects, y.effects)),
                          _rule_fields(y, _ledgers_of(x.effects, y.effects))),
            describe_rule,
        )
    else:
        out += _event_edits(a, b)
    out += _named(
        "trigger", a.triggers, b.triggers,
        lambda x, y: (_trigger_fields(x, _ledgers_of(x.effects, y.effects)),
                      _trigger_fields(y, _ledgers_of(x.effects, y.effects))),
        _describe_trigger,
    )
    return out
