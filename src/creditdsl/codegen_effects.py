"""A rule's effects as generated code (issue 9, speed): what ``Runner.apply`` does for one
rule, inlined into the functions codegen.py writes.

Public API (for codegen.py)::

    _apply(src, plan, r, R, rq, TQ, TN, TI, names, at="ev.at")   the source; sets ``outcome``
    _inlinable(r)        False for what stays a call to Runner.apply (a `reset` change, a
                         rolling `within` cap)
    _certain(plan, r)    nothing can skip the rule: its inlined effects always apply
"""

from __future__ import annotations

import json
from typing import Any

from .codegen_source import _DIRTY, _X, _bal_parts, _bal_text, _clamp, _const, _fline, _skip_line, _Src
from .results import _q

def _certain(plan: Any, r: Any) -> bool:
    """A rule whose inlined effects always apply (``_apply`` never sets outcome 1): nothing
    can skip it."""
    if r.where is not None or r.except_ is not None or r.requires is not None or r.limit is not None \
            or r.group is not None or r.grace is not None or r.cap is not None or not _inlinable(r):
        return False
    if any(_const(_change_expr(plan, r, k)) is None for k in range(len(r.changes))):
        return False
    return r.fine is None or (_fine_expr(plan, r) is not None and _const(_fine_expr(plan, r)) is not None)


def _inlinable(r: Any) -> bool:
    if any(fn is None for _, fn, _ in r.changes):  # `LEDGER: reset`
        return False
    if r.cap is not None and r.cap.period is None:  # rolling cap
        return False
    return True


def _apply(src: _Src, plan: Any, r: Any, R: str, rq: str, TQ: str, TN: str, TI: str, names: tuple,  # noqa: C901
           at: str = "ev.at") -> None:
    """Runner.apply for an event, inlined; sets ``outcome``. ``at``: the expression of the instant
    it applies at (the event's, or a grace deadline)."""
    amounts = []
    risky = []
    for k, (index, fn, duration) in enumerate(r.changes):
        c = _const(_change_expr(plan, r, k))
        if c is not None:
            amounts.append((index, src.const(c, "C"), duration))
        else:
            amounts.append((index, None, duration))
            risky.append((k, index, src.const(fn, "E")))
    fine_c = None
    fine_fn = None
    if r.fine is not None:
        fexpr = _fine_expr(plan, r)
        fc = _const(fexpr) if fexpr is not None else None
        if fc is not None:
            fine_c = src.const(fc, "C")
        else:
            fine_fn = src.const(r.fine, "E")
    src("outcome = 4")
    if risky or fine_fn:
        src("try:")
        src.depth += 1
        for k, index, E in risky:
            src(f"a{k} = {E}(st, ev)")
            src(f"if type(a{k}) is not Decimal:")
            msg = f"the change to `{names[index]}` is a "
            src(f"    raise Skip({msg!r} + type(a{k}).__name__ + ', not a number')")
        if fine_fn:
            src(f"fine = {fine_fn}(st, ev)")
            src("if type(fine) is not Decimal:")
            src("    raise Skip('the fine is not a number')")
        src.depth -= 1
        src("except Skip as s:")
        src(f"    R._skip(None, st, {R}, s.reason, ev.line, {at}, ev.id)")
        src("    outcome = 1")
        src("if outcome == 4:")
        src.depth += 1
    for k, (index, C, duration) in enumerate(amounts):
        if C is not None:
            src(f"a{k} = {C}")
    if fine_c:
        src(f"fine = {fine_c}")
    src("notes = None")
    if r.cap is not None:
        cap = r.cap
        CA = src.const(cap.amount, "C")
        src(f"pk = period_key({at}, {cap.period!r})")
        src("room_left = False")
        for k, (index, _C, _d) in enumerate(amounts):
            src(f"cc{k} = period_counter(st.counts or counters(st, {len(plan.counter_keys)}), "
                f"{plan.counter_slot[(r.index, index)]}, pk)")
            src(f"room = {CA} - cc{k}[1]")
            src("if room <= 0:")
            src(f"    a{k} = Decimal(0) * a{k}")
            src("else:")
            src("    room_left = True")
            src(f"    if abs(a{k}) > room:")
            src(f"        cut = room if a{k} > 0 else -room")
            src("        if notes is None:")
            src("            notes = []")
            src(f"        notes.append('capped: ' + signed(cut) + ' of ' + signed(a{k}))")
            src(f"        a{k} = cut")
        if amounts:
            src("if not room_left:")
            src.depth += 1
            src("outcome = 1")
            src("if F is not None:")
            src(f"    bt = {_bal_text(src, names, 'bal')}")
            src(f"    t = {TQ}[{TI}(st)]")
            src(f"    rs = {_q(f'{r.cap_text} reached')!r}")
            src("    R.seq = q = R.seq + 1")
            src(f"    F({_skip_line(rq, TQ)})")
            src("elif AU:")
            src(f"    R._skip(None, st, {R}, {f'{r.cap_text} reached'!r}, ev.line, {at}, ev.id)")
            src.depth -= 1
            src("if outcome == 4:")
            src.depth += 1
    # effects
    src("if AU:")
    src("    before = bal[:]")
    if plan.tier_cacheable:  # the cached tier without a call (Plan.tier_index's first step)
        src("    tb = st.tier")
        src(f"    if tb == {_DIRTY}:")
        src(f"        tb = {TI}(st)")
    else:
        src(f"    tb = {TI}(st)")
    for k, (index, _C, duration) in enumerate(amounts):
        src(f"old = bal[{index}]")
        src(f"new = raw = old + a{k}")
        bounded = _clamp(src, plan, index)
        src(f"p{k} = new - old")
        src(f"bal[{index}] = new")
        if bounded:  # a bound changed it (Runner.apply: not the rounding of the sum)
            src("if new != raw:")
            src("    if notes is None:")
            src("        notes = []")
            src(f"    notes.append('clamped: ' + signed(p{k}) + ' of ' + signed(a{k}) + {f' to {names[index]}'!r})")
        if r.cap is not None:
            src(f"cc{k}[1] += abs(p{k})")
        lasting = duration if duration is not None else plan.expire[index]
        if lasting is not None:
            LA = src.const(lasting, "D")
            why = f"for {lasting}" if duration is not None else f"expire: {lasting}"
            src(f"if p{k}:")
            src(f"    token = R.push({LA}.add({at}), 0, REVERT, (st.id, {index}, p{k}, {r.index}, ev.line, ev.id, {at}, {why!r}))")
            src(f"    st.pending[token] = {index}")
    if r.fine is not None:
        src("st.fines += fine")
    if r.tier_cap >= 0:
        if r.tier_cap_for is not None:
            TF = src.const(r.tier_cap_for, "D")
            src(f"token = R.push({TF}.add({at}), 0, TCAP_END, (st.id, {r.index}, ev.line, ev.id))")
            src(f"st.own_tcaps()[token] = {r.tier_cap}")
        else:
            src(f"if {r.tier_cap} > st.cap:")
            src(f"    st.cap = {r.tier_cap}")
    for name in r.list:
        term = plan.list_terms.get(name)
        if term is None:
            src(f"st.own_lists()[{name!r}] = None")
        else:
            TM = src.const(term, "D")
            src(f"st.own_lists()[{name!r}] = R.push({TM}.add({at}), 0, LIST_END, (st.id, {name!r}, {r.index}, ev.line, ev.id))")
    if r.unlist:
        src(f"gone = tuple(n for n in {tuple(r.unlist)!r} if n in st.lists)")
        src("for n in gone:")
        src("    del st.lists[n]")
    src(f"st.tier = {_DIRTY}")
    src("if AU:")
    src.depth += 1
    src(f"ta = {TI}(st)")
    src("if F is not None:")
    src.depth += 1
    cparts: list = []
    for k, (index, _c, _d) in enumerate(amounts):
        cparts += [(", " if k else "") + json.dumps(names[index]) + ": ", _X(f"NG(p{k}) or N(p{k})")]
    tail: list = []
    if r.fine is not None:
        tail += [', "fine": ', _X("N(fine)")]
    if r.list:
        tail.append(', "listed": [' + ", ".join(_q(x) for x in r.list) + "]")
    if r.unlist:
        src("ul = (', \"unlisted\": [' + ', '.join([Q(x) for x in gone]) + ']') if gone else ''")
        tail.append(_X("ul"))
    src("rs = 'null' if notes is None else Q('; '.join(notes))")
    src("R.seq = q = R.seq + 1")
    src("F(" + _fline(['{"seq": ', _X("q"), ", ", _X("H"), rq + ', "outcome": "applied", "reason": ', _X("rs"),
                       ', "changes": {'] + cparts + ['}, "before": '] + _bal_parts(names, "before")
                      + [', "after": '] + _bal_parts(names, "bal")
                      + [', "tier_before": ', _X(f"{TQ}[tb]"), ', "tier_after": ', _X(f"{TQ}[ta]")] + tail + ["}"]) + ")")
    src.depth -= 1
    src("else:")
    src.depth += 1
    ch = ", ".join(f"({names[index]!r}, p{k})" for k, (index, _c, _d) in enumerate(amounts))
    src(f"R.emit(ev.line, {at}, ev.id, st.id, {R}, 'applied', None if notes is None else '; '.join(notes), "
        f"changes=({ch}{',' if len(amounts) == 1 else ''}), before=tuple(before), after=tuple(bal), "
        f"tier_before={TN}[tb], tier_after={TN}[ta], fine={'fine' if r.fine is not None else 'None'}, "
        f"listed={tuple(r.list)!r}, unlisted={'gone' if r.unlist else '()'})")
    src.depth -= 1
    src.depth -= 1
    if r.cap is not None and amounts:
        src.depth -= 1
    if risky or fine_fn:
        src.depth -= 1


def _change_expr(plan: Any, r: Any, k: int) -> Any:
    return plan.rulebook.rules[r.index].effects.changes[k].amount


def _fine_expr(plan: Any, r: Any) -> Any:
    fine = plan.rulebook.rules[r.index].effects.fine
    return None if fine is None else fine.amount
