"""Tier coverage: W0301 (a tier hidden behind earlier ones), W0302 (a balance with no tier).

The analysis is exact where tier conditions compare one ledger with numbers
(``credit > 1000``, ``credit >= 960 and credit < 1030``, ``1000 <= credit``,
``credit in [1, 2]``, with ``and``/``or``/``not``, ``true``/``false`` and constant
arithmetic on the numbers): each condition becomes an exact set of balances
(:mod:`.intervals`), intersected with the ledger's ``[floor, ceiling]``.

Beyond that it is best effort and never guesses. Each condition gets an
*under*-approximation (balances for which it surely holds) and an
*over*-approximation (balances for which it may hold): an atom it cannot read
(``listed(...)``, another ledger, ``event.X``, ``tier``) is "maybe", i.e.
under = nothing, over = everything, and ``not`` swaps the two. Then

* tier *i* is hidden (W0301) when ``over(i) ⊆ under(0) ∪ … ∪ under(i-1)``:
  every state satisfying it surely satisfies an earlier tier;
* some balance has no tier (W0302) when there is no ``otherwise`` and
  ``over(0) ∪ … ∪ over(n-1)`` misses part of the ledger's range: for those
  balances no condition can hold, whatever else the state is.

Both are sound (a warning is never wrong); with conditions the analysis cannot
read they may stay silent. The analysis is run once per ledger that the tier
conditions mention (and once with no ledger, for ``true``/``false``).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from .. import model
from ..diagnostics import Diagnostic, Label, warning
from ..values import format_decimal
from .common import span_of
from .intervals import IntervalSet, describe

Region = tuple[IntervalSet, IntervalSet]  # (under, over)
_MAYBE: Region = (IntervalSet.empty_set(), IntervalSet.full())
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def constant(node: model.Expr) -> Decimal | None:
    """The value of a constant numeric expression, or None."""
    if isinstance(node, model.Literal_):
        return node.value if node.type == "number" and isinstance(node.value, Decimal) else None
    if isinstance(node, model.Unary) and node.op in ("-", "+"):
        v = constant(node.operand)
        return None if v is None else (-v if node.op == "-" else v)
    if isinstance(node, model.Binary) and node.op in ("+", "-", "*", "/"):
        a, b = constant(node.left), constant(node.right)
        if a is None or b is None:
            return None
        try:
            if node.op == "+":
                return a + b
            if node.op == "-":
                return a - b
            if node.op == "*":
                return a * b
            return a / b if b != 0 else None
        except InvalidOperation:  # pragma: no cover - finite decimals only
            return None
    return None


def _is_ledger(node: model.Expr, ledger: str | None) -> bool:
    return ledger is not None and isinstance(node, model.Name) and node.name == ledger


def region(node: model.Expr, ledger: str | None) -> Region:
    """(under, over) approximations of the balances of ``ledger`` where ``node`` holds."""
    if isinstance(node, model.Literal_) and node.type == "bool":
        whole = IntervalSet.full() if node.value is True else IntervalSet.empty_set()
        return whole, whole
    if isinstance(node, model.Unary) and node.op == "not":
        under, over = region(node.operand, ledger)
        return over.complement(), under.complement()
    if isinstance(node, model.Binary):
        if node.op in ("and", "or"):
            u1, o1 = region(node.left, ledger)
            u2, o2 = region(node.right, ledger)
            if node.op == "and":
                return u1.intersect(u2), o1.intersect(o2)
            return u1.union(u2), o1.union(o2)
        if node.op in _FLIP:
            op, other = node.op, None
            if _is_ledger(node.left, ledger):
                other = node.right
            elif _is_ledger(node.right, ledger):
                op, other = _FLIP[node.op], node.left
            value = constant(other) if other is not None else None
            if value is not None:
                exact = IntervalSet.compare(op, value)
                return exact, exact
    if isinstance(node, model.In) and _is_ledger(node.item, ledger):
        values = [constant(o) for o in node.options]
        if all(v is not None for v in values):
            exact = IntervalSet.empty_set()
            for v in values:
                exact = exact.union(IntervalSet.compare("==", v))  # type: ignore[arg-type]
            if node.negated:
                exact = exact.complement()
            return exact, exact
    return _MAYBE


def _names(node: model.Expr) -> Iterator[str]:
    if isinstance(node, model.Name):
        yield node.name
    for child in ("operand", "left", "right", "item"):
        sub = getattr(node, child, None)
        if sub is not None:
            yield from _names(sub)
    for sub in getattr(node, "options", ()) or getattr(node, "args", ()):
        yield from _names(sub)


def tier_coverage(rulebook: model.Rulebook) -> Iterator[Diagnostic]:
    """W0301 and W0302 (see the module docstring)."""
    tiers = rulebook.tiers
    if not tiers or any(t.otherwise for t in tiers[:-1]):
        return  # no tiers, or a misplaced `otherwise` (E0305 says what follows it is unreachable)
    ledgers = {x.name: x for x in rulebook.ledgers}
    try:
        mentioned = []
        for tier in tiers:
            if tier.condition is not None:
                mentioned.extend(n for n in _names(tier.condition.tree) if n in ledgers and n not in mentioned)
    except RecursionError:
        return
    hidden: set[int] = set()
    gap_reported = False
    for name in [*mentioned, None]:
        ledger = ledgers.get(name) if name is not None else None
        domain = IntervalSet.between(ledger.floor, ledger.ceiling) if ledger else IntervalSet.full()
        if domain.is_empty:
            continue
        try:
            regions = [
                (IntervalSet.full(), IntervalSet.full())
                if t.condition is None
                else region(t.condition.tree, name)
                for t in tiers
            ]
        except RecursionError:
            return
        regions = [(u.intersect(domain), o.intersect(domain)) for u, o in regions]
        earlier = IntervalSet.empty_set()
        for index, (tier, (under, over)) in enumerate(zip(tiers, regions)):
            if index not in hidden and over.issubset(earlier):
                hidden.add(index)
                yield _hidden(rulebook, index, over, regions, ledger)
            earlier = earlier.union(under)
        if name is None or gap_reported or any(t.otherwise for t in tiers):
            continue
        covered = IntervalSet.empty_set()
        for _, over in regions:
            covered = covered.union(over)
        gap = domain.minus(covered)
        if not gap.is_empty:
            gap_reported = True
            yield _gap(rulebook, gap, ledger)  # type: ignore[arg-type]


def _range(ledger: model.Ledger) -> str | None:
    if ledger.floor is None and ledger.ceiling is None:
        return None
    lo = format_decimal(ledger.floor) if ledger.floor is not None else "-∞"
    hi = format_decimal(ledger.ceiling) if ledger.ceiling is not None else "∞"
    return f"`{ledger.name}` stays within [{lo}, {hi}] (its floor and ceiling)"


def _hidden(rulebook: model.Rulebook, index: int, over: IntervalSet, regions: list, ledger) -> Diagnostic:
    tier = rulebook.tiers[index]
    labels = []
    for j in range(index):
        span = span_of(rulebook.tiers[j])
        if span is not None and not regions[j][0].intersect(over).is_empty:
            labels.append(Label(span, f"tier `{rulebook.tiers[j].name}` takes these states first"))
    notes: list[str] = []
    if over.is_empty:
        message = f"tier `{tier.name}` can never hold"
        if ledger is not None and _range(ledger):
            notes.append(_range(ledger))  # type: ignore[arg-type]
    elif tier.otherwise:
        message = f"tier `{tier.name}` (`otherwise`) is hidden: the earlier tiers already cover every balance"
    else:
        message = f"tier `{tier.name}` is hidden behind earlier tiers"
        notes.append("every state that satisfies its condition satisfies an earlier tier's, which wins")
    return warning(
        "W0301",
        message,
        span_of(tier),
        labels=tuple(labels[:3]),
        notes=tuple(notes),
        help="reorder the tiers (best first) or narrow the earlier conditions",
    )


def _gap(rulebook: model.Rulebook, gap: IntervalSet, ledger: model.Ledger) -> Diagnostic:
    parts = describe(gap, ledger.name)
    shown = ", ".join(f"`{p}`" for p in parts[:3]) + (f" and {len(parts) - 3} more" if len(parts) > 3 else "")
    notes = [f"for example `{ledger.name}` = {format_decimal(gap.parts[0].sample())}"]
    if _range(ledger):
        notes.append(_range(ledger))  # type: ignore[arg-type]
    return warning(
        "W0302",
        f"no tier holds when {shown}",
        span_of(rulebook.tiers[-1]),
        notes=tuple(notes),
        help="add a last tier `NAME: otherwise`, or widen a condition to cover these balances",
    )
