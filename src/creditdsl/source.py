"""Source files and spans: the only place that maps offsets to line:column.

Conventions, fixed once for the whole project:

* ``start`` and ``end`` are 0-based character offsets into ``SourceFile.text``;
  ``end`` is exclusive.
* ``line`` and ``col`` (and ``end_line``/``end_col``) are 1-based and count
  Unicode code points, exactly as Lark's ``meta`` and ``Token`` report them.
* A tab in indentation is a diagnostic, never expanded, so columns never drift.
* Spans take no part in the equality of compiled models (see ``model.Node``).

>>> src = SourceFile("x.rulebook", "a: 1\\nbb: 2\\n")
>>> src.position(6)
(2, 2)
>>> src.span(5, 7).line, src.span(5, 7).col
(2, 1)
"""

from __future__ import annotations

import bisect
from bisect import bisect_right as _bisect_right
from dataclasses import dataclass, field


@dataclass(slots=True, unsafe_hash=True)
class Span:
    """A region of one source file. Treated as immutable (hashable, compared by value); not
    frozen only because a frozen dataclass's constructor costs a setattr call per field, and
    a 1,000-rule rulebook makes some 16,000 spans."""

    file: str
    start: int
    end: int
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def join(self, other: "Span") -> "Span":
        """The smallest span covering both (same file)."""
        first, last = (self, other) if self.start <= other.start else (other, self)
        end = max(self, other, key=lambda s: s.end)
        return Span(self.file, first.start, end.end, first.line, first.col, end.end_line, end.end_col)


@dataclass(frozen=True)
class SourceFile:
    """A rulebook's text with a line index; spans point into it."""

    path: str
    text: str
    line_starts: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        text = self.text
        i = text.find("\n")
        while i != -1:
            starts.append(i + 1)
            i = text.find("\n", i + 1)
        object.__setattr__(self, "line_starts", tuple(starts))

    def position(self, offset: int) -> tuple[int, int]:
        """(line, col), both 1-based, of a character offset (clamped into the text)."""
        offset = max(0, min(offset, len(self.text)))
        index = bisect.bisect_right(self.line_starts, offset) - 1
        return index + 1, offset - self.line_starts[index] + 1

    def offset(self, line: int, col: int) -> int:
        """The character offset of a 1-based (line, col), clamped into the text."""
        line = max(1, min(line, len(self.line_starts)))
        return max(0, min(self.line_starts[line - 1] + col - 1, len(self.text)))

    def span(self, start: int, end: int) -> Span:
        size = len(self.text)
        start = 0 if start < 0 else size if start > size else start
        end = start if end < start else size if end > size else end
        starts = self.line_starts
        first = _bisect_right(starts, start) - 1
        last = first if first + 1 == len(starts) or end < starts[first + 1] else _bisect_right(starts, end, first) - 1
        return Span(self.path, start, end, first + 1, start - starts[first] + 1, last + 1, end - starts[last] + 1)

    def eof(self) -> Span:
        """A zero-width span at the end of the text (Lark reports EOF as line -1)."""
        return self.span(len(self.text), len(self.text))

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break."""
        if line < 1 or line > len(self.line_starts):
            return ""
        start = self.line_starts[line - 1]
        end = self.line_starts[line] - 1 if line < len(self.line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r")

    def slice(self, span: Span) -> str:
        return self.text[span.start : span.end]

    @property
    def line_count(self) -> int:
        return len(self.line_starts)
