"""The structure layer of one file as entries: lines of `key: value`, `key:` with its
indented block, and `- item` (what compiler.py compiles into a model).

Public API::

    Entry                    one line of the structure, with its block and spans
    read_entries(src)        the entries of a SourceFile; raises CreditDslError (the
                             parser's diagnostics) for text the grammar refuses

Two readers give the same entries: ``_fast_entries``, a line reader built from
structure.lark's own terminal regexes, for text it is sure of; and Lark with the
indenter (``parser.parse_prepared``) walked by ``_entries``, for anything else, so every
syntax and indentation error is Lark's. Split out of compiler.py (issue 9: the line
reader makes the 1,000-rule compile about 40 % cheaper).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lark import Token, Tree

from .parser import ValueText, parse_prepared, prepare, structure_parser
from .source import SourceFile, Span
from .value_compiler import unquote


def read_entries(src: SourceFile) -> list["Entry"]:
    """The entries of ``src`` (the fast reader's, else Lark's)."""
    text = prepare(src)
    entries = _fast_entries(src, text)
    if entries is None:
        entries = _entries(parse_prepared(src, text), src)
    return entries


@dataclass
class Entry:
    """One line of the structure: `key: value`, `key:` + block, or `- item`."""

    key: str | None  # None for a `- item`
    key_span: Span | None
    value: ValueText | None = None
    value_span: Span | None = None
    block: list["Entry"] | None = None  # the indented block under `key:`
    span: Span | None = None

    @property
    def items(self) -> list["Entry"]:
        return [e for e in self.block or [] if e.key is None]

    @property
    def entries(self) -> list["Entry"]:
        return [e for e in self.block or [] if e.key is not None]

    @property
    def where(self) -> Span:
        return self.key_span or self.value_span  # type: ignore[return-value]


def _entries(tree: Tree, src: SourceFile) -> list[Entry]:
    out = []
    for node in tree.children:
        if not isinstance(node, Tree):
            continue
        if node.data == "item":
            tok = node.children[0]
            vspan = src.span(tok.start_pos, tok.end_pos)
            out.append(Entry(None, None, ValueText(str(tok), tok.start_pos), vspan, span=vspan))
            continue
        key_tok: Token = node.children[0]
        kspan = src.span(key_tok.start_pos, key_tok.end_pos)
        entry = Entry(unquote(str(key_tok).strip()), kspan, span=kspan)
        if node.data == "pair":
            tok = node.children[1]
            entry.value = ValueText(str(tok), tok.start_pos)
            entry.value_span = src.span(tok.start_pos, tok.end_pos)
            entry.span = kspan.join(entry.value_span)
        elif node.data == "section":
            entry.block = _entries(node.children[1], src)
        out.append(entry)
    return out


@lru_cache(maxsize=None)
def _terminals() -> tuple[Any, ...]:
    """The `match` of structure.lark's terminals, compiled from the loaded grammar itself."""
    grammar = structure_parser()
    return tuple(re.compile(grammar.get_terminal(name).pattern.to_regexp()).match
                 for name in ("KEY", "VALUE", "_NL", "_DASH", "WS_INLINE", "COMMENT"))


def _fast_entries(src: SourceFile, text: str) -> list[Entry] | None:
    """The entries of ``text`` (from ``parser.prepare``) read line by line with the grammar's own
    terminals, or None for any text this reader is not sure Lark would read without an error.

    Equal to ``_entries(parse_prepared(src, text), src)`` whenever it is not None (tested on every
    rulebook of the test suite and on mutated ones): the contextual lexer allows, at a line start,
    KEY or (in a block) _DASH; after `KEY:` a VALUE or a line end; after `- ` a VALUE; blanks and a
    comment before a line end are ignored. Terminals allowed together never start with the same
    character, so the one that matches is the one Lark picks. Indentation as RulebookIndenter reads
    it; an indented line may only follow `key:` with nothing after it. Anything else (a syntax or
    indentation error, even one this reader could name) goes to Lark, whose diagnostics stand."""
    key_m, value_m, nl_m, dash_m, ws_m, comment_m = _terminals()
    span = src.span
    root: list[Entry] = []
    blocks = [root]  # the open blocks, innermost last
    levels = [0]  # their indentation
    size = len(text)
    pos = 0
    if text.startswith("#"):
        pos = comment_m(text, 0).end()
    found = nl_m(text, pos)  # start: _NL? entry*
    if found is not None:
        pos = found.end()
        if _indent(text, pos) != 0:
            return None
    elif pos:
        return None
    while pos < size:
        if text[pos] == "-":
            if len(blocks) == 1 or dash_m(text, pos) is None:
                return None
            pos += 1
            found = ws_m(text, pos)
            found = value_m(text, found.end() if found is not None else pos)
            if found is None:
                return None
            start, pos = found.span()
            vspan = span(start, pos)
            blocks[-1].append(Entry(None, None, ValueText(found.group(), start), vspan, span=vspan))
            opens = None
        else:
            found = key_m(text, pos)
            if found is None:
                return None
            start, pos = found.span()
            kspan = span(start, pos)
            entry = Entry(unquote(found.group().strip()), kspan, span=kspan)
            blocks[-1].append(entry)
            found = ws_m(text, pos)
            if found is not None:
                pos = found.end()
            if text[pos] != ":":  # pragma: no cover - KEY's lookahead holds a colon
                return None
            found = ws_m(text, pos + 1)
            found = value_m(text, found.end() if found is not None else pos + 1)
            if found is not None:
                start, pos = found.span()
                entry.value = ValueText(found.group(), start)
                entry.value_span = vspan = span(start, pos)
                entry.span = kspan.join(vspan)
                opens = None
            else:
                pos += 1
                opens = entry
        found = ws_m(text, pos)  # the end of the line: blanks, a comment, _NL
        if found is not None:
            pos = found.end()
        if text.startswith("#", pos):
            pos = comment_m(text, pos).end()
        found = nl_m(text, pos)
        if found is None:
            return None
        pos = found.end()
        indent = _indent(text, pos)
        if indent is None:
            return None
        if indent > levels[-1]:
            if opens is None:
                return None
            opens.block = []
            blocks.append(opens.block)
            levels.append(indent)
        else:
            while indent < levels[-1]:
                levels.pop()
                blocks.pop()
            if indent != levels[-1]:
                return None
    return root


def _indent(text: str, end: int) -> int | None:
    """The indentation RulebookIndenter reads from the _NL token ending at ``end`` (None for a tab)."""
    last_line = text[text.rfind("\n", 0, end) + 1 : end]
    rest = last_line.lstrip(" \t")
    indent_str = last_line[: len(last_line) - len(rest)]
    if "\t" in indent_str:
        return None
    return 0 if rest.startswith("#") else len(indent_str)
