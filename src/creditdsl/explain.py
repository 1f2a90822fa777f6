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

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from .schedule import ARESET, DEADLINE, LIST_END, RESET, REVERT, TCAP_END
from . import interpreter
from . import model as m
from .events import Event, Subject, read_subjects
from .explain_model import Deed, Explanation, PathBack, PendingWork, Step, _iso, deed_groups
from .pathback import ExplainError, _agenda_by_token, _ledger_tier, _mine, _paths, _Runner
from .plan import Plan, compile_plan, signed
from .results import AuditCollector, Decision
from .rulebook_analysis import ledger_orientation, tier_bands
from .values import Duration, format_decimal

_UTC = timezone.utc
_TICK = timedelta(microseconds=1)

__all__ = ["explain", "Explanation", "ExplainError", "Step", "PendingWork", "Deed", "PathBack", "deed_groups",
           "ledger_orientation", "tier_bands"]


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


