"""The test runner: a rulebook's own `tests:` block (LANGUAGE.md §9), run by the real interpreter.

Public API::

    run_tests(rulebook) -> list[TestResult]
        Every case of ``rulebook.tests``, in file order. A case builds its events
        (``TYPE at DATE, FIELD: VALUE...``; ids ``t1``, ``t2``... in order) for one
        subject, ``TEST_SUBJECT``, whose fields come from ``subject:``; runs
        ``interpreter.run`` with ``as_of`` from ``as of:``; and compares every
        ``expect`` key. PASS when all hold, FAIL when one does not (each failed
        expectation with its span, expected and actual), ERROR when the case cannot
        run (a feature the interpreter refuses, an invalid event, a crash).
    collect_rulebooks(paths) -> list[str]
        Files as given, folders searched recursively for ``*.rulebook`` (sorted);
        each file once, in the order first met.
    test_paths(paths) -> TestReport
        Load (parse, compile, link, check) and test every collected rulebook; a file
        that does not load is reported with its diagnostics and counts as failed.
    coverage(report) -> Coverage
        Rules and triggers, each counted for the file that defines it
        (``Rule.origin``), and which of them some test covered: a rule or trigger is
        covered when some case makes it produce an ``applied`` or ``triggered``
        decision.
    report_json(report, coverage=None) -> dict
        The whole report as plain JSON data (numbers exact).

Expectations compare exactly (Decimal): ledgers by balance; ``tier`` by name (``none``
for no tier); ``fines`` as a number or money (the currency must be the rulebook's);
``lists``, ``sanctions`` and ``privileges`` as sets of labels (order is not part of
the expectation; a single label means a one-item list).

This module is pure: no printing, no rich. ``render.render_test_report`` prints it.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from . import model
from .diagnostics import CreditDslError, Diagnostic
from .results import AuditCollector, Decision, RunResult, SubjectResult, dumps
from .source import SourceFile, Span
from .values import format_decimal

TEST_SUBJECT = "subject"

PASS, FAIL, ERROR = "pass", "fail", "error"
COVERING = ("applied", "triggered")


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Mismatch:
    """One expectation that did not hold."""

    key: str
    expected: str  # as the test wrote it (normalised)
    actual: str
    span: Span | None


@dataclass
class TestResult:
    __test__ = False  # not a pytest class

    rulebook: str  # the rulebook's path (or name when it has no path)
    name: str
    status: str  # PASS | FAIL | ERROR
    span: Span | None = None  # the test case's name
    mismatches: tuple[Mismatch, ...] = ()
    error: str | None = None
    decisions: tuple[Decision, ...] = ()  # that subject's audit decisions, in order
    ledger_names: tuple[str, ...] = ()
    result: SubjectResult | None = None

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def location(self) -> str:
        if self.span is None:
            return self.rulebook
        return f"{self.span.file}:{self.span.line}"

    def evidence(self) -> list[str]:
        """The subject's audit decisions, one readable line each."""
        return [describe(d, self.ledger_names) for d in self.decisions]

    def audit_lines(self) -> list[str]:
        """The subject's audit decisions as audit JSON lines (LANGUAGE.md §11)."""
        collector = AuditCollector()
        collector.decisions = list(self.decisions)
        return collector.lines(self.ledger_names)


@dataclass
class FileReport:
    path: str
    rulebook: model.Rulebook | None
    results: list[TestResult] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)  # errors that stopped loading
    sources: dict[str, SourceFile] = field(default_factory=dict)

    @property
    def loaded(self) -> bool:
        return self.rulebook is not None and not any(d.is_error for d in self.diagnostics)

    @property
    def ok(self) -> bool:
        return self.loaded and all(r.passed for r in self.results)


@dataclass
class TestReport:
    __test__ = False

    files: list[FileReport] = field(default_factory=list)

    @property
    def results(self) -> list[TestResult]:
        return [r for f in self.files for r in f.results]

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def failed(self) -> int:
        """Failed and erroring cases, plus one for every file that would not load."""
        return sum(not r.passed for r in self.results) + sum(not f.loaded for f in self.files)

    @property
    def ok(self) -> bool:
        return self.failed == 0


@dataclass(frozen=True)
class Unit:
    """A rule or trigger, named for the file that defines it (``origin``: its real path)."""

    origin: str
    kind: str  # "rule" | "trigger"
    name: str
    span: Span | None

    @property
    def location(self) -> str:
        return f"{self.span.file}:{self.span.line}" if self.span is not None else self.origin


@dataclass
class Coverage:
    units: list[Unit]
    covered: set[tuple[str, str, str]]  # (origin, kind, name)

    @property
    def uncovered(self) -> list[Unit]:
        return [u for u in self.units if (u.origin, u.kind, u.name) not in self.covered]

    @property
    def share(self) -> Decimal:
        """Covered share in percent, exact (to 28 digits): what ``--fail-under`` compares."""
        if not self.units:
            return Decimal(100)
        return Decimal(len(self.units) - len(self.uncovered)) * 100 / len(self.units)

    @property
    def percent(self) -> Decimal:
        """The share rounded down to 0.1, for display (so 99.95 never shows as 100)."""
        return self.share.quantize(Decimal("0.1"), rounding="ROUND_FLOOR")


# ---------------------------------------------------------------- one rulebook


def run_tests(rulebook: model.Rulebook) -> list[TestResult]:
    """Run every case of ``rulebook.tests`` with the interpreter (see the module docstring)."""
    from .plan import compile_plan

    where = rulebook.path or rulebook.name
    ledger_names = tuple(x.name for x in rulebook.ledgers)
    try:
        plan: Any = compile_plan(rulebook)
    except CreditDslError as exc:
        why = _messages(exc.diagnostics)
        return [TestResult(where, case.name, ERROR, case.span, error=why, ledger_names=ledger_names)
                for case in rulebook.tests]
    return [_run_case(rulebook, plan, case, where, ledger_names) for case in rulebook.tests]


def _run_case(rulebook: model.Rulebook, plan: Any, case: model.TestCase, where: str,
              ledger_names: tuple[str, ...]) -> TestResult:
    from . import interpreter

    collector = AuditCollector()
    base = TestResult(where, case.name, ERROR, case.span, ledger_names=ledger_names)
    try:
        lines = event_lines(case)
        subject = {"id": TEST_SUBJECT, **{k: _plain(v) for k, v in case.subject}}
        result = interpreter.run(plan, lines, subjects=[subject], as_of=case.as_of, audit=collector)
    except CreditDslError as exc:
        base.error = _messages(exc.diagnostics)
        base.decisions = _own(collector.decisions)
        return base
    except Exception as exc:  # a crash in one case must not hide the others
        base.error = "internal error (this is a bug in creditdsl): " + "".join(
            traceback.format_exception_only(type(exc), exc)).strip()
        base.decisions = _own(collector.decisions)
        return base
    base.decisions = _own(collector.decisions)
    if result.invalid:
        base.error = "; ".join(f"event {bad.line}: {bad.reason}" for bad in result.invalid)
        return base
    actual = _subject(result)
    base.result = actual
    base.mismatches = tuple(
        m for m in (compare(rulebook, exp, actual) for exp in case.expect) if m is not None
    )
    base.status = FAIL if base.mismatches else PASS
    return base


def event_lines(case: model.TestCase) -> list[str]:
    """The case's events as JSON lines (exact decimals), ids ``t1``, ``t2``... in order."""
    out = []
    for i, ev in enumerate(case.events, 1):
        obj: dict[str, Any] = {"id": f"t{i}", "subject": TEST_SUBJECT, "type": ev.type, "at": ev.at}
        for name, value in ev.fields:
            obj[name] = _plain(value)
        out.append(dumps(obj))
    return out


def _plain(value: Any) -> Any:
    """A test literal as event/subject data: money becomes its amount."""
    if isinstance(value, dict) and set(value) == {"amount", "currency"}:
        return value["amount"]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _own(decisions: Iterable[Decision]) -> tuple[Decision, ...]:
    return tuple(d for d in decisions if d.subject in (TEST_SUBJECT, None))


def _subject(result: RunResult) -> SubjectResult:
    return result.subject(TEST_SUBJECT)


def _messages(diags: Iterable[Diagnostic]) -> str:
    parts = []
    for d in diags:
        where = f" at {d.span.file}:{d.span.line}:{d.span.col}" if getattr(d, "span", None) is not None else ""
        parts.append(f"{d.code}: {d.message}{where}")
    return "; ".join(parts) or "the run failed"


# ---------------------------------------------------------------- expectations


def show(value: Any) -> str:
    """A test value as a rulebook author writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, dict) and set(value) == {"amount", "currency"}:
        return f"{show(value['amount'])} {value['currency']}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if value is None:
        return "none"
    return str(value)


def _labels(value: Any) -> list[str] | None:
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, str) for v in value):
            return [str(v) for v in value]
        return None
    if isinstance(value, str):
        return [value]
    return None


def compare(rulebook: model.Rulebook, exp: model.Expectation, actual: SubjectResult) -> Mismatch | None:
    """None when the expectation holds; else what was expected and what came."""
    key, want = exp.key, exp.value

    def miss(expected: str, got: str) -> Mismatch:
        return Mismatch(key, expected, got, exp.span)

    if key == "tier":
        got = actual.tier
        if isinstance(want, str) and (want == got or (got is None and want.lower() in ("none", "null"))):
            return None
        return miss(show(want), show(got))
    if key == "fines":
        amount, currency = want, None
        if isinstance(want, dict) and set(want) == {"amount", "currency"}:
            amount, currency = want["amount"], want["currency"]
        got = show(actual.fines) + (f" {rulebook.currency}" if rulebook.currency and currency else "")
        if not isinstance(amount, Decimal):
            return miss(show(want), got + " (fines are a number or an amount of money)")
        if currency is not None and currency != rulebook.currency:
            return miss(show(want), got + f" (the rulebook's currency is {rulebook.currency or 'none'})")
        return None if amount == actual.fines else miss(show(want), got)
    if key in ("lists", "sanctions", "privileges"):
        got_labels = list(getattr(actual, key))
        labels = _labels(want)
        if labels is None:
            return miss(show(want), show(got_labels) + " (expected a list of names)")
        return None if sorted(set(labels)) == sorted(set(got_labels)) else miss(show(want), show(got_labels))
    ledgers = dict(actual.ledgers)
    if key in ledgers:
        got_bal = ledgers[key]
        if isinstance(want, Decimal) and want == got_bal:
            return None
        return miss(show(want), show(got_bal))
    known = ", ".join([*ledgers, "tier", "fines", "lists", "sanctions", "privileges"])
    return miss(show(want), f"nothing: `{key}` is not a ledger or a result key (known: {known})")


# ---------------------------------------------------------------- evidence


def describe(d: Decision, ledger_names: tuple[str, ...] = ()) -> str:
    """One decision as a readable line: when, which line and rule, the outcome and its effect."""
    at = d.at.isoformat() if d.at is not None else "-"
    who = d.rule if d.rule is not None else "(no rule)"
    head = f"{at} {d.event or '-'}" + (f" line {d.line}" if d.line is not None else "")
    parts = [f"{head}: {who} {d.outcome}"]
    if d.changes:
        parts.append(", ".join(f"{n} {'+' if v > 0 else ''}{format_decimal(v)}" for n, v in d.changes))
    if d.fine is not None:
        parts.append(f"fine {format_decimal(d.fine)}")
    if d.listed:
        parts.append("listed " + ", ".join(d.listed))
    if d.unlisted:
        parts.append("unlisted " + ", ".join(d.unlisted))
    if d.tier_before != d.tier_after and d.outcome not in ("duplicate", "invalid", "later"):
        parts.append(f"tier {d.tier_before or 'none'} -> {d.tier_after or 'none'}")
    if d.reason:
        parts.append(f"({d.reason})")
    return " ".join(parts[:1]) + ("; " + "; ".join(parts[1:]) if len(parts) > 1 else "")


# ---------------------------------------------------------------- many rulebooks


def collect_rulebooks(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Rulebook files under ``paths``: files as given, folders recursively (``*.rulebook``, sorted)."""
    out: list[str] = []
    seen: set[str] = set()
    for p in paths:
        path = Path(p)
        found = sorted(str(x) for x in path.rglob("*.rulebook") if x.is_file()) if path.is_dir() else [str(path)]
        for f in found:
            key = os.path.normpath(f)
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


def test_file(path: str) -> FileReport:
    """Load one rulebook (errors stop it; warnings do not) and run its tests."""
    from .pipeline import analyse

    loaded = analyse(path)
    errors = loaded.errors
    if errors or loaded.rulebook is None:
        return FileReport(path, None, diagnostics=errors, sources=loaded.sources)
    return FileReport(path, loaded.rulebook, run_tests(loaded.rulebook), sources=loaded.sources)


test_file.__test__ = False  # type: ignore[attr-defined]


def test_paths(paths: Iterable[str | os.PathLike[str]]) -> TestReport:
    """Collect, load and test every rulebook under ``paths``."""
    return TestReport([test_file(p) for p in collect_rulebooks(paths)])


test_paths.__test__ = False  # type: ignore[attr-defined]


def coverage(report: TestReport) -> Coverage:
    """Rules and triggers of every loaded rulebook (each once, for the file defining it) and
    those some test covered."""
    units: dict[tuple[str, str, str], Unit] = {}
    covered: set[tuple[str, str, str]] = set()
    for f in report.files:
        rb = f.rulebook
        if rb is None:
            continue
        index: dict[tuple[str, str], tuple[str, str, str]] = {}
        for kind, items in (("rule", rb.rules), ("trigger", rb.triggers)):
            for item in items:
                origin = os.path.realpath(item.origin or rb.path or f.path)
                key = (origin, kind, item.name)
                units.setdefault(key, Unit(origin, kind, item.name, item.span))
                index[(kind, item.name)] = key
        for r in f.results:
            for d in r.decisions:
                if d.outcome not in COVERING or d.rule is None:
                    continue
                kinds = ("trigger", "rule") if d.outcome == "triggered" else ("rule", "trigger")
                for kind in kinds:
                    if (kind, d.rule) in index:
                        covered.add(index[(kind, d.rule)])
                        break
    ordered = sorted(units.values(), key=lambda u: (u.origin, u.span.start if u.span else 0, u.kind, u.name))
    return Coverage(ordered, covered)


def report_json(report: TestReport, cov: Coverage | None = None) -> dict:
    """The report as JSON data: files, cases, mismatches, errors, and the summary."""
    files = []
    for f in report.files:
        files.append({
            "path": f.path,
            "rulebook": f.rulebook.name if f.rulebook is not None else None,
            "errors": [f"{d.code}: {d.message}" for d in f.diagnostics],
            "tests": [{
                "name": r.name,
                "location": r.location,
                "status": r.status,
                "error": r.error,
                "mismatches": [{"key": m.key, "expected": m.expected, "actual": m.actual,
                                "location": f"{m.span.file}:{m.span.line}" if m.span else None}
                               for m in r.mismatches],
            } for r in f.results],
        })
    out: dict[str, Any] = {"files": files, "summary": {"passed": report.passed, "failed": report.failed}}
    if cov is not None:
        out["coverage"] = {
            "percent": cov.percent,
            "units": len(cov.units),
            "uncovered": [{"kind": u.kind, "name": u.name, "location": u.location} for u in cov.uncovered],
        }
    return out
