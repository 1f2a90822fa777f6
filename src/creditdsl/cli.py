"""The ``creditdsl`` command line: a thin shell over ``pipeline`` and ``render``.

Each verb makes one pipeline call and one render call and returns an exit
code (STYLE.md §2.8):

====  ======================================================================
0     success (``check``: no error, warnings are shown; ``run``: the run
      completed, even if invalid event lines were reported)
1     the input is wrong: error diagnostics, a missing or unreadable file,
      an unwritable ``--audit`` file, invalid event lines under ``--strict``
2     usage (unknown option, bad value for an option; typer's default; also
      a malformed ``--as-of``, reported as E0503)
3     internal error: "this is a bug in creditdsl"; the traceback is written
      to a log file and shown only with ``--debug`` or ``CREDITDSL_DEBUG=1``
141   standard output was closed early (``creditdsl run ... | head -1``);
      nothing more is printed (the shell's code for SIGPIPE)
====  ======================================================================

``main()`` is the console script. No Python traceback reaches a user: every
exception is caught at the top.

Diagnostics go to standard error; results (the table, JSON documents) go to
standard output, so ``creditdsl run ... --format json > out.json`` keeps
warnings out of the file.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from contextlib import ExitStack
import sys
import tempfile
import traceback
from enum import Enum
from typing import Any, Optional, Sequence

import typer

from . import __version__
from .diagnostics import CreditDslError, Diagnostic, error
from .render import (
    explain_html,
    explain_json,
    explain_text,
    make_console,
    render_diagnostics,
    render_diagnostics_json,
    render_internal_error,
    render_invalid_lines,
    render_json,
    render_messages,
    render_run,
    render_test_report,
    statements_csv,
    statements_json,
    statements_text,
    to_json_text,
    write_text,
)
from .outputs import atomic_output
from .source import SourceFile

EXIT_OK = 0
EXIT_INPUT = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_PIPE = 141

EXIT_CODES_HELP = (
    "Exit codes: 0 success (warnings and reported invalid event lines do not fail a run); "
    "1 the input is wrong (error diagnostics, a missing or unreadable file, invalid event "
    "lines under --strict); 2 usage; 3 internal error (a bug in creditdsl; --debug shows "
    "the traceback); 130 interrupted (Ctrl-C; no partial output file is left); 141 standard output closed early."
)

app = typer.Typer(
    name="creditdsl",
    help="A declarative rulebook language and interpreter for points-based scoring schemes.",
    epilog=EXIT_CODES_HELP,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class CheckFormat(str, Enum):
    text = "text"
    json = "json"


class CompileFormat(str, Enum):
    json = "json"


class RunFormat(str, Enum):
    table = "table"
    json = "json"


class TestFormat(str, Enum):
    text = "text"
    json = "json"


# ---------------------------------------------------------------- helpers


def _pipeline() -> Any:
    from . import pipeline

    return pipeline


def _out():
    return make_console()


def _err():
    return make_console(stderr=True)


def _sources_of(exc: CreditDslError, known: dict[str, SourceFile] | None = None) -> dict[str, SourceFile]:
    """The texts behind an error's spans: attached to the error, kept by the
    pipeline, or (last resort) read again from disk."""
    sources: dict[str, SourceFile] = dict(known or {})
    attached = getattr(exc, "sources", None)
    if isinstance(attached, dict):
        sources.update(attached)
    try:
        kept = getattr(_pipeline(), "SOURCES", None)
    except ImportError:  # pragma: no cover - pipeline always exists in a release
        kept = None
    if kept is not None:
        try:
            for d in exc.diagnostics:
                for span in [d.span, *(lb.span for lb in d.labels)]:
                    if span is not None and span.file not in sources and span.file in kept:
                        sources[span.file] = kept[span.file]
        except TypeError:
            pass
    for d in exc.diagnostics:
        for span in [d.span, *(lb.span for lb in d.labels)]:
            if span is not None and span.file not in sources:
                try:
                    sources[span.file] = _pipeline().read_source(span.file)
                except Exception:  # the file may be gone; render by location only
                    continue
    return sources


def _report(
    diagnostics: Sequence[Diagnostic],
    sources: dict[str, SourceFile],
    *,
    subject: str | Sequence[str] | None,
    verb: str,
    max_errors: int = 20,
) -> None:
    if diagnostics:
        render_diagnostics(diagnostics, sources, _err(), max_errors=max_errors, subject_path=subject, verb=verb)


def _unreadable(path: str, what: str) -> Diagnostic | None:
    """An E0501 diagnostic when ``path`` cannot be opened for reading ("-" is stdin)."""
    if path == "-":
        return None
    if os.path.isdir(path):
        reason = "is a directory"
    elif not os.path.exists(path):
        reason = "no such file"
    elif not os.access(path, os.R_OK):
        reason = "permission denied"
    else:
        return None
    return error("E0501", f"cannot read {what} `{path}`: {reason}", None, path=path)


def _verb(fn):
    """Wrap a verb: a closed stdout (EPIPE) ends it quietly with exit 141.

    typer would turn EPIPE into exit 1, which here means "the input is wrong".
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(EXIT_PIPE)

    return wrapper


# ---------------------------------------------------------------- verbs


def _version(value: bool) -> None:
    if value:
        typer.echo(f"creditdsl {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def root(
    debug: bool = typer.Option(
        False, "--debug", help="Show the traceback of an internal error (also CREDITDSL_DEBUG=1)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """A declarative rulebook language and interpreter for points-based scoring schemes."""
    if debug:
        os.environ["CREDITDSL_DEBUG"] = "1"


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


@app.command(epilog=EXIT_CODES_HELP)
@_verb
def run(
    rulebook: str = typer.Argument(..., metavar="RULEBOOK", help="The rulebook to apply."),
    events: str = typer.Argument(..., metavar="EVENTS", help="Events as JSON Lines ('-' reads stdin)."),
    subjects: Optional[str] = typer.Option(None, "--subjects", metavar="FILE", help="Subjects as JSON Lines."),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", metavar="DATE", help="Evaluate up to this date or datetime (default: the latest event)."
    ),
    audit: Optional[str] = typer.Option(None, "--audit", metavar="FILE", help="Write the audit trail (JSON Lines)."),
    format: RunFormat = typer.Option(RunFormat.table, "--format", help="table: a summary table; json: the result."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 if any event or subject line is invalid."),
    rejects: Optional[str] = typer.Option(
        None, "--rejects", metavar="FILE", help="Write every invalid line (line, code, reason) as JSON Lines."
    ),
    output: Optional[str] = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write the result (table or JSON) to FILE instead of stdout."
    ),
    save_state: Optional[str] = typer.Option(
        None, "--save-state", metavar="FILE", help="Write the end state, to continue from later with --resume."
    ),
    resume: Optional[str] = typer.Option(
        None, "--resume", metavar="FILE", help="Continue from a state written by --save-state, with later events."
    ),
    max_errors: int = typer.Option(20, "--max-errors", min=0, help="Show at most N diagnostics (0: all)."),
) -> None:
    """Fold an event log into every subject's ledgers, tier, fines, lists and sanctions.

    Invalid lines are reported on stderr as FILE:LINE: reason [CODE] and counted;
    the run goes on (with --strict it still runs, then exits 1). Files named by
    --audit, --rejects and --output are written whole or not at all: an
    interrupted run (Ctrl-C, exit 130) leaves none of them behind.
    """
    from . import interpreter
    from .results import AuditWriter, result_json

    missing = [
        d for d in (_unreadable(events, "events file"), _unreadable(subjects, "subjects file") if subjects else None) if d
    ]
    if resume is not None and (bad_state := _unreadable(resume, "state file")) is not None:
        missing.append(bad_state)
    try:
        model, warnings, sources = _pipeline().load(rulebook)
    except CreditDslError as exc:
        _report([*exc.diagnostics, *missing], _sources_of(exc), subject=rulebook, verb="run", max_errors=max_errors)
        raise typer.Exit(EXIT_INPUT)
    if missing:
        _report([*warnings, *missing], sources, subject=rulebook, verb="run", max_errors=max_errors)
        raise typer.Exit(EXIT_INPUT)
    _report(warnings, sources, subject=rulebook, verb="run", max_errors=max_errors)

    with ExitStack() as files:
        opened = {}
        for what, path in (("audit", audit), ("rejects", rejects), ("output", output), ("state", save_state)):
            if path is None:
                continue
            try:
                opened[what] = files.enter_context(atomic_output(path))
            except OSError as exc:
                bad = error("E0504", f"cannot write {what} file `{path}`: {exc.strerror or exc}", None, path=path)
                _report([bad], {}, subject=rulebook, verb="run")
                raise typer.Exit(EXIT_INPUT)
        writer = AuditWriter(opened["audit"], [lg.name for lg in model.ledgers]) if "audit" in opened else None
        try:
            result = interpreter.run(model, events, subjects=subjects, as_of=as_of, audit=writer,
                                     resume=resume, save_state=save_state is not None)
        except CreditDslError as exc:
            usage = all(d.code == "E0503" for d in exc.diagnostics)
            found = [  # a state-file problem names the state file
                dataclasses.replace(d, path=resume) if d.code == "E0505" and d.span is None and not d.path else d
                for d in exc.diagnostics
            ]
            _report(found, _sources_of(exc, sources), subject=rulebook, verb="run", max_errors=max_errors)
            raise typer.Exit(EXIT_USAGE if usage else EXIT_INPUT)

        err = _err()
        render_invalid_lines("<stdin>" if events == "-" else events, result.invalid, err)
        if "rejects" in opened:
            for bad_line in result.invalid:
                opened["rejects"].write(to_json_text(
                    {"line": bad_line.line, "code": bad_line.code, "reason": bad_line.reason}) + "\n")
        notices = list(getattr(result, "warnings", ()) or ())
        bad_subjects = [d for d in notices if d.is_error]
        if bad_subjects:
            render_messages(subjects or "subjects", [f"{d.message} [{d.code}]" for d in bad_subjects], err)
        run_warnings = [d for d in notices if not d.is_error]
        if run_warnings:
            _report(run_warnings, sources, subject=rulebook, verb="run", max_errors=max_errors)
        out = make_console(file=opened["output"], width=_out().width, color=False) if "output" in opened else _out()
        if format is RunFormat.json:
            render_json(result_json(result), out)
        else:
            render_run(result.to_json(), out)
        if "state" in opened:
            from .savestate import state_text

            opened["state"].write(state_text(result.state))
    invalid = bool(result.invalid) or bool(bad_subjects)
    raise typer.Exit(EXIT_INPUT if (strict and invalid) else EXIT_OK)


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

    from . import tester

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
    from .compare import compare_runs
    from .render import comparison_html, comparison_json, render_comparison, write_text

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
    from .compare import diff_json, diff_rulebooks
    from .render import diff_json_text, render_diff

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
    from . import explain as explaining
    from .values import ValueError_, parse_duration

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
    from . import statements as stating

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



# ---------------------------------------------------------------- the console script


def _debug_requested(argv: list[str]) -> tuple[bool, list[str]]:
    """``--debug`` is accepted anywhere before ``--``; the env var works too."""
    debug = os.environ.get("CREDITDSL_DEBUG", "") not in ("", "0")
    if "--debug" in argv:
        cut = argv.index("--") if "--" in argv else len(argv)
        if "--debug" in argv[:cut]:
            debug = True
            argv = [a for a in argv[:cut] if a != "--debug"] + argv[cut:]
    return debug, argv


def _silence_stdout() -> None:
    """After EPIPE: point stdout at /dev/null so the interpreter's final flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _crash_log(text: str) -> str | None:
    try:
        fd, path = tempfile.mkstemp(prefix="creditdsl-crash-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"creditdsl {__version__}\nargv: {sys.argv!r}\n\n{text}")
        return path
    except OSError:
        return None


def main(argv: Sequence[str] | None = None) -> None:
    """The ``creditdsl`` console script; always ends in ``SystemExit`` with a documented code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug, args = _debug_requested(args)
    if debug:
        os.environ["CREDITDSL_DEBUG"] = "1"
    code: int
    try:
        try:
            app(args=args, prog_name="creditdsl", standalone_mode=True)
            code = EXIT_OK
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_INPUT)
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        code = EXIT_PIPE
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # noqa: BLE001 - the whole point: no traceback reaches a user
        if isinstance(exc, OSError) and getattr(exc, "errno", None) == 32:  # EPIPE not as BrokenPipeError
            _silence_stdout()
            code = EXIT_PIPE
        else:
            text = traceback.format_exc()
            detail = f"{type(exc).__name__}: {exc}"
            try:
                render_internal_error(_err(), detail, _crash_log(text), text if debug else None)
            except Exception:  # noqa: BLE001 - even stderr may be gone
                pass
            code = EXIT_INTERNAL
    raise SystemExit(code)
