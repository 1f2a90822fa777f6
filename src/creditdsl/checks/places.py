"""Checks of where things may stand: event fields outside rules, ledger bounds.

* E0313: ``event.FIELD`` in a tier condition or a trigger's ``when``. Tiers and
  triggers are evaluated on the subject's state — after timed work too (a
  revert, a reset), when there is no event at all — so an event field there
  could never be read.
* E0314: a ledger whose ``floor`` is above its ``ceiling``, or whose ``start``
  lies outside them.
"""

from __future__ import annotations

from collections.abc import Iterator

from .. import model
from ..diagnostics import Diagnostic, Label, error
from ..values import format_decimal
from .common import span_of


def _event_fields(expr: model.Expr) -> Iterator[model.Field_]:
    stack: list = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, model.Field_) and node.source == "event":
            yield node
        elif isinstance(node, model.Unary):
            stack.append(node.operand)
        elif isinstance(node, model.Binary):
            stack.extend((node.right, node.left))
        elif isinstance(node, model.In):
            stack.extend(reversed((node.item, *node.options)))
        elif isinstance(node, model.Call):
            stack.extend(reversed(node.args))


def event_fields_without_event(rulebook: model.Rulebook) -> Iterator[Diagnostic]:
    """E0313: ``event.FIELD`` where no event is at hand."""
    places = [(f"the condition of tier `{t.name}`", t.condition, t) for t in rulebook.tiers if t.condition]
    places += [(f"`when` of trigger `{t.name}`", t.when, t) for t in rulebook.triggers]
    for where, expression, owner in places:
        for node in _event_fields(expression.tree):
            yield error(
                "E0313",
                f"`event.{node.field}` in {where}: there is no event there",
                node.span or span_of(expression, owner),
                notes=("tiers and triggers are evaluated on the subject's state, also after timed work",),
                help="read the event in a rule's `where`, and let the rule change a ledger or a list",
            )


def ledger_bounds(rulebook: model.Rulebook) -> Iterator[Diagnostic]:
    """E0314: floor above ceiling, or a start outside [floor, ceiling]."""
    for ledger in rulebook.ledgers:
        lo, hi, start = ledger.floor, ledger.ceiling, ledger.start
        where = span_of(ledger)
        if lo is not None and hi is not None and lo > hi:
            yield error(
                "E0314",
                f"ledger `{ledger.name}` has floor {format_decimal(lo)} above ceiling {format_decimal(hi)}",
                where,
                help="swap them, or drop one",
            )
        elif (lo is not None and start < lo) or (hi is not None and start > hi):
            yield error(
                "E0314",
                f"ledger `{ledger.name}` starts at {format_decimal(start)}, outside its "
                f"[{format_decimal(lo) if lo is not None else '-∞'}, {format_decimal(hi) if hi is not None else '∞'}]",
                where,
                labels=(Label(where, "every subject would start clamped"),) if where else (),
                help="move `start` inside the floor and ceiling",
            )
