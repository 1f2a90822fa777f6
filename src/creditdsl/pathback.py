"""The path back: by waiting and by the fewest deeds, exact over the rulebook's semantics.

Used by :mod:`explain`: ``_paths`` (one ``PathBack`` per better tier),
``_Runner`` (the subject's runs, real and planned), ``ExplainError`` and the
saved-state readers ``_mine``, ``_agenda_by_token``, ``_ledger_tier``.
Candidate deeds come from :mod:`rulebook_analysis` (the rules that can move the
target tier's conditions the right way, or unlist); plans are multisets of
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
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterable

from . import interpreter
from .events import Event, InvalidLine, Subject, parse_event
from .explain_model import Deed, PathBack
from .expressions import decimal_context
from .plan import Plan
from .results import AuditCollector, Decision, dumps
from .rulebook_analysis import _Action, _candidates, _directions
from .values import Duration

_UTC = timezone.utc
_TICK = timedelta(microseconds=1)

MAX_DEEDS = 60  # the largest plan tried
MAX_PLANS = 400  # plans scheduled and verified by the interpreter, at most
MAX_ENUMERATED = 200_000  # plans looked at (bound checks included), at most


class ExplainError(Exception):
    """A request explain cannot answer (an unknown subject); ``str()`` is the message."""


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
