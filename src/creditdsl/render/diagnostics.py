"""Diagnostics, rendered for people.

Diagnostics are rendered rustc-style (STYLE.md §2.4)::

    error[E0301]: unknown ledger `credt`
      --> rulebooks/rongcheng.rulebook:27:5
       |
    27 |     credt: -3
       |     ^^^^^ not a ledger and not a rule key
       |
      ::: rulebooks/rongcheng.rulebook:9:3
       |
     9 |   credit: 1000
       |   ------ ledger `credit` declared here
       |
       = help: did you mean `credit`?

    error: could not check `rulebooks/rongcheng.rulebook` (1 error, 0 warnings)

Layout decisions, fixed here and pinned by ``tests/golden/render/``:

* The gutter is as wide as the widest line number shown anywhere in one
  diagnostic (at least 1).
* A label in the primary span's file whose lines lie within ``NEAR`` lines of
  the primary span is drawn in the primary snippet; any other label gets its
  own ``::: file:line:col`` section (labels close to each other share one).
  Between two shown lines, a single hidden line is shown, a longer gap is
  ``...``.
* ``^`` marks the primary span, ``-`` a label; at least one mark, even for a
  zero-width span. ``Diagnostic`` has no field for the primary span's own
  message: the first label whose span *equals* the primary span gives the
  ``^`` its message (``Label(span, "not a ledger and not a rule key")``). Several marks on one line are drawn on separate rows,
  ordered by column.
* A span over several lines shows its first and last lines joined by ``|``
  in a margin column (``/`` when the span starts at the line's indentation,
  otherwise a ``_`` run pointing at its first character); more than one line
  apart, the hidden lines are ``...``. Only one multi-line span per snippet
  gets the margin; further ones are marked on their first line only.
* Columns count code points (source.py); marks are aligned by terminal cell
  width, so wide (CJK) characters line up. Tabs show as four spaces and
  invisible or bidirectional control characters as ``<U+202E>``, so a shown
  line can never reorder itself on the terminal.
* A diagnostic without span shows its header, ``--> PATH`` when it names a
  file, and its notes.
* Diagnostics are sorted (file, line, column, code) and capped at
  ``max_errors`` (``0`` or less: no cap), followed by ``… and N more``.
* The summary line counts *all* diagnostics, shown or not:
  ``error: could not check `PATH` (2 errors, 1 warning)`` when there is an
  error; ``warning: `PATH` generated 1 warning`` when there are only warnings
  (cargo's wording); nothing when clean.

Colour is applied through rich styles only; with ``color_system=None`` the
output is exactly the plain text above.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from rich.console import Console
from rich.text import Text

from ..diagnostics import Diagnostic, Label, Severity
from ..source import SourceFile, Span
from .jsontext import render_json
from .console import NEAR, _GUTTER, _LABEL, _SEVERITY_STYLE, _emit, _plural, _visible, _width

# ---------------------------------------------------------------- diagnostics: layout


@dataclass(frozen=True)
class _Mark:
    """One span to mark inside a snippet."""

    line: int  # first line
    col: int  # first column (1-based)
    end_line: int  # last line holding a character of the span
    end_col: int  # exclusive column on end_line
    message: str
    primary: bool

    @property
    def multiline(self) -> bool:
        return self.end_line > self.line


def _mark(span: Span, message: str, primary: bool, src: SourceFile | None) -> _Mark:
    line, col, end_line, end_col = span.line, span.col, span.end_line, span.end_col
    if end_line < line or (end_line == line and end_col < col):
        end_line, end_col = line, col
    # A span that ends right after a line break ends, for display, on the line before.
    if end_line > line and end_col == 1:
        end_line -= 1
        end_col = (len(src.line_text(end_line)) if src else 0) + 1
        if end_line == line:
            end_col = max(end_col, col)
    return _Mark(line, col, end_line, end_col, message, primary)


def _cluster(labels: list[Label]) -> list[list[Label]]:
    """Labels outside the primary snippet: grouped by file, then by nearness."""
    groups: list[list[Label]] = []
    for lb in sorted(labels, key=lambda x: (x.span.file, x.span.line, x.span.col)):
        last = groups[-1][-1] if groups else None
        if last is not None and last.span.file == lb.span.file and lb.span.line - last.span.end_line <= NEAR:
            groups[-1].append(lb)
        else:
            groups.append([lb])
    return groups


@dataclass
class _Snippet:
    header: str  # "-->" or ":::"
    where: str  # file:line:col
    src: SourceFile | None
    marks: list[_Mark]
    orphan_messages: list[str]  # label messages whose source text is unavailable

    def line_numbers(self) -> list[int]:
        if self.src is None:
            return []
        shown: set[int] = set()
        for m in self.marks:
            shown.add(m.line)
            shown.add(m.end_line)
        return sorted(shown)


class _DiagnosticRenderer:
    """Builds the rows of one diagnostic as rich ``Text`` lines."""

    def __init__(self, d: Diagnostic, sources: Mapping[str, SourceFile]):
        self.d = d
        self.sources = sources
        self.mark_style = _SEVERITY_STYLE.get(d.severity, "bold")
        self.snippets = self._snippets()
        numbers = [n for s in self.snippets for n in s.line_numbers()]
        self.w = max([len(str(n)) for n in numbers] + [1])

    # -- structure

    def _snippets(self) -> list[_Snippet]:
        d = self.d
        if d.span is None:
            return []
        primary = d.span
        src = self.sources.get(primary.file)
        near: list[Label] = []
        far: list[Label] = []
        primary_message = ""
        for lb in d.labels:
            if not primary_message and lb.span == primary and lb.message:
                primary_message = lb.message  # a label on the primary span labels the `^`
                continue
            if (
                src is not None
                and lb.span.file == primary.file
                and lb.span.line >= primary.line - NEAR
                and lb.span.line <= primary.end_line + NEAR
            ):
                near.append(lb)
            else:
                far.append(lb)
        marks = [_mark(primary, primary_message, True, src)]
        marks += [_mark(lb.span, lb.message, False, src) for lb in near]
        if src is None:
            # Without the text only the location and the label messages can be shown.
            orphans = [lb.message for lb in near if lb.message]
            snippets = [_Snippet("-->", str(primary), None, marks, orphans)]
        else:
            snippets = [_Snippet("-->", str(primary), src, marks, [])]
        for group in _cluster(far):
            gsrc = self.sources.get(group[0].span.file)
            gmarks = [_mark(lb.span, lb.message, False, gsrc) for lb in group]
            orphans = [] if gsrc is not None else [lb.message for lb in group if lb.message]
            snippets.append(_Snippet(":::", str(group[0].span), gsrc, gmarks, orphans))
        return snippets

    # -- rows

    def _gutter(self, number: int | None = None) -> Text:
        label = f"{number:>{self.w}}" if number is not None else " " * self.w
        return Text(f"{label} |", style=_GUTTER)

    def _blank(self) -> Text:
        return self._gutter()

    def lines(self) -> list[Text]:
        d = self.d
        out: list[Text] = []
        header = Text()
        header.append(f"{d.severity}[{d.code}]" if d.code else str(d.severity), style=self.mark_style)
        header.append(": ")
        header.append(d.message, style="bold")
        out.append(header)

        pad = " " * self.w
        if not self.snippets and d.path:
            out.append(Text(pad) + Text("--> ", style=_GUTTER) + Text(d.path))
        for i, snip in enumerate(self.snippets):
            if i > 0:
                out.append(self._blank())
            out.append(Text(pad) + Text(f"{snip.header} ", style=_GUTTER) + Text(snip.where))
            if snip.src is not None:
                out.append(self._blank())
                out.extend(self._snippet_rows(snip))
            for message in snip.orphan_messages:
                out.append(Text(pad + " ") + Text("= ", style=_GUTTER) + Text(f"label: {message}"))

        tail: list[tuple[str, str]] = [("note", n) for n in d.notes]
        if d.help:
            tail.append(("help", d.help))
        if tail:
            out.append(self._blank())
            for kind, message in tail:
                first, *rest = message.split("\n")
                row = Text(pad + " ") + Text("= ", style=_GUTTER)
                row.append(f"{kind}:", style="bold")
                row.append(f" {first}")
                out.append(row)
                indent = " " * (self.w + 1 + len(f"= {kind}: "))
                out.extend(Text(indent + more) for more in rest)
        return [_rstrip(t) for t in out]

    def _snippet_rows(self, snip: _Snippet) -> list[Text]:
        src = snip.src
        assert src is not None
        multi = [m for m in snip.marks if m.multiline]
        ml = multi[0] if multi else None  # the one multi-line mark drawn with a margin
        singles = [m for m in snip.marks if m is not ml]
        slash = False
        if ml is not None:
            first = src.line_text(ml.line)
            indent = len(first) - len(first.lstrip(" \t"))
            slash = ml.col <= indent + 1

        rows: list[Text] = []
        numbers = snip.line_numbers()
        previous: int | None = None
        for n in numbers:
            if previous is not None and n - previous == 2:
                rows.extend(self._source_rows(src, previous + 1, ml, slash, []))
            elif previous is not None and n - previous > 2:
                rows.append(Text("...", style=_GUTTER))
            on_line = sorted(
                (m for m in singles if m.line == n),
                key=lambda m: (m.col, not m.primary),
            )
            rows.extend(self._source_rows(src, n, ml, slash, on_line))
            previous = n
        return rows

    def _margin(self, n: int, ml: _Mark | None, slash: bool) -> str:
        """The two cells before the source text when a snippet has a multi-line mark."""
        if ml is None:
            return ""
        if n == ml.line:
            return "/ " if slash else "  "
        if ml.line < n <= ml.end_line:
            return "| "
        return "  "

    def _source_rows(self, src: SourceFile, n: int, ml: _Mark | None, slash: bool, marks: list[_Mark]) -> list[Text]:
        text = src.line_text(n)
        margin = self._margin(n, ml, slash)
        row = self._gutter(n) + Text(" ")
        if margin:
            row.append(margin, style=self._style(ml) if margin.strip() else "")
        row.append(_visible(text))
        rows = [row]

        # the margin under a source row, while inside the multi-line span
        under = ""
        if ml is not None:
            under = "| " if (ml.line < n < ml.end_line or (n == ml.line and slash and n != ml.end_line)) else "  "

        for m in marks:
            start = _width(text[: m.col - 1]) + max(0, m.col - 1 - len(text))
            if m.end_line > m.line:  # a multi-line span not given the margin: mark its first line
                length = max(1, _width(text[m.col - 1 :]))
            else:
                length = max(1, _width(text[m.col - 1 : m.end_col - 1]))
            char = "^" if m.primary else "-"
            mark_row = self._gutter() + Text(" ")
            if under:
                mark_row.append(under, style=self._style(ml) if under.strip() else "")
            mark_row.append(" " * start)
            mark_row.append(char * length, style=self._style(m))
            if m.message:
                mark_row.append(" ")
                mark_row.append(m.message, style=self._style(m))
            rows.append(mark_row)

        if ml is not None and n == ml.line and not slash:
            # ` ____^` pointing at the first character of the span
            index = 2 + _width(text[: ml.col - 1])
            rows.append(self._gutter() + Text(" ") + Text(" " + "_" * (index - 1) + _char(ml), style=self._style(ml)))
        if ml is not None and n == ml.end_line:
            last = ml.end_col - 1  # column of the span's last character
            index = 2 + _width(text[: max(0, last - 1)])
            row_end = self._gutter() + Text(" ") + Text("|" + "_" * (index - 1) + _char(ml), style=self._style(ml))
            if ml.message:
                row_end.append(" ")
                row_end.append(ml.message, style=self._style(ml))
            rows.append(row_end)
        return rows

    def _style(self, m: _Mark | None) -> str:
        if m is None:
            return ""
        return self.mark_style if m.primary else _LABEL


def _char(m: _Mark) -> str:
    return "^" if m.primary else "-"


def _rstrip(text: Text) -> Text:
    text.rstrip()
    return text


# ---------------------------------------------------------------- diagnostics: public


def _subject(subject_path: str | Sequence[str] | None, diagnostics: Sequence[Diagnostic]) -> str:
    if isinstance(subject_path, str):
        paths = [subject_path]
    elif subject_path is not None:
        paths = list(subject_path)
    else:
        found = {d.span.file if d.span is not None else d.path for d in diagnostics}
        paths = sorted(p for p in found if p)
    return ", ".join(f"`{p}`" for p in paths)


def render_diagnostics(
    diagnostics: Iterable[Diagnostic],
    sources: Mapping[str, SourceFile],
    console: Console,
    max_errors: int = 20,
    subject_path: str | Sequence[str] | None = None,
    *,
    verb: str = "check",
) -> None:
    """Print ``diagnostics`` (sorted, capped) and a summary line to ``console``.

    ``sources`` maps a span's file to its text; a span whose file is missing is
    shown by location only. ``max_errors <= 0`` shows everything.
    ``subject_path`` names what was checked in the summary (one path or
    several; by default the files the diagnostics point into). ``verb`` words
    the summary: ``could not check`` / ``could not run``.
    """
    ordered = sorted(diagnostics, key=Diagnostic.sort_key)
    shown = ordered if max_errors <= 0 else ordered[:max_errors]
    for d in shown:
        for line in _DiagnosticRenderer(d, sources).lines():
            _emit(console, line)
        _emit(console, "")
    hidden = len(ordered) - len(shown)
    if hidden:
        _emit(console, Text(f"… and {hidden} more", style="bold"))
        _emit(console, "")

    errors = sum(1 for d in ordered if d.severity is Severity.ERROR)
    warnings = sum(1 for d in ordered if d.severity is Severity.WARNING)
    subject = _subject(subject_path, ordered)
    if errors:
        summary = Text()
        summary.append("error", style=_SEVERITY_STYLE[Severity.ERROR])
        what = f"could not {verb} {subject}" if subject else f"could not {verb}"
        summary.append(f": {what} ({_plural(errors, 'error')}, {_plural(warnings, 'warning')})", style="bold")
        _emit(console, summary)
    elif warnings:
        summary = Text()
        summary.append("warning", style=_SEVERITY_STYLE[Severity.WARNING])
        who = f"{subject} generated" if subject else "generated"
        summary.append(f": {who} {_plural(warnings, 'warning')}", style="bold")
        _emit(console, summary)


def diagnostics_document(diagnostics: Iterable[Diagnostic]) -> dict:
    """The ``--format json`` shape of a check: diagnostics plus counts."""
    ordered = sorted(diagnostics, key=Diagnostic.sort_key)
    return {
        "diagnostics": [d.to_json() for d in ordered],
        "errors": sum(1 for d in ordered if d.severity is Severity.ERROR),
        "warnings": sum(1 for d in ordered if d.severity is Severity.WARNING),
    }


def render_diagnostics_json(diagnostics: Iterable[Diagnostic], console: Console) -> None:
    """Print the diagnostics as one JSON document (see ``diagnostics_document``)."""
    render_json(diagnostics_document(diagnostics), console)


def render_invalid_lines(path: str, lines: Iterable[Any], console: Console) -> None:
    """Invalid input lines, one per row: ``FILE:LINE: reason [CODE]`` (issue 3).

    ``lines`` are records with ``.line``, ``.reason`` and (optionally) ``.code``
    (``events.InvalidLine``), in input order; the code names the section of
    docs/errors.md that explains the reason.
    """
    for item in lines:
        code = getattr(item, "code", None)
        _emit(console, Text(f"{path}:{item.line}: {item.reason}" + (f" [{code}]" if code else "")))


def render_messages(path: str, messages: Iterable[str], console: Console) -> None:
    """Plain ``PATH: message`` rows (problems without a span, e.g. subjects lines)."""
    for message in messages:
        _emit(console, Text(f"{path}: {message}"))


def render_internal_error(console: Console, detail: str, log_path: str | None, traceback_text: str | None) -> None:
    """The one message a crash shows (exit 3); the traceback only on request."""
    if traceback_text:
        _emit(console, Text(traceback_text.rstrip("\n")))
    line = Text()
    line.append("internal error", style=_SEVERITY_STYLE[Severity.ERROR])
    line.append(": this is a bug in creditdsl", style="bold")
    _emit(console, line)
    _emit(console, Text(f"  = note: {detail}"))
    if log_path:
        _emit(console, Text(f"  = note: details written to {log_path}"))
    if not traceback_text:
        _emit(console, Text("  = help: rerun with --debug (or CREDITDSL_DEBUG=1) to see the traceback"))


