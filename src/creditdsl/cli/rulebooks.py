"""Verbs about rulebooks: `check`, `compile`, `test`."""

from __future__ import annotations

import os
from typing import Optional

import typer

from ..diagnostics import CreditDslError, Diagnostic, error
from ..render import render_diagnostics_json, render_json, render_messages, render_test_report
from .shell import (
    CheckFormat,
    CompileFormat,
    EXIT_CODES_HELP,
    EXIT_INPUT,
    EXIT_OK,
    TestFormat,
    _err,
    _out,
    _pipeline,
    _report,
    _sources_of,
    _verb,
    app,
)


@app.command(epilog=EXIT_CODES_HELP)
@_verb
def check(
    rulebooks: list[str] = typer.Argument(..., metavar="RULEBOOK...", help="Rulebook files to check."),
    format: CheckFormat = typer.Option(
        CheckFormat.text, "--format", help="text: rendered diagnostics on stderr; json: one document on stdout."
    ),
    max_errors: int = typer.Option(20, "--max-errors", min=0, help="Show at most N diagnostics (0: all)."),
) -> None:
    """Check rulebooks and report every problem found (exit 1 on any error)."""
    diagnostics, sources = _pipeline().check_paths(rulebooks)
    if format is CheckFormat.json:
        render_diagnostics_json(diagnostics, _out())
    else:
        _report(diagnostics, sources, subject=rulebooks, verb="check", max_errors=max_errors)
    raise typer.Exit(EXIT_INPUT if any(d.is_error for d in diagnostics) else EXIT_OK)


@app.command(name="compile", epilog=EXIT_CODES_HELP)
@_verb
def compile_(
    rulebook: str = typer.Argument(..., metavar="RULEBOOK", help="The rulebook to compile."),
    format: CompileFormat = typer.Option(CompileFormat.json, "--format", help="Output format (json)."),
    max_errors: int = typer.Option(20, "--max-errors", min=0, help="Show at most N diagnostics (0: all)."),
) -> None:
    """Print the compiled model of a rulebook as JSON (spans left out)."""
    try:
        doc = _pipeline().compile_json(rulebook)
    except CreditDslError as exc:
        _report(exc.diagnostics, _sources_of(exc), subject=rulebook, verb="compile", max_errors=max_errors)
        raise typer.Exit(EXIT_INPUT)
    render_json(doc, _out())
    raise typer.Exit(EXIT_OK)


@app.command(name="test", epilog=EXIT_CODES_HELP)
@_verb
def test_(
    paths: list[str] = typer.Argument(..., metavar="PATH...", help="Rulebook files or folders (searched recursively)."),
    coverage: bool = typer.Option(False, "--coverage", help="List the rules and triggers no test covered."),
    fail_under: Optional[str] = typer.Option(
        None, "--fail-under", metavar="PCT", help="Fail when the covered share is below PCT percent (implies --coverage)."
    ),
    format: TestFormat = typer.Option(TestFormat.text, "--format", help="text: a pytest-like report; json: one document."),
) -> None:
    """Run the `tests:` blocks of rulebooks (exit 1 unless every test passes)."""
    from decimal import Decimal, InvalidOperation

    from .. import tester

    threshold = None
    if fail_under is not None:
        try:
            threshold = Decimal(fail_under)
        except InvalidOperation:
            threshold = None
        if threshold is None or not threshold.is_finite() or not 0 <= threshold <= 100:
            raise typer.BadParameter(f"`{fail_under}` is not a percentage from 0 to 100", param_hint="--fail-under")
    missing = [d for d in (_unreadable_path(p) for p in paths) if d]
    if missing:
        _report(missing, {}, subject=paths, verb="test")
        raise typer.Exit(EXIT_INPUT)
    report = tester.test_paths(paths)
    if not report.files:
        render_messages(", ".join(paths), ["no `*.rulebook` file found"], _err())
        raise typer.Exit(EXIT_INPUT)
    cov = tester.coverage(report) if (coverage or threshold is not None) else None
    if format is TestFormat.json:
        render_json(tester.report_json(report, cov), _out())
    else:
        render_test_report(report, _out(), coverage=cov)
    below = cov is not None and threshold is not None and cov.share < threshold
    if below and format is TestFormat.text:
        render_messages("coverage", [f"{cov.percent}% is below --fail-under {fail_under}%"], _err())
    raise typer.Exit(EXIT_INPUT if (not report.ok or below) else EXIT_OK)


def _unreadable_path(path: str) -> Diagnostic | None:
    """E0501 when a `test` PATH (file or folder) does not exist or cannot be read."""
    if os.path.isdir(path) or os.access(path, os.R_OK):
        return None
    reason = "no such file or folder" if not os.path.exists(path) else "permission denied"
    return error("E0501", f"cannot read `{path}`: {reason}", None, path=path)


