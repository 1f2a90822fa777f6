"""Expressions compiled once into Python closures (LANGUAGE.md §6, §12 "Arithmetic").

Public API::

    compile_expression(expr: model.Expression | model.Expr, env: Env) -> Fn
    Fn = Callable[[SubjectState, Event | None], Value]

A compiled function takes the subject's state (``state.SubjectState``: balances,
lists, subject fields, and ``now``, the instant of evaluation) and the event being
decided (``events.Event``, or None for a trigger). It returns a Value
(``Decimal``, ``str``, ``bool``, ``date``, ``datetime``, ``Duration`` or None for
"no tier") or raises :class:`Skip` whose ``reason`` is a user-facing sentence
(``missing field event.amount``, ``division by zero in `event.a / event.b```). The
interpreter turns a Skip into a ``skipped`` decision; it is never a crash.

Arithmetic uses the decimal context installed by :func:`decimal_context` (28
significant digits, round half even, traps on division by zero and invalid
operations). ``floor``/``ceil`` go to integers, ``round(x, digits)`` rounds half
to even. Integers from JSON read as Decimals.

:class:`Env` says what names mean: ledger name → balance index, the tier
function (set once tiers are compiled), and records which event types ``count()``
watches and over which longest window (so the state keeps only what it needs).
"""

from __future__ import annotations

import decimal
from bisect import bisect_right
from datetime import date, datetime, timezone
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any, Callable

from . import model
from .values import Duration, format_decimal, localize

Fn = Callable[[Any, Any], Any]
_UTC = timezone.utc


class Skip(Exception):
    """A runtime reason not to apply: the rule is `skipped` with this reason."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


def decimal_context() -> decimal.Context:
    return decimal.Context(
        prec=28,
        rounding=ROUND_HALF_EVEN,
        traps=[decimal.DivisionByZero, decimal.InvalidOperation, decimal.Overflow],
    )


class Env:
    """What names mean while compiling one rulebook's expressions."""

    def __init__(self, ledgers: dict[str, int], tz: Any):
        self.ledgers = ledgers
        self.tz = tz
        self.tier_of: Callable[[Any], str | None] = lambda st: None
        self.count_windows: dict[str, Duration] = {}  # type → longest window
        self.uses_time = False  # some expression reads count() or event fields

    def watch(self, event_type: str, within: Duration) -> None:
        old = self.count_windows.get(event_type)
        if old is None or _approx_days(within) > _approx_days(old):
            self.count_windows[event_type] = within


def _approx_days(d: Duration) -> int:
    return d.count * {"day": 1, "week": 7, "month": 31, "year": 366}[d.unit]


def type_name(value: Any) -> str:
    t = type(value)
    if t is Decimal:
        return "number"
    if t is bool:
        return "bool"
    if t is str:
        return "string"
    if t is datetime:
        return "datetime"
    if t is date:
        return "date"
    if t is Duration:
        return "duration"
    if value is None:
        return "null"
    if t is list:
        return "list"
    if t is dict:
        return "object"
    return t.__name__


def show(value: Any) -> str:
    if type(value) is Decimal:
        return format_decimal(value)
    if type(value) is str:
        return f'"{value}"'
    if type(value) is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def _mismatch(op: str, a: Any, b: Any, text: str) -> Skip:
    return Skip(f"type mismatch in `{text}`: {type_name(a)} {op} {type_name(b)}")


def compile_expression(expr: model.Expression | Any, env: Env) -> Fn:
    if isinstance(expr, model.Expression):
        return _compile(expr.tree, env, expr.text or "expression")
    return _compile(expr, env, "expression")


def _as_number(v: Any) -> Any:
    t = type(v)
    if t is int:
        return Decimal(v)
    return v


def _compile(node: Any, env: Env, text: str) -> Fn:  # noqa: C901 - one branch per node kind
    kind = node.kind
    if kind == "literal":
        value = node.value
        if type(value) is int:
            value = Decimal(value)
        if type(value) is datetime and value.tzinfo is None:
            value = localize(value, env.tz)
        return lambda st, ev: value

    if kind == "name":
        name = node.name
        if name == "tier":
            def tier(st: Any, ev: Any) -> Any:
                return env.tier_of(st)
            return tier
        index = env.ledgers.get(name)
        if index is None:
            raise_reason = f"unknown name `{name}`"

            def unknown(st: Any, ev: Any) -> Any:
                raise Skip(raise_reason)
            return unknown
        return lambda st, ev: st.bal[index]

    if kind == "field":
        field = node.field
        label = f"{node.source}.{field}"
        missing = f"missing field {label}"
        if node.source == "event":
            env.uses_time = True
            if field == "at":
                def event_at(st: Any, ev: Any) -> Any:
                    if ev is None:
                        raise Skip(f"no event for {label}")
                    return ev.at
                return event_at

            def event_field(st: Any, ev: Any) -> Any:
                if ev is None:
                    raise Skip(f"no event for {label}")
                v = ev.fields.get(field)
                if v is None:
                    raise Skip(missing)
                if type(v) is int:
                    return Decimal(v)
                return v
            return event_field

        def subject_field(st: Any, ev: Any) -> Any:
            v = st.fields.get(field)
            if v is None:
                raise Skip(missing)
            if type(v) is int:
                return Decimal(v)
            return v
        return subject_field

    if kind == "unary":
        operand = _compile(node.operand, env, text)
        op = node.op
        if op == "not":
            def not_(st: Any, ev: Any) -> Any:
                v = operand(st, ev)
                if type(v) is not bool:
                    raise Skip(f"type mismatch in `{text}`: not {type_name(v)}")
                return not v
            return not_

        def neg(st: Any, ev: Any) -> Any:
            v = operand(st, ev)
            if type(v) is not Decimal:
                raise Skip(f"type mismatch in `{text}`: {op}{type_name(v)}")
            return -v if op == "-" else +v
        return neg

    if kind == "binary":
        return _binary(node, env, text)

    if kind == "in":
        item = _compile(node.item, env, text)
        options = tuple(_compile(o, env, text) for o in node.options)
        negated = node.negated

        def in_(st: Any, ev: Any) -> Any:
            v = item(st, ev)
            found = False
            for o in options:
                w = o(st, ev)
                if type(w) is type(v) and w == v:
                    found = True
                    break
            return found is not negated
        return in_

    if kind == "call":
        return _call(node, env, text)

    if kind == "count":
        event_type = node.event_type
        within = node.within
        env.watch(event_type, within)
        env.uses_time = True

        def count(st: Any, ev: Any) -> Any:
            keys = st.hist.get(event_type)
            if not keys or st.now is None:
                return Decimal(0)
            cutoff = within.subtract(st.now).astimezone(_UTC)
            return Decimal(len(keys) - bisect_right(keys, cutoff))
        return count

    raise ValueError(f"unknown expression kind {kind!r}")  # pragma: no cover


def _ordered(a: Any, b: Any, tz: Any) -> tuple[Any, Any]:
    """Make a date comparable with a datetime (a date is the start of its day)."""
    ta, tb = type(a), type(b)
    if ta is date and tb is datetime:
        return localize(datetime(a.year, a.month, a.day), tz), b
    if ta is datetime and tb is date:
        return a, localize(datetime(b.year, b.month, b.day), tz)
    return a, b


def _binary(node: Any, env: Env, text: str) -> Fn:  # noqa: C901
    op = node.op
    left = _compile(node.left, env, text)
    right = _compile(node.right, env, text)
    tz = env.tz

    if op == "and":
        def and_(st: Any, ev: Any) -> Any:
            a = left(st, ev)
            if type(a) is not bool:
                raise Skip(f"type mismatch in `{text}`: {type_name(a)} and ...")
            if not a:
                return False
            b = right(st, ev)
            if type(b) is not bool:
                raise Skip(f"type mismatch in `{text}`: bool and {type_name(b)}")
            return b
        return and_

    if op == "or":
        def or_(st: Any, ev: Any) -> Any:
            a = left(st, ev)
            if type(a) is not bool:
                raise Skip(f"type mismatch in `{text}`: {type_name(a)} or ...")
            if a:
                return True
            b = right(st, ev)
            if type(b) is not bool:
                raise Skip(f"type mismatch in `{text}`: bool or {type_name(b)}")
            return b
        return or_

    if op in ("==", "!="):
        want = op == "=="

        def eq(st: Any, ev: Any) -> Any:
            a = left(st, ev)
            b = right(st, ev)
            if type(a) is not type(b):
                if a is None or b is None:  # `tier == "A"` with no tier
                    return (a == b) is want
                a, b = _ordered(a, b, tz)
                if type(a) is not type(b):
                    raise _mismatch(op, a, b, text)
            return (a == b) is want
        return eq

    if op in ("<", "<=", ">", ">="):
        import operator

        cmp = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op]
        right_node = node.right
        if right_node.kind == "literal" and right_node.type == "number":
            const = right_node.value

            def cmp_const(st: Any, ev: Any) -> Any:  # the common `credit >= 960`
                a = left(st, ev)
                if type(a) is not Decimal:
                    raise _mismatch(op, a, const, text)
                return cmp(a, const)
            return cmp_const

        def compare(st: Any, ev: Any) -> Any:
            a = left(st, ev)
            b = right(st, ev)
            ta = type(a)
            if ta is not type(b) or ta is bool or ta is Duration or a is None:
                a, b = _ordered(a, b, tz)
                if type(a) is not type(b) or type(a) in (bool, Duration) or a is None:
                    raise _mismatch(op, a, b, text)
            return cmp(a, b)
        return compare

    # arithmetic
    def arith(st: Any, ev: Any) -> Any:
        a = left(st, ev)
        b = right(st, ev)
        if type(a) is Decimal and type(b) is Decimal:
            try:
                if op == "+":
                    return a + b
                if op == "-":
                    return a - b
                if op == "*":
                    return a * b
                if not b:
                    raise Skip(f"division by zero in `{text}`")
                return a / b
            except ArithmeticError as exc:
                raise Skip(f"arithmetic error in `{text}`: {type(exc).__name__}") from None
        if op in ("+", "-") and type(b) is Duration and type(a) in (date, datetime):
            if type(a) is date:
                a = localize(datetime(a.year, a.month, a.day), tz)
            return b.add(a, 1 if op == "+" else -1)
        raise _mismatch(op, a, b, text)
    return arith


def _call(node: Any, env: Env, text: str) -> Fn:  # noqa: C901
    func = node.func
    args = tuple(_compile(a, env, text) for a in node.args)

    if func == "listed":
        if node.args and node.args[0].kind == "literal":
            name = node.args[0].value
            return lambda st, ev: name in st.lists

        def listed(st: Any, ev: Any) -> Any:
            n = args[0](st, ev)
            if type(n) is not str:
                raise Skip(f"type mismatch in `{text}`: listed({type_name(n)})")
            return n in st.lists
        return listed

    def numbers(st: Any, ev: Any) -> list:
        out = []
        for a in args:
            v = a(st, ev)
            if type(v) is not Decimal:
                raise Skip(f"type mismatch in `{text}`: {func}() of {type_name(v)}")
            out.append(v)
        return out

    if func in ("min", "max"):
        pick = min if func == "min" else max
        if not args:
            raise ValueError(f"{func}() needs arguments")
        return lambda st, ev: pick(numbers(st, ev))
    if func == "abs":
        return lambda st, ev: abs(numbers(st, ev)[0])
    if func in ("floor", "ceil"):
        rounding = ROUND_FLOOR if func == "floor" else ROUND_CEILING

        def to_int(st: Any, ev: Any) -> Any:
            v = numbers(st, ev)[0]
            try:
                return v.to_integral_value(rounding=rounding)
            except ArithmeticError:
                raise Skip(f"arithmetic error in `{text}`") from None
        return to_int
    if func == "round":
        def round_(st: Any, ev: Any) -> Any:
            vals = numbers(st, ev)
            digits = vals[1] if len(vals) > 1 else Decimal(0)
            if digits != digits.to_integral_value() or not -28 <= digits <= 28:
                raise Skip(f"round() digits must be a whole number in `{text}`")
            try:
                return vals[0].quantize(Decimal(1).scaleb(-int(digits)), rounding=ROUND_HALF_EVEN)
            except ArithmeticError:
                raise Skip(f"arithmetic error in `{text}`") from None
        return round_

    message = f"unknown function `{func}`"

    def unknown(st: Any, ev: Any) -> Any:
        raise Skip(message)
    return unknown
