"""The indentation post-lexer: _NL tokens become _INDENT/_DEDENT tokens.

Differences from ``lark.indenter.Indenter``, each for a located diagnostic:

* a tab in indentation raises :class:`IndentationProblem` ``E0002`` at the tab
  (never expanded, so columns never drift);
* an unindent to a column that matches no enclosing block raises ``E0003``
  with the columns that would fit (Lark's ``DedentError`` has no position);
* ``_NL`` also swallows blank and comment-only lines (lark issue #863), so the
  indentation that counts is the one of the last line the token holds.
"""

from __future__ import annotations

from typing import Iterator

from lark import Token
from lark.indenter import Indenter


class IndentationProblem(Exception):
    """Raised from inside the token stream; the parser turns it into a Diagnostic."""

    def __init__(self, code: str, message: str, offset: int, length: int, help: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.offset = offset
        self.length = length
        self.help = help


class RulebookIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types: list[str] = []
    CLOSE_PAREN_types: list[str] = []
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def handle_NL(self, token: Token) -> Iterator[Token]:
        yield token
        text = str(token)
        last_break = text.rfind("\n")
        last_line = text[last_break + 1 :]
        indent_str = last_line[: len(last_line) - len(last_line.lstrip(" \t"))]
        if "\t" in indent_str:
            offset = (token.start_pos or 0) + last_break + 1 + indent_str.index("\t")
            raise IndentationProblem(
                "E0002",
                "tab in indentation",
                offset,
                1,
                help="indent with spaces; tabs are never expanded",
            )
        if last_line.lstrip(" \t").startswith("#"):
            # Only possible at the end of the file: a trailing comment line.
            indent_str = ""
        indent = len(indent_str)
        levels_before = list(self.indent_level)
        if indent > self.indent_level[-1]:
            self.indent_level.append(indent)
            yield Token.new_borrow_pos(self.INDENT_type, indent_str, token)
            return
        while indent < self.indent_level[-1]:
            self.indent_level.pop()
            yield Token.new_borrow_pos(self.DEDENT_type, indent_str, token)
        if indent != self.indent_level[-1]:
            fits = " or ".join(str(level + 1) for level in sorted(set(levels_before)))
            offset = (token.start_pos or 0) + last_break + 1
            raise IndentationProblem(
                "E0003",
                "unindent does not match any outer indentation level",
                offset + indent,
                1,
                help=f"indent this line to column {fits}",
            )
