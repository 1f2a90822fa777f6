"""Generated code per rulebook: one Python function per event type (issue 9, speed).

Public API::

    build(plan) -> dict[str, Callable[[Runner, SubjectState, Event], None]]

Each function does for one event of its type what ``Runner.event``'s general rule
loop does (LANGUAGE.md §5 "Evaluation of one event"): the rules of that type are
inlined in file order as straight-line code (constants folded: a literal change or
fine is a precomputed Decimal; calendar limits and caps read their counter cell
directly; the tier is read through ``Plan.tier_index``), and the common audit lines
(applied, skipped, unmatched) are written from precomputed text when the audit sink
can take raw lines (``AuditWriter.raw``; ``parallel._KeyedWriter.raw``). With any
other sink, decisions go through ``Runner.emit`` as records, exactly as the general
path does. Anything the generator does not inline (a ``reset`` change, a rolling
``within`` cap, a grace rule, an expression that may skip) calls the general
``Runner`` methods, so the behaviour is the general path's by construction; the
tests compare the bytes of both paths (tests/unit/test_codegen.py).

The source is built once per Plan and ``exec``-ed; ``CREDITDSL_NO_CODEGEN=1`` in the
environment (or ``plan.fast = {}``) runs the general path only.
"""

from __future__ import annotations

import decimal
import json
import os
from datetime import timezone
from decimal import Decimal
from typing import Any, Callable

from .expressions import Skip, decimal_context
from .plan import signed
from .results import _n, _num_cache, _q, _str_cache, quote
from .schedule import DEADLINE, LIST_END, REVERT, TCAP_END
from .state import counters, period_counter
from .values import period_key

_DIRTY = -2


def _const(expr: Any) -> Decimal | None:
    """The value of a numeric constant expression (``-3``, ``+0.5``, ``50``), else None."""
    node = getattr(expr, "tree", expr)
    ops = []
    while node.kind == "unary" and node.op in ("-", "+"):
        ops.append(node.op)
        node = node.operand
    if node.kind != "literal" or type(node.value) not in (Decimal, int):
        return None
    value = Decimal(node.value)
    with decimal.localcontext(decimal_context()):  # as the compiled closure computes it
        for op in reversed(ops):
            value = -value if op == "-" else +value
    return value


class _Src:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.consts: dict[str, Any] = {}
        self.depth = 0

    def const(self, value: Any, prefix: str = "K") -> str:
        for k, v in self.consts.items():
            if v is value:
                return k
        name = f"{prefix}{len(self.consts)}"
        self.consts[name] = value
        return name

    def __call__(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)


class _X(str):
    """An expression inside a generated f-string (no quotes, no backslashes)."""


def _fline(parts: list) -> str:
    """Source of an f-string joining literal text and _X expressions."""
    out = []
    for p in parts:
        if isinstance(p, _X):
            out.append("{" + p + "}")
        else:
            out.append(p.replace("\\", "\\\\").replace("'", "\\'").replace("{", "{{").replace("}", "}}"))
    return "f'" + "".join(out) + "'"


def _bal_parts(names: tuple[str, ...], var: str) -> list:
    """f-string parts of the JSON text of the balances in list ``var``."""
    if not names:
        return ["{}"]
    parts: list = []
    for i, n in enumerate(names):
        parts.append(("{" if i == 0 else ", ") + json.dumps(n) + ": ")
        parts.append(_X(f"NG({var}[{i}]) or N({var}[{i}])"))
    parts.append("}")
    return parts


def _skip_line(rq: str, TQ: str, outcome: str = "skipped") -> str:
    """The f-string of a line that changes nothing, `skipped` or `deferred` (locals: q, H, rs,
    bt, t)."""
    return _fline(['{"seq": ', _X("q"), ", ", _X("H"), rq + f', "outcome": "{outcome}", "reason": ', _X("rs"),
                   ', "changes": {}, "before": ', _X("bt"), ', "after": ', _X("bt"), ', "tier_before": ', _X("t"),
                   ', "tier_after": ', _X("t"), "}"])


def _bal_text(src: _Src, names: tuple[str, ...], var: str) -> str:
    """An expression giving the JSON text of the balances in list ``var``."""
    parts = []
    for i, n in enumerate(names):
        key = ("{" if i == 0 else ", ") + json.dumps(n) + ": "
        parts.append(f"{key!r} + N({var}[{i}])")
    return " + ".join(parts) + " + '}'" if parts else "'{}'"


def build(plan: Any) -> dict[Any, Callable]:
    """Event type → the fold of its rules; ``(DEADLINE, rule index)`` → a grace rule applied
    at its deadline (agenda.py). Empty: no generated code (``CREDITDSL_NO_CODEGEN``)."""
    if os.environ.get("CREDITDSL_NO_CODEGEN"):
        return {}
    out: dict[Any, Callable] = {}
    types = list(plan.by_type) + [t for t in sorted(set(plan.remedies) | set(plan.watch)) if t not in plan.by_type]
    for etype in types:
        src = _Src()
        _type_function(src, plan, plan.by_type.get(etype, ()), etype)
        out[etype] = _compiled(src, f"<creditdsl rules for {etype!r}>")
    for r in plan.all_rules:
        if r.grace is not None and _inlinable(r):
            src = _Src()
            _deadline_function(src, plan, r)
            out[(DEADLINE, r.index)] = _compiled(src, f"<creditdsl deadline of {r.name!r}>")
    return out


def _compiled(src: _Src, name: str) -> Callable:
    ns: dict[str, Any] = {
        "Skip": Skip, "N": _n, "NG": _num_cache.get, "Q": _q, "QG": _str_cache.get, "QN": quote, "Decimal": Decimal,
        "period_counter": period_counter, "counters": counters, "period_key": period_key, "REVERT": REVERT,
        "DEADLINE": DEADLINE, "LIST_END": LIST_END, "TCAP_END": TCAP_END, "signed": signed, "UTC": timezone.utc,
        "RANK_NAMES": ("unmatched", "skipped", "remedied", "deferred", "applied"),
    }
    ns.update(src.consts)
    code = compile("\n".join(src.lines) + "\n", name, "exec")
    exec(code, ns)  # noqa: S102 - our own generated source, from a checked rulebook
    return ns["fold"]


def _deadline_function(src: _Src, plan: Any, r: Any) -> None:
    """Runner.apply of grace rule ``r`` at its deadline ``at`` (no remedy came): returns the
    rank of the decision, 4 or 1 (agenda.py's DEADLINE work)."""
    names = plan.ledger_names
    TQ = src.const(tuple(_q(t) for t in plan.tier_names) + ("null",), "TQ")
    TN = src.const(tuple(plan.tier_names) + (None,), "TN")
    TI = src.const(plan.tier_index, "TI")
    src("def fold(R, st, ev, at):")
    src.depth += 1
    src("F = R.raw")
    src("AU = R.audit is not None")
    src("bal = st.bal")
    src("if F is not None:")
    src("    H = " + _fline(['"line": ', _X("ev.line"), ', "at": "', _X("at.isoformat()"), '", "event": ',
                            _X("QN(ev.id)"), ', "subject": ', _X("QN(st.id)"), ', "rule": ']))
    _apply(src, plan, r, src.const(r, "RULE"), _q(r.name), TQ, TN, TI, names, at="at")
    src("return outcome")
    src.depth -= 1


def _type_function(src: _Src, plan: Any, rules: tuple, etype: str) -> None:  # noqa: C901
    names = plan.ledger_names
    tq = tuple(_q(t) for t in plan.tier_names) + ("null",)
    TQ = src.const(tq, "TQ")
    TN = src.const(tuple(plan.tier_names) + (None,), "TN")
    TI = src.const(plan.tier_index, "TI")
    src("def fold(R, st, ev):")
    src.depth += 1
    if etype in plan.remedies:
        src(f"st.remedy[{etype!r}] = (ev.key, ev.line)")
    if etype in plan.watch:
        WD = src.const(plan.watch[etype], "D")
        src(f"st.record({etype!r}, ev.key, {WD}.subtract(ev.at).astimezone(UTC))")
        if not plan.tier_cacheable:
            src(f"st.tier = {_DIRTY}")
    if not rules:
        src("R.summary.unmatched += 1")
        src("if R.audit is not None:")
        src(f"    R._unmatched(ev, st, {f'no rule for event type `{etype}`'!r})")
        src.depth -= 1
        return
    src("F = R.raw")
    src("AU = R.audit is not None")
    src("S = R.summary")
    src("bal = st.bal")
    src("if F is not None:")
    src("    if ev.plain:")  # events.Event.plain: quoting is adding quotes
    src("        H = " + _fline(['"line": ', _X("ev.line"), ', "at": "', _X("ev.at_text()"), '", "event": "',
                                _X("ev.id"), '", "subject": "', _X("st.id"), '", "rule": ']))
    src("    else:")
    src("        H = " + _fline(['"line": ', _X("ev.line"), ', "at": "', _X("ev.at_text()"), '", "event": ',
                                _X("QN(ev.id)"), ', "subject": ', _X("QN(st.id)"), ', "rule": ']))
    if len(rules) == 1 and _certain(plan, rules[0]):  # the rule always applies: no bookkeeping
        r = rules[0]
        src(f"# rule {r.name!r}: no condition, no limit, no cap, constant effects")
        _apply(src, plan, r, src.const(r, "RULE"), _q(r.name), TQ, TN, TI, names)
        src("S.applied += 1")
        src.depth -= 1
        return
    src("best = -1")
    src("deferred = False")
    if any(r.group is not None for r in rules):
        src("groups = {}")
    for r in rules:
        _rule(src, plan, r, TQ, TN, TI, names)
    src("if deferred:")
    src("    cell = R.open_lines[track]")
    src("    if best > cell[0]:")
    src("        cell[0] = best")
    src("elif best < 0:")
    src("    S.unmatched += 1")
    src("    if AU:")
    src("        R._unmatched(ev, st, 'no rule applies (every `where` was false)')")
    src("elif best == 4:")
    src("    S.applied += 1")
    src("else:")
    src("    S.count(RANK_NAMES[best])")
    src.depth -= 1


def _skip(src: _Src, rq: str, reason_expr: str, rule: str, TQ: str, TI: str, names: tuple) -> None:
    """Code for a `skipped` decision at the event; ``reason_expr`` is a Python str expression."""
    src("if best < 1:")
    src("    best = 1")
    src("if F is not None:")
    src(f"    bt = {_bal_text(src, names, 'bal')}")
    src(f"    t = {TQ}[{TI}(st)]")
    src(f"    rs = Q({reason_expr})")
    src("    R.seq = q = R.seq + 1")
    src(f"    F({_skip_line(rq, TQ)})")
    src("elif AU:")
    src(f"    R._skip(ev, st, {rule}, {reason_expr})")


def _rule(src: _Src, plan: Any, r: Any, TQ: str, TN: str, TI: str, names: tuple) -> None:  # noqa: C901
    R = src.const(r, "RULE")
    rq = _q(r.name)
    src(f"# rule {r.name!r}")
    src("while True:")  # one pass; `break` leaves the rule
    src.depth += 1
    if r.where is not None:
        W = src.const(r.where, "W")
        src("try:")
        src(f"    ok = {W}(st, ev)")
        src("except Skip as s:")
        src.depth += 1
        _skip(src, rq, "s.reason", R, TQ, TI, names)
        src("break")
        src.depth -= 1
        src("if ok is not True:")
        src.depth += 1
        src("if ok is not False:")
        src.depth += 1
        _skip(src, rq, repr(f"`where: {r.where_text}` is not a condition"), R, TQ, TI, names)
        src.depth -= 1
        src("break")
        src.depth -= 1
    if r.except_ is not None:
        X = src.const(r.except_, "X")
        src("try:")
        src(f"    held = {X}(st, ev)")
        src("except Skip as s:")
        src.depth += 1
        _skip(src, rq, "s.reason", R, TQ, TI, names)
        src("break")
        src.depth -= 1
        src("if held is not False:")
        src.depth += 1
        _skip(src, rq, f"({f'except: {r.except_text}'!r} if held is True else "
              f"{f'`except: {r.except_text}` is not a condition'!r})", R, TQ, TI, names)
        src("break")
        src.depth -= 1
    if r.requires is not None:
        # met: some alternative's counts, inline (tuple.count); unmet: the general reason
        met = " or ".join(
            "(" + (" and ".join(f"E.count({kind!r}) >= {n}" for kind, n in alternative) or "True") + ")"
            for alternative in r.requires
        ) or "False"
        src("E = ev.evidence")
        src(f"why = None if {met} else {R}.evidence_reason(E)")
        src("if why is not None:")
        src.depth += 1
        _skip(src, rq, "why", R, TQ, TI, names)
        src("break")
        src.depth -= 1
    lim = r.limit
    if lim is not None:
        if lim.period is not None:
            src(f"lcell = period_counter(st.counts or counters(st, {len(plan.counter_keys)}), "
                f"{plan.counter_slot[r.index]}, period_key(ev.at, {lim.period!r}))")
            src(f"if lcell[1] >= {lim.count}:")
        else:
            src(f"lcell = R._limit_cell(st, {R}, ev)")
            src(f"if len(lcell) >= {lim.count}:")
        src.depth += 1
        _skip(src, rq, repr(f"{r.limit_text} reached"), R, TQ, TI, names)
        src("break")
        src.depth -= 1
    if r.group is not None:
        src(f"taker = groups.get({r.group!r})")
        src("if taker is not None:")
        src.depth += 1
        _skip(src, rq, f"'superseded by rule `' + taker + {f'` (group {r.group})'!r}", R, TQ, TI, names)
        src("break")
        src.depth -= 1
        src(f"groups[{r.group!r}] = {r.name!r}")
    count_limit = None
    if lim is not None:
        count_limit = "lcell[1] += 1" if lim.period is not None else "lcell.append(ev.key)"
    if r.grace is not None:
        src("if not deferred:")
        src("    R.agenda_seq += 1")
        src("    track = R.agenda_seq")
        grace = r.grace
        GD = src.const(grace.duration, "D")
        prefix = f"grace {grace.duration} unless {' or '.join(grace.unless)}: until "
        src("if F is not None:  # Runner.defer, with its line written here")
        src.depth += 1
        src(f"dl = {GD}.add(ev.at)")
        src(f"R.push(dl, 2, DEADLINE, (st.id, {r.index}, ev, track))")
        src("cell = R.open_lines.get(track)")
        src("if cell is None:")
        src("    R.open_lines[track] = [-1, 1]")
        src("else:")
        src("    cell[1] += 1")
        src(f"bt = {_bal_text(src, names, 'bal')}")
        src(f"t = {TQ}[{TI}(st)]")
        src(f"rs = QN({prefix!r} + dl.isoformat())")
        src("R.seq = q = R.seq + 1")
        src(f"F({_skip_line(rq, TQ, 'deferred')})")
        src.depth -= 1
        src("else:")
        src(f"    R.defer(ev, st, {R}, track)")
        if count_limit:
            src(count_limit)
        src("deferred = True")
        src("break")
    elif not _inlinable(r):
        src(f"outcome = R.apply({R}, st, ev, ev.line, ev.at, ev.id)")
        if count_limit:
            src("if outcome >= 3:")
            src("    " + count_limit)
        src("if outcome > best:")
        src("    best = outcome")
        src("break")
    else:
        _apply(src, plan, r, R, rq, TQ, TN, TI, names)
        if count_limit:
            src("if outcome >= 3:")
            src("    " + count_limit)
        src("if outcome > best:")
        src("    best = outcome")
        src("break")
    src.depth -= 1


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
        lo, hi = plan.floors[index], plan.ceilings[index]
        src(f"old = bal[{index}]")
        src(f"new = old + a{k}")
        if lo is not None:
            LO = src.const(lo, "C")
            src(f"if new < {LO}:")
            src(f"    new = {LO}")
        if hi is not None:
            HI = src.const(hi, "C")
            src(f"if new > {HI}:")
            src(f"    new = {HI}")
        src(f"p{k} = new - old")
        src(f"bal[{index}] = new")
        if lo is not None or hi is not None:
            src(f"if p{k} != a{k}:")
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
