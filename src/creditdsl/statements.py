"""Periodic statements from the audit: who lost or gained points, changed tier or lists.

Public API::

    statements(rulebook, events, every="week"|"month", on=None, only=None,
               subjects=None, as_of=None) -> list[Statement]
    Statement.to_json() -> dict            (documented keys: docs/cli.md "statements")
    StatementError                         a bad `on` / `every` / `only` value

A statement covers the time since the previous one up to the end of its DAY in
the rulebook's timezone (``on``: a weekday name for weekly statements, default
``sunday``; a day of the month 1-28 or ``last`` for monthly ones, default
``last``). The first statement is the first one whose end comes after the first
decision; the last is the one holding ``as_of`` (``partial`` when it ends after
``as_of``). A subject appears in a statement when some decision in the period
changed its ledgers, its tier or its lists; ``only`` keeps the decisions (and
subjects) that are ``lost`` (a ledger moved the bad way, the tier got worse, a
listing on a list with sanctions or a removal from one with privileges),
``gained`` (the opposite) or ``listed`` (put on any list). Which way is bad for
a ledger comes from ``explain.ledger_orientation``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from . import interpreter
from . import model as m
from .explain import ledger_orientation
from .plan import Plan, compile_plan
from .results import AuditCollector, Decision
from .values import localize

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ONLY = ("lost", "gained", "listed")
_CHANGES = {"applied", "reverted", "reset", "triggered", "unlisted"}


class StatementError(ValueError):
    """A bad argument; ``str()`` is the message."""


@dataclass
class Item:
    at: datetime
    event: str | None
    rule: str | None
    outcome: str
    reason: str | None
    changes: dict
    tier_before: str | None
    tier_after: str | None
    listed: tuple
    unlisted: tuple

    def to_json(self) -> dict:
        return {"at": self.at.isoformat(), "event": self.event, "rule": self.rule, "outcome": self.outcome,
                "reason": self.reason, "changes": self.changes, "tier_before": self.tier_before,
                "tier_after": self.tier_after, "listed": list(self.listed), "unlisted": list(self.unlisted)}


@dataclass
class Entry:
    subject: str
    changes: dict
    tier_before: str | None
    tier_after: str | None
    listed: list
    unlisted: list
    items: list[Item] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"subject": self.subject, "changes": self.changes, "tier_before": self.tier_before,
                "tier_after": self.tier_after, "listed": list(self.listed), "unlisted": list(self.unlisted),
                "items": [i.to_json() for i in self.items]}


@dataclass
class Statement:
    start: datetime  # decisions at or after start and before end
    end: datetime
    partial: bool
    subjects: list[Entry]

    def to_json(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "partial": self.partial, "subjects": [e.to_json() for e in self.subjects]}


def _ends(every: str, on: str | None, first: datetime, last: datetime, tz: Any) -> list[datetime]:
    """Instants at which statements close (local midnight after their DAY): the last one at
    or before ``first`` (where the first statement starts), then each one through the first
    after ``last``."""
    out: list[datetime] = []
    if every == "week":
        name = (on or "sunday").lower()
        if name not in WEEKDAYS:
            raise StatementError(f"`{on}` is not a weekday name (monday ... sunday)")
        wd = WEEKDAYS.index(name)
        day = first.date() - timedelta(days=7)
        day += timedelta(days=(wd - day.weekday()) % 7)
        while True:
            end = localize(datetime.combine(day + timedelta(days=1), time()), tz)
            if end <= first:
                out[:] = [end]
            else:
                out.append(end)
                if end > last:
                    return out
            day += timedelta(days=7)
    if every == "month":
        text = (on or "last").lower()
        if text == "last":
            n = None
        else:
            try:
                n = int(text)
            except ValueError:
                n = 0
            if not 1 <= n <= 28:
                raise StatementError(f"`{on}` is not a day of the month from 1 to 28, or `last`")
        y, mo = (first.year, first.month - 1) if first.month > 1 else (first.year - 1, 12)
        while True:
            if n is None:
                nxt = date(y + (mo == 12), mo % 12 + 1, 1)
            else:
                nxt = date(y, mo, n) + timedelta(days=1)
            end = localize(datetime.combine(nxt, time()), tz)
            if end <= first:
                out[:] = [end]
            else:
                out.append(end)
                if end > last:
                    return out
            y, mo = y + (mo == 12), mo % 12 + 1
    raise StatementError(f"`{every}` is not `week` or `month`")


def _kinds(d: Decision, plan: Plan, orient: dict[str, int], tier_pos: dict) -> set[str]:
    kinds: set[str] = set()
    for name, amount in d.changes or ():
        if amount:
            kinds.add("gained" if amount * orient[name] > 0 else "lost")
    tb, ta = d.tier_before, d.tier_after
    if tb != ta:
        rank_b = tier_pos.get(tb, len(tier_pos))
        rank_a = tier_pos.get(ta, len(tier_pos))
        if rank_a > rank_b:
            kinds.add("lost")
        elif rank_a < rank_b:
            kinds.add("gained")
    for name in d.listed:
        kinds.add("listed")
        if plan.sanctions.get(name):
            kinds.add("lost")
        if plan.privileges.get(name):
            kinds.add("gained")
    for name in d.unlisted:
        if plan.sanctions.get(name):
            kinds.add("gained")
        if plan.privileges.get(name):
            kinds.add("lost")
    return kinds


def statements(
    rulebook: m.Rulebook | Plan,
    events: Any,
    every: str = "week",
    on: str | None = None,
    only: str | None = None,
    subjects: Any = None,
    as_of: Any = None,
) -> list[Statement]:
    if only is not None and only not in ONLY:
        raise StatementError(f"`{only}` is not one of {', '.join(ONLY)}")
    if every not in ("week", "month"):
        raise StatementError(f"`{every}` is not `week` or `month`")
    plan = rulebook if isinstance(rulebook, Plan) else compile_plan(rulebook)
    tz = plan.tz
    collector = AuditCollector()
    result = interpreter.run(plan, events, subjects=subjects, as_of=as_of, audit=collector)
    orient = ledger_orientation(plan.rulebook)
    tier_pos = dict(plan.tier_pos)
    decisions = [d for d in collector.decisions if d.outcome in _CHANGES and d.at is not None and d.subject]
    if not decisions or result.as_of is None:
        _ends(every, on, datetime.now(tz), datetime.now(tz), tz)  # validate `on` all the same
        return []
    first = min(d.at for d in decisions)
    bounds = _ends(every, on, first, result.as_of, tz)
    start, ends = bounds[0], bounds[1:]
    out: list[Statement] = []
    index = 0
    decisions.sort(key=lambda d: (d.at.astimezone(tz), d.seq))
    for end in ends:
        period: dict[str, Entry] = {}
        while index < len(decisions) and decisions[index].at < end:
            d = decisions[index]
            index += 1
            kinds = _kinds(d, plan, orient, tier_pos)
            if not kinds - {"listed"} and not d.listed and not d.unlisted:
                continue
            if only is not None and only not in kinds:
                continue
            entry = period.get(d.subject)
            if entry is None:
                entry = period[d.subject] = Entry(d.subject, {}, d.tier_before, d.tier_after, [], [])
            for name, amount in d.changes or ():
                if amount:
                    entry.changes[name] = entry.changes.get(name, Decimal(0)) + amount
            entry.tier_after = d.tier_after
            entry.listed += [n for n in d.listed if n not in entry.listed]
            entry.unlisted += [n for n in d.unlisted if n not in entry.unlisted]
            entry.items.append(Item(d.at, d.event, d.rule, d.outcome, d.reason,
                                    {n: v for n, v in (d.changes or ()) if v}, d.tier_before, d.tier_after,
                                    tuple(d.listed), tuple(d.unlisted)))
        out.append(Statement(start, end, end > result.as_of, [period[k] for k in sorted(period)]))
        start = end
    return out
