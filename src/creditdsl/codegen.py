"""Generated code per rulebook: one Python function per event type (issue 9, speed).

Public API::

    build(plan) -> {event type: fold(runner, state, event),
                    (DEADLINE, rule index): deadline(runner, state, event, at) -> rank}

Each fold does for one event of its type what ``Runner.event``'s general rule loop
does (LANGUAGE.md §5 "Evaluation of one event"): the rules of that type are inlined in
file order as straight-line code (constants folded: a literal change or fine is a
precomputed Decimal; calendar limits and caps read their counter cell directly; the
tier is read through ``Plan.tier_index``), and the common audit lines (applied,
skipped, deferred, unmatched) are written from precomputed text when the audit sink can
take raw lines (``AuditWriter.raw``; ``parallel._KeyedWriter.raw``). With any other
sink, decisions go through ``Runner.emit`` as records, exactly as the general path
does. A grace rule's application at its deadline is generated too (agenda.py calls
it). Anything the generator does not inline (a ``reset`` change, a rolling ``within``
cap, an expression that may skip) calls the general ``Runner`` methods, so the
behaviour is the general path's by construction; the tests compare the bytes of both
paths (tests/unit/test_codegen.py).

Here: the functions' control flow (rules, skips, bookkeeping); a rule's effects are
written by codegen_effects.py, the tier function by codegen_tiers.py, and the source
pieces they share are codegen_source.py's.

The source is built once per Plan and ``exec``-ed; ``CREDITDSL_NO_CODEGEN=1`` in the
environment (or ``plan.fast = {}``) runs the general path only.
"""

from __future__ import annotations

import os
from datetime import timezone
from decimal import Decimal
from typing import Any, Callable

from .codegen_effects import _apply, _certain, _inlinable
from .codegen_source import _DIRTY, _X, _bal_parts, _bal_text, _clamp, _fline, _skip_line, _Src, _tier_texts
from .expressions import Skip
from .plan import signed
from .results import _n, _num_cache, _q, _str_cache, quote
from .schedule import DEADLINE, LIST_END, REVERT, TCAP_END
from .state import counters, period_counter
from .values import period_key


UNNAMED = ("unnamed type",)  # the key of the fold of a type the rulebook does not name (not a str)


def build(plan: Any, keyed: bool = False) -> dict[Any, Callable]:
    """Event type → the fold of its rules; UNNAMED → the fold of a type the rulebook does not
    name; REVERT → the revert of a temporary change; ``(DEADLINE, rule index)`` → a grace rule
    applied at its deadline (agenda.py). Empty: no generated code (``CREDITDSL_NO_CODEGEN``).

    ``keyed``: for a ``--workers`` process, whose audit lines the parent numbers
    (worker_audit.py): every line is written ``{"seq": %d, ...`` (the hole the parent fills)
    instead of with the process's own count."""
    if os.environ.get("CREDITDSL_NO_CODEGEN"):
        return {}
    out: dict[Any, Callable] = {}
    types = list(plan.by_type) + [t for t in sorted(set(plan.remedies) | set(plan.watch)) if t not in plan.by_type]
    for etype in types:
        src = _Src()
        _type_function(src, plan, plan.by_type.get(etype, ()), etype)
        out[etype] = _compiled(src, f"<creditdsl rules for {etype!r}>", keyed)
    src = _Src()
    _unnamed_function(src, plan)
    out[UNNAMED] = _compiled(src, "<creditdsl unnamed event type>", keyed)
    if any(d is not None for r in plan.all_rules for _i, _f, d in r.changes) or any(x is not None for x in plan.expire):
        src = _Src()
        _revert_function(src, plan)
        out[REVERT] = _compiled(src, "<creditdsl revert>", keyed)
    for r in plan.all_rules:
        if r.grace is not None and _inlinable(r):
            src = _Src()
            _deadline_function(src, plan, r)
            out[(DEADLINE, r.index)] = _compiled(src, f"<creditdsl deadline of {r.name!r}>", keyed)
    return out


# every audit line of generated code is numbered by these two pieces of source (the count, then
# the f-string of the line: codegen_source._fline of '{"seq": ', _X("q"), ", " ...); keyed code
# writes the hole instead
_SEQ_STEP, _SEQ_TEXT = "R.seq = q = R.seq + 1", '{{"seq": {q}, '


def _keyed_source(text: str) -> str:
    """The source numbering no line: ``{"seq": %d, `` in every line, no count kept; the source
    as it is if some line is numbered another way (its lines then keep their numbers, which
    the worker's writer turns into holes itself: the same bytes, a little slower)."""
    keyed = text.replace(_SEQ_STEP, "pass").replace(_SEQ_TEXT, '{{"seq": %d, ')
    return text if "{q}" in keyed or "R.seq" in keyed else keyed


def _compiled(src: _Src, name: str, keyed: bool = False) -> Callable:
    ns: dict[str, Any] = {
        "Skip": Skip, "N": _n, "NG": _num_cache.get, "Q": _q, "QG": _str_cache.get, "QN": quote, "Decimal": Decimal,
        "period_counter": period_counter, "counters": counters, "period_key": period_key, "REVERT": REVERT,
        "DEADLINE": DEADLINE, "LIST_END": LIST_END, "TCAP_END": TCAP_END, "signed": signed, "UTC": timezone.utc,
        "RANK_NAMES": ("unmatched", "skipped", "remedied", "deferred", "applied"),
    }
    ns.update(src.consts)
    text = "\n".join(src.lines) + "\n"
    code = compile(_keyed_source(text) if keyed else text, name, "exec")
    exec(code, ns)  # noqa: S102 - our own generated source, from a checked rulebook
    return ns["fold"]


def _deadline_function(src: _Src, plan: Any, r: Any) -> None:
    """Runner.apply of grace rule ``r`` at its deadline ``at`` (no remedy came): returns the
    rank of the decision, 4 or 1 (agenda.py's DEADLINE work)."""
    names = plan.ledger_names
    TQ = _tier_texts(src, plan)
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


def _unmatched(src: _Src, plan: Any, reason: str, quoted: str | None, rq: str = "") -> None:
    """Code for an `unmatched` event, the line written as Runner._unmatched writes it;
    ``reason``: a Python str expression; ``quoted``: its JSON text when it is a constant,
    else None and ``rq`` is the Python expression of that text."""
    TQ = _tier_texts(src, plan)
    TI = src.const(plan.tier_index, "TI")
    src("R.summary.unmatched += 1")
    src("F = R.raw")
    src("if F is not None:")
    src("    bal = st.bal")
    src(f"    t = {TQ}[{TI}(st)]")
    src("    bt = " + _fline(_bal_parts(plan.ledger_names, "bal")))
    if quoted is None:
        src(f"    rq = {rq}")
    src("    R.seq = q = R.seq + 1")
    rest = [', "rule": null, "outcome": "unmatched", "reason": ', quoted if quoted is not None else _X("rq"),
            ', "changes": {}, "before": ', _X("bt"), ', "after": ', _X("bt"), ', "tier_before": ', _X("t"),
            ', "tier_after": ', _X("t"), "}"]
    head = ['{"seq": ', _X("q"), ', "line": ', _X("ev.line"), ', "at": "', _X("ev.at_text()")]
    src("    if ev.plain:")
    src("        F(" + _fline(head + ['", "event": "', _X("ev.id"), '", "subject": "', _X("st.id"), '"'] + rest) + ")")
    src("    else:")
    src("        F(" + _fline(head + ['", "event": ', _X("QN(ev.id)"), ', "subject": ', _X("QN(st.id)")] + rest) + ")")
    src("elif R.audit is not None:")
    src(f"    R._unmatched(ev, st, {reason})")


def _unnamed_function(src: _Src, plan: Any) -> None:
    """The fold of an event type the rulebook does not name, for the one-pass loops (Runner.event
    takes the general path for it)."""
    src("def fold(R, st, ev):")
    src.depth += 1
    # a plain line's strings need no escapes (events.Event.plain), nor does the rest of the reason
    _unmatched(src, plan, "'no rule for event type `' + ev.type + '`'", None,
               "'\"no rule for event type `' + ev.type + '`\"' if ev.plain else Q('no rule for event type `' + ev.type + '`')")
    src.depth -= 1


def _revert_function(src: _Src, plan: Any) -> None:
    """Agenda.work's revert of a temporary change at ``at`` (a `for DURATION` or a ledger's
    `expire`), for a sink that takes lines (``R.raw``): the same line as Runner.emit writes
    (results.decision_text), without the Decision's arguments. ``p``: the REVERT payload."""
    names = plan.ledger_names
    TQ = _tier_texts(src, plan)
    TI = src.const(plan.tier_index, "TI")
    LQ = src.const(tuple(_q(n) + ": " for n in names), "LQ")
    RQ = src.const(tuple(_q(r.name) for r in plan.all_rules), "RQ")
    src("def fold(R, st, at, p):")
    src.depth += 1
    src("_sid, index, amount, rule_index, line, event_id, since, why = p")
    src("bal = st.bal")
    src(f"tb = {TI}(st)")
    src("bt = " + _fline(_bal_parts(names, "bal")))
    src("old = bal[index]")
    src("new = old - amount")
    first = True
    for index in plan.clamped:
        src(f"{'if' if first else 'elif'} index == {index}:")
        first = False
        _clamp(src, plan, index, "    ")
    src("bal[index] = new")
    src(f"st.tier = {_DIRTY}")
    src(f"ta = {TI}(st)")
    # the reason is quoted by adding quotes when `why` is ("for 90 days", "expire: 1 year", or
    # what a state file holds): a number and an ISO instant need no escapes
    src("reason = 'reverts ' + signed(amount) + ' applied at ' + since.isoformat() + ' (' + why + ')'")
    src("reason = '\"' + reason + '\"' if len(QG(why) or Q(why)) == len(why) + 2 else QN(reason)")
    src("lt = 'null' if line is None else line")
    src("et = 'null' if event_id is None else QN(event_id)")
    src("R.seq = q = R.seq + 1")
    src("R.raw(" + _fline([
        '{"seq": ', _X("q"), ', "line": ', _X("lt"), ', "at": "', _X("at.isoformat()"), '", "event": ', _X("et"),
        ', "subject": ', _X("QN(st.id)"), ', "rule": ', _X(f"{RQ}[rule_index]"),
        ', "outcome": "reverted", "reason": ', _X("reason"), ', "changes": {', _X(f"{LQ}[index]"),
        _X("NG(new - old) or N(new - old)"), '}, "before": ', _X("bt"), ', "after": ']
        + _bal_parts(names, "bal") + [', "tier_before": ', _X(f"{TQ}[tb]"), ', "tier_after": ',
                                      _X(f"{TQ}[ta]"), "}"]) + ")")
    src.depth -= 1


def _type_function(src: _Src, plan: Any, rules: tuple, etype: str) -> None:  # noqa: C901
    names = plan.ledger_names
    TQ = _tier_texts(src, plan)
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
        reason = f"no rule for event type `{etype}`"
        _unmatched(src, plan, repr(reason), _q(reason))
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
