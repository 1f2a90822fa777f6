"""Static names and types of expressions (LANGUAGE.md §6).

Types: ``number``, ``string``, ``bool``, ``date``, ``datetime``, ``duration`` and
``unknown`` (``event.X`` / ``subject.X``: compatible with anything, since only the
data knows). A bare name is a ledger (``number``) or ``tier`` (``string``).
Dates and datetimes compare with each other (a date is the start of its day).
Ordering (``< <= > >=``) needs numbers, strings or dates (durations have no
fixed order: a month is not a number of days); arithmetic needs numbers, except
``date ± duration`` — exactly what the interpreter evaluates. After an
error the offending sub-expression is ``unknown``, so one slip gives one error.

Codes: E0301 (a bare name close to a ledger), E0310 (any other unknown bare
name), E0302 (``listed("X")`` with X not a list), E0303 (``tier == "X"`` with X
not a tier), E0308 (type error), E0309 (unknown function or wrong arity),
E0105 (an expression too deep to check; the compiler normally refuses it first).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from .. import model
from ..diagnostics import Diagnostic, error
from ..source import Span
from .common import actors, hint, known, label, span_of

NUMBER, STRING, BOOL, DATE, DATETIME, DURATION, UNKNOWN = (
    "number", "string", "bool", "date", "datetime", "duration", "unknown",
)
_ARTICLE = {
    NUMBER: "a number", STRING: "a string", BOOL: "true or false", DATE: "a date",
    DATETIME: "a datetime", DURATION: "a duration", UNKNOWN: "unknown",
}

# name -> (minimum, maximum or None) number of arguments; `count` is its own node
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "listed": (1, 1),
    "min": (1, None),
    "max": (1, None),
    "abs": (1, 1),
    "floor": (1, 1),
    "ceil": (1, 1),
    "round": (2, 2),
}
_SIGNATURES = {
    "listed": 'listed("LIST")', "min": "min(x, ...)", "max": "max(x, ...)", "abs": "abs(x)",
    "floor": "floor(x)", "ceil": "ceil(x)", "round": "round(x, digits)",
}
_ORDERED = {NUMBER, STRING, DATE, DATETIME, DURATION}


def _compatible(a: str, b: str) -> bool:
    if UNKNOWN in (a, b) or a == b:
        return True
    return {a, b} == {DATE, DATETIME}


class Typer:
    """Infers types of one rulebook's expressions, collecting diagnostics."""

    def __init__(self, rulebook: model.Rulebook) -> None:
        self.rulebook = rulebook
        self.ledgers = {x.name: x for x in rulebook.ledgers}
        self.tiers = [t.name for t in rulebook.tiers]
        self.lists = [x.name for x in rulebook.lists]
        self.diagnostics: list[Diagnostic] = []

    def err(self, code: str, message: str, span: Span | None, **kw) -> str:
        self.diagnostics.append(error(code, message, span, **kw))
        return UNKNOWN

    # ---------------------------------------------------------- entry point

    def expect(self, expression: model.Expression, want: str, what: str, fallback: Span | None) -> None:
        """Check ``expression`` and that its type is ``want`` (``what`` names the place)."""
        span = expression.span or fallback
        try:
            got = self.infer(expression.tree, span)
        except RecursionError:
            self.err("E0105", f"{what} is nested too deeply to check", span)
            return
        if not _compatible(got, want):
            shown = f"`{expression.text}`" if expression.text else "the expression"
            self.err(
                "E0308",
                f"{what} must be {_ARTICLE[want]}, but {shown} is {_ARTICLE[got]}",
                span,
                help=f"compare it with something, e.g. `{expression.text or 'credit'} > 0`"
                if want == BOOL and got == NUMBER
                else None,
            )

    # ---------------------------------------------------------- inference

    def infer(self, node: model.Expr, fallback: Span | None) -> str:
        span = node.span or fallback
        if isinstance(node, model.Literal_):
            return node.type
        if isinstance(node, model.Field_):
            return UNKNOWN
        if isinstance(node, model.Name):
            return self.name(node, span)
        if isinstance(node, model.Count):
            return NUMBER
        if isinstance(node, model.Unary):
            return self.unary(node, span)
        if isinstance(node, model.Binary):
            return self.binary(node, span)
        if isinstance(node, model.In):
            return self.in_(node, span)
        if isinstance(node, model.Call):
            return self.call(node, span)
        return UNKNOWN  # pragma: no cover - the union is closed

    def name(self, node: model.Name, span: Span | None) -> str:
        if node.name in self.ledgers:
            return NUMBER
        if node.name == "tier":
            return STRING
        candidates = list(self.ledgers) + ["tier"]
        found = difflib.get_close_matches(node.name, candidates, n=1, cutoff=0.6)
        if found and found[0] in self.ledgers:
            return self.err(
                "E0301",
                f"unknown ledger `{node.name}`",
                span,
                labels=label(self.ledgers[found[0]], f"ledger `{found[0]}` declared here"),
                help=f"did you mean `{found[0]}`?",
            )
        return self.err(
            "E0310",
            f"unknown name `{node.name}`",
            span,
            notes=("a bare name is a ledger or `tier`",),
            help=f"did you mean `{found[0]}`?" if found else f"an event's field is written `event.{node.name}`",
        )

    def unary(self, node: model.Unary, span: Span | None) -> str:
        t = self.infer(node.operand, span)
        if node.op == "not":
            if t not in (BOOL, UNKNOWN):
                return self.err("E0308", f"`not` needs true or false, not {_ARTICLE[t]}", span)
            return BOOL
        if t in (NUMBER, DURATION, UNKNOWN):
            return t
        return self.err("E0308", f"unary `{node.op}` needs a number, not {_ARTICLE[t]}", span)

    def binary(self, node: model.Binary, span: Span | None) -> str:
        op = node.op
        left = self.infer(node.left, span)
        right = self.infer(node.right, span)
        if op in ("and", "or"):
            bad = [t for t in (left, right) if t not in (BOOL, UNKNOWN)]
            if bad:
                return self.err(
                    "E0308", f"`{op}` needs true or false on both sides, not {_ARTICLE[bad[0]]}", span
                )
            return BOOL
        if op in ("==", "!=", "<", "<=", ">", ">="):
            if not _compatible(left, right):
                return self.err("E0308", f"cannot compare {_ARTICLE[left]} with {_ARTICLE[right]}", span)
            if op not in ("==", "!=") and BOOL in (left, right):
                return self.err("E0308", f"`{op}` cannot order true and false", span)
            if op not in ("==", "!=") and DURATION in (left, right):
                return self.err("E0308", f"`{op}` cannot order durations (`1 month` and `30 days` have no fixed order)",
                                span, help="compare dates instead: `event.at < subject.since + 30 days`")
            self.tier_literal(node.left, node.right, span)
            self.tier_literal(node.right, node.left, span)
            return BOOL
        return self.arithmetic(op, left, right, span)

    def arithmetic(self, op: str, left: str, right: str, span: Span | None) -> str:
        for t in (left, right):
            if t in (BOOL, STRING):
                return self.err("E0308", f"`{op}` needs numbers, not {_ARTICLE[t]}", span)
        if left == right == NUMBER:
            return NUMBER
        if UNKNOWN in (left, right):
            return UNKNOWN
        if op in ("+", "-") and left in (DATE, DATETIME) and right == DURATION:
            return left
        advice = None
        if DURATION in (left, right):
            advice = "a duration is added to or subtracted from a date: `2019-01-01 + 30 days`"
        if NUMBER in (left, right) and {left, right} & {DATE, DATETIME}:
            advice = "add a duration to a date, e.g. `+ 30 days`"
        return self.err(
            "E0308", f"cannot apply `{op}` to {_ARTICLE[left]} and {_ARTICLE[right]}", span, help=advice
        )

    def in_(self, node: model.In, span: Span | None) -> str:
        item = self.infer(node.item, span)
        for option in node.options:
            t = self.infer(option, span)
            if not _compatible(item, t):
                self.err(
                    "E0308",
                    f"`in` compares {_ARTICLE[item]} with {_ARTICLE[t]}",
                    option.span or span,
                )
            else:
                self.tier_literal(node.item, option, span)
        return BOOL

    def tier_literal(self, name: model.Expr, other: model.Expr, span: Span | None) -> None:
        """E0303: ``tier == "X"`` (or ``in``) with X not a tier."""
        if not (isinstance(name, model.Name) and name.name == "tier"):
            return
        if isinstance(other, model.Literal_) and other.type == "string" and other.value not in self.tiers:
            self.err(
                "E0303",
                f"unknown tier `{other.value}`",
                other.span or span,
                help=hint(str(other.value), self.tiers) or known("tier", self.tiers, "tiers"),
            )

    def call(self, node: model.Call, span: Span | None) -> str:
        arity = FUNCTIONS.get(node.func)
        if arity is None:
            return self.err(
                "E0309",
                f"unknown function `{node.func}`",
                span,
                help=hint(node.func, [*FUNCTIONS, "count"])
                or "functions: " + ", ".join(f"`{f}`" for f in [*FUNCTIONS, "count"]),
            )
        types = [self.infer(arg, span) for arg in node.args]
        lo, hi = arity
        n = len(node.args)
        if n < lo or (hi is not None and n > hi):
            want = f"{lo}" if lo == hi else f"at least {lo}"
            return self.err(
                "E0309",
                f"`{node.func}` takes {want} argument{'s' if lo > 1 else ''}, got {n}",
                span,
                help=f"write `{_SIGNATURES[node.func]}`",
            )
        if node.func == "listed":
            arg = node.args[0]
            if not (isinstance(arg, model.Literal_) and arg.type == "string"):
                return self.err(
                    "E0308", "`listed` takes a list name in quotes", arg.span or span,
                    help='write `listed("LIST")`',
                )
            if arg.value not in self.lists:
                self.err(
                    "E0302",
                    f"unknown list `{arg.value}`",
                    arg.span or span,
                    help=hint(str(arg.value), self.lists) or known("list", self.lists, "lists"),
                )
            return BOOL
        for arg, t in zip(node.args, types):
            if t not in (NUMBER, UNKNOWN):
                self.err("E0308", f"`{node.func}` needs numbers, not {_ARTICLE[t]}", arg.span or span)
        return NUMBER


def expressions(rulebook: model.Rulebook) -> Iterator[Diagnostic]:
    """Every expression of the rulebook, with the type its place requires."""
    typer = Typer(rulebook)
    for tier in rulebook.tiers:
        if tier.condition is not None:
            typer.expect(tier.condition, BOOL, f"the condition of tier `{tier.name}`", span_of(tier))
    for kind, actor in actors(rulebook):
        where = f"{kind} `{actor.name}`"
        if isinstance(actor, model.Rule):
            if actor.where is not None:
                typer.expect(actor.where, BOOL, f"`where` of {where}", span_of(actor))
            if actor.except_ is not None:
                typer.expect(actor.except_, BOOL, f"`except` of {where}", span_of(actor))
        else:
            typer.expect(actor.when, BOOL, f"`when` of {where}", span_of(actor))
        for change in actor.effects.changes:
            if change.amount is not None:
                typer.expect(
                    change.amount, NUMBER, f"the change to `{change.ledger}` in {where}", span_of(change, actor)
                )
        if actor.effects.fine is not None:
            fine = actor.effects.fine
            typer.expect(fine.amount, NUMBER, f"the fine of {where}", span_of(fine, actor))
    yield from typer.diagnostics
