"""Run results and test reports as tables and text."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Mapping

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from .diagnostics import render_diagnostics
from .console import _emit, _visible

# ---------------------------------------------------------------- run results


def format_number(value: Any) -> str:
    """A number as the results document writes it: exact, no exponent, no ``.0``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        if value.is_finite() and value == value.to_integral_value():
            return format(value.quantize(Decimal(1)), "f")
        return format(value, "f")
    if isinstance(value, float):
        return format_number(Decimal(repr(value)))
    return str(value)


def _doc(result: Any) -> dict:
    """Accept the §11 dict, or an object offering ``to_json()`` / ``to_dict()`` / ``model_dump()``."""
    if isinstance(result, Mapping):
        return dict(result)
    for name in ("to_doc", "to_dict", "to_json_dict", "model_dump", "to_json"):
        fn = getattr(result, name, None)
        if callable(fn):
            doc = fn()
            if isinstance(doc, str):
                return json.loads(doc, parse_float=Decimal)
            if isinstance(doc, Mapping):
                return dict(doc)
    raise TypeError(f"cannot render a run result of type {type(result).__name__}")


SUMMARY_ORDER = ("lines", "applied", "skipped", "deferred", "remedied", "unmatched", "later", "duplicate", "invalid")


_BOX_UNICODE = ("┏━┳┓", "┃┃┃", "┡━╇┩", "│││", "└─┴┘")
_BOX_ASCII = ("+-++", "|||", "+=++", "|||", "+-++")


def _table_lines(headers: list[str], right: list[bool], rows: list[list[str]], unicode: bool) -> tuple[list[str], list[str]]:
    """A boxed table as (header lines, body lines); cells never wrap.

    The look is rich's ``box.HEAVY_HEAD``, drawn here because rich's Table
    measures every cell again on every render (about 1 ms a row): a run over
    100,000 subjects must print in seconds, not minutes.
    """
    widths = [cell_len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            n = cell_len(cell)
            if n > widths[i]:
                widths[i] = n
    top, head, sep, body, bottom = _BOX_UNICODE if unicode else _BOX_ASCII

    def rule(chars: str) -> str:
        left, fill, mid, end = chars
        return left + mid.join(fill * (w + 2) for w in widths) + end

    def line(chars: str, cells: list[str]) -> str:
        left, mid, end = chars
        parts = []
        for cell, w, r in zip(cells, widths, right):
            gap = " " * (w - cell_len(cell))
            parts.append(f" {gap}{cell} " if r else f" {cell}{gap} ")
        return left + mid.join(parts) + end

    return [rule(top), line(head, headers), rule(sep)], [line(body, row) for row in rows] + [rule(bottom)]


def _write_plain(console: Console, lines: list[str]) -> None:
    """Unstyled lines straight to the console's file, a thousand at a time.

    rich's own printing costs tens of microseconds a line; these lines carry
    no style, so writing them directly gives the same bytes much faster.
    """
    if console.quiet:
        return
    file = console.file
    for start in range(0, len(lines), 1000):
        file.write("\n".join(lines[start : start + 1000]) + "\n")
    file.flush()


def render_run(result_doc: Any, console: Console, *, max_rows: int | None = None) -> None:
    """The default ``run`` output: one row per subject, then the summary.

    ``result_doc`` is the LANGUAGE.md §11 document (``subjects``, ``summary``,
    optionally ``rulebook`` and ``as_of``), or an object with ``to_json()``.
    Columns: subject, tier, one column per ledger (in the order first met),
    fines, lists, sanctions, and privileges when any subject has one. A null
    tier shows as ``-``. Rows never wrap. ``max_rows`` caps the rows shown
    (``… and N more subjects``).
    """
    doc = _doc(result_doc)
    subjects: list[dict] = list(doc.get("subjects") or [])
    ledger_names: list[str] = []
    for s in subjects:
        for name in s.get("ledgers") or {}:
            if name not in ledger_names:
                ledger_names.append(name)
    with_privileges = any(s.get("privileges") for s in subjects)

    headers = ["subject", "tier", *ledger_names, "fines", "lists", "sanctions"]
    right = [False, False, *([True] * len(ledger_names)), True, False, False]
    if with_privileges:
        headers.append("privileges")
        right.append(False)

    shown = subjects if max_rows is None else subjects[:max_rows]
    rows: list[list[str]] = []
    for s in shown:
        ledgers = s.get("ledgers") or {}
        tier = s.get("tier")
        row = [_visible(str(s.get("subject", ""))), "-" if tier is None else _visible(str(tier))]
        row += [format_number(ledgers.get(name)) for name in ledger_names]
        row.append(format_number(s.get("fines", 0)))
        row.append(_visible(", ".join(map(str, s.get("lists") or []))))
        row.append(_visible(", ".join(map(str, s.get("sanctions") or []))))
        if with_privileges:
            row.append(_visible(", ".join(map(str, s.get("privileges") or []))))
        rows.append(row)

    title_parts = []
    if doc.get("rulebook"):
        title_parts.append(f"rulebook {doc['rulebook']}")
    if doc.get("as_of"):
        title_parts.append(f"as of {doc['as_of']}")
    if title_parts:
        _emit(console, Text(", ".join(title_parts), style="bold"))

    unicode = (console.encoding or "").lower().startswith("utf")
    head, body = _table_lines(headers, right, rows, unicode)
    for i, text in enumerate(head):
        _emit(console, Text(text, style="bold" if i == 1 else ""))
    _write_plain(console, body)
    if len(shown) < len(subjects):
        _emit(console, Text(f"… and {len(subjects) - len(shown)} more subjects (use --format json for all)"))

    summary = doc.get("summary") or {}
    parts = [f"{key}: {format_number(summary[key])}" for key in SUMMARY_ORDER if key in summary]
    parts += [
        f"{key}: {format_number(value)}"
        for key, value in summary.items()
        if key not in SUMMARY_ORDER and key != "tiers" and not isinstance(value, (dict, list))
    ]
    if parts:
        _emit(console, Text(", ".join(parts)))
    tiers = summary.get("tiers")
    if isinstance(tiers, Mapping) and tiers:
        _emit(console, Text("tiers: " + ", ".join(f"{name} {format_number(n)}" for name, n in tiers.items())))


def write_text(text: str, console: Console) -> None:
    """Plain text through the console (no markup, no wrapping)."""
    _emit(console, Text(text))


# ---------------------------------------------------------------- test reports


def render_test_report(report: Any, console: Console, *, coverage: Any = None, audit_lines: int = 40) -> None:
    """The ``test`` verb's report, pytest-like.

    ``report`` is a ``tester.TestReport``; ``coverage`` a ``tester.Coverage`` or None.
    One line per rulebook (``PATH .F.E  N passed[, M failed]``); then, for every
    failed or erroring case, its location ``FILE:LINE``, the failed expectations
    (``FILE:LINE: expect KEY: EXPECTED`` / ``got: ACTUAL``) or the error, and the
    subject's audit lines (at most ``audit_lines``); a rulebook that does not load
    shows its diagnostics. With coverage: the share covered and every rule or
    trigger no test covered. The last line is exactly ``N passed, M failed``.
    """
    marks = {"pass": (".", "green"), "fail": ("F", "red"), "error": ("E", "red")}
    for f in report.files:
        line = Text(f.path + " ")
        if not f.loaded:
            line.append("E", style="red")
            line.append("  could not load", style="red")
        else:
            for r in f.results:
                ch, style = marks[r.status]
                line.append(ch, style=style)
            passed = sum(r.passed for r in f.results)
            failed = len(f.results) - passed
            tail = f"  {passed} passed" + (f", {failed} failed" if failed else "")
            if not f.results:
                tail = "  no tests"
            line.append(tail, style="red" if failed else "green")
        _emit(console, line)

    failures = [(f, r) for f in report.files for r in f.results if not r.passed]
    broken = [f for f in report.files if not f.loaded]
    if failures or broken:
        _emit(console, "")
        _emit(console, Text("FAILURES", style="bold red"))
    for f in broken:
        _emit(console, "")
        _emit(console, Text(f"___ {f.path}: the rulebook does not load ___", style="bold red"))
        render_diagnostics(f.diagnostics, f.sources, console, subject_path=f.path, verb="test")
    for f, r in failures:
        _emit(console, "")
        head = "ERROR" if r.status == "error" else "FAIL"
        _emit(console, Text(f"___ {head} {r.location}: {r.name} ___", style="bold red"))
        if r.error:
            _emit(console, Text(f"error: {r.error}", style="red"))
        for m in r.mismatches:
            where = f"{m.span.file}:{m.span.line}: " if m.span is not None else ""
            _emit(console, Text(f"{where}expect {m.key}: {m.expected}"))
            _emit(console, Text(f"{' ' * max(len(where) - 3, 0)}got: {m.actual}", style="red"))
        evidence = r.evidence()
        if evidence:
            _emit(console, Text("audit of the test subject:", style="bold"))
            shown = evidence if audit_lines <= 0 else evidence[:audit_lines]
            for text in shown:
                _emit(console, Text("  " + _visible(text)))
            if len(shown) < len(evidence):
                _emit(console, Text(f"  … and {len(evidence) - len(shown)} more decisions"))

    if coverage is not None:
        _emit(console, "")
        total = len(coverage.units)
        uncovered = coverage.uncovered
        what = "1 rule or trigger" if total == 1 else f"{total} rules and triggers"
        _emit(console, Text(f"coverage: {format_number(coverage.percent)}% of {what} ({total - len(uncovered)} covered)",
                            style="bold"))
        for u in uncovered:
            _emit(console, Text(f"  not covered: {u.location}: {u.kind} `{u.name}`", style="yellow"))
    passed, failed = report.passed, report.failed
    _emit(console, Text(f"{passed} passed, {failed} failed", style="bold red" if failed else "bold green"))
