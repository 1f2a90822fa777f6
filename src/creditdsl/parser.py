"""Text to Lark trees, and Lark's exceptions to located diagnostics.

Two grammars, both LALR with the contextual lexer (data files in
``grammar/``): ``structure.lark`` reads the lines of a file (keys, blocks,
items) through :class:`~creditdsl.indenter.RulebookIndenter`; ``values.lark``
has one start rule per kind of value and parses each raw VALUE token by the
kind its key expects. :func:`parse_value` offsets every position back into
the file, so spans stay exact.

Errors (all raised as :class:`CreditDslError`, never a Lark exception):
E0001 unexpected character, E0002 tab in indentation, E0003 inconsistent
indentation, E0005 a bound exceeded, E0006 bidi/invisible characters, E0101
syntax, E0102 unexpected end, E0103 unterminated string, E0104 not `key:
value`, E0105 expression too deep.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .diagnostics import CreditDslError, Diagnostic, error, suggest
from .indenter import IndentationProblem, RulebookIndenter
from .source import SourceFile, Span

GRAMMAR_DIR = Path(__file__).parent / "grammar"

# Documented bounds (docs/language.md "Bounds").
MAX_FILE_CHARS = 2_000_000
MAX_VALUE_CHARS = 10_000
MAX_EXPR_DEPTH = 64

VALUE_STARTS = [
    "expr",
    "signed_number",
    "when",
    "duration",
    "names",
    "change",
    "fine",
    "tier_cap",
    "limit",
    "cap",
    "requires",
    "grace",
    "reset_spec",
    "test_event",
    "test_value",
]

# How expected terminals read in messages.
TERMINAL_WORDS = {
    "NUMBER": "a number",
    "NAME": "a name",
    "FIELD": "a field name",
    "STRING": 'a "string"',
    "DATE": "a date",
    "DATETIME": "a datetime",
    "LABEL": "a name",
    "TIER_NAME": "a tier name",
    "COMP_OP": "a comparison",
    "ADD_OP": "`+` or `-`",
    "MUL_OP": "`*` or `/`",
    "RESET_EVERY": "`yearly` or `monthly`",
    "KEY": "a `key:`",
    "VALUE": "a value",
    "_NL": "a line end",
    "_INDENT": "an indented block",
    "_DEDENT": "the end of the block",
    "_COLON": "`:`",
    "_DASH": "`- `",
    "$END": "the end of the value",
}


@lru_cache(maxsize=None)
def structure_parser() -> Lark:
    return Lark(
        (GRAMMAR_DIR / "structure.lark").read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        postlex=RulebookIndenter(),
        propagate_positions=False,  # spans come from the KEY/VALUE tokens themselves
        maybe_placeholders=True,
        cache=_cache_file("structure"),
    )


@lru_cache(maxsize=None)
def value_parser() -> Lark:
    return Lark(
        (GRAMMAR_DIR / "values.lark").read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        start=VALUE_STARTS,
        propagate_positions=True,
        maybe_placeholders=True,
        cache=_cache_file("values"),
    )


def _cache_file(name: str) -> str | bool:
    """Lark's grammar analysis, cached between processes (3x faster start).

    The file name carries a hash of the grammar text and the Lark version, so a
    changed grammar never loads stale tables; an unwritable cache folder just
    means no cache (Lark then analyses the grammar each time)."""
    import hashlib
    import tempfile

    import lark

    text = (GRAMMAR_DIR / f"{name}.lark").read_bytes()
    digest = hashlib.blake2b(text + lark.__version__.encode(), digest_size=8).hexdigest()
    folder = Path(tempfile.gettempdir())
    if not os.access(folder, os.W_OK):
        return False
    return str(folder / f"creditdsl-{name}-{digest}.lark-cache")


_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}


def _is_hidden(ch: str) -> bool:
    if ch in _INVISIBLE:
        return True
    if "\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069" or ch in "\u200e\u200f\u061c":
        return True
    return unicodedata.category(ch) in ("Cc",) and ch not in "\n\r\t"


# The characters prescan looks at (ch >= "\x7f" or ch < " "); tab and line feed are never
# reported, so they are not even visited (the scan is a regex, not a loop per character).
_SUSPECT = re.compile(r"[^\x20-\x7e\t\n]")


def prescan(src: SourceFile) -> list[Diagnostic]:
    """Bounds and characters that no grammar should see."""
    out: list[Diagnostic] = []
    text = src.text
    if len(text) > MAX_FILE_CHARS:
        out.append(error("E0005", f"the file has {len(text):,} characters; the bound is {MAX_FILE_CHARS:,}", src.span(0, 0)))
        return out
    for found in _SUSPECT.finditer(text):
        i, ch = found.start(), found.group()
        if _is_hidden(ch):
            name = unicodedata.name(ch, f"U+{ord(ch):04X}")
            out.append(
                error(
                    "E0006",
                    f"invisible or control character U+{ord(ch):04X} ({name.lower()})",
                    src.span(i, i + 1),
                    help="delete it: such characters can make text read differently from what it is",
                )
            )
            if len(out) >= 20:
                break
        elif ch == "\r" and text[i + 1 : i + 2] != "\n":
            out.append(error("E0001", "a carriage return that does not end a line", src.span(i, i + 1)))
    return out


def parse(src: SourceFile) -> Tree:
    """The structure tree of a whole file; raises CreditDslError."""
    return parse_prepared(src, prepare(src))


def prepare(src: SourceFile) -> str:
    """The text the structure grammar reads (a line break added at the end if missing), after the
    checks no grammar makes (:func:`prescan`, an indented first line); raises CreditDslError."""
    problems = prescan(src)
    if problems:
        raise CreditDslError(problems)
    text = src.text
    stripped = text.lstrip("\r\n")
    if stripped[:1] in (" ", "\t"):
        offset = len(text) - len(stripped)
        raise CreditDslError(
            [error("E0003", "the first line of a rulebook must not be indented", src.span(offset, offset + 1),
                   help="start the line at column 1")]
        )
    if not text.endswith("\n"):
        text = text + "\n"  # the last line needs no line break
    return text


def parse_prepared(src: SourceFile, text: str) -> Tree:
    """The structure tree of ``text`` (from :func:`prepare`); raises CreditDslError."""
    try:
        return structure_parser().parse(text)
    except IndentationProblem as p:
        raise CreditDslError([error(p.code, p.message, src.span(p.offset, p.offset + p.length), help=p.help)]) from None
    except UnexpectedInput as u:
        raise CreditDslError([_structure_error(u, src)]) from None


def _expected(u: UnexpectedInput, parser: Lark) -> list[str]:
    names = getattr(u, "accepts", None) or getattr(u, "expected", None) or set()
    words = []
    for name in sorted(names):
        if name in TERMINAL_WORDS:
            words.append(TERMINAL_WORDS[name])
            continue
        try:
            pattern = parser.get_terminal(name).pattern
            words.append(f"`{pattern.value}`" if pattern.type == "str" else name.lower())
        except KeyError:
            words.append(name.lower())
    return sorted(set(words))


def _structure_error(u: UnexpectedInput, src: SourceFile) -> Diagnostic:
    if isinstance(u, UnexpectedCharacters):
        offset = u.pos_in_stream
        ch = src.text[offset : offset + 1]
        if ch == '"':
            return error("E0103", "unterminated string", src.span(offset, _line_end(src, offset)),
                         help='close the string with `"` on the same line')
        line_start = src.line_starts[src.position(offset)[0] - 1]
        if not src.text[line_start:offset].strip() or "KEY" in (u.allowed or set()):
            return _not_a_key(src, offset)
        return error("E0001", f"unexpected character `{ch}`", src.span(offset, offset + 1))
    if isinstance(u, UnexpectedToken):
        tok = u.token
        if tok.type == "$END":
            return error("E0102", "unexpected end of file", src.eof(), notes=(_expects(u),))
        start = tok.start_pos or 0
        if tok.type == "_INDENT":
            end_of_indent = _first_non_space(src, src.line_starts[min(src.position(start)[0], src.line_count - 1)])
            return error("E0101", "unexpected indentation", src.span(end_of_indent, end_of_indent + 1),
                         help="only a `key:` with nothing after the colon opens an indented block")
        if tok.type == "VALUE":
            return _not_a_key(src, start)
        if tok.type == "_DEDENT" or tok.type == "_NL":
            return error("E0101", "expected a value or an indented block", src.span(start, start),
                         notes=(_expects(u),))
        if tok.type == "_DASH" and "KEY" not in u.accepts:
            return error("E0101", "unexpected `- ` item", src.span(start, start + 1), notes=(_expects(u),))
        return error("E0101", f"unexpected `{tok}`", src.span(start, start + len(str(tok))), notes=(_expects(u),))
    if isinstance(u, UnexpectedEOF):
        return error("E0102", "unexpected end of file", src.eof())
    return error("E0101", "syntax error", src.eof())  # pragma: no cover - Lark has no other kind


def _expects(u: UnexpectedInput) -> str:
    return "expected " + ", ".join(_expected(u, structure_parser()))


def _line_end(src: SourceFile, offset: int) -> int:
    end = src.text.find("\n", offset)
    return len(src.text) if end == -1 else end


def _first_non_space(src: SourceFile, offset: int) -> int:
    while offset < len(src.text) and src.text[offset] in " \t":
        offset += 1
    return offset


def _not_a_key(src: SourceFile, offset: int) -> Diagnostic:
    end = _line_end(src, offset)
    return error(
        "E0104",
        "expected `key: value`",
        src.span(offset, max(offset + 1, end)),
        help="a line is `key: value`, `key:` opening a block, or `- item`; a key ends with `: `",
    )


@dataclass(frozen=True, slots=True)
class ValueText:
    """A raw value and where it stands in the file."""

    text: str
    start: int  # offset of text[0] in the file


def parse_value(kind: str, value: ValueText, src: SourceFile, candidates: tuple[str, ...] = ()) -> Tree:
    """Parse one raw value by its kind; positions are made absolute. Raises CreditDslError."""
    if len(value.text) > MAX_VALUE_CHARS:
        raise CreditDslError(
            [error("E0005", f"a value of {len(value.text):,} characters; the bound is {MAX_VALUE_CHARS:,}",
                   src.span(value.start, value.start + len(value.text)))]
        )
    try:
        tree = _parse_cached(kind, value.text)
    except UnexpectedInput as u:
        raise CreditDslError([_value_error(u, kind, value, src, candidates)]) from None
    if kind in ("expr", "change", "fine") and _depth(tree) > MAX_EXPR_DEPTH:
        raise CreditDslError(
            [error("E0105", f"expression nested deeper than {MAX_EXPR_DEPTH} levels",
                   src.span(value.start, value.start + len(value.text)),
                   help="split the condition, or simplify it")]
        )
    return tree


@lru_cache(maxsize=8192)
def _parse_cached(kind: str, text: str) -> Tree:
    """Value trees hold positions relative to the value's text, so equal texts share
    one tree (never mutated downstream); rulebooks repeat `2 per month`, `50 yuan`..."""
    return value_parser().parse(text, start=kind)


def _depth(tree: Tree) -> int:
    """Nesting depth, computed without recursion (a 2,000-deep tree is fine)."""
    best = 0
    stack = [(tree, 1)]
    while stack:
        node, d = stack.pop()
        best = max(best, d)
        for child in node.children:
            if isinstance(child, Tree):
                stack.append((child, d + 1))
    return best


KIND_WORDS = {
    "expr": "an expression",
    "signed_number": "a number",
    "when": "a date or datetime",
    "duration": "a duration such as `3 days`",
    "names": "a name or `[a, b]`",
    "change": "a change such as `-3`, `+1 for 2 years` or `reset`",
    "fine": "an amount such as `50 yuan`",
    "tier_cap": "a tier name, optionally `for DURATION`",
    "limit": "a limit such as `2 per month` or `3 within 30 days`",
    "cap": "a cap such as `40 per year`",
    "requires": "evidence such as `2 photo or 1 video`",
    "grace": "a grace period such as `3 days unless litter_cleared`",
    "reset_spec": "`yearly`, `monthly` or `yearly from subject.FIELD`",
    "test_event": "a test event such as `littering at 2018-07-01, evidence: [photo]`",
    "test_value": "a value",
}


def _value_error(u: UnexpectedInput, kind: str, value: ValueText, src: SourceFile,
                 candidates: tuple[str, ...]) -> Diagnostic:
    want = KIND_WORDS.get(kind, "a value")
    if isinstance(u, UnexpectedCharacters):
        offset = value.start + u.pos_in_stream
        ch = value.text[u.pos_in_stream : u.pos_in_stream + 1]
        if ch == '"':
            return error("E0103", "unterminated string", src.span(offset, value.start + len(value.text)),
                         help='close the string with `"`')
        return error("E0001", f"unexpected character `{ch}` in {want}", src.span(offset, offset + 1),
                     notes=(f"expected {want}",))
    if isinstance(u, UnexpectedToken):
        tok = u.token
        expected = "expected " + ", ".join(_expected(u, value_parser()))
        if tok.type == "$END":
            end = value.start + len(value.text)
            return error("E0102", f"{want} ends too early", src.span(end, end), notes=(expected,))
        start = value.start + (tok.start_pos or 0)
        text = str(tok)
        hint = _curated_hint(text) or (suggest(text, candidates) if candidates else None)
        if tok.type in ("LABEL", "TIER_NAME") and kind in ("expr", "change", "fine"):
            # A LABEL token in an expression is whatever the operators could not read:
            # point at its first word only.
            text = text.split()[0]
        return error("E0101", f"unexpected `{text}` in {want}", src.span(start, start + len(text)),
                     notes=(expected,), help=hint)
    end = value.start + len(value.text)
    return error("E0102", f"{want} ends too early", src.span(end, end))


# Curated hints for slips other languages teach (Catala's parser.messages, in our idiom).
SYNTAX_HINTS: tuple[tuple[str, str], ...] = (
    ("=>", "did you mean `>=`?"),
    ("=<", "did you mean `<=`?"),
    ("<>", "write `!=` for \"not equal\""),
    ("==", "a comparison needs a value on both sides"),
    ("=", "compare with `==`; `=` alone means nothing here"),
    ("&&", "write `and`"),
    ("||", "write `or`"),
    ("!", "write `not`"),
    ("'", 'strings use double quotes: "text"'),
)


def _curated_hint(text: str) -> str | None:
    return next((hint for bad, hint in SYNTAX_HINTS if text.startswith(bad)), None)


def token_span(src: SourceFile, value: ValueText, node: Token | Tree) -> Span:
    """The absolute span of a value-layer token or tree."""
    if isinstance(node, Token):
        start = value.start + (node.start_pos or 0)
        end = value.start + (node.end_pos if node.end_pos is not None else (node.start_pos or 0) + len(node))
        return src.span(start, end)
    meta = node.meta
    if getattr(meta, "empty", True):
        return src.span(value.start, value.start + len(value.text))
    return src.span(value.start + meta.start_pos, value.start + meta.end_pos)
