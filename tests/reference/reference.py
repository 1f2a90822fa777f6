"""A reference interpreter for the rulebook language: deliberately simple and slow.

It exists to check the real interpreter (``creditdsl.interpreter``) against a second,
independent reading of LANGUAGE.md. It shares no evaluation code with ``src/creditdsl``:
it takes the compiled model (``model.Rulebook`` from ``pipeline.load_text``), uses
``values`` only for calendar arithmetic and literal parsing, and has its own event reader,
its own tree-walking expression evaluator, and its own fold.

Design: nothing is indexed, counted or cached. For each subject, the fold starts from the
start state and walks that subject's events in time order; every question about the past
(a limit, a cap, ``count()``, "was there a remedy?") is answered by scanning the complete
list of what happened so far. Scheduled work (reverts, list-term ends, temporary caps'
ends, grace deadlines) sits in a plain list and the next item is found by a linear scan
for the smallest (instant, phase, order) — phase 0 = reverts and ends, 1 = events,
2 = deadlines (LANGUAGE.md §12 "One instant, one order").

``reference_run(rulebook, lines, subjects=(), as_of=None)`` returns ``(document, audit)``:
the result document as plain JSON data (Decimals for numbers) and the audit records as
dicts with the §11 fields. The audit is in decision order per subject; passive lines
(duplicate, invalid, later) are records without state, in input order.

Not covered (yet): calendar and anniversary resets of ledgers, and ``reset`` changes.
"""

from __future__ import annotations

import decimal
import json
from datetime import date, datetime, time, timezone
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any

from creditdsl import model
from creditdsl.values import Duration, localize, parse_datetime, zone

UTC = timezone.utc
CTX = decimal.Context(prec=28, rounding=ROUND_HALF_EVEN,
                      traps=[decimal.DivisionByZero, decimal.InvalidOperation, decimal.Overflow])
RANKS = ["unmatched", "skipped", "remedied", "deferred", "applied"]


class Skip(Exception):
    """A reason not to apply a rule (an expression that cannot be evaluated)."""


class Unsupported(Exception):
    """A rulebook feature the reference does not model."""


# ------------------------------------------------------------------ events


def _no_dup_keys(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError("duplicate key")
        out[k] = v
    return out


def _no_constant(name):
    raise ValueError(name)


def _ident(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, str):
        return v or None
    if isinstance(v, int):
        return str(v)
    return None


def same_json(a, b) -> bool:
    """Equality of parsed JSON values: numbers by value, booleans never equal to numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, Decimal)) and isinstance(b, (int, Decimal)):
        return Decimal(a) == Decimal(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _finite(v) -> bool:
    if isinstance(v, Decimal):
        return v.is_finite()
    if isinstance(v, dict):
        return all(_finite(x) for x in v.values())
    if isinstance(v, list):
        return all(_finite(x) for x in v)
    return True


def read_line(raw: str | bytes, tz) -> dict:
    """One non-blank line → {"ok": True, ...event} or {"ok": False, ...what could be read}."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    bad = {"ok": False, "id": None, "subject": None}
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_dup_keys, parse_float=Decimal,
                           parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return bad
    if not isinstance(value, dict):
        return bad
    ident, subject = _ident(value.get("id")), _ident(value.get("subject"))
    bad = {"ok": False, "id": ident, "subject": subject}
    if any(k not in value for k in ("id", "subject", "type", "at")) or ident is None or subject is None:
        return bad
    if not isinstance(value["type"], str) or not value["type"] or not isinstance(value["at"], str):
        return bad
    try:
        at = parse_datetime(value["at"], tz).astimezone(tz)
    except (ValueError, OverflowError):
        return bad
    evidence = []
    if "evidence" in value:
        if not isinstance(value["evidence"], list):
            return bad
        for item in value["evidence"]:
            if isinstance(item, str):
                evidence.append(item)
            elif isinstance(item, dict) and isinstance(item.get("kind"), str):
                evidence.append(item["kind"])
            else:
                return bad
    if not _finite(value):
        return bad
    return {"ok": True, "id": ident, "subject": subject, "type": value["type"], "at": at,
            "key": at.astimezone(UTC), "evidence": evidence, "fields": value}


# ------------------------------------------------------------------ expressions


class Scope:
    """What an expression can see: the subject's state, the event (or None), and now."""

    def __init__(self, fold: "Fold", event: dict | None, in_tier: bool = False):
        self.fold = fold
        self.event = event
        self.in_tier = in_tier


def _num(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return Decimal(v)
    return v


def _start_of(d: date, tz) -> datetime:
    return localize(datetime(d.year, d.month, d.day), tz)


def _align(a, b, tz):
    if type(a) is date and type(b) is datetime:
        return _start_of(a, tz), b
    if type(a) is datetime and type(b) is date:
        return a, _start_of(b, tz)
    return a, b


def evaluate(node: Any, scope: Scope) -> Any:  # noqa: C901 - one branch per kind of node
    fold = scope.fold
    tz = fold.tz
    kind = node.kind
    if kind == "literal":
        v = node.value
        if isinstance(v, bool) or isinstance(v, (str, Duration)):
            return v
        if type(v) is datetime:
            return localize(v, tz) if v.tzinfo is None else v
        if type(v) is date:
            return v
        return Decimal(v)
    if kind == "name":
        if node.name == "tier":
            if scope.in_tier:
                raise Skip("tier inside a tier condition")
            return fold.tier()
        if node.name not in fold.balance:
            raise Skip(f"unknown name {node.name}")
        return fold.balance[node.name]
    if kind == "field":
        if node.source == "event":
            if scope.event is None:
                raise Skip("no event")
            if node.field == "at":
                return scope.event["at"]
            v = scope.event["fields"].get(node.field)
        else:
            v = fold.subject_fields.get(node.field)
        if v is None:
            raise Skip(f"missing field {node.source}.{node.field}")
        return _num(v)
    if kind == "unary":
        v = evaluate(node.operand, scope)
        if node.op == "not":
            if not isinstance(v, bool):
                raise Skip("not of a non-boolean")
            return not v
        if type(v) is not Decimal:
            raise Skip("sign of a non-number")
        with decimal.localcontext(CTX):
            return -v if node.op == "-" else +v
    if kind == "binary":
        op = node.op
        if op in ("and", "or"):
            a = evaluate(node.left, scope)
            if not isinstance(a, bool):
                raise Skip("and/or of a non-boolean")
            if (op == "and" and not a) or (op == "or" and a):
                return a
            b = evaluate(node.right, scope)
            if not isinstance(b, bool):
                raise Skip("and/or of a non-boolean")
            return b
        a = evaluate(node.left, scope)
        b = evaluate(node.right, scope)
        if op in ("==", "!="):
            if a is None or b is None:
                equal = a is None and b is None
            else:
                a, b = _align(a, b, tz)
                if type(a) is not type(b):
                    raise Skip("comparison of different types")
                equal = a == b
            return equal if op == "==" else not equal
        if op in ("<", "<=", ">", ">="):
            a, b = _align(a, b, tz)
            if type(a) is not type(b) or type(a) not in (Decimal, str, date, datetime):
                raise Skip("ordering of these types")
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        if type(a) is Decimal and type(b) is Decimal:
            if op == "/" and b == 0:
                raise Skip("division by zero")
            try:
                with decimal.localcontext(CTX):
                    return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b}[op]()
            except ArithmeticError:
                raise Skip("arithmetic error") from None
        if op in ("+", "-") and type(b) is Duration and type(a) in (date, datetime):
            start = _start_of(a, tz) if type(a) is date else a
            return b.add(start, 1 if op == "+" else -1)
        raise Skip("arithmetic on these types")
    if kind == "in":
        item = evaluate(node.item, scope)
        found = False
        for option in node.options:
            w = evaluate(option, scope)
            if type(w) is type(item) and w == item:
                found = True
                break
        return found != node.negated
    if kind == "call":
        if node.func == "listed":
            name = evaluate(node.args[0], scope)
            if not isinstance(name, str):
                raise Skip("listed() of a non-string")
            return name in fold.lists
        args = [evaluate(a, scope) for a in node.args]
        if any(type(x) is not Decimal for x in args):
            raise Skip(f"{node.func}() of a non-number")
        try:
            with decimal.localcontext(CTX):
                if node.func == "min":
                    return min(args)
                if node.func == "max":
                    return max(args)
                if node.func == "abs":
                    return abs(args[0])
                if node.func == "floor":
                    return args[0].to_integral_value(rounding=ROUND_FLOOR)
                if node.func == "ceil":
                    return args[0].to_integral_value(rounding=ROUND_CEILING)
                if node.func == "round":
                    digits = args[1] if len(args) > 1 else Decimal(0)
                    if digits != digits.to_integral_value() or not -28 <= digits <= 28:
                        raise Skip("round() digits")
                    return args[0].quantize(Decimal(1).scaleb(-int(digits)), rounding=ROUND_HALF_EVEN)
        except ArithmeticError:
            raise Skip("arithmetic error") from None
        raise Skip(f"unknown function {node.func}")
    if kind == "count":
        now = fold.now
        start = node.within.add(now, -1)
        return Decimal(sum(1 for e in fold.seen_events
                           if e["type"] == node.event_type and start < e["at"] <= now))
    raise Unsupported(kind)


# ------------------------------------------------------------------ calendar


def same_period(a: datetime, b: datetime, period: str) -> bool:
    """Do two local instants fall in the same calendar period (ISO weeks)?"""
    if period == "day":
        return a.date() == b.date()
    if period == "week":
        return a.isocalendar()[:2] == b.isocalendar()[:2]
    if period == "month":
        return (a.year, a.month) == (b.year, b.month)
    if period == "quarter":
        return (a.year, (a.month - 1) // 3) == (b.year, (b.month - 1) // 3)
    return a.year == b.year


def in_window(past: datetime, now: datetime, period: str | None, within: Duration | None) -> bool:
    if period is not None:
        return same_period(past, now, period)
    return within.add(now, -1) < past <= now


# ------------------------------------------------------------------ one subject's fold


class Fold:
    """One subject, from its start state, through its events and scheduled work."""

    def __init__(self, run: "Reference", subject: str, fields: dict):
        rb = run.rulebook
        self.run = run
        self.rb = rb
        self.tz = run.tz
        self.subject = subject
        self.subject_fields = fields
        self.balance = {x.name: x.start for x in rb.ledgers}
        self.fines = Decimal(0)
        self.lists: dict[str, int] = {}  # name → token of the current membership
        self.caps: list[tuple[int, int]] = []  # (token, tier index); token -1: permanent
        self.taken: list[tuple[str, datetime]] = []  # (rule name, instant): events a rule took
        self.capped: list[tuple[str, str, datetime, Decimal]] = []  # (rule, ledger, instant, |applied|)
        self.seen_events: list[dict] = []  # valid events processed so far (count())
        self.agenda: list[tuple] = []  # (utc instant, phase, order, kind, payload)
        self.order = 0
        self.token = 0
        self.now: datetime | None = None
        self.decisions: list[dict] = []
        self.memory = [self._when(t) for t in rb.triggers]

    # -------------------------------------------------------------- reading the state
    def tier(self) -> str | None:
        found = None
        for i, t in enumerate(self.rb.tiers):
            if t.condition is None:
                found = i
                break
            try:
                if evaluate(t.condition.tree, Scope(self, None, in_tier=True)) is True:
                    found = i
                    break
            except Skip:
                continue
        if found is None:
            return None
        worst = found
        for _, idx in self.caps:
            worst = max(worst, idx)
        for name in self.lists:
            ld = self.rb.list_def(name)
            if ld is not None and ld.tier is not None and self.rb.tier_index(ld.tier) is not None:
                worst = max(worst, self.rb.tier_index(ld.tier))
        return self.rb.tiers[worst].name

    def _when(self, trigger) -> bool:
        try:
            return evaluate(trigger.when.tree, Scope(self, None)) is True
        except Skip:
            return False

    def snapshot(self):
        return dict(self.balance), self.tier()

    def decide(self, ev: dict | None, rule: str | None, outcome: str, at: datetime, line: int | None,
               changes: dict | None, before, tier_before, **extra) -> None:
        after, tier_after = self.snapshot()
        record = {"line": line, "at": at.isoformat(), "event": None if ev is None else ev["id"],
                  "subject": self.subject, "rule": rule, "outcome": outcome, "changes": changes,
                  "before": before, "after": after, "tier_before": tier_before, "tier_after": tier_after}
        # a fine is written even when it is zero (a fine rule took the event); lists when not empty
        record.update({k: v for k, v in extra.items() if (v is not None if k == "fine" else v)})
        self.decisions.append(record)

    def schedule(self, when: datetime, phase: int, kind: str, payload: Any) -> None:
        self.order += 1
        self.agenda.append((when.astimezone(UTC), phase, self.order, kind, payload))

    # -------------------------------------------------------------- effects
    def effects(self, owner: Any, ev: dict | None, at: datetime, line: int | None, outcome: str) -> str:
        """Apply a rule's or trigger's effects (rank name of the decision taken)."""
        eff = owner.effects
        # a trigger reads no event (its effects are computed on the state alone)
        scope = Scope(self, None if outcome == "triggered" else ev)
        try:
            amounts = []
            for ch in eff.changes:
                if ch.amount is None:
                    raise Unsupported("reset change")
                v = evaluate(ch.amount.tree, scope)
                if type(v) is not Decimal:
                    raise Skip("change is not a number")
                amounts.append((ch, v))
            fine = None
            if eff.fine is not None:
                fine = evaluate(eff.fine.amount.tree, scope)
                if type(fine) is not Decimal:
                    raise Skip("fine is not a number")
        except Skip:
            self.skip(ev, owner.name, at, line, trigger=outcome == "triggered")
            return "skipped"
        cap = getattr(owner, "cap", None)
        if cap is not None:
            cut = []
            for ch, v in amounts:
                used = sum((a for r, led, when, a in self.capped
                            if r == owner.name and led == ch.ledger and in_window(when, at, cap.period, cap.within)),
                           Decimal(0))
                room = max(cap.amount - used, Decimal(0))
                cut.append((ch, v, room))
            if cut and all(room == 0 for _, _, room in cut):
                self.skip(ev, owner.name, at, line)
                return "skipped"
            amounts = [(ch, v if abs(v) <= room else (room if v > 0 else -room)) for ch, v, room in cut]
        before, tier_before = self.snapshot()
        changes = {}
        for ch, v in amounts:
            applied = self.change(ch.ledger, v)
            changes[ch.ledger] = applied
            if cap is not None:
                self.capped.append((owner.name, ch.ledger, at, abs(applied)))
            ledger = self.rb.ledger(ch.ledger)
            lasts = ch.duration if ch.duration is not None else ledger.expire
            if lasts is not None and applied != 0:  # nothing applied, nothing to revert
                self.schedule(lasts.add(at), 0, "revert", (ch.ledger, applied, owner.name, ev, line))
        if fine is not None:
            self.fines += fine
        if eff.tier_cap is not None:
            idx = self.rb.tier_index(eff.tier_cap.tier)
            if idx is not None:
                if eff.tier_cap.duration is None:
                    self.caps.append((-1, idx))
                else:
                    self.token += 1
                    self.caps.append((self.token, idx))
                    self.schedule(eff.tier_cap.duration.add(at), 0, "cap end", (self.token, owner.name, ev, line))
        for name in eff.list:
            self.token += 1
            self.lists[name] = self.token
            term = self.rb.list_def(name).term
            if term is not None:
                self.schedule(term.add(at), 0, "list end", (name, self.token, owner.name, ev, line))
        unlisted = [name for name in eff.unlist if name in self.lists]
        for name in unlisted:
            del self.lists[name]
        self.decide(ev, owner.name, outcome, at, line, changes, before, tier_before,
                    fine=fine, listed=list(eff.list), unlisted=unlisted)
        return "applied"

    def change(self, ledger: str, amount: Decimal) -> Decimal:
        d = self.rb.ledger(ledger)
        with decimal.localcontext(CTX):
            new = self.balance[ledger] + amount
            if d.floor is not None and new < d.floor:
                new = d.floor
            if d.ceiling is not None and new > d.ceiling:
                new = d.ceiling
            applied = new - self.balance[ledger]
        self.balance[ledger] = new
        return applied

    def skip(self, ev, rule, at, line, trigger=False):
        before, tier = self.snapshot()
        self.decide(ev, rule, "skipped", at, line, {}, before, tier)

    def triggers(self, ev: dict | None, at: datetime, line: int | None) -> None:
        for i, trig in enumerate(self.rb.triggers):
            now = self._when(trig)
            if now and not self.memory[i]:
                self.effects(trig, ev, at, line, "triggered")
                now = self._when(trig)
            self.memory[i] = now

    # -------------------------------------------------------------- events
    def event(self, ev: dict) -> None:
        self.now = ev["at"]
        self.seen_events.append(ev)
        rules = [r for r in self.rb.rules if ev["type"] in r.on]
        ranks: list[str] = []
        deferred = False
        groups: dict[str, str] = {}
        scope = Scope(self, ev)
        at, line = ev["at"], ev["line"]
        for r in rules:
            try:
                if r.where is not None:
                    ok = evaluate(r.where.tree, scope)
                    if ok is False:
                        continue
                    if ok is not True:
                        raise Skip("where is not a condition")
                if r.except_ is not None and evaluate(r.except_.tree, scope) is not False:
                    raise Skip("except")
            except Skip:
                self.skip(ev, r.name, at, line)
                ranks.append("skipped")
                continue
            if r.requires is not None and not any(
                all(ev["evidence"].count(e.kind) >= e.count for e in alt) for alt in r.requires.alternatives
            ):
                self.skip(ev, r.name, at, line)
                ranks.append("skipped")
                continue
            if r.limit is not None:
                n = sum(1 for name, when in self.taken
                        if name == r.name and in_window(when, at, r.limit.period, r.limit.within))
                if n >= r.limit.count:
                    self.skip(ev, r.name, at, line)
                    ranks.append("skipped")
                    continue
            if r.group is not None:
                if r.group in groups:
                    self.skip(ev, r.name, at, line)
                    ranks.append("skipped")
                    continue
                groups[r.group] = r.name
            if r.grace is not None:
                self.taken.append((r.name, at))
                before, tier = self.snapshot()
                self.decide(ev, r.name, "deferred", at, line, {}, before, tier)
                self.schedule(r.grace.duration.add(at), 2, "deadline", (r, ev))
                self.run.open_deferrals[line] = self.run.open_deferrals.get(line, 0) + 1
                deferred = True
                continue
            outcome = self.effects(r, ev, at, line, "applied")
            if outcome == "applied":
                self.taken.append((r.name, at))
            ranks.append(outcome)
        if deferred:
            self.run.line_ranks.setdefault(line, []).extend(ranks)
        elif not ranks:
            before, tier = self.snapshot()
            self.decide(ev, None, "unmatched", at, line, {}, before, tier)
            self.run.line_ranks[line] = ["unmatched"]
        else:
            self.run.line_ranks[line] = ranks
        self.triggers(ev, at, line)

    # -------------------------------------------------------------- scheduled work
    def work(self, item: tuple) -> None:
        key, phase, _, kind, payload = item
        at = key.astimezone(self.tz)
        self.now = at
        if kind == "revert":
            ledger, amount, rule, ev, line = payload
            before, tier = self.snapshot()
            applied = self.change(ledger, -amount)
            self.decide(ev, rule, "reverted", at, line, {ledger: applied}, before, tier)
        elif kind == "cap end":
            token, rule, ev, line = payload
            before, tier = self.snapshot()
            self.caps = [c for c in self.caps if c[0] != token]
            self.decide(ev, rule, "reverted", at, line, {}, before, tier)
        elif kind == "list end":
            name, token, rule, ev, line = payload
            if self.lists.get(name) != token:
                return  # renewed or unlisted since: this end is void
            before, tier = self.snapshot()
            del self.lists[name]
            self.decide(ev, rule, "unlisted", at, line, {}, before, tier, unlisted=[name])
        else:  # a grace deadline
            rule, ev = payload
            line = ev["line"]
            remedied = any(e["type"] in rule.grace.unless and e is not ev
                           and (e["key"], e["line"]) > (ev["key"], ev["line"]) and e["key"] <= key
                           for e in self.seen_events)
            if remedied:
                before, tier = self.snapshot()
                self.decide(ev, rule.name, "remedied", at, line, {}, before, tier)
                outcome = "remedied"
            else:
                outcome = self.effects(rule, ev, at, line, "applied")
            self.run.line_ranks[line].append(outcome)
            self.run.open_deferrals[line] -= 1
        self.triggers(ev, at, line)

    def run_until(self, key: datetime, phase: int) -> None:
        while True:
            due = [x for x in self.agenda if (x[0], x[1]) <= (key, phase)]
            if not due:
                return
            item = min(due, key=lambda x: (x[0], x[1], x[2]))
            self.agenda.remove(item)
            self.work(item)


# ------------------------------------------------------------------ the run


class Reference:
    def __init__(self, rulebook: model.Rulebook):
        self.rulebook = rulebook
        self.tz = zone(rulebook.timezone)
        self.line_ranks: dict[int, list[str]] = {}
        self.open_deferrals: dict[int, int] = {}

    def as_of(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return (localize(value, self.tz) if value.tzinfo is None else value).astimezone(self.tz)
        if isinstance(value, date):
            return _start_of(value, self.tz)
        return parse_datetime(str(value), self.tz).astimezone(self.tz)


def reference_run(rulebook: model.Rulebook, lines: list, subjects: Any = (), as_of: Any = None):
    """(result document, audit). Every subject named by a valid event appears, `later`
    lines included (LANGUAGE.md §11); a skip at a grace deadline is dated at the deadline."""
    ref = Reference(rulebook)
    tz = ref.tz
    as_of_at = ref.as_of(as_of)
    counts = {o: 0 for o in ("applied", "skipped", "deferred", "remedied", "unmatched", "later", "duplicate",
                             "invalid")}
    passive: list[dict] = []
    valid: list[dict] = []
    firsts: dict[tuple[str, str], dict] = {}
    named: list[str] = []
    number = 0
    total = 0
    for raw in lines:
        number += 1
        text = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")
        if not text.strip():
            continue
        total += 1
        ev = read_line(text.strip(), tz)
        ev["line"] = number
        if not ev["ok"]:
            counts["invalid"] += 1
            passive.append({"line": number, "outcome": "invalid"})
            continue
        if as_of_at is not None and ev["key"] > as_of_at.astimezone(UTC):
            counts["later"] += 1
            passive.append({"line": number, "outcome": "later", "event": ev["id"], "subject": ev["subject"]})
            named.append(ev["subject"])
            continue
        named.append(ev["subject"])
        first = firsts.get((ev["subject"], ev["id"]))
        if first is None:
            firsts[(ev["subject"], ev["id"])] = ev
            valid.append(ev)
        elif same_json(first["fields"], ev["fields"]):
            counts["duplicate"] += 1
            passive.append({"line": number, "outcome": "duplicate", "event": ev["id"], "subject": ev["subject"]})
        else:
            counts["invalid"] += 1
            passive.append({"line": number, "outcome": "invalid", "event": ev["id"], "subject": ev["subject"]})
    if as_of_at is None and valid:
        as_of_at = max(valid, key=lambda e: e["key"])["at"]
    fields = {}
    for s in subjects or ():
        sid = str(s["id"])
        fields.setdefault(sid, dict(s))
    ids = sorted(set(named) | set(fields))
    docs = []
    audit: dict[str, list[dict]] = {}
    tiers: dict[str, int] = {}
    for sid in ids:
        fold = Fold(ref, sid, fields.get(sid, {}))
        mine = sorted((e for e in valid if e["subject"] == sid), key=lambda e: (e["key"], e["line"]))
        for ev in mine:
            fold.run_until(ev["key"], 0)
            fold.event(ev)
        if as_of_at is not None:
            fold.run_until(as_of_at.astimezone(UTC), 9)
            fold.now = as_of_at
        audit[sid] = fold.decisions
        tier = fold.tier()
        if tier is not None:
            tiers[tier] = tiers.get(tier, 0) + 1
        labels = []
        for table in (rulebook.sanctions, rulebook.privileges):
            kind = "sanctions" if table is rulebook.sanctions else "privileges"
            out: list[str] = []
            sources = ([tier] if tier is not None else []) + [x.name for x in rulebook.lists if x.name in fold.lists]
            for source in sources:
                ld = rulebook.list_def(source)
                own = list(getattr(ld, kind)) if ld is not None else []
                for label in own + [lab for ls in table if ls.target == source for lab in ls.labels]:
                    if label not in out:
                        out.append(label)
            labels.append(out)
        docs.append({"subject": sid, "ledgers": dict(fold.balance), "tier": tier, "fines": fold.fines,
                     "lists": [x.name for x in rulebook.lists if x.name in fold.lists],
                     "sanctions": labels[0], "privileges": labels[1]})
    for line, ranks in ref.line_ranks.items():
        best = max((RANKS.index(r) for r in ranks), default=0)
        if ref.open_deferrals.get(line, 0) > 0:
            best = max(best, RANKS.index("deferred"))
        counts[RANKS[best]] += 1
    summary = {"lines": total, **counts,
               "tiers": {t.name: tiers[t.name] for t in rulebook.tiers if t.name in tiers}}
    document = {"rulebook": rulebook.name, "as_of": None if as_of_at is None else as_of_at.isoformat(),
                "subjects": docs, "summary": summary}
    return document, {"subjects": audit, "passive": passive}
