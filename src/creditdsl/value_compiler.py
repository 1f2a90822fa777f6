"""Value-layer trees (values.lark) to model nodes, with exact spans.

One :class:`ValueCompiler` per file; ``compile(kind, value)`` parses a raw value
with :func:`parser.parse_value` and builds the model node for that kind.
Problems are added to the shared ``Diagnostics`` and give ``None``; nothing
here raises. Expressions are built by :class:`ExprBuilder` (shaped like a Lark
Transformer whose methods are named after the grammar's rules); a sign on a
number literal folds into the literal (``-3`` is the number −3).

Codes: E0205 bad number, E0206 bad date or time, E0207 bad duration, E0214
bad evidence requirement, E0215 bad test event, plus the parser's E00xx/E01xx.
"""

from __future__ import annotations

import re
from datetime import tzinfo
from decimal import Decimal
from typing import Any

from lark import Token, Tree

from . import model as m
from .diagnostics import CreditDslError, Diagnostics
from .parser import ValueText, parse_value, token_span
from .source import SourceFile, Span
from .values import Duration, ValueError_, parse_date, parse_datetime, parse_decimal, parse_duration


class _Bad(Exception):
    """A located problem inside a value; turned into a diagnostic by the caller."""

    def __init__(self, code: str, message: str, span: Span, help: str | None = None):
        super().__init__(message)
        self.code, self.message, self.span, self.help = code, message, span, help


class ValueCompiler:
    def __init__(self, src: SourceFile, diags: Diagnostics, tz: tzinfo | None = None):
        self.src = src
        self.diags = diags
        self.tz = tz

    # ------------------------------------------------------------ entry point

    def compile(self, kind: str, value: ValueText, candidates: tuple[str, ...] = ()) -> Any:
        fast = self._fast(kind, value)
        if fast is not None:
            return fast
        try:
            tree = parse_value(kind, value, self.src, candidates)
            return getattr(self, "_" + kind)(tree, value)
        except CreditDslError as exc:
            self.diags.extend(exc.diagnostics)
        except _Bad as bad:
            self.diags.error(bad.code, bad.message, bad.span, help=bad.help)
        return None

    def _fast(self, kind: str, value: ValueText) -> Any:
        """The commonest values (`-3`, `littering`, `2 per month`) without a Lark parse.

        Each fast path accepts only text the grammar reads the same way, and builds
        the very node the slow path would (a test checks they agree); anything
        else takes the grammar.
        """
        text = value.text
        if kind == "names":
            if _PLAIN_NAME.match(text):
                return ((text, self.whole(value)),)
        elif kind in ("change", "signed_number", "expr"):
            if _PLAIN_NUMBER.match(text):
                number = Decimal(text)
                if kind == "signed_number":
                    return number
                span = self.whole(value)
                expression = _expression(m_literal(number, span), text, span)
                return expression if kind == "expr" else (expression, None)
        elif kind == "limit":
            hit = _PLAIN_LIMIT.match(text)
            if hit:
                return _limit(int(hit.group(1)), hit.group(2), self.whole(value))
        elif kind == "cap":
            hit = _PLAIN_CAP.match(text)
            if hit and Decimal(hit.group(1)) > 0:
                return m.Cap(amount=Decimal(hit.group(1)), period=hit.group(2), span=self.whole(value))
        elif kind == "fine":
            hit = _PLAIN_FINE.match(text)
            if hit:
                number = hit.group(1)
                span = self.src.span(value.start, value.start + len(number))
                amount = _expression(m_literal(Decimal(number), span), number, span)
                return m.Fine(amount=amount, currency=hit.group(2), span=self.whole(value))
        elif kind == "grace":
            hit = _PLAIN_GRACE.match(text)
            if hit:
                try:
                    duration = parse_duration(hit.group(1))
                except ValueError_:
                    return None  # the grammar path reports it, located
                return m.Grace(duration=duration, unless=(hit.group(2),), span=self.whole(value))
        return None

    def span(self, value: ValueText, node: Token | Tree) -> Span:
        return token_span(self.src, value, node)

    def whole(self, value: ValueText) -> Span:
        return self.src.span(value.start, value.start + len(value.text))

    # ------------------------------------------------------------ literals

    def number(self, tok: Token, value: ValueText, sign: str = "") -> Decimal:
        try:
            return parse_decimal(sign + str(tok))
        except ValueError_ as exc:
            raise _Bad("E0205", str(exc), self.span(value, tok)) from None

    def duration_of(self, tree: Tree, value: ValueText) -> Duration:
        count_tok, unit_tree = tree.children
        unit_tok = unit_tree.children[0]
        text = f"{count_tok} {unit_tok}"
        try:
            from .values import parse_duration

            return parse_duration(text)
        except ValueError_ as exc:
            raise _Bad("E0207", str(exc), self.span(value, tree),
                       help="a duration is a whole number of days, weeks, months or years") from None

    def when_text(self, tree: Tree, value: ValueText) -> str:
        tok = tree.children[0]
        try:
            if tok.type == "DATE":
                parse_date(str(tok))
            else:
                parse_datetime(str(tok), self.tz)
        except ValueError_ as exc:
            raise _Bad("E0206", str(exc), self.span(value, tok)) from None
        return str(tok)

    # ------------------------------------------------------------ one method per start rule

    def _expr(self, tree: Tree, value: ValueText) -> m.Expression:
        return m.Expression(tree=ExprBuilder(self, value).transform(tree), text=value.text, span=self.whole(value))

    def _signed_number(self, tree: Tree, value: ValueText) -> Decimal:
        sign = str(tree.children[0]) if tree.children[0] is not None else ""
        return self.number(tree.children[1], value, sign)

    def _when(self, tree: Tree, value: ValueText) -> str:
        return self.when_text(tree, value)

    def _duration(self, tree: Tree, value: ValueText) -> Duration:
        return self.duration_of(tree, value)

    def _names(self, tree: Tree, value: ValueText) -> tuple[tuple[str, Span], ...]:
        out = []
        for item in tree.children:
            if item is None:
                continue
            tok = item.children[0]
            text = str(tok)
            if tok.type == "STRING":
                text = unquote(text)
            out.append((text, self.span(value, tok)))
        return tuple(out)

    def _change(self, tree: Tree, value: ValueText) -> tuple[m.Expression | None, Duration | None]:
        if tree.data == "change_reset":
            return None, None
        expr_tree, dur = tree.children
        expr = m.Expression(tree=ExprBuilder(self, value).transform(expr_tree), text=_slice(value, expr_tree),
                            span=self.span(value, expr_tree))
        return expr, (self.duration_of(dur, value) if dur is not None else None)

    def _fine(self, tree: Tree, value: ValueText) -> m.Fine:
        expr_tree, unit = tree.children
        expr = m.Expression(tree=ExprBuilder(self, value).transform(expr_tree), text=_slice(value, expr_tree),
                            span=self.span(value, expr_tree))
        return m.Fine(amount=expr, currency=str(unit) if unit is not None else None, span=self.whole(value))

    def _tier_cap(self, tree: Tree, value: ValueText) -> m.TierCap:
        name, dur = tree.children
        return m.TierCap(tier=str(name), duration=self.duration_of(dur, value) if dur is not None else None,
                         span=self.span(value, name))

    def _limit(self, tree: Tree, value: ValueText) -> m.Limit:
        count_tok, what = tree.children
        count = self.number(count_tok, value)
        if count != count.to_integral_value() or count < 1:
            raise _Bad("E0205", f"a limit counts events: `{count_tok}` is not a whole number of at least 1",
                       self.span(value, count_tok))
        if tree.data == "limit_per":
            return m.Limit(count=int(count), period=str(what.children[0]), span=self.whole(value))
        return m.Limit(count=int(count), within=self.duration_of(what, value), span=self.whole(value))

    def _cap(self, tree: Tree, value: ValueText) -> m.Cap:
        amount_tree, what = tree.children
        amount = self._signed_number(amount_tree, value)
        if amount <= 0:
            raise _Bad("E0205", "a cap must be a positive amount", self.span(value, amount_tree))
        if tree.data == "cap_per":
            return m.Cap(amount=amount, period=str(what.children[0]), span=self.whole(value))
        return m.Cap(amount=amount, within=self.duration_of(what, value), span=self.whole(value))

    def _requires(self, tree: Tree, value: ValueText) -> m.Requirement:
        alternatives = []
        for req_all in tree.children:
            items = []
            for item in req_all.children:
                count_tok, kind_tok = item.children
                count = Decimal(1) if count_tok is None else self.number(count_tok, value)
                if count != count.to_integral_value() or count < 1:
                    raise _Bad("E0214", f"evidence is counted in whole items: `{count_tok}`",
                               self.span(value, count_tok))
                items.append(m.EvidenceCount(count=int(count), kind=str(kind_tok), span=self.span(value, item)))
            alternatives.append(tuple(items))
        return m.Requirement(alternatives=tuple(alternatives), span=self.whole(value))

    def _grace(self, tree: Tree, value: ValueText) -> m.Grace:
        dur, types = tree.children
        return m.Grace(duration=self.duration_of(dur, value), unless=tuple(str(t) for t in types.children),
                       span=self.whole(value))

    def _reset_spec(self, tree: Tree, value: ValueText) -> m.Reset:
        every, field = tree.children
        return m.Reset(every=str(every), from_field=str(field) if field is not None else None, span=self.whole(value))

    def _test_event(self, tree: Tree, value: ValueText) -> m.TestEvent:
        type_tok, when, *fields = tree.children
        at = self.when_text(when, value)
        pairs = []
        seen: dict[str, Span] = {}
        for f in fields:
            name_tok, val = f.children
            name = str(name_tok)
            if name in seen or name in ("id", "subject", "type", "at"):
                raise _Bad("E0215", f"field `{name}` given twice or reserved in a test event",
                           self.span(value, name_tok))
            seen[name] = self.span(value, name_tok)
            pairs.append((name, self._test_value(val, value)))
        return m.TestEvent(type=str(type_tok), at=at, fields=tuple(pairs), span=self.whole(value))

    def _test_value(self, tree: Tree, value: ValueText) -> Any:
        kind = tree.data
        if kind == "t_number":
            return self._signed_number(tree.children[0], value)
        if kind == "t_money":
            return {"amount": self._signed_number(tree.children[0], value), "currency": str(tree.children[1])}
        if kind == "t_string":
            return unquote(str(tree.children[0]))
        if kind == "t_true":
            return True
        if kind == "t_false":
            return False
        if kind == "t_date":
            return self.when_text(Tree("when", tree.children), value)
        if kind == "t_datetime":
            return self.when_text(Tree("when", tree.children), value)
        if kind == "t_list":
            return [self._test_value(child, value) for child in tree.children if child is not None]
        if kind == "t_label":
            return str(tree.children[0])
        if kind == "signed_number":  # a bare number inside a list
            return self._signed_number(tree, value)
        raise _Bad("E0209", "unexpected value", self.span(value, tree))  # pragma: no cover


_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PLAIN_NUMBER = re.compile(r"[+-]?[1-9][0-9]{0,15}(?:\.[0-9]{1,10})?\Z|[+-]?0(?:\.[0-9]{1,10})?\Z")
_PLAIN_LIMIT = re.compile(r"([1-9][0-9]{0,5}) per (day|week|month|quarter|year)\Z")
_PLAIN_CAP = re.compile(r"([0-9]{1,15}(?:\.[0-9]{1,10})?) per (day|week|month|quarter|year)\Z")
_PLAIN_FINE = re.compile(r"([1-9][0-9]{0,15}(?:\.[0-9]{1,10})?|0(?:\.[0-9]{1,10})?) ([A-Za-z_][A-Za-z0-9_]*)\Z")
_PLAIN_GRACE = re.compile(r"([1-9][0-9]{0,3} (?:day|week|month|year)s?) unless ([A-Za-z_][A-Za-z0-9_]*)\Z")


def m_literal(number: Decimal, span: Span) -> m.Literal_:
    return m.Literal_(value=number, type="number", span=span)


def _expression(tree: m.Expr, text: str, span: Span) -> m.Expression:
    return m.Expression(tree=tree, text=text, span=span)


def _limit(count: int, period: str, span: Span) -> m.Limit:
    return m.Limit(count=count, period=period, span=span)


def unquote(text: str) -> str:
    """The content of a "quoted string" (``\\"`` and ``\\\\`` escapes)."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        body = text[1:-1]
        out = []
        i = 0
        while i < len(body):
            ch = body[i]
            if ch == "\\" and i + 1 < len(body):
                nxt = body[i + 1]
                out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
                i += 2
                continue
            out.append(ch)
            i += 1
        return "".join(out)
    return text


def _slice(value: ValueText, tree: Tree | Token) -> str:
    if isinstance(tree, Token):
        return str(tree)
    if getattr(tree.meta, "empty", True):
        return value.text
    return value.text[tree.meta.start_pos : tree.meta.end_pos]


class ExprBuilder:
    """Expression trees of values.lark to ``model.Expr`` nodes with spans.

    Each method is named after the grammar rule it builds and takes the node's
    ``meta`` and its built children — a Lark ``Transformer`` with
    ``v_args(meta=True)`` in shape, but dispatched directly: Lark's visitor
    machinery cost more than the building itself on large rulebooks. Trees are
    at most ``parser.MAX_EXPR_DEPTH`` deep here (checked before), so the
    recursion is bounded.
    """

    def __init__(self, vc: ValueCompiler, value: ValueText):
        self.vc = vc
        self.value = value

    def transform(self, tree: Tree) -> Any:
        children = [self.transform(c) if isinstance(c, Tree) else c for c in tree.children]
        build = getattr(self, tree.data, None)
        if build is None:  # `unit`, `period`: kept as trees for their builders
            return Tree(tree.data, children, tree.meta)
        return build(tree.meta, children)

    def _span(self, meta) -> Span | None:
        if getattr(meta, "empty", True):
            return self.vc.whole(self.value)
        return self.vc.src.span(self.value.start + meta.start_pos, self.value.start + meta.end_pos)

    def or_(self, meta, c):
        return m.Binary(op="or", left=c[0], right=c[1], span=self._span(meta))

    def and_(self, meta, c):
        return m.Binary(op="and", left=c[0], right=c[1], span=self._span(meta))

    def not_(self, meta, c):
        return m.Unary(op="not", operand=c[0], span=self._span(meta))

    def compare(self, meta, c):
        return m.Binary(op=str(c[1]), left=c[0], right=c[2], span=self._span(meta))

    def arith(self, meta, c):
        return m.Binary(op=str(c[1]), left=c[0], right=c[2], span=self._span(meta))

    def in_(self, meta, c):
        return m.In(item=c[0], options=c[1], span=self._span(meta))

    def not_in(self, meta, c):
        return m.In(item=c[0], options=c[1], negated=True, span=self._span(meta))

    def expr_list(self, meta, c):
        return tuple(x for x in c if x is not None)

    def sign(self, meta, c):
        op, operand = str(c[0]), c[1]
        if isinstance(operand, m.Literal_) and operand.type == "number":
            value = -operand.value if op == "-" else operand.value
            return m.Literal_(value=value, type="number", span=self._span(meta))
        return m.Unary(op=op, operand=operand, span=self._span(meta))

    def number(self, meta, c):
        return m.Literal_(value=self.vc.number(c[0], self.value), type="number", span=self._span(meta))

    def string(self, meta, c):
        return m.Literal_(value=unquote(str(c[0])), type="string", span=self._span(meta))

    def true(self, meta, c):
        return m.Literal_(value=True, type="bool", span=self._span(meta))

    def false(self, meta, c):
        return m.Literal_(value=False, type="bool", span=self._span(meta))

    def date(self, meta, c):
        try:
            return m.Literal_(value=parse_date(str(c[0])), type="date", span=self._span(meta))
        except ValueError_ as exc:
            raise _Bad("E0206", str(exc), self.vc.span(self.value, c[0])) from None

    def datetime(self, meta, c):
        try:
            return m.Literal_(value=parse_datetime(str(c[0]), self.vc.tz), type="datetime", span=self._span(meta))
        except ValueError_ as exc:
            raise _Bad("E0206", str(exc), self.vc.span(self.value, c[0])) from None

    def duration(self, meta, c):
        tree = Tree("duration", c, meta)
        return m.Literal_(value=self.vc.duration_of(tree, self.value), type="duration", span=self._span(meta))

    def name(self, meta, c):
        return m.Name(name=str(c[0]), span=self._span(meta))

    def tier_name(self, meta, c):
        return m.Name(name="tier", span=self._span(meta))

    def event_field(self, meta, c):
        return m.Field_(source="event", field=str(c[0]), span=self._span(meta))

    def subject_field(self, meta, c):
        return m.Field_(source="subject", field=str(c[0]), span=self._span(meta))

    def count(self, meta, c):
        return m.Count(event_type=str(c[0]), within=c[1].value, span=self._span(meta))

    def call(self, meta, c):
        return m.Call(func=str(c[0]), args=tuple(x for x in c[1:] if x is not None), span=self._span(meta))
