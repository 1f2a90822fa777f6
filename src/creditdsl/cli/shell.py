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

``main()`` is the console script (defined here; the verbs live in the
sibling modules ``rulebooks``, ``runs`` and ``reports``). No Python traceback reaches a user: every
exception is caught at the top.

Diagnostics go to standard error; results (the table, JSON documents) go to
standard output, so ``creditdsl run ... --format json > out.json`` keeps
warnings out of the file.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
import traceback
from enum import Enum
from typing import Any, Sequence

import typer

from .. import __version__
from ..diagnostics import CreditDslError, Diagnostic, error
from ..render import (
    make_console,
    render_diagnostics,
    render_internal_error,
)
from ..source import SourceFile

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
    from .. import pipeline

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
