"""The path back: by waiting and by the fewest deeds, exact over the rulebook's semantics.

Used by :mod:`explain`. Candidate deeds come from the rules that can move the
target tier's conditions the right way (or unlist); plans are multisets of
deeds enumerated by size (breadth first), each scheduled greedily at the
earliest instant the interpreter takes it, and each verified by running the
interpreter over the subject's events plus the planned ones — never sampled.
Waiting walks the saved agenda instant by instant. Bounds: ``MAX_DEEDS``,
``MAX_PLANS``, ``MAX_ENUMERATED``; hitting one is reported as a stopped
search, never as "unreachable".
"""

from __future__ import annotations

import decimal
import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterable

from . import interpreter
from . import model as m
from .events import Event, InvalidLine, Subject, parse_event
from .explain_model import Deed, PathBack
from .expressions import Skip, decimal_context
from .plan import Plan
from .results import AuditCollector, Decision, dumps
from .values import Duration

_UTC = timezone.utc
_TICK = timedelta(microseconds=1)

MAX_DEEDS = 60  # the largest plan tried
MAX_PLANS = 400  # plans scheduled and verified by the interpreter, at most
MAX_ENUMERATED = 200_000  # plans looked at (bound checks included), at most


class ExplainError(Exception):
    """A request explain cannot answer (an unknown subject); ``str()`` is the message."""



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


# ---------------------------------------------------------------- running


class _Runner:
    """The subject's own runs: its valid events up to now, plus planned ones."""

    def __init__(self, plan: Plan, subject: str, events: list[Event], subj: list[Subject], now: datetime | None):
        self.plan = plan
        self.subject = subject
        self.events = events
        self.subj = subj
        self.now = now
        self.next_line = max((e.line for e in events), default=0) + 1
        self.ids = {e.id for e in events}
        self.runs = 0

    def planned(self, deeds: list[Deed]) -> list[Event]:
        out = []
        n = 0
        for i, d in enumerate(deeds):
            n += 1
            event_id = f"planned-{n}"
            while event_id in self.ids:
                n += 1
                event_id = f"planned-{n}"
            raw = dumps(d.event_json(event_id, self.subject)).encode()
            ev = parse_event(raw, self.next_line + i, self.plan.tz)
            if isinstance(ev, InvalidLine):  # pragma: no cover - we build valid lines
                raise ExplainError(f"a planned event is invalid: {ev.reason}")
            out.append(ev)
        return out

    def run(self, deeds: list[Deed], as_of: datetime, audit: Any = None, save: bool = False) -> Any:
        self.runs += 1
        return interpreter.run(self.plan, self.events + self.planned(deeds), subjects=self.subj,
                               as_of=as_of, audit=audit, save_state=save)

    def resume(self, state: dict, as_of: datetime) -> Any:
        self.runs += 1
        return interpreter.run(self.plan, [], resume=state, as_of=as_of, save_state=True)

    def tier_of(self, result: Any) -> int:
        s = result.subject(self.subject)
        return -1 if s.tier is None else self.plan.tier_pos[s.tier]


def _reached(tier: int, target: int) -> bool:
    return 0 <= tier <= target


def _agenda_instants(state: dict) -> list[datetime]:
    return sorted({datetime.fromisoformat(item[0]) for item in state["agenda"]})


def _walk_states(runner: _Runner, state: dict, start: datetime, until: datetime) -> Iterable[tuple[datetime, Any]]:
    """Resume ``state`` (saved at ``start``) instant by instant of its agenda, no events,
    up to ``until`` inclusive: yields (instant, result)."""
    t = start
    while True:
        later = [x for x in _agenda_instants(state) if x > t]
        if not later or later[0] > until:
            return
        t = later[0].astimezone(runner.plan.tz)
        result = runner.resume(state, t)
        state = result.state
        yield t, result


# ---------------------------------------------------------------- path back


def _paths(plan: Plan, runner: _Runner, result: Any, state: dict, now: datetime, horizon: Duration) -> list[PathBack]:
    current = -1 if result.tier is None else plan.tier_pos[result.tier]
    if not plan.tier_names:
        return []
    targets = list(range(0, current if current >= 0 else len(plan.tier_names)))
    if not targets:
        return []
    limit = horizon.add(now)
    # by waiting: one walk over the agenda
    walk: list[tuple[datetime, Any]] = [(now, runner.run([], now))]
    first: dict[int, datetime] = {}
    for t, res in _walk_states(runner, state, now, limit):
        walk.append((t, res))
        tier = runner.tier_of(res)
        for target in targets:
            if target not in first and _reached(tier, target):
                first[target] = t
        if all(t_ in first for t_ in targets):
            break
    best_balances = _best_balances(plan, walk, runner.subject)
    out = []
    for target in targets:
        name = plan.tier_names[target]
        waited = first.get(target)
        reason = None
        if waited is not None and not _verify_waiting(runner, target, waited):
            reason = "internal check failed: the interpreter does not confirm the waiting date"
            waited = None
        elif waited is None:
            reason = f"not by waiting: no pending work reaches {name} by {limit.isoformat()}"
        path = PathBack(name, waited, reason, None, None, None)
        _by_deeds(plan, runner, state, now, limit, target, waited, best_balances, path)
        out.append(path)
    return out


def _verify_waiting(runner: _Runner, target: int, at: datetime) -> bool:
    return _reached(runner.tier_of(runner.run([], at)), target) and not _reached(
        runner.tier_of(runner.run([], at - _TICK)), target)


def _best_balances(plan: Plan, walk: list, subject: str) -> tuple[list[Decimal], list[Decimal]]:
    """Per ledger, the highest and the lowest balance waiting alone passes through."""
    highs: list[Decimal] = []
    lows: list[Decimal] = []
    for name in plan.ledger_names:
        values = [res.subject(subject).ledger(name) for _, res in walk]
        highs.append(max(values))
        lows.append(min(values))
    return highs, lows


def _blockers(plan: Plan, state: dict, subject: str, target: int, limit: datetime, deadline: datetime,
              actions: list[_Action]) -> list[str]:
    """Plain reasons the tier cannot be reached by deeds: caps and lists nothing lifts in time."""
    me = _mine(state, subject)
    tz = plan.tz
    reasons = []
    if me["cap"] > target:
        reasons.append(f"a permanent cap at tier {plan.tier_names[me['cap']]}: no rule lifts it "
                       "(only an official decision could)")
    by_token = _agenda_by_token(state)
    unlisting = {n for a in actions for n in plan.rulebook.rules[a.rule_index].effects.unlist}
    for name, token in me["lists"].items():
        if plan.list_tier.get(name, -1) <= target or name in unlisting:
            continue
        if token is None:
            reasons.append(f"list `{name}` (capped at {plan.tier_names[plan.list_tier[name]]}) has no term and no "
                           "event a subject can bring takes a name off it (only an official decision could)")
        else:
            end = datetime.fromisoformat(by_token[token][0]).astimezone(tz)
            if end > limit:
                reasons.append(f"list `{name}` (capped at {plan.tier_names[plan.list_tier[name]]}) lasts until "
                               f"{end.isoformat()}, after the horizon; only time lifts it")
            elif end > deadline:
                reasons.append(f"list `{name}` (capped at {plan.tier_names[plan.list_tier[name]]}) lasts until "
                               f"{end.isoformat()} and only time lifts it, so no deed comes before waiting")
    for token, index in me["tcaps"].items():
        end = by_token.get(int(token))
        if index > target and end is not None:
            end_at = datetime.fromisoformat(end[0]).astimezone(tz)
            if end_at > limit:
                reasons.append(f"a cap at tier {plan.tier_names[index]} lasts until {end_at.isoformat()}, "
                               "after the horizon")
            elif end_at > deadline:
                reasons.append(f"a cap at tier {plan.tier_names[index]} lasts until {end_at.isoformat()}, "
                               "so no deed comes before waiting")
    return reasons


def _by_deeds(plan: Plan, runner: _Runner, state: dict, now: datetime, limit: datetime, target: int,
              waited: datetime | None, best: tuple, path: PathBack) -> None:
    rb = plan.rulebook
    directions: dict[str, set[int]] = {}
    names = set(plan.ledger_names)
    for t in rb.tiers[: target + 1]:
        if t.condition is not None:
            _directions(t.condition.tree, names, directions)
    bad_lists = {n for n, i in plan.list_tier.items() if i > target}
    actions, left_out, sound = _candidates(plan, target, directions, bad_lists)
    path.left_out = left_out
    path.considered = [f"{a.rule} ({a.type})" for a in actions]
    path.equivalent = {a.rule: list(a.also) for a in actions if a.also}
    deadline = limit if waited is None else waited - _TICK
    blockers = _blockers(plan, state, runner.subject, target, limit, deadline, actions)
    if blockers:
        path.deeds_reason = "cannot be reached by deeds: " + "; ".join(blockers)
        return
    if not actions:
        path.deeds_reason = ("cannot be reached by deeds: no rule can move "
                             + (", ".join(sorted(directions)) or "the tier's conditions") + " the right way"
                             + (" (some rules were left out, see left_out)" if left_out else ""))
        return
    orient = {n: next(iter(d)) for n, d in directions.items() if len(d) == 1}
    found: tuple[datetime, list[Deed]] | None = None
    enumerated = verified = 0
    stopped = None
    for k in range(1, MAX_DEEDS + 1):
        for combo in itertools.combinations_with_replacement(range(len(actions)), k):
            enumerated += 1
            if enumerated > MAX_ENUMERATED:
                stopped = f"the search stopped after {MAX_ENUMERATED} plans looked at"
                break
            if sound and not _may_reach(plan, actions, combo, best, orient, target):
                continue
            verified += 1
            if verified > MAX_PLANS:
                stopped = f"the search stopped after verifying {MAX_PLANS} plans"
                break
            got = _schedule(plan, runner, [actions[i] for i in combo], now, deadline, target)
            if got is not None and (found is None or got[0] < found[0]):
                found = got
                if got[0] <= now:
                    break  # nothing completes earlier than now
        if found is not None or stopped:
            break
    path.plans_verified = min(verified, MAX_PLANS)
    if found is None:
        when = "before waiting does" if waited is not None else f"by {limit.isoformat()}"
        if stopped:
            path.deeds_reason = f"no plan found: {stopped} (up to {k} deeds)"
        else:
            path.deeds_reason = f"cannot be reached by deeds: no plan of at most {MAX_DEEDS} deeds reaches it {when}"
        return
    reached_at, deeds = found
    check = runner.run(deeds, reached_at)
    if not _reached(runner.tier_of(check), target):  # pragma: no cover - the schedule already ran it
        path.deeds_reason = "internal check failed: the interpreter does not confirm the plan"
        return
    path.deeds = deeds
    path.deeds_reached_at = reached_at


def _may_reach(plan: Plan, actions: list[_Action], combo: tuple, best: tuple[list[Decimal], list[Decimal]],
               orient: dict[str, int], target: int) -> bool:
    """Sound bound: the best balance waiting reaches plus every deed's largest helpful change."""
    highs, lows = best
    bal = [lows[i] if orient.get(n, 1) < 0 else highs[i] for i, n in enumerate(plan.ledger_names)]
    for i in combo:
        for index, value in actions[i].nominal.items():
            bal[index] += value * orient.get(plan.ledger_names[index], 1)
    tier = _ledger_tier(plan, bal)
    return 0 <= tier <= target


def _taken(decisions: list[Decision], event_id: str, rule: str) -> bool:
    return any(d.event == event_id and d.rule == rule and d.outcome in ("applied", "deferred") for d in decisions)


def _schedule(plan: Plan, runner: _Runner, acts: list[_Action], now: datetime, deadline: datetime,
              target: int) -> tuple[datetime, list[Deed]] | None:
    """Place each deed, in order, at the earliest instant (not before the previous one) at
    which the interpreter takes it under its rule; then the instant the tier is reached
    (at the last deed, or later from pending work), if by ``deadline``."""
    tz = plan.tz
    deeds = [Deed(now, a.type, a.rule, dict(a.fields), a.evidence) for a in acts]
    t = now
    i = 0
    while i < len(deeds):
        for d in deeds[i:]:
            d.at = t
        collector = AuditCollector()
        runner.run(deeds, t, audit=collector)
        ids = [e.id for e in runner.planned(deeds)]
        j = next((j for j in range(i, len(deeds)) if not _taken(collector.decisions, ids[j], deeds[j].rule)), None)
        if j is None:
            break
        i = j
        prefix = runner.run(deeds[:j], t, save=True)
        nxt = _next_chance(plan, prefix.state, runner.subject, t, acts[j])
        if nxt is None or nxt > deadline:
            return None
        t = nxt.astimezone(tz)
    last = deeds[-1].at
    res = runner.run(deeds, last, save=True)
    if _reached(runner.tier_of(res), target):
        return last, deeds
    for at, r in _walk_states(runner, res.state, last, deadline):
        if _reached(runner.tier_of(r), target):
            return at, deeds
    return None


def _next_chance(plan: Plan, state: dict, subject: str, t: datetime, action: _Action) -> datetime | None:
    """The next instant after ``t`` at which something that decides whether a deed is taken
    may change: a period boundary of its rule's limit or cap, a rolling window letting go of
    an earlier deed, or pending timed work (a list or cap ending, a revert)."""
    from .values import next_period_start

    rule = plan.rulebook.rules[action.rule_index]
    me = _mine(state, subject)
    chances = [datetime.fromisoformat(x[0]) for x in state["agenda"]]
    for bound in (rule.limit, rule.cap):
        if bound is None:
            continue
        if bound.period is not None:
            chances.append(next_period_start(t, bound.period))
        elif bound is rule.limit:
            window = me["limits"].get(str(action.rule_index), {}).get("window", [])
            chances += [bound.within.add(datetime.fromisoformat(x).astimezone(plan.tz)) for x in window]
        else:
            for key, cell in me["caps"].items():
                if key.split(",")[0] == str(action.rule_index):
                    chances += [bound.within.add(datetime.fromisoformat(x[0]).astimezone(plan.tz))
                                for x in cell.get("window", [])]
    later = [c for c in chances if c > t]
    return min(later) if later else None


def _mine(state: dict, subject: str) -> dict:
    return next(s for s in state["subjects"] if s["id"] == subject)


def _agenda_by_token(state: dict) -> dict[int, list]:
    return {item[2]: item for item in state["agenda"]}


def _ledger_tier(plan: Plan, balances: list[Decimal], fields: dict | None = None) -> int:
    st = plan.new_state("?", fields or {})
    st.bal = list(balances)
    with decimal.localcontext(decimal_context()):
        return plan.tier_index(st)
