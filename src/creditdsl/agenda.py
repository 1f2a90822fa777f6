"""The agenda of timed work (LANGUAGE.md §12 "One instant, one order"): a mixin of Runner.

Public API::

    instant_code(instant, base) -> str   fixed-width text that sorts like the instant
    code_offset(tz) -> timedelta         the fixed offset of a run's instant codes
    code_base(offset) -> datetime        instant_code's base for that offset
    event_position(instant, line, base)  an event's position: its code, phase 1, its line
    Agenda                               Runner's methods for timed work: push, run_agenda,
                                         work (reverts, list-term ends, temporary-cap ends,
                                         grace deadlines, resets), reset, start_resets,
                                         first_seen, schedule_anniversary

The heap holds ``(utc instant, phase, sequence, kind, payload)``: phase 0 runs before
the events of an instant, phase 2 after them (grace deadlines); kinds are schedule.py's.
In keyed mode (``--workers``) every push remembers the position of the work that
scheduled it (parallel.py).
"""

from __future__ import annotations

import heapq
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from .diagnostics import warning
from .plan import CompiledRule, signed
from .results import RANK
from .schedule import ARESET, DEADLINE, LIST_END, RESET, REVERT, TCAP_END
from .state import DIRTY, SubjectState
from .values import Duration, ValueError_, localize, next_period_start, parse_datetime

_UTC = timezone.utc
_RANK_NAME = {v: k for k, v in RANK.items()}
_YEAR1 = datetime(1, 1, 1, tzinfo=_UTC)
_US = timedelta(microseconds=1)
_ZERO = timedelta(0)


CODE_WIDTH = 26  # the length of an instant code
_WALL_2000 = datetime(2000, 1, 1)


def code_offset(tz: Any) -> timedelta:
    """The fixed UTC offset of a run's instant codes: the zone's on 2000-01-01. Any fixed
    offset would do; the zone's lets an event written at that offset give its own `at` text
    as its code (selfread.py)."""
    return datetime(2000, 1, 1, tzinfo=_UTC).astimezone(tz).utcoffset() or _ZERO


def code_base(offset: timedelta) -> datetime:
    """The instant whose wall clock at ``offset`` is 2000-01-01T00:00 (instant_code's ``base``)."""
    return datetime(2000, 1, 1, tzinfo=_UTC) - offset


def instant_code(key: datetime, base: datetime) -> str:
    """An instant as fixed-width text that sorts like the instant (parallel.py): its wall
    clock at one fixed offset (``base``: code_base of it), ISO 8601 to the microsecond,
    without the offset (``2023-03-05T10:00:00.000000``, CODE_WIDTH characters). An instant
    whose wall clock there is before year 1 or after 9999 is ``0000-`` or ``9999-9`` and its
    microseconds since year 1 in hexadecimal, below or above every other code. (A naive
    wall clock's isoformat: 1.1 µs a code, against 2 µs for an aware one's with a timespec.)"""
    since = key - base
    try:
        text = (_WALL_2000 + since).isoformat()
    except OverflowError:
        us = (key - _YEAR1) // _US
        return f"9999-9{us:020x}" if since > _ZERO else f"0000-{us:021x}"
    return text[:19] + (text[19:] or ".000000")


def event_position(key: datetime, line: int, base: datetime) -> str:
    """The position of an event (or of a passive or `later` line) read at ``line``
    (parallel.py): its instant's code, phase ``1``, then the line in 12 digits."""
    return "%s1%012d" % (instant_code(key, base), line)


class Agenda:
    """Timed work of a Runner (the attributes it uses are set by Runner.__init__)."""

    def push(self, instant: datetime, phase: int, kind: int, payload: tuple) -> int:
        self.agenda_seq += 1
        heapq.heappush(self.agenda, (instant.astimezone(_UTC), phase, self.agenda_seq, kind, payload))
        if self.keyed:
            self.origins[self.agenda_seq] = self.pos + f"{self.sub:06d}"
            self.sub += 1
        return self.agenda_seq

    def run_agenda(self, until: tuple) -> None:
        agenda = self.agenda
        while agenda and agenda[0][:2] <= until:
            self.work(heapq.heappop(agenda))

    def work(self, item: tuple) -> None:
        key, _phase, token, kind, payload = item
        at = key.astimezone(self.tz)
        plan = self.plan
        if self.keyed:
            base = instant_code(key, self.code_base) + str(_phase) + self.origins.pop(token, "!")
            self.position(base)
        if kind == RESET:
            index, period = payload
            for sid in sorted(self.states):
                if self.keyed:
                    self.position(base + "S" + sid.encode("utf-8", "surrogatepass").hex() + ".")
                self.reset(self.states[sid], index, at, f"{period}ly reset")
            if self.keyed:
                self.position(base + "T")
            self.push(next_period_start(at, period), 0, RESET, payload)
            return
        if kind == ARESET:
            sid, index, k = payload
            st = self.states[sid]
            self.reset(st, index, at, "anniversary reset")
            self.schedule_anniversary(st, index, k + 1)
            return
        st = self.states[payload[0]]
        st.now = at
        if kind == REVERT:
            _sid, index, amount, rule_index, line, event_id, since, why = payload
            pending = st.pending
            if pending.pop(token, None) is None:
                return  # cancelled by a reset
            if not pending:
                st.pending = None  # an emptied dict keeps its table: let it go
            if self.raw is not None:
                fast = self.fast.get(REVERT)  # codegen.py: the same line, written directly
                if fast is not None:
                    fast(self, st, at, payload)
                    if plan.triggers:
                        self.triggers(st, line, at, event_id)
                    return
            r = plan.all_rules[rule_index]
            before = tuple(st.bal)
            tier_before = plan.tier_name(st) if self.audit is not None else None
            old = st.bal[index]
            new = old - amount
            lo, hi = plan.floors[index], plan.ceilings[index]
            if lo is not None and new < lo:
                new = lo
            if hi is not None and new > hi:
                new = hi
            st.bal[index] = new
            st.tier = DIRTY
            if self.audit is not None:
                self.emit(line, at, event_id, st.id, r, "reverted",
                          f"reverts {signed(amount)} applied at {since.isoformat()} ({why})",
                          changes=((plan.ledger_names[index], new - old),), before=before, after=tuple(st.bal),
                          tier_before=tier_before, tier_after=plan.tier_name(st))
        elif kind == LIST_END:
            _sid, name, rule_index, line, event_id = payload
            if st.lists.get(name, -1) != token:
                return  # renewed or unlisted since
            self._timed_change(st, plan.all_rules[rule_index], line, at, event_id, "unlisted",
                               f"list term of {plan.list_terms[name]} ended", lambda: st.lists.pop(name),
                               unlisted=(name,))
        elif kind == TCAP_END:
            _sid, rule_index, line, event_id = payload
            r = plan.all_rules[rule_index]
            self._timed_change(st, r, line, at, event_id, "reverted",
                               f"temporary tier cap {plan.tier_names[st.tcaps[token]]} ended",
                               lambda: st.tcaps.pop(token))
        elif kind == DEADLINE:
            _sid, rule_index, ev, track = payload
            r = plan.all_rules[rule_index]
            remedy = None
            for typ in r.grace.unless:
                seen = st.remedy.get(typ)
                if seen is not None and seen > (ev.key, ev.line) and (remedy is None or seen > remedy[1]):
                    remedy = (typ, seen)
            if remedy is not None:
                rank = 2
                if self.audit is not None:
                    bal = tuple(st.bal)
                    tier = plan.tier_name(st)
                    self.emit(ev.line, at, ev.id, st.id, r, "remedied",
                              f"remedied by {remedy[0]} at {remedy[1][0].astimezone(self.tz).isoformat()}",
                              changes=(), before=bal, after=bal, tier_before=tier, tier_after=tier)
            else:
                fast = self.fast.get((DEADLINE, rule_index))  # codegen.py: the rule applied inline
                rank = fast(self, st, ev, at) if fast is not None else self.apply(r, st, ev, ev.line, at, ev.id)
            cell = self.open_lines[track]
            if rank > cell[0]:
                cell[0] = rank
            cell[1] -= 1
            if cell[1] == 0:
                del self.open_lines[track]
                self.summary.count(_RANK_NAME[cell[0]])
            line, event_id = ev.line, ev.id
        else:  # pragma: no cover
            raise ValueError(kind)
        if plan.triggers:
            self.triggers(st, line, at, event_id)

    def _timed_change(self, st: SubjectState, r: CompiledRule, line: Any, at: datetime, event_id: Any,
                      outcome: str, reason: str, change: Callable[[], Any], **kw: Any) -> None:
        if self.audit is None:
            change()
            st.tier = DIRTY
            return
        bal = tuple(st.bal)
        tier_before = self.plan.tier_name(st)
        change()
        st.tier = DIRTY
        self.emit(line, at, event_id, st.id, r, outcome, reason, changes=(), before=bal, after=bal,
                  tier_before=tier_before, tier_after=self.plan.tier_name(st), **kw)

    def reset(self, st: SubjectState, index: int, at: datetime, why: str) -> None:
        start = self.plan.starts[index]
        if st.bal[index] == start and not st.has_pending(index):
            return
        st.now = at
        st.drop_pending(index)
        before = tuple(st.bal)
        tier_before = self.plan.tier_name(st) if self.audit is not None else None
        old = st.bal[index]
        st.bal[index] = start
        st.tier = DIRTY
        if self.audit is not None:
            self.emit(None, at, None, st.id, None, "reset", f"{why} of {self.plan.ledger_names[index]}",
                      changes=((self.plan.ledger_names[index], start - old),), before=before,
                      after=tuple(st.bal), tier_before=tier_before, tier_after=self.plan.tier_name(st))
        if self.plan.triggers:
            self.triggers(st, None, at, None)

    def start_resets(self, first: datetime) -> None:
        """Calendar resets: one chain per ledger, from the first boundary after the first event."""
        for index, reset in self.plan.resets:
            if reset.from_field is None:
                self.push(next_period_start(first, reset.every[:-2]), 0, RESET, (index, reset.every[:-2]))

    def first_seen(self, st: SubjectState, at: datetime) -> None:
        """A subject's first event: schedule its anniversary resets (from subject.FIELD)."""
        st.anniversary = at
        for index, reset in self.plan.resets:
            if reset.from_field is not None:
                self.schedule_anniversary(st, index, None)

    def schedule_anniversary(self, st: SubjectState, index: int, k: int | None) -> None:
        reset = self.plan.rulebook.ledgers[index].reset
        step = "year" if reset.every == "yearly" else "month"
        raw = st.fields.get(reset.from_field)
        base = None
        if type(raw) is str:
            try:
                base = parse_datetime(raw, self.tz).astimezone(self.tz)
            except ValueError_:
                base = None
        if base is None:
            if st.id not in self.warned:
                self.warned.add(st.id)
                self.warn_pos.append(self.pos)
                self.warnings.append(warning(
                    "W0501", f"subject `{st.id}` has no date in `{reset.from_field}`: "
                    f"`{self.plan.ledger_names[index]}` resets on calendar {step}s"))
            base = localize(datetime(2000, 1, 1), self.tz)
        if k is None:  # the first anniversary strictly after the subject's first event
            after = st.anniversary
            k = max(1, (after.year - base.year) * (12 if step == "month" else 1) - 1)
            while Duration(k, step).add(base) <= after:
                k += 1
        self.push(Duration(k, step).add(base), 0, ARESET, (st.id, index, k))
