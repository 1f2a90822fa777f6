"""All terminal output: diagnostics, run results, JSON documents.

Only this module and ``cli`` import rich (a test enforces it). Everything else
returns values; here they become text.

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

import json
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any, Iterable, Mapping, Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from .diagnostics import Diagnostic, Label, Severity
from .source import SourceFile, Span

__all__ = [
    "make_console",
    "render_diagnostics",
    "render_diagnostics_json",
    "render_run",
    "render_json",
    "render_invalid_lines",
    "render_messages",
    "render_internal_error",
    "format_number",
    "to_json_text",
]

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


# ---------------------------------------------------------------- JSON


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


def _number_text(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"{value} is not a JSON number")
    if value == value.to_integral_value():
        return format(value.quantize(Decimal(1)), "f")
    return format(value.normalize(), "f")


def _encode(value: Any, indent: int | None, level: int, out: list[str]) -> None:
    if isinstance(value, Decimal):
        out.append(_number_text(value))
    elif value is None or isinstance(value, (bool, int, float, str)):
        out.append(json.dumps(value, ensure_ascii=False, allow_nan=False))
    elif isinstance(value, Mapping) or isinstance(value, (list, tuple, set, frozenset)):
        is_map = isinstance(value, Mapping)
        items = list(value.items()) if is_map else list(value)
        if not items:
            out.append("{}" if is_map else "[]")
            return
        out.append("{" if is_map else "[")
        inner = "\n" + " " * (indent * (level + 1)) if indent is not None else ""
        sep = "," if indent is not None else ", "
        for i, item in enumerate(items):
            if i:
                out.append(sep)
            out.append(inner)
            if is_map:
                key, item = item
                out.append(json.dumps(str(key), ensure_ascii=False))
                out.append(": ")
            _encode(item, indent, level + 1, out)
        out.append("\n" + " " * (indent * level) if indent is not None else "")
        out.append("}" if is_map else "]")
    else:
        _encode(_json_default(value), indent, level, out)


def to_json_text(doc: Any, *, indent: int | None = None) -> str:
    """JSON text with Decimals written as exact JSON numbers (``999.5``, ``1000``).

    For documents that do not come through ``results``' own writer (the
    compiled model, diagnostics). Keys keep their order; dates become ISO
    strings and pydantic models their JSON dump.
    """
    out: list[str] = []
    _encode(doc, indent, 0, out)
    return "".join(out)


def render_json(doc: Any, console: Console, *, indent: int | None = 2) -> None:
    """Print a JSON document (a dict, or text already written by a JSON writer)."""
    text = doc if isinstance(doc, str) else to_json_text(doc, indent=indent)
    console.out(text.rstrip("\n"), highlight=False)


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
