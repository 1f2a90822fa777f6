"""The `run` verb."""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from typing import Optional

import typer

from ..diagnostics import CreditDslError, error
from ..outputs import atomic_output
from ..render import (
    make_console,
    render_invalid_lines,
    write_json_chunks,
    render_messages,
    render_run,
    to_json_text,
)
from .shell import (
    EXIT_CODES_HELP,
    EXIT_INPUT,
    EXIT_OK,
    EXIT_USAGE,
    RunFormat,
    _err,
    _out,
    _pipeline,
    _report,
    _sources_of,
    _unreadable,
    _verb,
    app,
)


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
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, metavar="N",
        help="Fold subjects in N processes (partitioned by a stable hash of the subject id); "
        "byte-identical output to one worker. Not with --resume/--save-state or EVENTS '-'.",
    ),
    max_errors: int = typer.Option(20, "--max-errors", min=0, help="Show at most N diagnostics (0: all)."),
) -> None:
    """Fold an event log into every subject's ledgers, tier, fines, lists and sanctions.

    Invalid lines are reported on stderr as FILE:LINE: reason [CODE] and counted;
    the run goes on (with --strict it still runs, then exits 1). Files named by
    --audit, --rejects and --output are written whole or not at all: an
    interrupted run (Ctrl-C, exit 130) leaves none of them behind.
    """
    from .. import interpreter
    from ..results import AuditWriter, result_json_chunks

    missing = [
        d for d in (_unreadable(events, "events file"), _unreadable(subjects, "subjects file") if subjects else None) if d
    ]
    if resume is not None and (bad_state := _unreadable(resume, "state file")) is not None:
        missing.append(bad_state)
    if workers > 1 and (resume is not None or save_state is not None or events == "-"):
        raise typer.BadParameter("--workers needs an events file, and no --resume or --save-state",
                                 param_hint="--workers")
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
            if workers > 1:
                from ..parallel import run_parallel

                result = run_parallel(model, events, workers, subjects=subjects, as_of=as_of,
                                      audit_stream=opened.get("audit"))
            else:
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
        if events != "-":
            run_warnings += _pipeline().period_warnings(model, events)
        if run_warnings:
            _report(run_warnings, sources, subject=rulebook, verb="run", max_errors=max_errors)
        out = make_console(file=opened["output"], width=_out().width, color=False) if "output" in opened else _out()
        if format is RunFormat.json:
            write_json_chunks(result_json_chunks(result), out)
        else:
            render_run(result.to_json(), out)
        if "state" in opened:
            from ..savestate import state_text

            opened["state"].write(state_text(result.state))
    invalid = bool(result.invalid) or bool(bad_subjects)
    raise typer.Exit(EXIT_INPUT if (strict and invalid) else EXIT_OK)


