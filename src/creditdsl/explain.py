"""Explain one subject: timeline, standing now, pending work, and the exact path back.

Public API::

    explain(rulebook, events, subject, subjects=None, as_of=None,
            horizon=Duration(3, "year"), sources=None) -> Explanation
    Explanation.to_json() -> dict        (the documented, stable keys: docs/cli.md "explain")
    ExplainError                         a bad request (unknown subject): a message, no traceback
    ledger_orientation(rulebook) -> {ledger: +1 | -1}   (+1: higher is better)

Everything comes from the interpreter itself:

* **Timeline**: the audit of one real run over the whole event file, the
  subject's decisions in order, each with its rule's location and source line.
* **Now / Pending**: the subject's result and its saved end state
  (``run(..., save_state=True)``: lists, caps, the agenda of timed work).
* **Path back, by waiting**: the agenda is walked instant by instant (resuming
  the saved state with no events up to the next pending instant) until the
  tier is reached or the horizon passes; the instant found is then checked by
  two fresh runs, ``as_of`` at it and one microsecond before.
* **Path back, by deeds**: candidate deeds are derived from the rules that can
  move the target tier's conditions the right way (or unlist); plans are
  multisets of deeds enumerated by size (breadth first), each scheduled
  greedily at the earliest instant the interpreter takes it (limits, caps,
  groups, ``except``/``where``), and each verified by running the
  interpreter over the subject's events plus the planned ones. A sound bound
  (the best balance waiting reaches plus the nominal gains of the deeds)
  skips plans that cannot reach the tier, when the rulebook is simple enough
  for it to be sound; the plan found is re-checked by a fresh run.

"Reaching" a tier means being at that tier or a better one.
"""

from __future__ import annotations

import decimal
import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from . import interpreter
from . import model as m
from .events import Event, InvalidLine, Subject, parse_event, read_subjects
from .expressions import Skip, decimal_context
from .plan import Plan, compile_plan, signed
from .results import AuditCollector, Decision, dumps
from .values import Duration, format_decimal

_UTC = timezone.utc
_TICK = timedelta(microseconds=1)
REVERT, LIST_END, TCAP_END, DEADLINE, RESET, ARESET = 10, 11, 12, 13, 14, 15

MAX_DEEDS = 60  # the largest plan tried
MAX_PLANS = 400  # plans scheduled and verified by the interpreter, at most
MAX_ENUMERATED = 200_000  # plans looked at (bound checks included), at most


class ExplainError(Exception):
    """A request explain cannot answer (an unknown subject); ``str()`` is the message."""


# ---------------------------------------------------------------- results


@dataclass
class Step:
    seq: int
    at: datetime | None
    line: int | None
    event: str | None
    rule: str | None
    location: str | None
    source: str | None
    outcome: str
    reason: str | None
    changes: dict
    ledgers: dict | None
    tier: str | None
    fine: Decimal | None = None
    listed: tuple = ()
    unlisted: tuple = ()

    def to_json(self) -> dict:
        return {
            "seq": self.seq, "at": _iso(self.at), "line": self.line, "event": self.event, "rule": self.rule,
            "location": self.location, "source": self.source, "outcome": self.outcome, "reason": self.reason,
            "changes": self.changes, "ledgers": self.ledgers, "tier": self.tier, "fine": self.fine,
            "listed": list(self.listed), "unlisted": list(self.unlisted),
        }


@dataclass
class PendingWork:
    at: datetime
    kind: str  # revert | list end | cap end | grace deadline | reset
    effect: str
    rule: str | None = None
    event: str | None = None

    def to_json(self) -> dict:
        return {"at": _iso(self.at), "kind": self.kind, "effect": self.effect, "rule": self.rule, "event": self.event}


@dataclass
class Deed:
    at: datetime
    type: str
    rule: str
    fields: dict
    evidence: tuple[str, ...]

    def to_json(self) -> dict:
        return {"at": _iso(self.at), "type": self.type, "rule": self.rule, "fields": dict(self.fields),
                "evidence": list(self.evidence)}

    def event_json(self, event_id: str, subject: str) -> dict:
        out: dict = {"id": event_id, "subject": subject, "type": self.type, "at": self.at.isoformat()}
        if self.evidence:
            out["evidence"] = list(self.evidence)
        out.update(self.fields)
        return out


@dataclass
class PathBack:
    tier: str
    waiting_at: datetime | None
    waiting_reason: str | None
    deeds: list[Deed] | None
    deeds_reached_at: datetime | None
    deeds_reason: str | None
    considered: list[str] = field(default_factory=list)  # "rule (event type)"
    equivalent: dict = field(default_factory=dict)  # rule → rules that would do the same
    left_out: list[dict] = field(default_factory=list)  # {"rule", "reason"}
    plans_verified: int = 0

    def to_json(self) -> dict:
        return {
            "tier": self.tier,
            "by_waiting": {"reachable": self.waiting_at is not None, "at": _iso(self.waiting_at),
                           "reason": self.waiting_reason},
            "by_deeds": {
                "reachable": self.deeds is not None,
                "count": None if self.deeds is None else len(self.deeds),
                "reached_at": _iso(self.deeds_reached_at),
                "deeds": None if self.deeds is None else deed_groups(self.deeds),
                "reason": self.deeds_reason,
                "considered": list(self.considered),
                "equivalent": {k: list(v) for k, v in self.equivalent.items()},
                "left_out": list(self.left_out),
                "plans_verified": self.plans_verified,
            },
        }


@dataclass
class Explanation:
    rulebook: str
    subject: str
    as_of: datetime | None
    horizon: Duration
    ledger_names: tuple[str, ...]
    starts: dict
    tiers: tuple[str, ...]
    timeline: list[Step]
    now: dict
    pending: list[PendingWork]
    paths: list[PathBack]
    bands: dict = field(default_factory=dict)  # ledger → [(tier, lower, upper)] for charts

    def to_json(self) -> dict:
        return {
            "rulebook": self.rulebook,
            "subject": self.subject,
            "as_of": _iso(self.as_of),
            "horizon": str(self.horizon),
            "tiers": list(self.tiers),
            "timeline": [s.to_json() for s in self.timeline],
            "now": self.now,
            "pending": [p.to_json() for p in self.pending],
            "path_back": [p.to_json() for p in self.paths],
        }


def deed_groups(deeds: list[Deed]) -> list[dict]:
    """Consecutive equal deeds at one instant as one entry with a ``count``."""
    out: list[dict] = []
    for d in deeds:
        doc = d.to_json()
        if out and {k: v for k, v in out[-1].items() if k != "count"} == doc:
            out[-1]["count"] += 1
        else:
            out.append({"count": 1, **doc})
    return out


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


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


# ---------------------------------------------------------------- explain


def explain(
    rulebook: m.Rulebook | Plan,
    events: Any,
    subject: str,
    subjects: Any = None,
    as_of: Any = None,
    horizon: Duration = Duration(3, "year"),
    sources: dict | None = None,
) -> Explanation:
    plan = rulebook if isinstance(rulebook, Plan) else compile_plan(rulebook)
    rb = plan.rulebook
    tz = plan.tz
    items = list(interpreter._items(events, tz))
    subject_list: list[Subject] = []
    if subjects is not None:
        subject_list = read_subjects(subjects)[0] if isinstance(subjects, (str, Path)) else [
            s if isinstance(s, Subject) else Subject(str(s["id"]), dict(s)) for s in subjects]
    collector = AuditCollector()
    full = interpreter.run(plan, items, subjects=subject_list, as_of=as_of, audit=collector)
    known = {s.subject for s in full.subjects}
    if subject not in known:
        hint = ""
        if known:
            close = sorted(known)[:5]
            hint = f" (subjects: {', '.join(close)}{', ...' if len(known) > 5 else ''})"
        raise ExplainError(f"no subject `{subject}` in the events or subjects{hint}")
    now = full.as_of
    me = [s for s in subject_list if s.id == subject]
    mine = [e for e in items if isinstance(e, Event) and e.subject == subject
            and (now is None or e.key <= now.astimezone(_UTC))]
    runner = _Runner(plan, subject, mine, me, now)
    result = full.subject(subject)

    timeline = [_step(d, plan, sources) for d in collector.decisions if d.subject == subject]
    if now is None:  # no valid event at all: the start state, nothing pending
        return Explanation(rb.name, subject, None, horizon, plan.ledger_names,
                           dict(zip(plan.ledger_names, plan.starts)), plan.tier_names, timeline,
                           _now_doc(plan, result, None, subject, timeline), [], [], tier_bands(rb))
    base = runner.run([], now, save=True)
    state = base.state
    now_doc = _now_doc(plan, result, state, subject, timeline)
    pending = _pending(plan, state, subject)
    paths = _paths(plan, runner, result, state, now, horizon)
    return Explanation(rb.name, subject, now, horizon, plan.ledger_names, dict(zip(plan.ledger_names, plan.starts)),
                       plan.tier_names, timeline, now_doc, pending, paths, tier_bands(rb))


def _location(d: Decision, sources: dict | None) -> tuple[str | None, str | None]:
    span = d.span
    if span is None:
        return None, None
    text = None
    src = (sources or {}).get(span.file)
    if src is None:
        try:
            from .pipeline import read_source

            src = read_source(span.file)
        except Exception:  # noqa: BLE001 - the file may be gone; the location still stands
            src = None
    if src is not None:
        text = src.line_text(span.line).strip()
    return f"{span.file}:{span.line}", text


def _step(d: Decision, plan: Plan, sources: dict | None) -> Step:
    location, text = _location(d, sources)
    return Step(
        d.seq, d.at, d.line, d.event, d.rule, location, text, d.outcome, d.reason,
        {} if d.changes is None else {n: v for n, v in d.changes},
        None if d.after is None else dict(zip(plan.ledger_names, d.after)),
        d.tier_after, d.fine, tuple(d.listed), tuple(d.unlisted),
    )


def _mine(state: dict, subject: str) -> dict:
    return next(s for s in state["subjects"] if s["id"] == subject)


def _agenda_by_token(state: dict) -> dict[int, list]:
    return {item[2]: item for item in state["agenda"]}


def _ledger_tier(plan: Plan, balances: list[Decimal], fields: dict | None = None) -> int:
    st = plan.new_state("?", fields or {})
    st.bal = list(balances)
    with decimal.localcontext(decimal_context()):
        return plan.tier_index(st)


def _now_doc(plan: Plan, result: Any, state: dict | None, subject: str, timeline: list[Step]) -> dict:
    rb = plan.rulebook
    tz = plan.tz
    lists, caps = [], []
    me = None if state is None else _mine(state, subject)
    by_token = {} if state is None else _agenda_by_token(state)
    for name in result.lists:
        token = None if me is None else me["lists"].get(name)
        end = by_token.get(token) if token is not None else None
        since = next((s.at for s in reversed(timeline) if name in s.listed), None)
        lists.append({"name": name, "since": _iso(since),
                      "until": None if end is None else datetime.fromisoformat(end[0]).astimezone(tz).isoformat(),
                      "tier": plan.tier_names[plan.list_tier[name]] if name in plan.list_tier else None})
    if me is not None and me["cap"] >= 0:
        rules = {r.name: r for r in rb.rules + rb.triggers}
        origin = next((s for s in timeline if s.outcome in ("applied", "triggered") and s.rule in rules
                       and rules[s.rule].effects.tier_cap is not None
                       and rules[s.rule].effects.tier_cap.duration is None
                       and plan.tier_pos.get(rules[s.rule].effects.tier_cap.tier) == me["cap"]), None)
        caps.append({"tier": plan.tier_names[me["cap"]], "from": f"rule {origin.rule}" if origin else "a rule",
                     "since": _iso(origin.at) if origin else None, "until": None})
    if me is not None:
        for token, index in sorted(me["tcaps"].items(), key=lambda kv: int(kv[0])):
            end = by_token.get(int(token))
            rule = None if end is None else plan.all_rules[end[4][1]].name
            caps.append({"tier": plan.tier_names[index], "from": f"rule {rule}" if rule else "a rule",
                         "since": None,
                         "until": None if end is None else datetime.fromisoformat(end[0]).astimezone(tz).isoformat()})
    for entry in lists:
        if entry["tier"] is not None:
            caps.append({"tier": entry["tier"], "from": f"list {entry['name']}", "since": entry["since"],
                         "until": entry["until"]})
    balances = [v for _, v in result.ledgers]
    fields = {}
    if state is not None:
        fields = json.loads(me["fields"], parse_float=Decimal)
    by_ledgers = _ledger_tier(plan, balances, fields)

    def labelled(table: dict) -> list[dict]:
        out: dict[str, list[str]] = {}
        if result.tier is not None:
            for label in table.get(result.tier, ()):
                out.setdefault(label, []).append(f"tier {result.tier}")
        for name in plan.list_names:
            if name in result.lists:
                for label in table.get(name, ()):
                    if f"list {name}" not in out.setdefault(label, []):
                        out[label].append(f"list {name}")
        return [{"label": k, "from": v} for k, v in out.items()]

    return {
        "ledgers": dict(result.ledgers),
        "tier": result.tier,
        "tier_by_ledgers": None if by_ledgers < 0 else plan.tier_names[by_ledgers],
        "fines": result.fines,
        "lists": lists,
        "caps": caps,
        "sanctions": labelled(plan.sanctions),
        "privileges": labelled(plan.privileges),
    }


def _pending(plan: Plan, state: dict, subject: str) -> list[PendingWork]:
    tz = plan.tz
    me = _mine(state, subject)
    out: list[PendingWork] = []
    seen_resets: set[int] = set()
    for key, _phase, token, kind, payload in sorted(state["agenda"], key=lambda x: (x[0], x[1], x[2])):
        at = datetime.fromisoformat(key).astimezone(tz)
        if kind == REVERT:
            sid, index, amount, rule_index, _line, event_id, since, why = payload
            if sid != subject or token not in me["pending"].get(str(index), []):
                continue
            name = plan.ledger_names[index]
            back = signed(-Decimal(amount))
            since_local = datetime.fromisoformat(since).astimezone(tz).isoformat()
            out.append(PendingWork(at, "revert", f"{name} {back} (the {signed(Decimal(amount))} of {since_local} "
                                   f"ends: {why})", plan.all_rules[rule_index].name, event_id))
        elif kind == LIST_END:
            sid, name, rule_index, _line, event_id = payload
            if sid != subject or me["lists"].get(name) != token:
                continue
            out.append(PendingWork(at, "list end", f"leaves list `{name}` (term of {plan.list_terms[name]})",
                                   plan.all_rules[rule_index].name, event_id))
        elif kind == TCAP_END:
            sid, rule_index, _line, event_id = payload
            if sid != subject or str(token) not in me["tcaps"]:
                continue
            tier = plan.tier_names[me["tcaps"][str(token)]]
            out.append(PendingWork(at, "cap end", f"the cap at tier {tier} ends", plan.all_rules[rule_index].name,
                                   event_id))
        elif kind == DEADLINE:
            sid, rule_index, ev, _track = payload
            if sid != subject:
                continue
            r = plan.all_rules[rule_index]
            model_rule = plan.rulebook.rules[rule_index]
            effects = _effects_text(model_rule.effects)
            unless = " or ".join(model_rule.grace.unless)
            event_id = json.loads(ev["json"]).get("id")
            out.append(PendingWork(at, "grace deadline", f"{effects} unless {unless} comes by then", r.name,
                                   None if event_id is None else str(event_id)))
        elif kind in (RESET, ARESET):
            if kind == RESET:
                index = payload[0]
            else:
                if payload[0] != subject:
                    continue
                index = payload[1]
            if index in seen_resets:
                continue
            seen_resets.add(index)
            start = plan.starts[index]
            if Decimal(me["bal"][index]) == start and not me["pending"].get(str(index)):
                continue
            name = plan.ledger_names[index]
            what = "anniversary" if kind == ARESET else f"{payload[1]}ly"
            out.append(PendingWork(at, "reset", f"{name} back to {format_decimal(start)} ({what} reset)"))
    return out


def _effects_text(e: m.Effects) -> str:
    parts = []
    for ch in e.changes:
        if ch.amount is None:
            parts.append(f"{ch.ledger} reset")
        else:
            text = ch.amount.text or "?"
            if not text.startswith(("+", "-")):
                text = "+" + text if not text.startswith("(") else text
            parts.append(f"{ch.ledger} {text}" + (f" for {ch.duration}" if ch.duration else ""))
    if e.fine is not None:
        parts.append(f"fine {e.fine.amount.text}" + (f" {e.fine.currency}" if e.fine.currency else ""))
    if e.tier_cap is not None:
        parts.append(f"tier capped at {e.tier_cap.tier}" + (f" for {e.tier_cap.duration}" if e.tier_cap.duration else ""))
    parts += [f"listed on `{n}`" for n in e.list]
    parts += [f"unlisted from `{n}`" for n in e.unlist]
    return ", ".join(parts) or "no effect"


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
