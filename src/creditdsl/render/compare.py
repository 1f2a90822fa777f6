"""``compare`` and ``diff`` as tables, text and JSON (the HTML report is ``render.html``).

``render_comparison`` prints, in order: one line per scheme (``[k] NAME (PATH), as of
T``), the subjects table (each scheme's tier, ledgers, fines and, when any subject is
on a list, lists; ``differs``), the ``because`` table (one row per event the schemes
score differently: what each scheme's rules did with it, ``-`` for nothing), one
migration matrix per pair (rows: tier under the first, columns: under the second),
each scheme's tier distribution and run summary, and a last line ``N subjects, M
differ``. ``comparison_json`` writes the issue-6 document one subject (one matrix)
a line, numbers exact. ``render_diff`` prints one line per edit (``+`` added, ``-``
removed, ``~`` changed, ``>`` moved) with where each side stands, then a count.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Sequence

from rich.console import Console
from rich.text import Text

from ..results import dumps
from .console import _emit, _visible
from .tables import SUMMARY_ORDER, _table_lines, _write_plain, format_number


def _signed(value: Decimal) -> str:
    text = format_number(value)
    return text if value < 0 or text == "0" else "+" + text


def score_text(score: Any) -> str:
    """``failed to yield: credit -5, licence -3, fine 50``; ``-`` when the scheme did nothing."""
    if not score.rules:
        return "-"
    parts = [f"{name} {_signed(v)}" for name, v in score.changes]
    if score.fine:
        parts.append(f"fine {format_number(score.fine)}")
    parts += [f"listed {x}" for x in score.listed]
    parts += [f"unlisted {x}" for x in score.unlisted]
    return ", ".join(score.rules) + (": " + ", ".join(parts) if parts else "")


def _ledgers_text(ledgers: Sequence[tuple[str, Decimal]]) -> str:
    return ", ".join(f"{name} {format_number(v)}" for name, v in ledgers)


def _table(console: Console, headers: list[str], right: list[bool], rows: list[list[str]]) -> None:
    unicode = (console.encoding or "").lower().startswith("utf")
    head, body = _table_lines(headers, right, [[_visible(c) for c in row] for row in rows], unicode)
    for i, text in enumerate(head):
        _emit(console, Text(text, style="bold" if i == 1 else ""))
    _write_plain(console, body)


def render_comparison(comparison: Any, console: Console, *, events: str | None = None) -> None:
    """The default ``compare`` output (see the module docstring)."""
    c = comparison
    n = len(c.schemes)
    tag = [f"[{k + 1}]" for k in range(n)]
    _emit(console, Text(f"compare {n} rulebooks" + (f" over {events}" if events else ""), style="bold"))
    for k, s in enumerate(c.schemes):
        as_of = s.result.as_of
        _emit(console, Text(f"{tag[k]} {s.name} ({s.path})" + (f", as of {as_of.isoformat()}" if as_of else "")))

    with_lists = any(lst for row in c.subjects for lst in row.lists)
    headers = ["subject"] + [f"{t} tier" for t in tag] + [f"{t} ledgers" for t in tag] + [f"{t} fines" for t in tag]
    right = [False] * (1 + 2 * n) + [True] * n
    if with_lists:
        headers += [f"{t} lists" for t in tag]
        right += [False] * n
    headers.append("differs")
    right.append(False)
    rows = []
    for row in c.subjects:
        cells = [row.subject]
        cells += ["-" if t is None else t for t in row.tiers]
        cells += [_ledgers_text(x) for x in row.ledgers]
        cells += [format_number(f) for f in row.fines]
        if with_lists:
            cells += [", ".join(x) for x in row.lists]
        cells.append("yes" if row.differs else "")
        rows.append(cells)
    _emit(console, "")
    _emit(console, Text("subjects", style="bold"))
    _table(console, headers, right, rows)

    because = [(row.subject, b) for row in c.subjects for b in row.because]
    _emit(console, "")
    if because:
        _emit(console, Text("because: the events the schemes score differently", style="bold"))
        _table(
            console,
            ["subject", "event", "type", *tag],
            [False] * (3 + n),
            [[sid, b.event, b.type, *(score_text(s) for s in b.scores)] for sid, b in because],
        )
    else:
        _emit(console, Text("because: every event is scored alike under every scheme", style="bold"))

    for mg in c.migrations:
        a, b = tag[mg.first], tag[mg.second]
        _emit(console, "")
        _emit(console, Text(f"migration {a} -> {b} (rows: tier under {a}; columns: tier under {b})", style="bold"))
        _table(
            console,
            [f"{a} \\ {b}", *mg.columns],
            [False] + [True] * len(mg.columns),
            [[r, *(str(x) for x in mg.counts[i])] for i, r in enumerate(mg.rows)],
        )

    _emit(console, "")
    _emit(console, Text("distribution", style="bold"))
    for k, dist in enumerate(c.distributions):
        _emit(console, Text(f"{tag[k]} " + (", ".join(f"{t} {x}" for t, x in dist) or "no tiers")))
    _emit(console, "")
    _emit(console, Text("summary", style="bold"))
    for k, s in enumerate(c.schemes):
        summary = s.result.summary.to_json()
        _emit(console, Text(f"{tag[k]} " + ", ".join(f"{key}: {summary[key]}" for key in SUMMARY_ORDER)))
    _emit(console, "")
    differ = sum(1 for row in c.subjects if row.differs)
    total = len(c.subjects)
    _emit(console, Text(f"{total} subject{'' if total == 1 else 's'}, {differ} differ", style="bold"))


def lines_json(doc: dict) -> str:
    """A JSON object with each top-level key on its line, and each item of a list value
    on its own line (compact, numbers exact): readable, and diffs stay small."""
    keys = list(doc)
    out = ["{"]
    for n, key in enumerate(keys):
        comma = "," if n < len(keys) - 1 else ""
        value = doc[key]
        if isinstance(value, list) and value:
            out.append(f"  {dumps(key)}: [")
            out += [f"    {dumps(x)}" + ("," if i < len(value) - 1 else "") for i, x in enumerate(value)]
            out.append("  ]" + comma)
        else:
            out.append(f"  {dumps(key)}: {dumps(value)}{comma}")
    out.append("}")
    return "\n".join(out) + "\n"


def comparison_json(comparison: Any) -> str:
    """The ``compare --format json`` document: one subject (one matrix) a line, numbers exact."""
    return lines_json(comparison.to_json())


# ---------------------------------------------------------------- diff

_MARK = {"added": "+", "removed": "-", "changed": "~", "moved": ">"}


def _where(edit: Any) -> str:
    old = None if edit.old_span is None else str(edit.old_span)
    new = None if edit.new_span is None else str(edit.new_span)
    if old and new:
        return f"  ({old} -> {new})"
    return f"  ({old or new})" if (old or new) else ""


def edit_text(edit: Any) -> str:
    """One edit as a line (without its locations)."""
    mark = _MARK.get(edit.kind, "?")
    if edit.section == "rulebook":
        return f"{mark} rulebook {edit.field}: {edit.old or '(none)'} -> {edit.new or '(none)'}"
    what = f"{edit.section} `{edit.name}`"
    if edit.section == "event":
        return f"{mark} {what}: old: {edit.old or 'not handled'} | new: {edit.new or 'not handled'}"
    if edit.kind == "added":
        return f"{mark} {what}: {edit.new}"
    if edit.kind == "removed":
        return f"{mark} {what}: {edit.old}"
    if edit.kind == "moved":
        return f"{mark} {what} moved: position {edit.old} -> {edit.new}"
    return f"{mark} {what} {edit.field}: {edit.old or '(none)'} -> {edit.new or '(none)'}"


def diff_json_text(doc: dict) -> str:
    """The ``diff --format json`` document: one edit a line."""
    return lines_json(doc)


def render_diff(edits: Sequence[Any], old: str, new: str, console: Console) -> None:
    """The default ``diff`` output (see the module docstring)."""
    _emit(console, Text(f"diff {old} -> {new}", style="bold"))
    for e in edits:
        _emit(console, Text(_visible(edit_text(e) + _where(e))))
    if not edits:
        _emit(console, Text("no differences", style="bold"))
        return
    counts = {k: sum(1 for e in edits if e.kind == k) for k in _MARK}
    total = len(edits)
    _emit(console, Text(
        f"{total} edit{'' if total == 1 else 's'}: " + ", ".join(f"{n} {k}" for k, n in counts.items()), style="bold"
    ))
