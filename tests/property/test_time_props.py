"""Properties of time in rulebooks (issue 4, item 10), over random event logs.

* Resuming at ANY instant t — a run over the events at or before t with ``as_of=t``
  and a saved state, then a resumed run over the later events — gives the result
  document of one run over all the events byte for byte, and the two audits,
  concatenated, are that run's audit (LANGUAGE.md §12 "Continuing a run").
* A trigger fires at most once per change (one pass per change), only when its
  condition holds, and between two firings its condition was false (false→true
  edges; §7, §12 "Trigger passes", "Triggers").
* A temporary change that meets no clamp or cap leaves, after its revert, the
  subject where it would be without it (§5 "for DURATION").
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from creditdsl import pipeline
from creditdsl.interpreter import run
from creditdsl.results import AuditCollector, result_json

START = datetime(2020, 1, 1)
SPAN = 3 * 366 * 24 * 60  # minutes: the logs cover 2020-2022

RESUME_BOOK = pipeline.load_text("""\
rulebook: Resume properties
timezone: Europe/Berlin
currency: yuan
ledgers:
  credit: 1000
  points:
    start: 0
    expire: 2 years
  licence:
    start: 12
    floor: 0
    reset: yearly from subject.issued
  monthly:
    start: 0
    reset: monthly
lists:
  suspended:
    for: 1 year
    tier: B
  watch:
    for: 3 months
tiers:
  A+: credit > 1000
  A: credit >= 1000
  B: credit >= 990
  C: otherwise
rules:
  litter:
    on: litter
    credit: -1
    grace: 2 days unless litter_cleared
  speeding:
    on: speeding
    points: +3
    licence: -4
    monthly: +1
  donation:
    on: donation
    credit: +floor(event.amount / 100)
    cap: 20 per year
  volunteer:
    on: volunteer
    where: count(volunteer within 30 days) <= 2
    credit: +5 for 30 days
    cap: 10 within 60 days
    limit: 3 within 90 days
  petition:
    on: petition
    tier: C for 6 months
    list: watch
  repaid:
    on: repaid
    unlist: suspended
  amnesty:
    on: amnesty
    points: reset
triggers:
  suspension:
    when: points >= 6
    list: suspended
    points: reset
  exhausted:
    when: licence <= 0
    credit: -5
""")
SUBJECTS = [{"id": "s1", "issued": "2012-02-29"}, {"id": "s2", "issued": "2019-07-15T10:00:00"}, {"id": "s3"}]
TYPES = ["litter", "litter_cleared", "speeding", "donation", "volunteer", "petition", "repaid", "amnesty", "noise"]

minute = hs.one_of(
    hs.integers(0, SPAN),  # any minute
    hs.integers(0, SPAN // 1440).map(lambda d: d * 1440),  # midnights: many ties with timed work
)
event_spec = hs.tuples(
    hs.sampled_from(["s1", "s2", "s3", "s4"]), hs.sampled_from(TYPES), minute,
    hs.sampled_from([100, 1500, 3000]), hs.booleans(),
)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def to_lines(specs) -> list[str]:
    """Valid JSON lines sorted by time (ties in generation order); some followed by a duplicate."""
    out = []
    for i, (subject, typ, minutes, amount, dup) in enumerate(sorted(specs, key=lambda s: s[2])):
        d = {"id": f"e{i}", "subject": subject, "type": typ, "at": (START + timedelta(minutes=minutes)).isoformat()}
        if typ == "donation":
            d["amount"] = amount
        out.append(json.dumps(d))
        if dup and i % 3 == 0:
            out.append(json.dumps(d))
    return out


def run_book(book, lines, subjects=None, **kw):
    audit = AuditCollector()
    result = run(book, lines, subjects=subjects, audit=audit, **kw)
    return result, audit.lines([x.name for x in book.ledgers]), audit.decisions


@SETTINGS
@given(hs.lists(event_spec, max_size=30), minute, hs.sampled_from([None, "2023-06-01", "2022-06-01"]))
def test_resuming_at_any_instant_equals_one_run(specs, cut, final):
    lines = to_lines(specs)
    t = START + timedelta(minutes=cut)
    if final == "2022-06-01":
        t = min(t, datetime(2022, 6, 1))
    first = [x for x in lines if datetime.fromisoformat(json.loads(x)["at"]) <= t]
    rest = lines[len(first):]
    if final is None and not rest:
        final = "2023-06-01"  # without later events the resumed run keeps as_of = t
    whole, whole_audit, _ = run_book(RESUME_BOOK, lines, SUBJECTS, as_of=final)
    saved, first_audit, _ = run_book(RESUME_BOOK, first, SUBJECTS, as_of=t.isoformat(), save_state=True)
    state = json.loads(json.dumps(saved.state))  # as written to and read from a file
    resumed, rest_audit, _ = run_book(RESUME_BOOK, rest, SUBJECTS, as_of=final, resume=state)
    assert result_json(resumed) == result_json(whole)
    assert first_audit + rest_audit == whole_audit


TRIGGER_BOOK = pipeline.load_text("""\
rulebook: Trigger properties
timezone: Europe/Berlin
ledgers:
  points: 0
  credit: 1000
lists:
  flagged:
    for: 10 days
rules:
  up:
    on: up
    points: +event.n
  down:
    on: down
    points: -event.n for 5 days
  cost:
    on: cost
    credit: -2
triggers:
  high:
    when: points >= 5
    points: -3
    credit: -1
  low:
    when: points < 2
    points: +2
  broke:
    when: credit < 995
    credit: +3
    list: flagged
  flagged high:
    when: listed("flagged") and points >= 3
    points: +1
""")
CONDITIONS = {
    "high": lambda p, c, flagged: p >= 5,
    "low": lambda p, c, flagged: p < 2,
    "broke": lambda p, c, flagged: c < 995,
    "flagged high": lambda p, c, flagged: flagged and p >= 3,
}
trigger_spec = hs.tuples(
    hs.sampled_from(["s1", "s2"]), hs.sampled_from(["up", "down", "cost", "noise"]),
    hs.integers(0, 60 * 24).map(lambda h: h * 30), hs.integers(1, 6), hs.just(False),
)


@SETTINGS
@given(hs.lists(trigger_spec, max_size=30))
def test_triggers_fire_at_most_once_per_change_and_only_on_edges(specs):
    lines = []
    for i, (subject, typ, minutes, n, _) in enumerate(sorted(specs, key=lambda s: s[2])):
        lines.append(json.dumps({"id": f"e{i}", "subject": subject, "type": typ,
                                 "at": (START + timedelta(minutes=minutes)).isoformat(), "n": n}))
    _, _, decisions = run_book(TRIGGER_BOOK, lines, as_of="2020-03-01")
    for subject in ("s1", "s2"):
        mine = [d for d in decisions if d.subject == subject and d.before is not None]
        flagged = False
        fired_in_pass: set[str] = set()
        # a condition true on the start state (points 0, credit 1000) must first turn false
        false_since_last = {name: not cond(0, 1000, False) for name, cond in CONDITIONS.items()}
        for d in mine:
            if d.outcome != "triggered":
                fired_in_pass = set()  # a new change: a new pass follows it
            else:
                # at most once per pass, only when its condition holds, and only after
                # the condition was seen false since its last firing (or it started false)
                assert d.rule not in fired_in_pass
                fired_in_pass.add(d.rule)
                assert CONDITIONS[d.rule](d.before[0], d.before[1], flagged)
                assert false_since_last[d.rule]
                false_since_last[d.rule] = False
            if "flagged" in d.listed:
                flagged = True
            if "flagged" in d.unlisted:
                flagged = False
            for name, cond in CONDITIONS.items():
                if not cond(d.after[0], d.after[1], flagged):
                    false_since_last[name] = True
        # each pass fires each trigger at most once: so firings are bounded by changes
        changes = sum(1 for d in mine if d.outcome != "triggered")
        assert sum(1 for d in mine if d.outcome == "triggered") <= changes * len(CONDITIONS)


TEMP_BOOK = pipeline.load_text("""\
rulebook: Temporary change properties
timezone: Europe/Berlin
ledgers:
  credit: 1000
  points:
    start: 0
    expire: 1 year
    reset: yearly
lists:
  watch:
    for: 2 months
tiers:
  A: credit >= 1000
  B: credit >= 980
  C: otherwise
rules:
  bonus:
    on: bonus
    credit: +7 for 30 days
  gift:
    on: gift
    credit: +floor(event.amount / 100)
  slip:
    on: slip
    credit: -3
    points: +2
  short slip:
    on: short_slip
    credit: -4 for 10 days
  petition:
    on: petition
    tier: B for 20 days
    list: watch
triggers:
  watch points:
    when: points >= 4
    list: watch
""")
temp_spec = hs.tuples(
    hs.sampled_from(["s1", "s2"]), hs.sampled_from(["gift", "slip", "short_slip", "petition", "noise"]),
    hs.integers(0, 400 * 24).map(lambda h: h * 60), hs.sampled_from([100, 250, 1000]), hs.just(False),
)


@SETTINGS
@given(hs.lists(temp_spec, max_size=25), hs.integers(0, 400 * 24 * 60), hs.sampled_from(["s1", "s2"]),
       hs.integers(0, 200 * 24 * 60))
def test_a_temporary_change_leaves_no_trace_after_its_revert(specs, at, subject, after):
    def lines(with_bonus: bool) -> list[str]:
        items = [(m, {"subject": s, "type": t, "amount": a}) for s, t, m, a, _ in specs]
        if with_bonus:
            items.append((at, {"subject": subject, "type": "bonus"}))
        out = []
        for i, (m, d) in enumerate(sorted(items, key=lambda x: x[0])):
            out.append(json.dumps({"id": f"e{i}", **d, "at": (START + timedelta(minutes=m)).isoformat()}))
        return out

    # any instant at or after the revert (bonus instant + 30 days)
    as_of = (START + timedelta(minutes=at) + timedelta(days=30) + timedelta(minutes=after)).isoformat()
    with_it, _, decisions = run_book(TEMP_BOOK, lines(True), as_of=as_of)
    without, _, _ = run_book(TEMP_BOOK, lines(False), as_of=as_of)
    bonus = [d for d in decisions if d.rule == "bonus"]
    assert [d.outcome for d in bonus] == ["applied", "reverted"]
    assert bonus[0].changes == (("credit", Decimal(7)),) and bonus[1].changes == (("credit", Decimal(-7)),)
    others = {s.subject: s for s in without.subjects}
    for s in with_it.subjects:
        if s.subject in others:
            assert s == others[s.subject]
        else:  # the bonus was this subject's only event
            assert s.ledger("credit") == 1000 and s.tier == "A"
