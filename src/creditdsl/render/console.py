"""Consoles and the small text helpers every renderer shares."""

from __future__ import annotations

import unicodedata
from typing import IO

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from ..diagnostics import Severity

NEAR = 3  # a same-file label within this many lines of the primary span shares its snippet

_SEVERITY_STYLE = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "bold yellow",
    Severity.NOTE: "bold green",
}
_GUTTER = "bold blue"
_LABEL = "bold blue"


# ---------------------------------------------------------------- consoles


class _Console(Console):
    """rich's Console, except that a closed pipe is left to the caller.

    rich answers EPIPE with ``SystemExit(1)``; creditdsl's exit 1 means "the
    input is wrong", so the CLI turns a closed stdout into its own quiet exit.
    """

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError(32, "Broken pipe")


def make_console(
    file: IO[str] | None = None,
    width: int | None = None,
    color: bool = True,
    *,
    stderr: bool = False,
) -> Console:
    """A console for creditdsl output.

    ``file=None`` resolves ``sys.stdout`` (or ``sys.stderr`` with ``stderr=True``)
    at every write, so test runners that swap the streams see the output.
    ``color=True`` lets rich decide (terminal, ``NO_COLOR``, ``FORCE_COLOR``);
    ``color=False`` writes plain text. Goldens use
    ``Console(width=100, color_system=None, file=StringIO())``.
    """
    return _Console(
        file=file,
        width=width,
        stderr=stderr,
        color_system="auto" if color else None,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
    )


def _emit(console: Console, line: Text | str) -> None:
    """One physical line, never wrapped nor cropped (long source lines stay whole)."""
    console.print(line, soft_wrap=True, highlight=False, markup=False, emoji=False)


# ---------------------------------------------------------------- text helpers


def _visible_char(ch: str) -> str:
    if ch == "\t":
        return "    "
    if ch in "\r\n":
        return ""
    cat = unicodedata.category(ch)
    # Cc controls, Cf format characters (bidi overrides, zero-width joiners...)
    if cat in ("Cc", "Cf") or ch in "\u2028\u2029":
        return f"<U+{ord(ch):04X}>"
    return ch


def _visible(text: str) -> str:
    """Source text as it is safe to show on a terminal (see module docstring)."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(_visible_char(ch) for ch in text)


def _width(text: str) -> int:
    """Terminal cells taken by ``text`` once made visible."""
    return cell_len(_visible(text))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


