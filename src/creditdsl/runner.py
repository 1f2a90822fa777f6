"""One run's mutable context and what rules do to it: the Runner (interpreter.py drives it).

Public API::

    Runner(plan, audit)          the states, the agenda (agenda.Agenda's timed work), the
                                 summary and the audit sink of one run
    Runner.event(ev)             the rules of one event (generated code, codegen.py, when the
                                 plan has it; else the general loop here)
    Runner.apply / defer / _skip effects of a rule or trigger, a grace deferral, a skip
    Runner.passive(kind, item)   a duplicate, invalid or `later` line
    Runner.finish(as_of)         the subjects' results
    EVENT, DUPLICATE, INVALID, LATER   the kinds of timeline items

Every decision is written through ``Runner.emit`` (a line when the sink takes lines, else a
results.Decision record).
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Iterator

from .agenda import Agenda, code_base, code_offset, event_position
from .collector import paused_gc
from .diagnostics import Diagnostic
from .events import Event, InvalidLine, content_digest, parse_event
from .expressions import Skip
from .plan import CompiledRule, Plan, signed
from .results import LINE_OUTCOMES, RANK, Decision, SubjectResult, Summary, _balances as _bal_text, _q, decision_text, quote
from .schedule import DEADLINE, LIST_END, REVERT, TCAP_END
from .state import NEW, DIRTY, SubjectState, counters, digest_token, line_token, period_counter, register, token_offset, window
from .state import CONFLICT, DUPLICATE as SEEN_DUPLICATE
from .values import period_key

_UTC = timezone.utc
_RANK_NAME = {v: k for k, v in RANK.items()}


EVENT, DUPLICATE, INVALID, LATER = 0, 1, 2, 3  # the kinds of timeline items


class Runner(Agenda):
    """One run's mutable context: the states, the agenda, the summary, the audit sink."""

    def __init__(self, plan: Plan, audit: Callable[[Decision], None] | None):
        self.plan = plan
        self.tz = plan.tz
        self.audit = audit
        self.raw = getattr(audit, "raw", None)  # fast audit lines (codegen.py), when the sink takes them
        self.fast = plan.fast  # event type → generated fold of its rules
        self.states: dict[str, SubjectState] = {}
        self.summary = Summary()
        self.seq = 0
        self.agenda: list = []  # heap of (utc instant, phase, sequence, work)
        self.agenda_seq = 0
        self.open_lines: dict[int, list[int]] = {}  # deferral track → [best rank, pending deferrals]
        self.warned: set[str] = set()
        self.warnings: list[Diagnostic] = []
        self.started = False  # calendar resets scheduled
        # --workers (parallel.py): each decision's place in the one-worker order, see `position`
        self.keyed = False
        self.code_offset = code_offset(plan.tz)  # of the positions of keyed mode (parallel.py)
        self.code_base = code_base(self.code_offset)
        self.pos = ""
        self.sub = 0  # agenda pushes made by the work now running
        self.origins: dict[int, str] = {}
        self.warn_pos: list[str] = []
        self.log_path: str | None = None  # the log file whose byte offsets line tokens name

    def position(self, pos: str) -> None:
        """Keyed mode: the work now running is at ``pos`` (parallel.py defines the encoding)."""
        self.pos = pos
        self.sub = 0

    # ------------------------------------------------------------ helpers
    def state(self, subject: str) -> SubjectState:
        st = self.states.get(subject)
        if st is None:
            st = self.add_state(subject, None)
        return st

    def add_state(self, subject: str, fields: dict | None) -> SubjectState:
        st = self.states[subject] = self.plan.new_state(subject, fields)
        if self.plan.triggers:
            self.init_triggers(st)
        return st

    def emit(self, line: int | None, at: datetime | None, event: str | None, subject: str | None,
             rule: CompiledRule | None, outcome: str, reason: str | None, **kw: Any) -> None:
        self.seq += 1
        raw = self.raw
        if raw is not None:  # the sink takes lines: no Decision record (its line is the same)
            raw(decision_text(self.plan.ledger_quoted, self.seq, line, at, event, subject,
                              None if rule is None else rule.name, outcome, reason, **kw))
            return
        self.audit(Decision(
            self.seq, line, at, event, subject, None if rule is None else rule.name, outcome, reason,
            span=None if rule is None else rule.span, **kw,
        ))

    def duplicate_check(self, st: SubjectState, item: Event, offset: int | None = None) -> int:
        """Register ``item``'s id in the subject's duplicate memory: NEW, SEEN_DUPLICATE (the
        first line had the same content) or CONFLICT. ``offset``: the line's byte offset in
        ``log_path`` (its line token stands for its content digest until the id comes again);
        None: the digest is computed now."""
        token = line_token(offset) if offset is not None else None
        prior = register(st, item.id, token or digest_token(content_digest(item.fields)))
        if prior is None:
            return NEW
        mine = digest_token(content_digest(item.fields))
        first = token_offset(prior)
        if first is not None:
            with open(self.log_path, "rb") as fh:
                prior = digest_token(self.line_digest(first, fh))
        return SEEN_DUPLICATE if prior == mine else CONFLICT

    def line_digest(self, offset: int, log: Any) -> bytes:
        """The content digest of the event line at byte ``offset`` of ``log`` (the file
        ``log_path`` open in binary): what a line token stands for."""
        log.seek(offset)
        return content_digest(parse_event(log.readline().strip(), 0, self.tz).fields)

    def line_outcome(self, outcome: str) -> None:
        self.summary.count(outcome)

    # ------------------------------------------------------------ non-events
    def passive(self, kind: int, item: Event | InvalidLine) -> None:
        """A duplicate, invalid or later line: counted and audited, no state involved."""
        outcome = ("applied", "duplicate", "invalid", "later")[kind]
        self.summary.count(outcome)
        if self.audit is None:
            return
        if kind == INVALID:
            reason = f"{item.code}: {item.reason}"
            self.emit(item.line, item.at, item.id, item.subject, None, outcome, reason)
        elif kind == DUPLICATE:
            self.emit(item.line, item.at, item.id, item.subject, None, outcome, f"duplicate of event {item.id}")
        else:
            self.emit(item.line, item.at, item.id, item.subject, None, outcome, "after as_of")

    # ------------------------------------------------------------ events
    def event(self, ev: Event) -> None:  # noqa: C901 - the hot path, kept in one piece
        plan = self.plan
        st = self.states[ev.subject]
        st.now = ev.at
        if self.keyed:
            self.position(event_position(ev.key, ev.line, self.code_base))
        if not self.started:
            self.started = True
            self.start_resets(ev.at)
        if st.anniversary is None and plan.resets:
            self.first_seen(st, ev.at)
        fast = self.fast.get(ev.type)
        if fast is not None:  # codegen.py: remedies, count() history and the rules of this type
            fast(self, st, ev)
            if plan.triggers:
                self.triggers(st, ev.line, ev.at, ev.id)
            return
        if ev.type in plan.remedies:
            st.remedy[ev.type] = (ev.key, ev.line)
        watch = plan.watch
        if watch and ev.type in watch:
            keep = watch[ev.type].subtract(ev.at).astimezone(_UTC)
            st.record(ev.type, ev.key, keep)
            if not plan.tier_cacheable:
                st.tier = DIRTY
        rules = plan.by_type.get(ev.type)
        audit = self.audit
        if not rules:
            self.summary.unmatched += 1
            if audit is not None:
                self._unmatched(ev, st, f"no rule for event type `{ev.type}`")
            if plan.triggers:
                self.triggers(st, ev.line, ev.at, ev.id)
            return
        best = -1  # best rank among decisions taken now (deferrals aside)
        deferred = False
        groups: dict[str, str] | None = None
        for r in rules:
            if r.where is not None:
                try:
                    ok = r.where(st, ev)
                except Skip as s:
                    best = max(best, 1)
                    self._skip(ev, st, r, s.reason)
                    continue
                if ok is not True:
                    if ok is not False:
                        best = max(best, 1)
                        self._skip(ev, st, r, f"`where: {r.where_text}` is not a condition")
                    continue
            if r.except_ is not None:
                try:
                    held = r.except_(st, ev)
                except Skip as s:
                    best = max(best, 1)
                    self._skip(ev, st, r, s.reason)
                    continue
                if held is not False:
                    best = max(best, 1)
                    self._skip(ev, st, r, f"except: {r.except_text}" if held is True
                               else f"`except: {r.except_text}` is not a condition")
                    continue
            if r.requires is not None:
                why = r.evidence_reason(ev.evidence)
                if why is not None:
                    best = max(best, 1)
                    self._skip(ev, st, r, why)
                    continue
            lim = r.limit
            if lim is not None:
                cell = self._limit_cell(st, r, ev)
                if (cell[1] if lim.period is not None else len(cell)) >= lim.count:
                    best = max(best, 1)
                    self._skip(ev, st, r, f"{r.limit_text} reached")
                    continue
            if r.group is not None:
                if groups is None:
                    groups = {}
                taker = groups.get(r.group)
                if taker is not None:
                    best = max(best, 1)
                    self._skip(ev, st, r, f"superseded by rule `{taker}` (group {r.group})")
                    continue
                groups[r.group] = r.name
            if r.grace is not None:
                if not deferred:
                    self.agenda_seq += 1
                    track = self.agenda_seq
                outcome = self.defer(ev, st, r, track)
            else:
                outcome = self.apply(r, st, ev, ev.line, ev.at, ev.id)
            if outcome >= 3:
                if lim is not None:  # the rule took the event: it counts for the limit
                    if lim.period is not None:
                        cell[1] += 1
                    else:
                        cell.append(ev.key)
                if outcome == 3:
                    deferred = True
                    continue
            if outcome > best:
                best = outcome
        if deferred:
            cell = self.open_lines[track]
            if best > cell[0]:
                cell[0] = best
        elif best < 0:
            self.summary.unmatched += 1
            if audit is not None:
                self._unmatched(ev, st, "no rule applies (every `where` was false)")
        else:
            self.summary.count(_RANK_NAME[best])
        if plan.triggers:
            self.triggers(st, ev.line, ev.at, ev.id)

    def _limit_cell(self, st: SubjectState, r: CompiledRule, ev: Event) -> Any:
        lim = r.limit
        plan = self.plan
        slots = counters(st, len(plan.counter_keys))
        if lim.period is not None:
            return period_counter(slots, plan.counter_slot[r.index], period_key(ev.at, lim.period))
        keys = window(slots, plan.counter_slot[r.index])
        cutoff = lim.within.subtract(ev.at).astimezone(_UTC)
        while keys and keys[0] <= cutoff:
            keys.pop(0)
        return keys

    def _unmatched(self, ev: Event, st: SubjectState, reason: str) -> None:
        raw = self.raw
        if raw is not None:
            plan = self.plan
            bt = _bal_text(plan.ledger_quoted, st.bal)
            t = plan.tier_index(st)
            t = "null" if t < 0 else _q(plan.tier_names[t])
            self.seq += 1
            ids = '", "event": "' + ev.id + '", "subject": "' + st.id + '"' if ev.plain else \
                '", "event": ' + quote(ev.id) + ', "subject": ' + quote(st.id)
            raw('{"seq": ' + str(self.seq) + ', "line": ' + str(ev.line) + ', "at": "' + ev.at_text() + ids
                + ', "rule": null, "outcome": "unmatched", "reason": ' + _q(reason)
                + ', "changes": {}, "before": ' + bt + ', "after": ' + bt + ', "tier_before": ' + t
                + ', "tier_after": ' + t + "}")
            return
        bal = tuple(st.bal)
        tier = self.plan.tier_name(st)
        self.emit(ev.line, ev.at, ev.id, ev.subject, None, "unmatched", reason,
                  changes=(), before=bal, after=bal, tier_before=tier, tier_after=tier)

    def _skip(self, ev: Event | None, st: SubjectState, r: CompiledRule, reason: str,
              line: int | None = None, at: datetime | None = None, event_id: str | None = None) -> None:
        if self.audit is None:
            return
        bal = tuple(st.bal)
        tier = self.plan.tier_name(st)
        if ev is not None:
            line, at, event_id = ev.line, ev.at, ev.id
        self.emit(line, at, event_id, st.id, r, "skipped", reason,
                  changes=(), before=bal, after=bal, tier_before=tier, tier_after=tier)

    def defer(self, ev: Event, st: SubjectState, r: CompiledRule, track: int) -> int:
        grace = r.grace
        deadline = grace.duration.add(ev.at)
        self.push(deadline, 2, DEADLINE, (st.id, r.index, ev, track))
        cell = self.open_lines.get(track)
        if cell is None:
            self.open_lines[track] = [-1, 1]
        else:
            cell[1] += 1
        if self.audit is not None:
            bal = tuple(st.bal)
            tier = self.plan.tier_name(st)
            unless = " or ".join(grace.unless)
            self.emit(ev.line, ev.at, ev.id, st.id, r, "deferred",
                      f"grace {grace.duration} unless {unless}: until {deadline.isoformat()}",
                      changes=(), before=bal, after=bal, tier_before=tier, tier_after=tier)
        return 3

    # ------------------------------------------------------------ effects
    def _cap_room(self, st: SubjectState, r: CompiledRule, index: int, at: datetime) -> tuple[Any, Decimal]:
        cap = r.cap
        plan = self.plan
        slots = counters(st, len(plan.counter_keys))
        if cap.period is not None:
            cell = period_counter(slots, plan.counter_slot[(r.index, index)], period_key(at, cap.period))
            return cell, cap.amount - cell[1]
        entries = window(slots, plan.counter_slot[(r.index, index)])
        cutoff = cap.within.subtract(at).astimezone(_UTC)
        while entries and entries[0][0] <= cutoff:
            entries.pop(0)
        return entries, cap.amount - sum(a for _, a in entries)

    def apply(self, r: CompiledRule, st: SubjectState, ev: Event | None, line: int | None,
              at: datetime, event_id: str | None, outcome: str = "applied", why: str | None = None) -> int:  # noqa: C901
        """Apply a rule's (or trigger's) effects at ``at``; returns the rank of the decision."""
        plan = self.plan
        try:
            amounts = []
            for index, fn, duration in r.changes:
                if fn is None:  # `LEDGER: reset`
                    amounts.append((index, None, None))
                    continue
                amount = fn(st, ev)
                if type(amount) is not Decimal:
                    raise Skip(f"the change to `{plan.ledger_names[index]}` is a {type(amount).__name__}, not a number")
                amounts.append((index, amount, duration))
            fine = None
            if r.fine is not None:
                fine = r.fine(st, ev)
                if type(fine) is not Decimal:
                    raise Skip("the fine is not a number")
        except Skip as s:  # dated where the effects were computed (a grace deadline: there)
            self._skip(None, st, r, s.reason, line, at, event_id)
            return 1
        notes = [why] if why else []
        cells: dict[int, Any] = {}
        if r.cap is not None:
            room_left = False
            capped = []
            for index, amount, duration in amounts:
                if amount is not None:
                    cell, room = self._cap_room(st, r, index, at)
                    cells[index] = cell
                    if room <= 0:
                        amount = Decimal(0) * amount
                    else:
                        room_left = True
                        if abs(amount) > room:
                            cut = room if amount > 0 else -room
                            notes.append(f"capped: {signed(cut)} of {signed(amount)}")
                            amount = cut
                capped.append((index, amount, duration))
            if not room_left and cells:  # a rule that changes no ledger has nothing to cap
                self._skip(None, st, r, f"{r.cap_text} reached", line, at, event_id)
                return 1
            amounts = capped
        audit = self.audit
        if audit is not None:
            before = tuple(st.bal)
            tier_before = plan.tier_name(st)
        bal = st.bal
        changes = []
        floors, ceilings = plan.floors, plan.ceilings
        for index, amount, duration in amounts:
            old = bal[index]
            if amount is None:
                new = plan.starts[index]
                st.drop_pending(index)  # a reset cancels the ledger's pending reverts
            else:
                new = unclamped = old + amount
                lo = floors[index]
                if lo is not None and new < lo:
                    new = lo
                hi = ceilings[index]
                if hi is not None and new > hi:
                    new = hi
            applied = new - old
            bal[index] = new
            if amount is not None:
                # a bound changed it (not the rounding of a sum to the context's 28 digits,
                # which can make `applied` differ from `amount` on a ledger with no bound)
                if new != unclamped:
                    notes.append(f"clamped: {signed(applied)} of {signed(amount)} to {plan.ledger_names[index]}")
                if index in cells:
                    cell = cells[index]
                    if r.cap.period is not None:
                        cell[1] += abs(applied)
                    else:
                        cell.append((at.astimezone(_UTC), abs(applied)))
                lasting = duration if duration is not None else plan.expire[index]
                if lasting is not None and applied:
                    token = self.push(lasting.add(at), 0, REVERT,
                                      (st.id, index, applied, r.index, line, event_id, at,
                                       f"for {lasting}" if duration is not None else f"expire: {lasting}"))
                    st.pending[token] = index
            changes.append((plan.ledger_names[index], applied))
        if fine is not None:
            st.fines += fine
        if r.tier_cap >= 0:
            if r.tier_cap_for is not None:
                token = self.push(r.tier_cap_for.add(at), 0, TCAP_END, (st.id, r.index, line, event_id))
                st.own_tcaps()[token] = r.tier_cap
            elif r.tier_cap > st.cap:
                st.cap = r.tier_cap
        listed: tuple = ()
        unlisted: tuple = ()
        if r.list:
            terms = plan.list_terms
            for name in r.list:
                term = terms.get(name)
                st.own_lists()[name] = None if term is None else self.push(
                    term.add(at), 0, LIST_END, (st.id, name, r.index, line, event_id))
            listed = r.list
        if r.unlist:
            gone = [name for name in r.unlist if name in st.lists]
            for name in gone:
                del st.lists[name]
            unlisted = tuple(gone)
        st.tier = DIRTY
        if audit is not None:
            self.emit(line, at, event_id, st.id, r, outcome, "; ".join(notes) or None,
                      changes=tuple(changes), before=before, after=tuple(bal),
                      tier_before=tier_before, tier_after=plan.tier_name(st),
                      fine=fine, listed=listed, unlisted=unlisted)
        return 4

    # ------------------------------------------------------------ triggers
    def _holds(self, cond: Any, st: SubjectState) -> bool:
        try:
            return cond(st, None) is True
        except Skip:
            return False

    def init_triggers(self, st: SubjectState) -> None:
        st.trig = [self._holds(cond, st) for cond, _ in self.plan.triggers]

    def triggers(self, st: SubjectState, line: int | None, at: datetime, event_id: str | None) -> None:
        """One pass in file order: fire on false→true; re-read a fired trigger after its effects."""
        memory = st.trig
        for i, (cond, cr) in enumerate(self.plan.triggers):
            value = self._holds(cond, st)
            if value and not memory[i]:
                self.apply(cr, st, None, line, at, event_id, "triggered", f"when: {cr.where_text}")
                value = self._holds(cond, st)
            memory[i] = value

    def finish(self, as_of: datetime | None, release: bool = False) -> tuple[SubjectResult, ...]:
        """The subjects' results; ``release``: drop each state once read (memory at the end)."""
        with paused_gc():
            return self._finish(as_of, release)

    def _finish(self, as_of: datetime | None, release: bool) -> tuple[SubjectResult, ...]:
        return tuple(SubjectResult(*row) for row in self.rows(as_of, release))

    def rows(self, as_of: datetime | None, release: bool = False) -> Iterator[tuple]:
        """The subjects' results as plain tuples (SubjectResult's fields), in subject order, as
        they are read (a ``--workers`` process sends them in chunks as it goes);
        ``final_summary`` is set before the first, its tier counts after the last."""
        plan = self.plan
        summary = Summary(**{k: getattr(self.summary, k) for k in ("lines",) + LINE_OUTCOMES})
        for best, pending in self.open_lines.values():
            summary.count(_RANK_NAME[max(best, 3) if pending else best])
        self.final_summary = summary
        tiers: dict[int, int] = {}
        for sid in sorted(self.states):
            st = self.states.pop(sid) if release else self.states[sid]
            if as_of is not None:
                st.now = as_of
            if not plan.tier_cacheable:
                st.tier = DIRTY
            tier = plan.tier_index(st)
            if tier >= 0:
                tiers[tier] = tiers.get(tier, 0) + 1
            sanctions, privileges = plan.labels(st, tier)
            yield (sid, tuple(zip(plan.ledger_names, st.bal)), None if tier < 0 else plan.tier_names[tier],
                   st.fines, tuple(n for n in plan.list_names if n in st.lists), sanctions, privileges)
        summary.tiers = {plan.tier_names[i]: tiers[i] for i in sorted(tiers)}
