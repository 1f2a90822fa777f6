"""Verbs that report across runs: `compare`, `diff`, `explain`, `statements`."""

from __future__ import annotations

from contextlib import ExitStack
from enum import Enum
from typing import Any, Optional, Sequence

import typer

from ..diagnostics import CreditDslError, Diagnostic, error
from ..outputs import atomic_output
from ..render import (
    explain_html,
    explain_json,
    explain_text,
    make_console,
    render_invalid_lines,
    render_json,
    render_messages,
    statements_csv,
    statements_json,
    statements_text,
    write_text,
)
from .shell import (
    EXIT_CODES_HELP,
    EXIT_INPUT,
    EXIT_OK,
    EXIT_USAGE,
    _err,
    _out,
    _pipeline,
    _report,
    _sources_of,
    _unreadable,
    _verb,
    app,
)


# ---------------------------------------------------------------- compare and diff (issue 6)


class CompareFormat(str, Enum):
    table = "table"
    json = "json"
    html = "html"


class DiffFormat(str, Enum):
    table = "table"
    json = "json"


def _load_rulebooks(paths: Sequence[str], verb: str, max_errors: int, also: Sequence[Diagnostic] = ()) -> list:
    """Every rulebook loaded (warnings shown), or every error shown and exit 1."""
    models, errors, warnings, sources = [], [], [], {}
    for path in paths:
        try:
            model, diags, srcs = _pipeline().load(path)
        except CreditDslError as exc:
            errors.extend(exc.diagnostics)
            sources.update(_sources_of(exc))
            continue
        models.append(model)
        warnings.extend(diags)
        sources.update(srcs)
    if errors or also:
        _report([*errors, *warnings, *also], sources, subject=list(paths), verb=verb, max_errors=max_errors)
        raise typer.Exit(EXIT_INPUT)
    _report(warnings, sources, subject=list(paths), verb=verb, max_errors=max_errors)
    return models


@app.command(epilog=EXIT_CODES_HELP)
@_verb
def compare(
    rulebooks: list[str] = typer.Argument(..., metavar="RULEBOOK RULEBOOK [RULEBOOK...]", help="Two or more rulebooks."),
    events: str = typer.Option(..., "--events", metavar="FILE", help="Events as JSON Lines ('-' reads stdin)."),
    subjects: Optional[str] = typer.Option(None, "--subjects", metavar="FILE", help="Subjects as JSON Lines."),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", metavar="DATE", help="Evaluate up to this date or datetime, in each rulebook's timezone."
    ),
    format: CompareFormat = typer.Option(
        CompareFormat.table, "--format", help="table: tables; json: one document; html: a self-contained report."
    ),
    output: Optional[str] = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write the comparison to FILE instead of stdout."
    ),
    max_errors: int = typer.Option(20, "--max-errors", min=0, help="Show at most N diagnostics (0: all)."),
) -> None:
    """Run the same events under several rulebooks and show every subject side by side.

    Each rulebook reads naive times in its own timezone. Per subject: tiers,
    ledgers, fines, lists, whether they differ and because of which events;
    a tier migration matrix per pair; each run's distribution and summary.
    """
    from ..compare import compare_runs
    from ..render import comparison_html, comparison_json, render_comparison, write_text

    if len(rulebooks) < 2:
        raise typer.BadParameter("compare needs at least two rulebooks", param_hint="RULEBOOK")
    missing = [
        d for d in (_unreadable(events, "events file"), _unreadable(subjects, "subjects file") if subjects else None) if d
    ]
    models = _load_rulebooks(rulebooks, "compare", max_errors, missing)
    with ExitStack() as files:
        target = None
        if output is not None:
            try:
                target = files.enter_context(atomic_output(output))
            except OSError as exc:
                bad = error("E0504", f"cannot write output file `{output}`: {exc.strerror or exc}", None, path=output)
                _report([bad], {}, subject=rulebooks, verb="compare")
                raise typer.Exit(EXIT_INPUT)
        try:
            comparison = compare_runs(models, events, subjects=subjects, as_of=as_of)
        except CreditDslError as exc:
            usage = all(d.code == "E0503" for d in exc.diagnostics)
            _report(exc.diagnostics, _sources_of(exc), subject=rulebooks, verb="compare", max_errors=max_errors)
            raise typer.Exit(EXIT_USAGE if usage else EXIT_INPUT)
        err = _err()
        render_invalid_lines("<stdin>" if events == "-" else events, comparison.invalid, err)
        if comparison.bad_subjects:
            render_messages(subjects or "subjects", [
                f"subjects line {b.line}: {b.reason} [{b.code}]" for b in comparison.bad_subjects
            ], err)
        out = make_console(file=target, width=_out().width, color=False) if target is not None else _out()
        label = "<stdin>" if events == "-" else events
        if format is CompareFormat.json:
            render_json(comparison_json(comparison), out)
        elif format is CompareFormat.html:
            write_text(comparison_html(comparison, events=label).rstrip("\n"), out)
        else:
            render_comparison(comparison, out, events=label)
    raise typer.Exit(EXIT_OK)


@app.command(epilog=EXIT_CODES_HELP)
@_verb
def diff(
    old: str = typer.Argument(..., metavar="OLD", help="The old rulebook."),
    new: str = typer.Argument(..., metavar="NEW", help="The new rulebook."),
    format: DiffFormat = typer.Option(DiffFormat.table, "--format", help="table: one line per edit; json: a document."),
    exit_code: bool = typer.Option(False, "--exit-code", help="Exit 1 when the rulebooks differ (like git diff)."),
    max_errors: int = typer.Option(20, "--max-errors", min=0, help="Show at most N diagnostics (0: all)."),
) -> None:
    """Structural diff of two rulebooks, inheritance resolved: what was added, removed, changed or moved."""
    from ..diff import diff_json, diff_rulebooks
    from ..render import diff_json_text, render_diff

    a, b = _load_rulebooks([old, new], "diff", max_errors)
    edits = diff_rulebooks(a, b)
    if format is DiffFormat.json:
        render_json(diff_json_text(diff_json(a, b, edits)), _out())
    else:
        render_diff(edits, old, new, _out())
    raise typer.Exit(EXIT_INPUT if (exit_code and edits) else EXIT_OK)


# ---------------------------------------------------------------- explain and statements (issue 7)


class ExplainFormat(str, Enum):
    table = "table"
    json = "json"
    html = "html"


class StatementsFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class Every(str, Enum):
    week = "week"
    month = "month"


class Only(str, Enum):
    lost = "lost"
    gained = "gained"
    listed = "listed"


def _write_output(output: Optional[str], text: str, rulebook: str, verb: str) -> None:
    """``text`` to stdout, or (written whole, then renamed) to ``--output FILE``."""
    if output is None:
        write_text(text.rstrip("\n"), _out())
        return
    try:
        with atomic_output(output) as f:
            f.write(text)
    except OSError as exc:
        bad = error("E0504", f"cannot write output file `{output}`: {exc.strerror or exc}", None, path=output)
        _report([bad], {}, subject=rulebook, verb=verb)
        raise typer.Exit(EXIT_INPUT)


@app.command(name="explain", epilog=EXIT_CODES_HELP)
@_verb
def explain_(
    rulebook: str = typer.Argument(..., metavar="RULEBOOK", help="The rulebook to apply."),
    events: str = typer.Argument(..., metavar="EVENTS", help="Events as JSON Lines ('-' reads stdin)."),
    subject: str = typer.Argument(..., metavar="SUBJECT", help="The subject to explain."),
    subjects: Optional[str] = typer.Option(None, "--subjects", metavar="FILE", help="Subjects as JSON Lines."),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", metavar="DATE", help="Explain as of this date or datetime (default: the latest event)."
    ),
    horizon: str = typer.Option("3 years", "--horizon", metavar="DURATION", help="How far ahead the path back looks."),
    format: ExplainFormat = typer.Option(
        ExplainFormat.table, "--format", help="table: text; json: one document; html: a self-contained page."
    ),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write to FILE instead of stdout."),
    max_errors: int = typer.Option(20, "--max-errors", min=0, help="Show at most N diagnostics (0: all)."),
) -> None:
    """Why a subject stands where it does, what is pending, and the exact path back to each better tier.

    The path back is checked by the interpreter: by waiting (the earliest
    instant pending work alone reaches the tier) and by deeds (the fewest
    future events that reach it, earliest first).
    """
    from .. import explain as explaining
    from ..values import ValueError_, parse_duration

    try:
        span = parse_duration(horizon)
    except ValueError_ as exc:
        raise typer.BadParameter(str(exc), param_hint="--horizon")
    missing = [
        d for d in (_unreadable(events, "events file"), _unreadable(subjects, "subjects file") if subjects else None) if d
    ]
    model, sources = _load_for(rulebook, "explain", max_errors, missing)
    try:
        ex = explaining.explain(model, events, subject, subjects=subjects, as_of=as_of, horizon=span, sources=sources)
    except explaining.ExplainError as exc:
        render_messages("<stdin>" if events == "-" else events, [str(exc)], _err())
        raise typer.Exit(EXIT_INPUT)
    except CreditDslError as exc:
        usage = all(d.code == "E0503" for d in exc.diagnostics)
        _report(exc.diagnostics, _sources_of(exc, sources), subject=rulebook, verb="explain", max_errors=max_errors)
        raise typer.Exit(EXIT_USAGE if usage else EXIT_INPUT)
    doc = ex.to_json()
    if format is ExplainFormat.json:
        text = explain_json(doc)
    elif format is ExplainFormat.html:
        text = explain_html(doc, ex.starts, ex.bands)
    else:
        text = explain_text(doc)
    _write_output(output, text, rulebook, "explain")
    raise typer.Exit(EXIT_OK)


@app.command(name="statements", epilog=EXIT_CODES_HELP)
@_verb
def statements_(
    rulebook: str = typer.Argument(..., metavar="RULEBOOK", help="The rulebook to apply."),
    events: str = typer.Argument(..., metavar="EVENTS", help="Events as JSON Lines ('-' reads stdin)."),
    every: Every = typer.Option(..., "--every", help="One statement a week or a month."),
    on: Optional[str] = typer.Option(
        None, "--on", metavar="DAY", help="Weekly: a weekday name (default sunday); monthly: 1-28 or last (default)."
    ),
    only: Optional[Only] = typer.Option(None, "--only", help="Keep only lost points, gained points, or listings."),
    subjects: Optional[str] = typer.Option(None, "--subjects", metavar="FILE", help="Subjects as JSON Lines."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATE", help="Statements up to this date or datetime."),
    format: StatementsFormat = typer.Option(
        StatementsFormat.table, "--format", help="table: text; json: one document; csv: one row per change."
    ),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write to FILE instead of stdout."),
    max_errors: int = typer.Option(20, "--max-errors", min=0, help="Show at most N diagnostics (0: all)."),
) -> None:
    """Periodic statements from the audit: per period, who lost or gained points, changed tier or lists, and why.

    Each statement covers the time since the previous one up to the end of
    its DAY in the rulebook's timezone.
    """
    from .. import statements as stating

    missing = [
        d for d in (_unreadable(events, "events file"), _unreadable(subjects, "subjects file") if subjects else None) if d
    ]
    model, sources = _load_for(rulebook, "statements", max_errors, missing)
    try:
        docs = [s.to_json() for s in stating.statements(
            model, events, every=every.value, on=on, only=None if only is None else only.value,
            subjects=subjects, as_of=as_of)]
    except stating.StatementError as exc:
        raise typer.BadParameter(str(exc), param_hint="--on")
    except CreditDslError as exc:
        usage = all(d.code == "E0503" for d in exc.diagnostics)
        _report(exc.diagnostics, _sources_of(exc, sources), subject=rulebook, verb="statements", max_errors=max_errors)
        raise typer.Exit(EXIT_USAGE if usage else EXIT_INPUT)
    if format is StatementsFormat.json:
        text = statements_json(docs)
    elif format is StatementsFormat.csv:
        text = statements_csv(docs)
    else:
        text = statements_text(docs)
    _write_output(output, text, rulebook, "statements")
    raise typer.Exit(EXIT_OK)


def _load_for(rulebook: str, verb: str, max_errors: int, missing: list[Diagnostic]) -> tuple[Any, dict]:
    """One rulebook loaded (warnings shown) with its sources, or the errors shown and exit 1."""
    try:
        model, warnings, sources = _pipeline().load(rulebook)
    except CreditDslError as exc:
        _report([*exc.diagnostics, *missing], _sources_of(exc), subject=rulebook, verb=verb, max_errors=max_errors)
        raise typer.Exit(EXIT_INPUT)
    _report([*warnings, *missing], sources, subject=rulebook, verb=verb, max_errors=max_errors)
    if missing:
        raise typer.Exit(EXIT_INPUT)
    return model, sources



