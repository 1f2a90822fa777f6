"""Time in rulebooks (issue 4): targeted tests of LANGUAGE.md §§2, 4, 5, 7 and §12.

Every expected value here is worked out by hand from LANGUAGE.md (the comments show
the arithmetic). Rulebooks are written as text so the tests read like the handbook.
All rulebooks use Europe/Berlin: +01:00 in winter, +02:00 in summer.

The order of work at one instant (§12 "One instant, one order") is pinned by
``test_same_instant_order_timed_work_then_events_then_deadlines``.
"""

from __future__ import annotations

import json
from decimal import Decimal

from creditdsl import pipeline
from creditdsl.interpreter import run
from creditdsl.results import AuditCollector, result_json


def load(body: str, ledgers: str = "  credit: 1000\n", extra: str = ""):
    text = "rulebook: Time test\ntimezone: Europe/Berlin\ncurrency: yuan\nledgers:\n" + ledgers + extra + body
    return pipeline.load_text(text)


def go(rulebook, events, as_of=None, subjects=None, **kw):
    """Run ``events`` (tuples: subject, type, at[, fields]); ids are e1, e2, ... in order."""
    lines = []
    for i, e in enumerate(events, 1):
        subject, typ, at, *fields = e
        d = {"id": f"e{i}", "subject": subject, "type": typ, "at": at}
        if fields:
            d.update(fields[0])
        lines.append(json.dumps(d))
    audit = AuditCollector()
    result = run(rulebook, lines, subjects=subjects, as_of=as_of, audit=audit, **kw)
    return result, audit.decisions


def bal(result, ledger, subject="p"):
    return result.subject(subject).ledger(ledger)


def timed(decisions, outcome):
    return [d for d in decisions if d.outcome == outcome]


# ------------------------------------------------------------------ resets (§2, §12)

ANNIVERSARY = """\
rules:
  minor:
    on: minor
    licence: -3
"""
ANNIVERSARY_LEDGERS = "  licence:\n    start: 12\n    reset: yearly from subject.issued\n"


def test_anniversary_reset_from_subject_field():
    rb = load(ANNIVERSARY, ANNIVERSARY_LEDGERS)
    subjects = [{"id": "p", "issued": "2015-03-10"}]
    events = [("p", "minor", "2020-01-05"), ("p", "minor", "2020-03-09T23:59")]
    # 12 - 3 - 3 = 6 until the anniversary 2020-03-10T00:00, then back to 12.
    r, _ = go(rb, events, as_of="2020-03-09T23:59:59", subjects=subjects)
    assert bal(r, "licence") == 6
    r, d = go(rb, events + [("p", "minor", "2020-03-10")], as_of="2020-03-10", subjects=subjects)
    # at 2020-03-10T00:00 the reset runs first (12), then the event (9)
    assert bal(r, "licence") == 9
    (reset,) = timed(d, "reset")
    assert reset.at.isoformat() == "2020-03-10T00:00:00+01:00"
    assert (reset.rule, reset.event, reset.line) == (None, None, None)
    assert reset.changes == (("licence", Decimal(6)),)
    assert [x.outcome for x in d] == ["applied", "applied", "reset", "applied"]
    # not at 1 January: the subject has its own cycle
    r, d = go(rb, events[:1], as_of="2021-01-01", subjects=subjects)
    assert bal(r, "licence") == 12 and len(timed(d, "reset")) == 1
    assert timed(d, "reset")[0].at.isoformat() == "2020-03-10T00:00:00+01:00"
    assert r.warnings == ()


def test_anniversary_without_field_falls_back_to_calendar_years_and_warns_once():
    rb = load(ANNIVERSARY, ANNIVERSARY_LEDGERS)
    events = [("q", "minor", "2020-06-01"), ("q", "minor", "2021-05-01"), ("q", "minor", "2021-12-31T23:59")]
    r, d = go(rb, events, as_of="2022-01-01", subjects=[{"id": "q", "kind": "person"}])
    # 12-3 = 9 → reset 2021-01-01 → 12-3-3 = 6 → reset 2022-01-01 → 12
    assert bal(r, "licence", "q") == 12
    assert [x.at.isoformat() for x in timed(d, "reset")] == ["2021-01-01T00:00:00+01:00", "2022-01-01T00:00:00+01:00"]
    assert [w.code for w in r.warnings] == ["W0501"]  # once, although it reset twice
    assert "`q`" in r.warnings[0].message and "issued" in r.warnings[0].message


def test_anniversary_subject_with_field_is_not_warned_about():
    rb = load(ANNIVERSARY, ANNIVERSARY_LEDGERS)
    r, _ = go(rb, [("p", "minor", "2020-06-01"), ("q", "minor", "2020-06-01")],
              subjects=[{"id": "p", "issued": "2001-01-20"}, {"id": "q"}])
    assert [w.code for w in r.warnings] == ["W0501"] and "`q`" in r.warnings[0].message


def test_monthly_calendar_reset():
    rb = load(ANNIVERSARY, "  licence:\n    start: 12\n    reset: monthly\n")
    events = [("p", "minor", "2020-01-31T23:00"), ("p", "minor", "2020-02-10")]
    r, _ = go(rb, events[:1], as_of="2020-01-31T23:59:59")
    assert bal(r, "licence") == 9
    r, d = go(rb, events, as_of="2020-03-01")
    # 9 → reset at 2020-02-01 → 12 - 3 = 9 → reset at 2020-03-01 → 12
    assert bal(r, "licence") == 12
    assert [x.at.isoformat() for x in timed(d, "reset")] == ["2020-02-01T00:00:00+01:00", "2020-03-01T00:00:00+01:00"]
    assert [x.changes for x in timed(d, "reset")] == [(("licence", Decimal(3)),)] * 2


def test_calendar_reset_cancels_pending_reverts():
    rb = load("""\
rules:
  speeding:
    on: speeding
    points: +3 for 6 months
""", "  points:\n    start: 0\n    reset: yearly\n")
    # +3 on 2020-10-01 would revert on 2021-04-01; the 2021-01-01 reset takes the
    # points to 0 and cancels that revert (else the points would end at -3).
    r, d = go(rb, [("p", "speeding", "2020-10-01")], as_of="2021-06-01")
    assert bal(r, "points") == 0
    assert [x.outcome for x in d] == ["applied", "reset"]


def test_ledger_reset_effect_cancels_pending_reverts():
    rb = load("""\
rules:
  speeding:
    on: speeding
    points: +3 for 1 year
  amnesty:
    on: amnesty
    points: reset
""", "  credit: 1000\n  points: 0\n")
    events = [("p", "speeding", "2020-01-01"), ("p", "amnesty", "2020-06-01"), ("p", "speeding", "2020-07-01")]
    # 3 → reset 0 → 3; the first revert (2021-01-01) was cancelled by the reset
    r, d = go(rb, events, as_of="2021-01-01")
    assert bal(r, "points") == 3
    assert timed(d, "reverted") == []
    assert d[1].outcome == "applied" and d[1].changes == (("points", Decimal(-3)),)
    # the second change still reverts, on 2021-07-01
    r, d = go(rb, events, as_of="2021-07-01")
    assert bal(r, "points") == 0
    (rev,) = timed(d, "reverted")
    assert rev.event == "e3" and rev.at.isoformat() == "2021-07-01T00:00:00+02:00"


# ------------------------------------------------------------------ temporary tier caps and list terms (§4, §5)

TIERS = """\
tiers:
  A: credit >= 1000
  B: credit >= 900
  C: otherwise
"""


def test_temporary_tier_cap_holds_for_its_duration():
    rb = load(TIERS + """\
rules:
  petition:
    on: petition
    tier: B for 2 years
  bonus:
    on: bonus
    credit: +5
""")
    events = [("p", "petition", "2020-03-01T10:00")]
    r, _ = go(rb, events, as_of="2022-03-01T09:59:59")
    assert r.subject("p").tier == "B"
    r, d = go(rb, events, as_of="2022-03-01T10:00")  # half-open: [T, T+2 years)
    assert r.subject("p").tier == "A"
    (end,) = timed(d, "reverted")
    assert (end.rule, end.event, end.line) == ("petition", "e1", 1)
    assert (end.tier_before, end.tier_after) == ("B", "A")
    assert end.at.isoformat() == "2022-03-01T10:00:00+01:00"
    # an event at exactly the end already sees the cap gone
    r, d = go(rb, events + [("p", "bonus", "2022-03-01T10:00")])
    assert d[-1].outcome == "applied" and d[-1].tier_before == "A"


def test_overlapping_temporary_caps_and_a_permanent_one():
    rb = load(TIERS + """\
rules:
  petition:
    on: petition
    tier: B for 2 years
  protest:
    on: protest
    tier: C for 1 year
  fraud:
    on: fraud
    tier: B
""")
    events = [("p", "petition", "2020-03-01"), ("p", "protest", "2021-01-01")]
    tier = lambda as_of, ev=events: go(rb, ev, as_of=as_of)[0].subject("p").tier  # noqa: E731
    assert tier("2021-06-01") == "C"
    assert tier("2022-01-01") == "B"  # C ended, B still holds until 2022-03-01
    assert tier("2022-03-01") == "A"
    # a permanent cap is not undone by the end of a temporary one
    assert tier("2022-03-01", events + [("p", "fraud", "2021-02-01")]) == "B"


def test_list_term_ends_and_listing_again_renews_it():
    rb = load("""\
lists:
  suspended:
    for: 1 year
rules:
  suspend:
    on: suspend
    list: suspended
  release:
    on: release
    unlist: suspended
""")
    events = [("p", "suspend", "2020-01-01"), ("p", "suspend", "2020-06-01")]
    lists = lambda as_of, ev=events: go(rb, ev, as_of=as_of)[0].subject("p").lists  # noqa: E731
    assert lists("2021-01-01") == ("suspended",)  # renewed on 2020-06-01: the first term's end is void
    assert lists("2021-05-31T23:59:59") == ("suspended",)
    assert lists("2021-06-01") == ()
    r, d = go(rb, events, as_of="2021-06-01")
    (end,) = timed(d, "unlisted")
    assert (end.rule, end.event, end.unlisted) == ("suspend", "e2", ("suspended",))
    assert end.at.isoformat() == "2021-06-01T00:00:00+02:00"
    assert end.reason == "list term of 1 year ended"
    # unlisted, then listed again: the old term's end does not cut the new term short
    again = [("p", "suspend", "2020-01-01"), ("p", "release", "2020-03-01"), ("p", "suspend", "2020-12-01")]
    assert lists("2021-01-01", again) == ("suspended",)
    assert lists("2021-12-01", again) == ()


# ------------------------------------------------------------------ caps (§5, §12)

def test_cap_cuts_to_what_remains_then_skips():
    rb = load("""\
rules:
  donation:
    on: donation
    credit: +floor(event.amount / 100)
    cap: 20 per year
""")
    events = [("p", "donation", "2020-03-01", {"amount": 1500}), ("p", "donation", "2020-06-01", {"amount": 1000}),
              ("p", "donation", "2020-09-01", {"amount": 2000}), ("p", "donation", "2021-01-10", {"amount": 300})]
    r, d = go(rb, events)
    # +15, +5 (cut from +10), skipped, +3 in the new year = 1023
    assert bal(r, "credit") == 1023
    assert [x.outcome for x in d] == ["applied", "applied", "skipped", "applied"]
    assert d[1].changes == (("credit", Decimal(5)),) and d[1].reason == "capped: +5 of +10"
    assert d[2].reason == "cap 20 per year reached"
    assert (r.summary.applied, r.summary.skipped) == (3, 1)


def test_cap_on_a_penalty_bounds_its_absolute_size():
    rb = load("""\
rules:
  noise:
    on: noise
    credit: -4
    cap: 10 per month
""")
    events = [("p", "noise", f"2020-05-{d:02d}") for d in (1, 2, 3, 4)] + [("p", "noise", "2020-06-01")]
    r, d = go(rb, events)
    # -4, -4, -2 (capped: -2 of -4), skipped; June: -4  → 1000 - 14
    assert bal(r, "credit") == 986
    assert d[2].reason == "capped: -2 of -4"
    assert [x.outcome for x in d] == ["applied", "applied", "applied", "skipped", "applied"]


def test_cap_skips_the_whole_rule_fine_included():
    rb = load("""\
rules:
  dumping:
    on: dumping
    credit: -5
    fine: 100 yuan
    cap: 5 per year
""")
    events = [("p", "dumping", "2020-02-01"), ("p", "dumping", "2020-03-01")]
    r, d = go(rb, events)
    # the first takes the whole cap (and its fine); the second is skipped, fine included
    assert bal(r, "credit") == 995 and r.subject("p").fines == 100
    assert d[1].outcome == "skipped" and d[1].fine is None


def test_cap_counts_what_was_applied_after_clamping_and_reverts_free_no_room():
    rb = load("""\
rules:
  bonus:
    on: bonus
    points: +5 for 10 days
    cap: 12 per year
""", "  points:\n    start: 8\n    ceiling: 10\n")
    events = [("p", "bonus", "2020-01-01"), ("p", "bonus", "2020-01-20"), ("p", "bonus", "2020-02-01"),
              ("p", "bonus", "2020-03-01"), ("p", "bonus", "2020-04-01")]
    r, d = go(rb, events)
    # 01-01: 8+5 clamped to 10 (+2 applied, cap used 2); its revert on 01-11 brings 8 back.
    # Likewise 01-20, 02-01, 03-01 (used 4, 6, 8); 04-01: room 4, the +5 is cut to +4,
    # then clamped to +2 (used 10). Counting the unclamped +5 instead would have
    # exhausted the cap by 03-01.
    assert [x.changes for x in d if x.outcome == "applied"] == [(("points", Decimal(2)),)] * 5
    # Now without the ceiling: +5 each, cap 12 → +5, +5, +2 (capped), then skipped
    # although the earlier changes have reverted (reverts free no room).
    rb = load("""\
rules:
  bonus:
    on: bonus
    points: +5 for 10 days
    cap: 12 per year
""", "  points: 0\n")
    r, d = go(rb, events)
    assert [x.outcome for x in d if x.outcome in ("applied", "skipped")] == [
        "applied", "applied", "applied", "skipped", "skipped"]
    assert bal(r, "points") == 0  # everything applied has reverted by 2020-04-01


def test_cap_within_is_a_rolling_window():
    rb = load("""\
rules:
  volunteer:
    on: volunteer
    credit: +5
    cap: 10 within 30 days
""")
    events = [("p", "volunteer", "2020-01-01T00:00"), ("p", "volunteer", "2020-01-10"),
              ("p", "volunteer", "2020-01-30T23:59"), ("p", "volunteer", "2020-01-31T00:00"),
              ("p", "volunteer", "2020-02-05")]
    r, d = go(rb, events)
    # window at t is (t-30 days, t]:
    # 01-01 +5; 01-10 +5; 01-30T23:59 window holds 10 → skipped;
    # 01-31T00:00 window (01-01T00:00, 01-31T00:00] no longer holds the first → +5;
    # 02-05 window (01-06, 02-05] holds 01-10 and 01-31 → skipped.
    assert [x.outcome for x in d] == ["applied", "applied", "skipped", "applied", "skipped"]
    assert d[2].reason == "cap 10 within 30 days reached"
    assert bal(r, "credit") == 1015


# ------------------------------------------------------------------ grace (§5, §12)

GRACE = """\
tiers:
  A: credit >= 1000
  B: otherwise
rules:
  litter:
    on: litter
    credit: -1
    grace: 2 days unless litter_cleared
"""


def test_remedy_exactly_at_the_deadline_counts():
    rb = load(GRACE)
    r, d = go(rb, [("p", "litter", "2020-05-01T08:00"), ("p", "litter_cleared", "2020-05-03T08:00")])
    assert bal(r, "credit") == 1000 and r.summary.remedied == 1
    assert [x.outcome for x in d] == ["deferred", "unmatched", "remedied"]
    assert d[2].at.isoformat() == "2020-05-03T08:00:00+02:00" and d[2].line == 1
    r, d = go(rb, [("p", "litter", "2020-05-01T08:00"), ("p", "litter_cleared", "2020-05-03T08:00:01")])
    assert bal(r, "credit") == 999 and r.subject("p").tier == "B" and r.summary.applied == 1
    assert [x.outcome for x in d] == ["deferred", "applied", "unmatched"]


def test_remedy_must_come_after_the_deferred_event():
    rb = load(GRACE)
    # the same instant, but earlier in the input: it came before the litter event
    r, _ = go(rb, [("p", "litter_cleared", "2020-05-01T08:00"), ("p", "litter", "2020-05-01T08:00")],
              as_of="2020-05-04")
    assert bal(r, "credit") == 999
    # the same instant, later in the input: it counts
    r, _ = go(rb, [("p", "litter", "2020-05-01T08:00"), ("p", "litter_cleared", "2020-05-01T08:00")],
              as_of="2020-05-04")
    assert bal(r, "credit") == 1000


def test_deadline_at_exactly_as_of_is_decided():
    rb = load(GRACE)
    events = [("p", "litter", "2020-05-01T08:00")]
    r, _ = go(rb, events, as_of="2020-05-03T07:59:59")
    assert bal(r, "credit") == 1000 and r.summary.deferred == 1
    r, _ = go(rb, events, as_of="2020-05-03T08:00")
    assert bal(r, "credit") == 999 and r.summary.deferred == 0 and r.summary.applied == 1


# ------------------------------------------------------------------ expiry and calendar arithmetic (§2, §12)

EXPIRY = """\
rules:
  speeding:
    on: speeding
    points: +3
  probe:
    on: probe
    where: points == 0
    credit: +1
"""


def test_expiry_exactly_at_as_of():
    rb = load(EXPIRY, "  credit: 1000\n  points:\n    start: 0\n    expire: 2 years\n")
    events = [("p", "speeding", "2020-03-01T10:00")]
    r, _ = go(rb, events, as_of="2022-03-01T09:59:59")
    assert bal(r, "points") == 3
    r, d = go(rb, events, as_of="2022-03-01T10:00")
    assert bal(r, "points") == 0
    (rev,) = timed(d, "reverted")
    assert rev.reason == "reverts +3 applied at 2020-03-01T10:00:00+01:00 (expire: 2 years)"
    assert (rev.event, rev.line, rev.rule) == ("e1", 1, "speeding")
    # an event at the expiry instant sees the points gone
    r, _ = go(rb, events + [("p", "probe", "2022-03-01T10:00")])
    assert bal(r, "credit") == 1001


def test_29_february_plus_two_years_is_28_february():
    rb = load(EXPIRY, "  credit: 1000\n  points:\n    start: 0\n    expire: 2 years\n")
    events = [("p", "speeding", "2020-02-29T12:00")]
    assert bal(go(rb, events, as_of="2022-02-28T11:59:59")[0], "points") == 3
    assert bal(go(rb, events, as_of="2022-02-28T12:00")[0], "points") == 0


def test_month_arithmetic_clamps_to_month_end():
    rb = load("""\
rules:
  bonus:
    on: bonus
    credit: +5 for 1 month
""")
    events = [("p", "bonus", "2020-01-31T09:00")]  # + 1 month = 2020-02-29T09:00
    assert bal(go(rb, events, as_of="2020-02-29T08:59")[0], "credit") == 1005
    r, d = go(rb, events, as_of="2020-02-29T09:00")
    assert bal(r, "credit") == 1000 and timed(d, "reverted")[0].at.isoformat() == "2020-02-29T09:00:00+01:00"


def test_days_keep_local_time_across_daylight_saving():
    rb = load("""\
rules:
  bonus:
    on: bonus
    credit: +5 for 2 days
""")
    # Berlin moves to summer time on 2020-03-29: 2 days after 03-28T12:00+01:00 is 03-30T12:00+02:00
    r, d = go(rb, [("p", "bonus", "2020-03-28T12:00")], as_of="2020-03-30T12:00")
    assert bal(r, "credit") == 1000
    assert timed(d, "reverted")[0].at.isoformat() == "2020-03-30T12:00:00+02:00"
    assert bal(go(rb, [("p", "bonus", "2020-03-28T12:00")], as_of="2020-03-30T11:59")[0], "credit") == 1005


def test_revert_is_clamped_and_undoes_only_what_was_applied():
    rb = load("""\
rules:
  bonus:
    on: bonus
    points: +5 for 10 days
  fine:
    on: penalty
    points: -8
""", "  points:\n    start: 7\n    floor: 0\n    ceiling: 10\n")
    # 7 + 5 clamped to 10 (+3 applied); -8 → 2; revert of +3 → -1, clamped to 0
    r, d = go(rb, [("p", "bonus", "2020-01-01"), ("p", "penalty", "2020-01-05")], as_of="2020-01-11")
    assert bal(r, "points") == 0
    (rev,) = timed(d, "reverted")
    assert rev.changes == (("points", Decimal(-2)),)
    assert rev.reason == "reverts +3 applied at 2020-01-01T00:00:00+01:00 (for 10 days)"


# ------------------------------------------------------------------ one instant, one order (§12)

ORDER = """\
tiers:
  A: credit >= 1000
  B: credit >= 900
  C: otherwise
lists:
  watch:
    for: 1 year
rules:
  capped:
    on: capped
    tier: C for 2 years
  bonus:
    on: bonus
    credit: +5 for 1 year
  watched:
    on: watched
    list: watch
  speeding:
    on: speeding
    points: +2
  short:
    on: short
    credit: +1 for 1 day
  litter:
    on: litter
    credit: -1
    grace: 2 days unless litter_cleared
  b:
    on: b
    credit: +10
  a:
    on: a
    credit: +20
"""


def test_same_instant_order_timed_work_then_events_then_deadlines():
    """§12 "One instant, one order", pinned at T = 2021-01-01T00:00 (Berlin).

    Work due at T, by when it was scheduled: the tier cap's end (scheduled 2019-01-01),
    the yearly reset of points (scheduled by the 2020-01-01 reset), the revert of
    `bonus` and the end of `watch`'s term (both 2020-01-01, in input order), the revert
    of `short` (2020-12-31). Then the events at T in input order (`b` before `a`), then
    the grace deadline of `litter` (scheduled 2020-12-30, before `short`'s revert, yet
    decided last)."""
    rb = load(ORDER, "  credit: 1000\n  points:\n    start: 0\n    reset: yearly\n")
    events = [
        ("p", "capped", "2019-01-01"),
        ("p", "bonus", "2020-01-01"),
        ("p", "watched", "2020-01-01"),
        ("p", "speeding", "2020-06-01"),
        ("p", "litter", "2020-12-30"),
        ("p", "short", "2020-12-31"),
        ("p", "b", "2021-01-01"),
        ("p", "a", "2021-01-01"),
    ]
    r, d = go(rb, events)
    at_t = [x for x in d if x.at.isoformat() == "2021-01-01T00:00:00+01:00"]
    assert [(x.outcome, x.rule) for x in at_t] == [
        ("reverted", "capped"),
        ("reset", None),
        ("reverted", "bonus"),
        ("unlisted", "watched"),
        ("reverted", "short"),
        ("applied", "b"),
        ("applied", "a"),
        ("applied", "litter"),
    ]
    # credit 1000 +5 +1 = 1006 before T; -5, -1 → 1000; +10, +20 → 1030; -1 → 1029
    assert [(x.before[0], x.after[0]) for x in at_t] == [
        (1006, 1006), (1006, 1006), (1006, 1001), (1001, 1001), (1001, 1000),
        (1000, 1010), (1010, 1030), (1030, 1029)]
    assert at_t[1].changes == (("points", Decimal(-2)),)
    assert at_t[0].tier_before == "C" and at_t[0].tier_after == "A"
    assert bal(r, "credit") == 1029 and bal(r, "points") == 0 and r.subject("p").lists == ()


# ------------------------------------------------------------------ triggers (§7, §12)

def _trigger_book(triggers: str, rules: str = "", ledgers: str = "  credit: 1000\n  points: 0\n"):
    return load("""\
lists:
  flagged:
rules:
  noise:
    on: noise
    credit: -1
  gift:
    on: gift
    credit: +10
  speeding:
    on: speeding
    points: +6
""" + rules + "triggers:\n" + triggers, ledgers)


def test_trigger_sees_effects_of_earlier_triggers_in_the_same_pass():
    rb = _trigger_book("""\
  first:
    when: credit < 1000
    points: +5
  second:
    when: points >= 5
    list: flagged
""")
    r, d = go(rb, [("p", "noise", "2020-01-01")])
    assert [(x.outcome, x.rule, x.event) for x in d] == [
        ("applied", "noise", "e1"), ("triggered", "first", "e1"), ("triggered", "second", "e1")]
    assert r.subject("p").lists == ("flagged",)


def test_trigger_effects_start_no_new_pass():
    rb = _trigger_book("""\
  second:
    when: points >= 5
    list: flagged
  first:
    when: credit < 1000
    points: +5
""")
    # `second` was checked before `first` fired; `first`'s effects start no new pass
    r, d = go(rb, [("p", "noise", "2020-01-01")])
    assert [(x.outcome, x.rule) for x in d] == [("applied", "noise"), ("triggered", "first")]
    assert r.subject("p").lists == ()
    # the next change (any event) runs a pass that sees it
    r, d = go(rb, [("p", "noise", "2020-01-01"), ("p", "other", "2020-01-02")])
    assert [(x.outcome, x.rule) for x in d][-1] == ("triggered", "second")
    assert r.subject("p").lists == ("flagged",)


def test_trigger_fires_once_per_change_even_if_its_effects_keep_it_true():
    rb = _trigger_book("""\
  ping:
    when: points >= 6
    points: +1
  pong:
    when: points < 6
    points: +6
""", rules="  calm:\n    on: calm\n    points: -100\n")
    # speeding: 6 → ping fires (7), pong false. calm: 7-100 = -93 → pong fires (-87),
    # ping's condition is false then. A second speeding: -81 → nothing changes edge.
    r, d = go(rb, [("p", "speeding", "2020-01-01"), ("p", "calm", "2020-01-02"), ("p", "speeding", "2020-01-03")])
    assert [(x.outcome, x.rule) for x in d] == [
        ("applied", "speeding"), ("triggered", "ping"), ("applied", "calm"), ("triggered", "pong"),
        ("applied", "speeding")]
    assert bal(r, "points") == -81


def test_trigger_memory_is_re_read_after_its_own_effects():
    rb = _trigger_book("""\
  totting up:
    when: points >= 6
    list: flagged
    points: reset
""")
    # each +6 fires it: after firing, the condition is false again (points 0)
    r, d = go(rb, [("p", "speeding", "2020-01-01"), ("p", "speeding", "2020-02-01")])
    assert [(x.outcome, x.rule) for x in d] == [
        ("applied", "speeding"), ("triggered", "totting up"), ("applied", "speeding"), ("triggered", "totting up")]
    assert bal(r, "points") == 0


def test_condition_true_at_start_fires_only_after_being_false():
    rb = _trigger_book("""\
  good standing:
    when: credit >= 1000
    list: flagged
""")
    r, d = go(rb, [("p", "gift", "2020-01-01"), ("p", "noise", "2020-01-02"), ("p", "gift", "2020-01-03")])
    # 1010 (still true: no edge), 1009, 1019 (still true)... never false → never fires
    assert timed(d, "triggered") == []
    r, d = go(rb, [("p", "noise", "2020-01-01"), ("p", "gift", "2020-01-02")])
    # 999 (false), 1009 (true): fires at the gift
    assert [(x.outcome, x.event) for x in timed(d, "triggered")] == [("triggered", "e2")]


def test_a_revert_is_a_change_that_can_fire_a_trigger():
    rb = _trigger_book("""\
  restored:
    when: credit >= 1000
    points: +1
""", rules="  slip:\n    on: slip\n    credit: -5 for 10 days\n")
    r, d = go(rb, [("p", "slip", "2020-01-01")], as_of="2020-01-11")
    assert [(x.outcome, x.rule) for x in d] == [("applied", "slip"), ("reverted", "slip"), ("triggered", "restored")]
    assert d[2].at.isoformat() == "2020-01-11T00:00:00+01:00" and d[2].event == "e1"
    assert bal(r, "points") == 1


# ------------------------------------------------------------------ continuing a run (§12)

def test_resume_carries_pending_work_and_counts():
    rb = load(GRACE + "  speeding:\n    on: speeding\n    points: +3 for 1 year\n", "  credit: 1000\n  points: 0\n")
    first = [("p", "litter", "2020-12-31T08:00"), ("p", "speeding", "2020-06-01")]
    r1, d1 = go(rb, first, as_of="2021-01-01", save_state=True)
    assert r1.summary.deferred == 1
    state = json.loads(json.dumps(r1.state))
    assert (state["format"], state["version"]) == ("creditdsl-state", 1)
    # the deadline (2021-01-02T08:00) and the revert (2021-06-01) are carried over
    r2, d2 = go(rb, [("q", "noise", "2021-07-01")], resume=state)
    assert bal(r2, "credit") == 999 and bal(r2, "points") == 0
    assert r2.summary.deferred == 0 and r2.summary.applied == 2 and r2.summary.lines == 3
    assert [x.outcome for x in d2] == ["applied", "reverted", "unmatched"]
    assert d2[0].seq == len(d1) + 1 and d2[-1].line == 3
    whole, dw = go(rb, first + [("q", "noise", "2021-07-01")])
    assert result_json(r2) == result_json(whole)


def test_boundaries_golden_resumed_mid_year_equals_one_run():
    """tests/golden/run/time_boundaries: saved at 2020-06-15 (between two capped
    volunteer events, with a list term, a tier cap and anniversary resets pending),
    resumed to 2021-02-28: the one run's result and audit, byte for byte."""
    from test_run_golden import HERE, _runs, execute

    folder = HERE / "time_boundaries"
    runs = {c["name"]: c for c in _runs(folder)}
    states: dict = {}
    whole = execute(folder, runs["as_of_2021-02-28"], states)
    first = execute(folder, runs["first"], states)
    second = execute(folder, runs["resumed"], states)
    assert second[0] == whole[0]
    assert first[1] + second[1] == whole[1]
    assert (states["first"]["format"], states["first"]["version"]) == ("creditdsl-state", 1)
