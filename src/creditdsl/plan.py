"""A rulebook compiled for execution: rules indexed by event type, expressions as closures.

Public API::

    compile_plan(rulebook: model.Rulebook) -> Plan     (once per run)
    Plan.tier_index(state) -> int                       current tier (-1: no tier)
    Plan.labels(state, tier_index) -> (sanctions, privileges)

A :class:`CompiledRule` holds everything one decision needs, already resolved to
indices and closures, so the per-event loop does no lookups by name and never
walks an expression tree.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timezone
from decimal import Decimal
from typing import Any, Callable

from . import model
from .expressions import Env, Fn, Skip, compile_expression
from .state import DIRTY, SubjectState
from .values import Duration, format_decimal, zone

_UTC = timezone.utc


def signed(value: Decimal) -> str:
    text = format_decimal(value)
    return text if text.startswith("-") or text == "0" else "+" + text


REASONS_KEPT = 256  # evidence tuples whose requirement reason a rule keeps


class CompiledRule:
    __slots__ = (
        "index", "name", "span", "where", "where_text", "except_", "except_text",
        "requires", "requires_text", "limit", "limit_text", "cap", "cap_text", "group",
        "grace", "changes", "fine", "tier_cap", "tier_cap_for", "list", "unlist", "is_trigger", "reasons",
    )

    def __init__(self) -> None:
        self.where: Fn | None = None
        self.except_: Fn | None = None
        self.requires: tuple[tuple[tuple[str, int], ...], ...] | None = None
        self.limit: model.Limit | None = None
        self.cap: model.Cap | None = None
        self.group: str | None = None
        self.grace: model.Grace | None = None
        self.fine: Fn | None = None
        self.tier_cap = -1
        self.tier_cap_for: Duration | None = None
        self.is_trigger = False
        self.reasons: dict[tuple[str, ...], str | None] = {}  # evidence_reason's, by evidence

    def evidence_reason(self, evidence: tuple[str, ...]) -> str | None:
        """None when some alternative is met, else the reason for a `skipped` decision. Kept for
        the first REASONS_KEPT evidence tuples seen (most events bring none or the same few:
        0.1 µs against 3.9 µs to count and write it again)."""
        try:
            return self.reasons[evidence]
        except KeyError:
            pass
        except TypeError:  # evidence in a list (a caller's own event): not kept
            return self._evidence_reason(evidence)
        reason = self._evidence_reason(evidence)
        if len(self.reasons) < REASONS_KEPT:
            self.reasons[evidence] = reason
        return reason

    def _evidence_reason(self, evidence: tuple[str, ...]) -> str | None:
        have = Counter(evidence)
        for alternative in self.requires or ():
            if all(have[kind] >= n for kind, n in alternative):
                return None
        got = ", ".join(f"{n} {k}" for k, n in sorted(have.items())) or "no evidence"
        return f"requires {self.requires_text}; got {got}"


class Plan:
    """Everything about one rulebook that the fold needs, resolved once."""

    def __init__(self, rulebook: model.Rulebook):
        self.rulebook = rulebook
        self.tz = zone(rulebook.timezone)
        self.ledger_names = tuple(x.name for x in rulebook.ledgers)
        self.ledger_index = {n: i for i, n in enumerate(self.ledger_names)}
        self.ledger_quoted = tuple(json.dumps(n) for n in self.ledger_names)
        self.starts = [x.start for x in rulebook.ledgers]
        self.floors = [x.floor for x in rulebook.ledgers]
        self.ceilings = [x.ceiling for x in rulebook.ledgers]
        self.clamped = tuple(i for i, x in enumerate(rulebook.ledgers) if x.floor is not None or x.ceiling is not None)
        self.env = Env(self.ledger_index, self.tz)
        self.tier_names = tuple(t.name for t in rulebook.tiers)
        self.tier_pos = {n: i for i, n in enumerate(self.tier_names)}
        self._in_tier = False
        tier_env = Env(self.ledger_index, self.tz)
        tier_env.tier_of = self._tier_in_tier
        self.tier_conds: tuple[Fn | None, ...] = tuple(
            None if t.condition is None else compile_expression(t.condition, tier_env) for t in rulebook.tiers
        )
        self.tier_cacheable = not tier_env.uses_time
        for typ, d in tier_env.count_windows.items():
            self.env.watch(typ, d)
        self.env.tier_of = self.tier_name
        self.list_names = tuple(x.name for x in rulebook.lists)
        self.list_tier: dict[str, int] = {}
        for x in rulebook.lists:
            if x.tier is not None and x.tier in self.tier_pos:
                self.list_tier[x.name] = self.tier_pos[x.tier]
        self.list_terms = {x.name: x.term for x in rulebook.lists}
        sanctions = _labels(rulebook.sanctions)
        privileges = _labels(rulebook.privileges)
        for x in rulebook.lists:
            sanctions[x.name] = tuple(x.sanctions) + sanctions.get(x.name, ())
            privileges[x.name] = tuple(x.privileges) + privileges.get(x.name, ())
        self.sanctions = sanctions
        self.privileges = privileges
        self.rules = tuple(self._rule(i, r) for i, r in enumerate(rulebook.rules))
        by_type: dict[str, list[CompiledRule]] = {}
        for cr, r in zip(self.rules, rulebook.rules):
            for t in dict.fromkeys(r.on):
                by_type.setdefault(t, []).append(cr)
        self.by_type: dict[str, tuple[CompiledRule, ...]] = {t: tuple(v) for t, v in by_type.items()}
        self.triggers = tuple(self._trigger(i, t) for i, t in enumerate(rulebook.triggers))
        self.all_rules = self.rules + tuple(cr for _, cr in self.triggers)
        # one slot of SubjectState.counters per limit (key: rule index) and per capped ledger
        # of a rule (key: (rule index, ledger index))
        keys: list = []
        for cr in self.all_rules:
            if cr.limit is not None:
                keys.append(cr.index)
            if cr.cap is not None:
                keys.extend((cr.index, index) for index, _fn, _d in cr.changes)
        self.counter_keys: tuple = tuple(dict.fromkeys(keys))
        self.counter_slot: dict[Any, int] = {k: i for i, k in enumerate(self.counter_keys)}
        self.watch = dict(self.env.count_windows)  # event type → longest count() window
        self.remedies: frozenset[str] = frozenset(
            t for r in rulebook.rules if r.grace is not None for t in r.grace.unless
        )
        self.expire = [x.expire for x in rulebook.ledgers]
        self.resets = [(i, x.reset) for i, x in enumerate(rulebook.ledgers) if x.reset is not None]
        self._tier_labels: dict[int, tuple] = {}  # labels() of a subject on no list, by tier
        from .codegen_tiers import tier_function

        fast_tier = tier_function(self)
        if fast_tier is not None:
            self.tier_index = fast_tier  # type: ignore[method-assign]

    @property
    def fast(self) -> dict:
        """Event type → its generated fold function (codegen.py), built at the first use."""
        fast = self.__dict__.get("_fast")
        if fast is None:
            from .codegen import build

            fast = self.__dict__["_fast"] = build(self)
        return fast

    @fast.setter
    def fast(self, value: dict) -> None:
        self.__dict__["_fast"] = value

    @property
    def fast_keyed(self) -> dict:
        """The generated folds for a ``--workers`` process (``codegen.build(keyed=True)``:
        their audit lines hold the parent's ``%d`` hole instead of a number); none when
        ``fast`` is empty."""
        keyed = self.__dict__.get("_fast_keyed")
        if keyed is None:
            from .codegen import build

            keyed = self.__dict__["_fast_keyed"] = build(self, keyed=True) if self.fast else {}
        return keyed

    # ------------------------------------------------------------ rules
    def _effects(self, cr: CompiledRule, effects: model.Effects) -> None:
        changes = []
        for ch in effects.changes:
            index = self.ledger_index[ch.ledger]
            fn = None if ch.amount is None else compile_expression(ch.amount, self.env)
            changes.append((index, fn, ch.duration))
        cr.changes = tuple(changes)
        cr.fine = None if effects.fine is None else compile_expression(effects.fine.amount, self.env)
        if effects.tier_cap is not None:
            cr.tier_cap = self.tier_pos.get(effects.tier_cap.tier, -1)
            cr.tier_cap_for = effects.tier_cap.duration
        cr.list = tuple(effects.list)
        cr.unlist = tuple(effects.unlist)

    def _rule(self, index: int, rule: model.Rule) -> CompiledRule:
        cr = CompiledRule()
        cr.index = index
        cr.name = rule.name
        cr.span = rule.span
        if rule.where is not None:
            cr.where = compile_expression(rule.where, self.env)
            cr.where_text = rule.where.text
        if rule.except_ is not None:
            cr.except_ = compile_expression(rule.except_, self.env)
            cr.except_text = rule.except_.text
        if rule.requires is not None:
            cr.requires = tuple(tuple((e.kind, e.count) for e in alt) for alt in rule.requires.alternatives)
            cr.requires_text = " or ".join(
                " and ".join(f"{e.count} {e.kind}" for e in alt) for alt in rule.requires.alternatives
            )
        if rule.limit is not None:
            cr.limit = rule.limit
            lim = rule.limit
            cr.limit_text = f"limit {lim.count} per {lim.period}" if lim.period else f"limit {lim.count} within {lim.within}"
        if rule.cap is not None:
            cr.cap = rule.cap
            c = rule.cap
            cr.cap_text = f"cap {format_decimal(c.amount)} per {c.period}" if c.period else f"cap {format_decimal(c.amount)} within {c.within}"
        cr.group = rule.group
        cr.grace = rule.grace
        self._effects(cr, rule.effects)
        return cr

    def _trigger(self, index: int, trigger: model.Trigger) -> tuple[Fn, CompiledRule]:
        cr = CompiledRule()
        cr.index = len(self.rulebook.rules) + index
        cr.name = trigger.name
        cr.span = trigger.span
        cr.is_trigger = True
        cr.where_text = trigger.when.text
        self._effects(cr, trigger.effects)
        return compile_expression(trigger.when, self.env), cr

    # ------------------------------------------------------------ tiers
    def _tier_in_tier(self, st: SubjectState) -> Any:
        raise Skip("`tier` read inside a tier condition")

    def tier_index(self, st: SubjectState) -> int:
        cached = st.tier
        if cached != DIRTY and self.tier_cacheable:
            return cached
        found = -1
        for i, cond in enumerate(self.tier_conds):
            if cond is None:
                found = i
                break
            try:
                if cond(st, None) is True:
                    found = i
                    break
            except Skip:
                continue
        if found >= 0:
            worst = st.cap
            for idx in st.tcaps.values():
                if idx > worst:
                    worst = idx
            if st.lists:
                for name in st.lists:
                    idx = self.list_tier.get(name, -1)
                    if idx > worst:
                        worst = idx
            if worst > found:
                found = worst
        st.tier = found
        return found

    def tier_name(self, st: SubjectState) -> str | None:
        i = self.tier_index(st)
        return None if i < 0 else self.tier_names[i]

    def labels(self, st: SubjectState, tier: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Sanctions and privileges in force: the tier's first, then lists' in declaration order."""
        if not st.lists:  # the tier's alone: the same for every subject of the tier
            cache = self._tier_labels
            found = cache.get(tier)
            if found is None:
                found = cache[tier] = self._labels(st, tier)
            return found
        return self._labels(st, tier)

    def _labels(self, st: SubjectState, tier: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        out = []
        for table in (self.sanctions, self.privileges):
            seen: dict[str, None] = {}
            if tier >= 0:
                for label in table.get(self.tier_names[tier], ()):
                    seen.setdefault(label, None)
            for name in self.list_names:
                if name in st.lists:
                    for label in table.get(name, ()):
                        seen.setdefault(label, None)
            out.append(tuple(seen))
        return out[0], out[1]

    def new_state(self, subject_id: str, fields: dict | None) -> SubjectState:
        return SubjectState(subject_id, fields, self.starts)


def _labels(sets: tuple[model.LabelSet, ...]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for s in sets:
        out[s.target] = out.get(s.target, ()) + tuple(s.labels)
    return out


def compile_plan(rulebook: model.Rulebook) -> Plan:
    return Plan(rulebook)


FnState = Callable[[SubjectState], Any]
