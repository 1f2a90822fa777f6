"""Outcomes, decisions (audit lines), the result document, and an exact JSON writer.

Public API::

    Outcome                      closed enum of every outcome (LANGUAGE.md §5, §11)
    LINE_OUTCOMES                the eight line outcomes, in summary order
    Decision                     one audit line (a slotted record, built per decision)
    SubjectResult, Summary, RunResult    the result document (§11)
    dumps(value, indent=None) -> str     JSON with Decimals as exact numbers (`999.5`)
    result_json(result) -> str           the `--format json` document (one line + "\\n")
    decision_json(decision, ledger_names) -> str   one audit line (no newline)
    AuditWriter(stream, ledger_names)    callable(decision): writes one line per decision
    AuditCollector()                     callable(decision): keeps them in a list

Audit lines have the fields of §11 in this order: seq, line, at, event, subject, rule,
outcome, reason, changes, before, after, tier_before, tier_after; then, only when
present, fine, listed, unlisted. Line outcomes that are not decisions of the
state (duplicate, invalid, later) have null changes/before/after/tiers.
Decimals print without exponent or trailing zeros; strings are ASCII-escaped, so the
same inputs give byte-identical outputs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import IO, Any, Iterable, Iterator

from .diagnostics import Diagnostic
from .source import Span
from .values import format_decimal


class Outcome(StrEnum):
    APPLIED = "applied"
    SKIPPED = "skipped"
    DEFERRED = "deferred"
    REMEDIED = "remedied"
    UNMATCHED = "unmatched"
    LATER = "later"
    DUPLICATE = "duplicate"
    INVALID = "invalid"
    REVERTED = "reverted"
    RESET = "reset"
    TRIGGERED = "triggered"
    UNLISTED = "unlisted"


LINE_OUTCOMES: tuple[str, ...] = (
    "applied", "skipped", "deferred", "remedied", "unmatched", "later", "duplicate", "invalid",
)
# precedence of a line's final outcome when its rules disagree (higher wins)
RANK = {"unmatched": 0, "skipped": 1, "remedied": 2, "deferred": 3, "applied": 4}


class Decision:
    """One audit line. ``changes`` is a tuple of (ledger name, applied amount);
    ``before``/``after`` are tuples of balances in ledger order (None when not read)."""

    __slots__ = (
        "seq", "line", "at", "event", "subject", "rule", "outcome", "reason", "changes",
        "before", "after", "tier_before", "tier_after", "fine", "listed", "unlisted", "span",
    )

    def __init__(
        self, seq: int, line: int | None, at: datetime | None, event: str | None, subject: str | None,
        rule: str | None, outcome: str, reason: str | None,
        changes: tuple | None = None, before: tuple | None = None, after: tuple | None = None,
        tier_before: str | None = None, tier_after: str | None = None,
        fine: Decimal | None = None, listed: tuple = (), unlisted: tuple = (), span: Span | None = None,
    ):
        self.seq = seq
        self.line = line
        self.at = at
        self.event = event
        self.subject = subject
        self.rule = rule
        self.outcome = outcome
        self.reason = reason
        self.changes = changes
        self.before = before
        self.after = after
        self.tier_before = tier_before
        self.tier_after = tier_after
        self.fine = fine
        self.listed = listed
        self.unlisted = unlisted
        self.span = span

    def __repr__(self) -> str:
        return f"Decision({self.seq}, line={self.line}, {self.subject}, {self.rule!r}, {self.outcome}, {self.reason!r})"


_str = json.dumps


def _num(value: Decimal | int) -> str:
    return format_decimal(value) if type(value) is Decimal else str(value)


def dumps(value: Any, indent: int | None = None) -> str:
    """JSON text: dicts keep their order, Decimals are exact numbers, datetimes ISO strings."""
    parts: list[str] = []
    _dump(value, parts, indent, 0)
    return "".join(parts)


def _dump(value: Any, out: list[str], indent: int | None, depth: int) -> None:  # noqa: C901
    t = type(value)
    if value is None:
        out.append("null")
    elif t is bool:
        out.append("true" if value else "false")
    elif t is Decimal:
        out.append(format_decimal(value))
    elif t is int:
        out.append(str(value))
    elif t is str:
        out.append(_str(value))
    elif isinstance(value, datetime):
        out.append(_str(value.isoformat()))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        if indent is None:
            sep, open_, close = ", ", "{", "}"
        else:
            pad = "\n" + " " * (indent * (depth + 1))
            sep, open_, close = "," + pad, "{" + pad, "\n" + " " * (indent * depth) + "}"
        out.append(open_)
        first = True
        for k, v in value.items():
            if not first:
                out.append(sep)
            first = False
            out.append(_str(str(k)))
            out.append(": ")
            _dump(v, out, indent, depth + 1)
        out.append(close)
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(", ")
            _dump(v, out, None, depth + 1)
        out.append("]")
    elif hasattr(value, "to_json"):
        _dump(value.to_json(), out, indent, depth)
    else:
        raise TypeError(f"cannot write {t.__name__} as JSON")


_num_cache: dict[Decimal, str] = {}
_str_cache: dict[str, str] = {}


def _n(value: Decimal) -> str:
    """format_decimal, remembered (the text depends only on the value)."""
    text = _num_cache.get(value)
    if text is None:
        if len(_num_cache) > 100_000:
            _num_cache.clear()
        text = _num_cache[value] = format_decimal(value)
    return text


def _q(value: str) -> str:
    """json.dumps of a string (ASCII-escaped), remembered for repeated names and reasons."""
    text = _str_cache.get(value)
    if text is None:
        if len(_str_cache) > 100_000:
            _str_cache.clear()
        if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
            text = '"' + value + '"'
        else:
            text = _str(value)
        _str_cache[value] = text
    return text


def quote(value: str) -> str:
    """json.dumps of a string (ASCII-escaped), not remembered (event ids: seen once)."""
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return '"' + value + '"'
    return _str(value)


def _balances(names: tuple[str, ...], values: tuple | None) -> str:
    if values is None:
        return "null"
    return "{" + ", ".join([n + ": " + _n(v) for n, v in zip(names, values)]) + "}"


def decision_json(d: Decision, ledger_names: tuple[str, ...]) -> str:
    """One audit line; ``ledger_names`` are the JSON-quoted ledger names in order."""
    return decision_text(ledger_names, d.seq, d.line, d.at, d.event, d.subject, d.rule, d.outcome, d.reason,
                         d.changes, d.before, d.after, d.tier_before, d.tier_after, d.fine, d.listed, d.unlisted)


def decision_text(ledger_names: tuple[str, ...], seq: int, line: int | None, at: datetime | None,
                  event: str | None, subject: str | None, rule: str | None, outcome: str, reason: str | None,
                  changes: tuple | None = None, before: tuple | None = None, after: tuple | None = None,
                  tier_before: str | None = None, tier_after: str | None = None, fine: Decimal | None = None,
                  listed: tuple = (), unlisted: tuple = ()) -> str:
    """decision_json of the Decision these arguments make, without making it (Runner.emit)."""
    if changes is None:
        changes_text = "null"
    elif not changes:
        changes_text = "{}"
    else:
        changes_text = "{" + ", ".join([_q(n) + ": " + _n(v) for n, v in changes]) + "}"
    before_text = _balances(ledger_names, before)
    after_text = before_text if after is before else _balances(ledger_names, after)
    parts = [
        '{"seq": ', str(seq), ', "line": ', "null" if line is None else str(line),
        ', "at": ', "null" if at is None else '"' + at.isoformat() + '"',
        ', "event": ', "null" if event is None else quote(event),
        ', "subject": ', "null" if subject is None else quote(subject),
        ', "rule": ', "null" if rule is None else _q(rule),
        ', "outcome": "', outcome, '", "reason": ', "null" if reason is None else quote(reason),
        ', "changes": ', changes_text, ', "before": ', before_text, ', "after": ', after_text,
        ', "tier_before": ', "null" if tier_before is None else _q(tier_before),
        ', "tier_after": ', "null" if tier_after is None else _q(tier_after),
    ]
    if fine is not None:
        parts.append(', "fine": ' + _n(fine))
    if listed:
        parts.append(', "listed": [' + ", ".join([_q(x) for x in listed]) + "]")
    if unlisted:
        parts.append(', "unlisted": [' + ", ".join([_q(x) for x in unlisted]) + "]")
    parts.append("}")
    return "".join(parts)


class AuditWriter:
    """Streams decisions as JSON lines to a text stream, in chunks of ``CHUNK`` lines.

    ``flush()`` writes what is pending (``interpreter.run`` calls it at the end)."""

    CHUNK = 2048

    def __init__(self, stream: IO[str], ledger_names: Iterable[str], spans: bool = False):
        self.stream = stream
        self.names = tuple(_str(n) for n in ledger_names)
        self.spans = spans
        self._write = stream.write
        self._pending: list[str] = []
        if spans:
            self.raw = None  # every decision needs its record (the span)

    def __call__(self, d: Decision) -> None:
        line = decision_json(d, self.names)
        if self.spans and d.span is not None:
            line = line[:-1] + f', "rule_span": {_str(str(d.span))}}}'
        pending = self._pending
        pending.append(line)
        if len(pending) >= self.CHUNK:
            self.flush()

    def raw(self, line: str) -> None:
        """One audit line already written (codegen.py's fast lines)."""
        pending = self._pending
        pending.append(line)
        if len(pending) >= self.CHUNK:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._pending.append("")
            self._write("\n".join(self._pending))
            self._pending = []


class AuditCollector:
    """Keeps decisions in memory (tests, `creditdsl test`, `explain`)."""

    def __init__(self) -> None:
        self.decisions: list[Decision] = []

    def __call__(self, d: Decision) -> None:
        self.decisions.append(d)

    def lines(self, ledger_names: Iterable[str]) -> list[str]:
        names = tuple(_str(n) for n in ledger_names)
        return [decision_json(d, names) for d in self.decisions]


@dataclass(frozen=True, slots=True)
class SubjectResult:
    subject: str
    ledgers: tuple[tuple[str, Decimal], ...]
    tier: str | None
    fines: Decimal
    lists: tuple[str, ...]
    sanctions: tuple[str, ...]
    privileges: tuple[str, ...]

    def ledger(self, name: str) -> Decimal:
        return dict(self.ledgers)[name]

    def to_json(self) -> dict:
        return {
            "subject": self.subject,
            "ledgers": dict(self.ledgers),
            "tier": self.tier,
            "fines": self.fines,
            "lists": list(self.lists),
            "sanctions": list(self.sanctions),
            "privileges": list(self.privileges),
        }


@dataclass(slots=True)
class Summary:
    lines: int = 0
    applied: int = 0
    skipped: int = 0
    deferred: int = 0
    remedied: int = 0
    unmatched: int = 0
    later: int = 0
    duplicate: int = 0
    invalid: int = 0
    tiers: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str, n: int = 1) -> None:
        setattr(self, outcome, getattr(self, outcome) + n)

    def outcomes_total(self) -> int:
        return sum(getattr(self, o) for o in LINE_OUTCOMES)

    def to_json(self) -> dict:
        out: dict = {"lines": self.lines}
        for o in LINE_OUTCOMES:
            out[o] = getattr(self, o)
        out["tiers"] = dict(self.tiers)
        return out


@dataclass(slots=True)
class RunResult:
    rulebook: str
    as_of: datetime | None
    subjects: tuple[SubjectResult, ...]
    summary: Summary
    invalid: tuple = ()  # events.InvalidLine records, in input order (for stderr: FILE:LINE: reason)
    warnings: tuple[Diagnostic, ...] = ()
    state: dict | None = None  # the end state, when run(..., save_state=True) (savestate.write_state)

    def subject(self, subject_id: str) -> SubjectResult:
        return next(s for s in self.subjects if s.subject == subject_id)

    def to_json(self) -> dict:
        return {
            "rulebook": self.rulebook,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "subjects": [s.to_json() for s in self.subjects],
            "summary": self.summary.to_json(),
        }


def result_json(result: RunResult, indent: int | None = None) -> str:
    if indent is not None:
        return dumps(result.to_json(), indent) + "\n"
    return "".join(result_json_chunks(result))


def result_json_chunks(result: RunResult, per_chunk: int = 2048) -> Iterator[str]:
    """The text of result_json(result) in pieces of ``per_chunk`` subjects, for writing as it
    is made (a city's result is tens of megabytes): the same text as dumps(result.to_json()),
    one subject at a time (no dict per subject)."""
    head = dumps({"rulebook": result.rulebook, "as_of": None if result.as_of is None else result.as_of.isoformat()})
    names: dict[str, str] = {}  # a ledger's name -> its JSON text and ": "
    labels: dict[tuple[str, ...], str] = {(): "[]"}  # a tuple of labels -> its JSON text
    parts = [head[:-1], ', "subjects": [']
    sep = ""
    for s in result.subjects:
        ledgers = ", ".join([(names.get(n) or names.setdefault(n, _str(n) + ": ")) + (_num_cache.get(v) or _n(v))
                             for n, v in s.ledgers])
        ls, sa, pr = s.lists, s.sanctions, s.privileges
        parts.append(f'{sep}{{"subject": {quote(s.subject)}, "ledgers": {{{ledgers}}}, "tier": '
                     f'{"null" if s.tier is None else _q(s.tier)}, "fines": {_num_cache.get(s.fines) or _n(s.fines)}, '
                     f'"lists": {labels.get(ls) or _labels_json(ls, labels)}, '
                     f'"sanctions": {labels.get(sa) or _labels_json(sa, labels)}, '
                     f'"privileges": {labels.get(pr) or _labels_json(pr, labels)}}}')
        sep = ", "
        if len(parts) >= per_chunk:
            yield "".join(parts)
            parts = []
    parts.append('], "summary": ' + dumps(result.summary.to_json()) + "}\n")
    yield "".join(parts)


def _labels_json(labels: tuple[str, ...], cache: dict[tuple[str, ...], str]) -> str:
    """The JSON text of a tuple of labels, remembered in ``cache`` (a run has few of them:
    the tiers' and the lists' labels; a thousand at most are kept)."""
    text = "[" + ", ".join([_q(x) for x in labels]) + "]" if labels else "[]"
    if len(cache) < 1000:
        cache[labels] = text
    return text
