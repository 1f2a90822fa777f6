"""Diagnostics are values: a stable code, a message, a primary span, labels, help.

Every pass *collects* diagnostics in a :class:`Diagnostics` collector, sorts and
caps them, and raises :class:`CreditDslError` (which merely carries them) when
one of them is an error. Nothing in this module prints: ``render`` does.

``CODES`` is the registry of every code the project can emit. A test checks
that each code has a section in ``docs/errors.md`` and a golden rendered case.

Code ranges: E00xx characters and indentation, E01xx syntax, E02xx compile and
link, E03xx/W03xx static checks, E04xx event input lines, E05xx files and runs.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Iterable

from .source import Span


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Label:
    """A secondary span, e.g. "first defined here"."""

    span: Span
    message: str = ""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str  # one line, starts lowercase, no trailing period
    span: Span | None = None  # None only for whole-file or command-line problems
    labels: tuple[Label, ...] = ()
    notes: tuple[str, ...] = ()
    help: str | None = None
    path: str | None = None  # the file, when there is no span

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple:
        if self.span is None:
            return (self.path or "", 0, 0, self.code)
        return (self.span.file, self.span.line, self.span.col, self.code)

    def to_json(self) -> dict:
        out: dict = {"code": self.code, "severity": str(self.severity), "message": self.message}
        if self.span is not None:
            out["location"] = {
                "file": self.span.file,
                "line": self.span.line,
                "col": self.span.col,
                "end_line": self.span.end_line,
                "end_col": self.span.end_col,
            }
        elif self.path:
            out["location"] = {"file": self.path}
        if self.labels:
            out["labels"] = [
                {"file": lb.span.file, "line": lb.span.line, "col": lb.span.col, "message": lb.message}
                for lb in self.labels
            ]
        if self.notes:
            out["notes"] = list(self.notes)
        if self.help:
            out["help"] = self.help
        return out


def error(code: str, message: str, span: Span | None = None, **kw) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, span, **kw)


def warning(code: str, message: str, span: Span | None = None, **kw) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, message, span, **kw)


class CreditDslError(Exception):
    """Carries the diagnostics of a failed pass; never empty."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = tuple(sorted(diagnostics, key=Diagnostic.sort_key))
        assert self.diagnostics, "CreditDslError needs at least one diagnostic"
        first = self.diagnostics[0]
        super().__init__(f"{first.code}: {first.message}")


@dataclass
class Diagnostics:
    """A collector: passes add to it; ``raise_if_errors`` ends a pass."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    def error(self, code: str, message: str, span: Span | None = None, **kw) -> None:
        self.add(error(code, message, span, **kw))

    def warning(self, code: str, message: str, span: Span | None = None, **kw) -> None:
        self.add(warning(code, message, span, **kw))

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        seen: set = set()
        out = []
        for d in sorted(self.items, key=Diagnostic.sort_key):
            key = (d.code, d.message, d.span)
            if key not in seen:
                seen.add(key)
                out.append(d)
        return out

    def raise_if_errors(self) -> None:
        if self.has_errors:
            raise CreditDslError(self.sorted())


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """A "did you mean `x`?" help line for the nearest candidate, if any is near."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"did you mean `{matches[0]}`?" if matches else None


# code -> (title, explanation). docs/errors.md has one section per code.
CODES: dict[str, tuple[str, str]] = {
    # E00xx: characters, encoding and indentation
    "E0001": ("unexpected character", "The lexer met a character that cannot start anything at this position."),
    "E0002": ("tab in indentation", "Indentation is spaces only; a tab is never expanded."),
    "E0003": ("inconsistent indentation", "A line is unindented to a column that matches no enclosing block."),
    "E0004": ("file is not UTF-8 text", "Rulebooks are UTF-8 text; binary or mis-encoded files are refused."),
    "E0005": ("limit exceeded", "The file exceeds a documented bound (size, lines, nesting, literal length, rules)."),
    "E0006": ("invisible or bidirectional control character", "Bidi controls and invisible characters could make a name read differently from what it is."),
    # E01xx: syntax
    "E0101": ("syntax error", "The text does not fit the grammar here; the message says what was expected."),
    "E0102": ("unexpected end", "The file, or a value, ends where more was expected."),
    "E0103": ("unterminated string", "A quoted string has no closing quote on its line."),
    "E0104": ("expected `key: value`", "Every line of a rulebook is `key: value`, `key:` opening a block, or a `- item`."),
    "E0105": ("expression too deep", "Expressions are bounded in nesting depth so that checking always terminates."),
    # E02xx: compile and link
    "E0201": ("duplicate key", "A key appears twice in the same block."),
    "E0202": ("unknown top-level key", "Only the keys of LANGUAGE.md §1 may appear at the top level."),
    "E0203": ("unknown key", "The key is not allowed in this block (a rule, ledger, list, trigger or test)."),
    "E0204": ("missing required key", "A required key (`rulebook`, `ledgers`, a rule's `on`, a trigger's `when`) is missing."),
    "E0205": ("bad number", "Numbers are exact decimals such as `-3`, `+0.5`, `1000`."),
    "E0206": ("bad date or time", "Dates are `YYYY-MM-DD`; datetimes `YYYY-MM-DDTHH:MM[:SS]` with an optional offset."),
    "E0207": ("bad duration", "Durations are `N day(s)|week(s)|month(s)|year(s)` with a whole N."),
    "E0208": ("money in another currency", "A fine's unit must be the rulebook's `currency`."),
    "E0209": ("wrong kind of value", "The key expects another kind of value (a block, a list, a name, an expression...)."),
    "E0210": ("`rulebook` must come first", "The first key of a rulebook file is `rulebook: NAME`."),
    "E0211": ("unknown timezone", "`timezone` is an IANA zone name such as `Asia/Shanghai`."),
    "E0212": ("duplicate name", "Two ledgers, tiers, lists, rules, triggers or tests share a name."),
    "E0213": ("reserved word as a name", "Ledger names cannot be reserved words of the language."),
    "E0214": ("bad evidence requirement", "Evidence requirements read `2 photo or 1 video`."),
    "E0215": ("bad test event", "Test events read `TYPE at DATE[, FIELD: VALUE...]`."),
    "E0221": ("`extends` cycle", "A rulebook extends itself through a chain of parents."),
    "E0222": ("`extends` path leaves the rulebook tree", "Parents must lie inside the root rulebook's folder."),
    "E0223": ("parent rulebook cannot be read", "The `extends` path names no readable rulebook file."),
    "E0224": ("`drop` names no inherited rule", "`drop` removes inherited rules or triggers by name."),
    # E03xx / W03xx: static checks
    "E0301": ("unknown ledger", "The name is not a declared (or inherited) ledger."),
    "E0302": ("unknown list", "The name is not a declared list."),
    "E0303": ("unknown tier", "The name is not a declared tier."),
    "E0304": ("unknown tier or list", "`sanctions:` and `privileges:` name tiers or lists."),
    "E0305": ("`otherwise` not last", "`otherwise` may appear once, as the last tier."),
    "E0306": ("tier and list share a name", "Tier and list names share one namespace."),
    "E0307": ("rule has no effect", "A rule must change a ledger, fine, cap the tier, list or unlist."),
    "E0308": ("type error", "An operator or function got operands of the wrong type."),
    "E0309": ("unknown function", "Only the functions of LANGUAGE.md §6 exist."),
    "E0310": ("unknown name in expression", "A bare name must be a ledger or `tier`."),
    "E0311": ("unknown expectation", "A test's `expect` names ledgers, `tier`, `fines`, `lists` or `sanctions`."),
    "E0312": ("fine without currency", "A fine needs a unit when the rulebook declares a currency (or none otherwise)."),
    "E0313": ("event field where there is no event", "Tier conditions and trigger `when`s are evaluated on the state, also after timed work."),
    "E0314": ("inconsistent ledger bounds", "A ledger's floor is above its ceiling, or its start lies outside them."),
    "W0301": ("tier hidden behind earlier tiers", "No state satisfies this tier that does not satisfy an earlier one."),
    "W0302": ("some balance has no tier", "For some ledger balance no tier condition holds, so the tier is null."),
    # E04xx: event input lines (each is an `invalid` line; the run goes on)
    "E0401": ("not JSON", "An event line must be one JSON object."),
    "E0402": ("not a JSON object", "An event line must be a JSON object, not an array or scalar."),
    "E0403": ("missing required field", "`id`, `subject`, `type` and `at` are required."),
    "E0404": ("field of the wrong type", "A field has the wrong JSON type, is empty, or is not finite."),
    "E0405": ("same id with different content", "The (subject, id) was seen before with other content."),
    "E0406": ("duplicate JSON key", "A key appears twice in one JSON object; no value silently wins."),
    "E0407": ("line too long", "An event line exceeds the documented maximum length."),
    "E0408": ("not UTF-8", "An event line is not valid UTF-8."),
    "E0409": ("bad date or time", "`at` is not an ISO 8601 date or datetime."),
    # E05xx: files and runs
    "E0501": ("file cannot be read", "A named file is missing, a directory, or unreadable."),
    "E0503": ("bad command-line value", "A command-line value (such as `--as-of`) is malformed."),
    "E0505": ("unusable state file", "A `--resume` state file is unreadable, of another version, or of another rulebook."),
    "W0502": ("events outside the rulebook's dates", "Events fall before `effective` or after `until`; they are scored all the same."),
    "W0501": ("no anniversary date", "A subject lacks the field its `reset: yearly from subject.FIELD` counts from; calendar years are used."),
    "E0504": ("file cannot be written", "An output file (such as `--audit FILE`) cannot be created or written."),
}
