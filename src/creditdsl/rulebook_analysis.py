"""Static analysis of a rulebook for explain: what its conditions and rules say, read
without running anything.

Public API::

    ledger_orientation(rulebook) -> {ledger: +1 | -1}   (+1: higher is better)
    tier_bands(rulebook) -> {ledger: [(tier, lower, upper), ...]}   (single-ledger thresholds)

Used by :mod:`pathback`: ``_directions`` (per ledger, the ways that make a tier
condition truer), ``_solve`` (the event fields that make a ``where`` true) and
``_candidates`` (the deeds that may move a subject toward a target tier, each
an ``_Action`` with its fields, evidence and nominal gain, plus the rules left
out and why, and whether the search bound is sound for this rulebook).
"""

from __future__ import annotations

import decimal
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from . import model as m
from .expressions import Skip, decimal_context
from .plan import Plan


# ---------------------------------------------------------------- expression analysis


def _walk(node: Any) -> Iterable[Any]:
    yield node
    kind = getattr(node, "kind", None)
    if kind == "unary":
        yield from _walk(node.operand)
    elif kind == "binary":
        yield from _walk(node.left)
        yield from _walk(node.right)
    elif kind == "in":
        yield from _walk(node.item)
        for o in node.options:
            yield from _walk(o)
    elif kind == "call":
        for a in node.args:
            yield from _walk(a)


def _reads_event(expr: m.Expression | None) -> bool:
    return expr is not None and any(n.kind == "field" and n.source == "event" for n in _walk(expr.tree))


def _reads_state(expr: m.Expression | None) -> bool:
    return expr is not None and any(
        n.kind in ("name", "count") or (n.kind == "field" and n.source == "subject")
        or (n.kind == "call" and n.func == "listed") for n in _walk(expr.tree)
    )


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_CMP = ("<", "<=", ">", ">=", "==", "!=")


def _directions(node: Any, ledgers: set[str], out: dict[str, set[int]], sign: int = 1) -> bool:
    """Collect, per ledger, the directions (+1 up, -1 down) that make the condition truer.
    Returns True when the condition is a monotone and/or of `LEDGER cmp NUMBER` atoms."""
    kind = node.kind
    if kind == "binary" and node.op in ("and", "or"):
        a = _directions(node.left, ledgers, out, sign)
        b = _directions(node.right, ledgers, out, sign)
        return a and b
    if kind == "unary" and node.op == "not":
        _directions(node.operand, ledgers, out, -sign)
        return False
    if kind == "binary" and node.op in _CMP:
        left, right, op = node.left, node.right, node.op
        if right.kind == "name" and right.name in ledgers and left.kind != "name":
            left, right, op = right, left, _FLIP[op]
        if left.kind == "name" and left.name in ledgers:
            simple = right.kind == "literal" and right.type == "number"
            if op in (">", ">="):
                out.setdefault(left.name, set()).add(sign)
            elif op in ("<", "<="):
                out.setdefault(left.name, set()).add(-sign)
            else:
                out.setdefault(left.name, set()).update((1, -1))
                simple = False
            return simple
    for n in _walk(node):
        if n.kind == "name" and n.name in ledgers:
            out.setdefault(n.name, set()).update((1, -1))
    return False


def ledger_orientation(rulebook: m.Rulebook) -> dict[str, int]:
    """+1 when higher is better for a ledger, -1 when lower is. From the tier conditions;
    for a ledger no tier reads, from the rules that put a subject on a list with sanctions
    (their changes are bad); otherwise higher is better."""
    names = {x.name for x in rulebook.ledgers}
    dirs: dict[str, set[int]] = {}
    for t in rulebook.tiers:
        if t.condition is not None:
            _directions(t.condition.tree, names, dirs)
    sanctioned = {x.name for x in rulebook.lists if x.sanctions} | {s.target for s in rulebook.sanctions}
    votes: dict[str, int] = {}
    for r in list(rulebook.rules) + list(rulebook.triggers):
        if any(n in sanctioned for n in r.effects.list):
            for ch in r.effects.changes:
                if ch.amount is not None and ch.amount.tree.kind == "literal" and ch.amount.tree.type == "number":
                    votes[ch.ledger] = votes.get(ch.ledger, 0) + (1 if ch.amount.tree.value > 0 else -1)
    out = {}
    for x in rulebook.ledgers:
        d = dirs.get(x.name)
        if d == {1}:
            out[x.name] = 1
        elif d == {-1}:
            out[x.name] = -1
        elif votes.get(x.name, 0) > 0:
            out[x.name] = -1
        else:
            out[x.name] = 1
    return out


def tier_bands(rulebook: m.Rulebook) -> dict[str, list[tuple[str, Decimal | None, Decimal | None]]]:
    """For tiers that are thresholds on one ledger (`L >= N`, `L > N`, `L <= N`, `L < N`,
    `otherwise`), each tier's interval on that ledger, for charts. Others: left out."""
    per: dict[str, list[tuple[str, str, Decimal]]] = {}
    ok = True
    for t in rulebook.tiers:
        if t.condition is None:
            continue
        tree = t.condition.tree
        if tree.kind == "binary" and tree.op in ("<", "<=", ">", ">=") and tree.left.kind == "name" \
                and tree.right.kind == "literal" and tree.right.type == "number":
            per.setdefault(tree.left.name, []).append((t.name, tree.op, tree.right.value))
        else:
            ok = False
    if not ok or len(per) != 1:
        return {}
    (ledger, atoms), = per.items()
    bands = []
    if all(op in (">", ">=") for _, op, _ in atoms):
        upper = None
        for name, _, value in atoms:
            bands.append((name, value, upper))
            upper = value
        if rulebook.tiers[-1].condition is None:
            bands.append((rulebook.tiers[-1].name, None, upper))
    elif all(op in ("<", "<=") for _, op, _ in atoms):
        lower = None
        for name, _, value in atoms:
            bands.append((name, lower, value))
            lower = value
        if rulebook.tiers[-1].condition is None:
            bands.append((rulebook.tiers[-1].name, lower, None))
    else:
        return {}
    return {ledger: bands}


# ---------------------------------------------------------------- where-solving


def _literal_json(value: Any) -> Any:
    if isinstance(value, (bool, str, Decimal)):
        return value
    return None


def _solve(node: Any) -> dict | None:
    """Event fields that make a `where` true as far as event fields decide it ({} when it
    reads none); None when some event-field part cannot be satisfied by a literal."""
    if not any(n.kind == "field" and n.source == "event" for n in _walk(node)):
        return {}
    kind = node.kind
    if kind == "binary" and node.op == "and":
        a, b = _solve(node.left), _solve(node.right)
        if a is None or b is None:
            return None
        for k, v in b.items():
            if k in a and a[k] != v:
                return None
        return {**a, **b}
    if kind == "binary" and node.op == "or":
        a = _solve(node.left)
        return a if a is not None else _solve(node.right)
    if kind == "in" and not node.negated and node.item.kind == "field" and node.item.source == "event":
        for o in node.options:
            if o.kind == "literal" and _literal_json(o.value) is not None:
                return {node.item.field: o.value}
        return None
    if kind == "binary" and node.op in _CMP:
        left, right, op = node.left, node.right, node.op
        if right.kind == "field" and right.source == "event":
            left, right, op = right, left, _FLIP[op]
        if left.kind != "field" or left.source != "event" or right.kind != "literal" or left.field == "at":
            return None
        v = right.value
        if _literal_json(v) is None:
            return None
        if op == "==":
            return {left.field: v}
        if isinstance(v, bool):
            return {left.field: not v} if op == "!=" else None
        if isinstance(v, Decimal):
            step = Decimal(1)
            return {left.field: {">": v + step, ">=": v, "<": v - step, "<=": v, "!=": v + step}[op]}
        return None
    return None


# ---------------------------------------------------------------- candidate deeds


@dataclass
class _Action:
    type: str
    rule: str
    rule_index: int
    fields: dict
    evidence: tuple[str, ...]
    constrained: bool  # a limit, cap, except or grace may delay or refuse it
    nominal: dict[int, Decimal] | None  # best helpful change per ledger index; None: unknown
    signature: Any
    also: list[str] = field(default_factory=list)


def _evidence(rule: m.Rule) -> tuple[str, ...]:
    if rule.requires is None:
        return ()
    best = min(rule.requires.alternatives, key=lambda alt: sum(e.count for e in alt))
    return tuple(e.kind for e in best for _ in range(e.count))


def _constant(expr: m.Expression, plan: Plan) -> Decimal | None:
    if _reads_state(expr) or _reads_event(expr):
        return None
    from .expressions import compile_expression

    try:
        with decimal.localcontext(decimal_context()):
            value = compile_expression(expr, plan.env)(plan.new_state("?", {}), None)
    except Skip:
        return None
    return value if type(value) is Decimal else None


def _candidates(plan: Plan, target: int, directions: dict[str, set[int]],
                bad_lists: set[str]) -> tuple[list[_Action], list[dict], bool]:
    """(actions, left out, bound is sound): the deeds that may move the subject toward
    ``target`` and the rules left out with why."""
    rb = plan.rulebook
    actions: list[_Action] = []
    left_out: list[dict] = []
    sound = True
    for index, rule in enumerate(rb.rules):
        helpful = bool(set(rule.effects.unlist) & bad_lists)
        field_dependent = []
        for ch in rule.effects.changes:
            want = directions.get(ch.ledger)
            if not want:
                continue
            if ch.amount is None:
                helpful = True
                continue
            if _reads_event(ch.amount):
                field_dependent.append(ch.ledger)
                continue
            value = _constant(ch.amount, plan)
            if value is None or any(d * value > 0 for d in want):
                helpful = True
        if field_dependent and not helpful:
            left_out.append({"rule": rule.name, "reason": f"its change to {', '.join(field_dependent)} depends on "
                             "event fields a plan cannot know"})
            continue
        if not helpful:
            continue
        if rule.effects.tier_cap is not None and plan.tier_pos.get(rule.effects.tier_cap.tier, -1) > target:
            continue  # it would cap the subject below the target
        if any(plan.list_tier.get(n, -1) > target for n in rule.effects.list):
            continue
        if _reads_event(rule.except_):
            left_out.append({"rule": rule.name, "reason": "its `except` reads event fields a plan cannot choose"})
            continue
        fields = {} if rule.where is None else _solve(rule.where.tree)
        if fields is None:
            left_out.append({"rule": rule.name, "reason": f"its `where: {rule.where.text}` reads event fields "
                             "a plan cannot choose"})
            continue
        evidence = _evidence(rule)
        constrained = bool(rule.limit or rule.cap or rule.except_ or rule.grace)
        for typ in dict.fromkeys(rule.on):
            nominal, all_rules = _nominal(plan, typ, directions)
            if nominal is None:
                sound = False
            stateless = all(r.limit is None and r.cap is None for r in all_rules)
            watched = typ in plan.watch or typ in plan.remedies
            sig = (tuple(sorted(fields.items(), key=lambda kv: kv[0])), evidence,
                   tuple(json.dumps(_rule_dump(r), sort_keys=True, default=str) for r in all_rules),
                   typ if (watched or not stateless) else None, None if stateless else index)
            dup = next((a for a in actions if a.signature == sig), None)
            if dup is not None:
                if rule.name != dup.rule and rule.name not in dup.also:
                    dup.also.append(rule.name)
                continue
            actions.append(_Action(typ, rule.name, index, fields, evidence, constrained, nominal, sig))
    if any(ch.amount is None or _reads_state(ch.amount) for r in rb.rules for ch in r.effects.changes):
        sound = False
    if any(t.effects.changes for t in rb.triggers):
        sound = False
    if any(len(d) != 1 for d in directions.values()):
        sound = False
    actions.sort(key=lambda a: (a.constrained, a.rule_index))
    return actions, left_out, sound


def _rule_dump(rule: m.Rule) -> dict:
    d = rule.model_dump(mode="json", by_alias=True)
    for k in ("name", "note", "source", "on"):
        d.pop(k, None)
    return d


def _nominal(plan: Plan, typ: str, directions: dict[str, set[int]]) -> tuple[dict[int, Decimal] | None, list]:
    """The largest helpful change per ledger one event of ``typ`` can make (every rule on it
    applying), or None when some rule's change cannot be bounded."""
    out: dict[int, Decimal] = {}
    rules = [r for r in plan.rulebook.rules if typ in r.on]
    bounded = True
    for r in rules:
        for ch in r.effects.changes:
            want = directions.get(ch.ledger)
            if not want:
                continue
            if ch.amount is None:
                bounded = False
                continue
            value = _constant(ch.amount, plan)
            if value is None:
                bounded = False
                continue
            d = next(iter(want))
            if d * value > 0:
                i = plan.ledger_index[ch.ledger]
                out[i] = out.get(i, Decimal(0)) + abs(value)
    return (out if bounded else None), rules
