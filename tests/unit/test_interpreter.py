import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from rbbuild import change, expr, rongcheng, rule, tiers

from creditdsl import model
from creditdsl.diagnostics import CreditDslError
from creditdsl.interpreter import run
from creditdsl.values import Duration
from creditdsl.results import LINE_OUTCOMES, AuditCollector, result_json


def E(i, subject, typ, at, **fields):
    return json.dumps({"id": f"e{i}", "subject": subject, "type": typ, "at": at, **fields})


def book(*rules, **kw) -> model.Rulebook:
    base = dict(
        name="t", timezone="Europe/Berlin",
        ledgers=(model.Ledger(name="credit", start=Decimal(1000)),
                 model.Ledger(name="points", start=Decimal(0), floor=Decimal(0), ceiling=Decimal(10))),
        tiers=tiers(("A", "credit >= 1000"), ("B", "credit >= 900")),
        rules=rules,
    )
    base.update(kw)
    return model.Rulebook(**base)


def collect(rb, lines, **kw):
    audit = AuditCollector()
    result = run(rb, lines, audit=audit, **kw)
    return result, audit.decisions


def test_rongcheng_from_python_model():
    lines = [E(1, "s1", "littering", "2019-01-07"), E(2, "s5", "failed_to_yield_to_pedestrian", "2019-01-08")]
    result, decisions = collect(rongcheng(), lines)
    s1, s5 = result.subjects
    assert s1.ledger("credit") == 997 and s1.tier == "B" and s1.sanctions == ("mortgage refused",)
    assert s5.fines == 50 and s5.ledger("licence") == 9
    assert [d.outcome for d in decisions] == ["applied", "applied"]


def test_where_false_is_no_decision_and_line_unmatched():
    rb = book(rule("far", "escort", change("credit", "+1"), where="event.distance_km > 1"))
    result, decisions = collect(rb, [E(1, "p", "escort", "2020-01-01", distance_km=1)])
    assert result.summary.unmatched == 1
    assert [d.outcome for d in decisions] == ["unmatched"]


def test_missing_field_is_skipped_with_reason():
    rb = book(rule("donation", "donation", change("credit", "+min(floor(event.amount / 100), 10)")))
    result, decisions = collect(rb, [E(1, "p", "donation", "2020-01-01")])
    assert result.summary.skipped == 1
    assert decisions[0].reason == "missing field event.amount"
    result, _ = collect(rb, [E(1, "p", "donation", "2020-01-01", amount=3000)])
    assert result.subjects[0].ledger("credit") == 1010


def test_except_is_skipped_quoting_condition():
    rb = book(
        rule("down", "downgrade", list="downgraded"),
        rule("blood", "blood_donation", change("credit", "+5"), except_='listed("downgraded")'),
        lists=(model.ListDef(name="downgraded"),),
    )
    result, decisions = collect(rb, [E(1, "p", "downgrade", "2020-01-01"), E(2, "p", "blood_donation", "2020-01-02")])
    assert decisions[-1].outcome == "skipped"
    assert decisions[-1].reason == 'except: listed("downgraded")'
    assert result.summary.applied == 1 and result.summary.skipped == 1


def test_group_takes_first_and_supersedes():
    rb = book(
        rule("heavy", "speeding", change("credit", "-10"), where="event.over > 50", group="speed"),
        rule("light", "speeding", change("credit", "-3"), group="speed"),
    )
    result, decisions = collect(rb, [E(1, "p", "speeding", "2020-01-01", over=60), E(2, "p", "speeding", "2020-01-02", over=10)])
    assert [(d.rule, d.outcome) for d in decisions] == [("heavy", "applied"), ("light", "skipped"), ("light", "applied")]
    assert decisions[1].reason == "superseded by rule `heavy` (group speed)"
    assert result.subjects[0].ledger("credit") == 987


def test_clamp_shows_applied_amount():
    rb = book(rule("pts", "p", change("points", "+6")))
    lines = [E(i, "p", "p", f"2020-01-0{i}") for i in range(1, 4)]
    result, decisions = collect(rb, lines)
    assert [dict(d.changes)["points"] for d in decisions] == [6, 4, 0]
    assert decisions[1].reason == "clamped: +4 of +6 to points"
    assert result.subjects[0].ledger("points") == 10


@pytest.mark.parametrize(
    "limit, days, applied",
    [
        ("2 per week", ["2019-01-07", "2019-01-08", "2019-01-13", "2019-01-14"], 3),  # ISO week: Mon..Sun
        ("1 per month", ["2019-01-31T23:00", "2019-02-01T00:00"], 2),
        ("1 per quarter", ["2019-01-01", "2019-03-31", "2019-04-01"], 2),
        ("1 per year", ["2019-01-01", "2019-12-31T23:59", "2020-01-01"], 2),
        ("1 per day", ["2019-01-01T00:00", "2019-01-01T23:59", "2019-01-02T00:00"], 2),
        ("1 within 7 days", ["2019-01-01", "2019-01-07", "2019-01-08", "2019-01-09"], 2),
    ],
)
def test_limits(limit, days, applied):
    rb = book(rule("r", "x", change("credit", "+1"), limit=limit))
    result, _ = collect(rb, [E(i, "p", "x", d) for i, d in enumerate(days)])
    assert result.summary.applied == applied


def test_count_includes_this_event():
    rb = book(rule("repeat", "litter", change("credit", "-10"), where='count("litter", "30 days") >= 2'))
    lines = [E(1, "p", "litter", "2020-01-01"), E(2, "p", "litter", "2020-01-20"), E(3, "p", "litter", "2020-03-01")]
    result, _ = collect(rb, lines)
    assert result.subjects[0].ledger("credit") == 990


def test_tier_caps_and_no_tier():
    rb = book(rule("cap", "petition", tier_cap="B"), rule("crash", "crash", change("credit", "-500")))
    result, _ = collect(rb, [E(1, "p", "petition", "2020-01-01"), E(2, "q", "crash", "2020-01-01")])
    p, q = result.subjects
    assert p.tier == "B" and p.ledger("credit") == 1000
    assert q.tier is None
    assert result.summary.tiers == {"B": 1}


def test_unsorted_input_is_processed_in_time_order():
    rb = book(rule("r", "x", change("credit", "+1"), limit="1 per month"))
    lines = [E(1, "p", "x", "2020-01-20"), E(2, "p", "x", "2020-01-10")]
    _, decisions = collect(rb, lines)
    assert [(d.event, d.outcome) for d in decisions] == [("e2", "applied"), ("e1", "skipped")]


def test_same_id_other_content_is_invalid():
    lines = [E(1, "p", "littering", "2019-01-07"), E(1, "p", "littering", "2019-01-08"), E(1, "q", "littering", "2019-01-08")]
    result, _ = collect(rongcheng(), lines)
    assert result.summary.invalid == 1 and result.summary.applied == 2
    assert result.invalid[0].code == "E0405"


def test_no_events_as_of_is_null_and_subjects_appear():
    result, _ = collect(rongcheng(), [], subjects=[{"id": "z", "kind": "person"}])
    assert result.as_of is None
    assert result.subjects[0].subject == "z" and result.subjects[0].tier == "A"


def test_bad_as_of_is_a_usage_error():
    with pytest.raises(CreditDslError) as info:
        run(rongcheng(), [], as_of="yesterday")
    assert info.value.diagnostics[0].code == "E0503"


# ------------------------------------------------------------------ properties

TYPES = ["littering", "failed_to_yield_to_pedestrian", "helped_read_water_meter", "good_deed",
         "missed_loan_payment", "debt_repaid", "donation", "unknown"]


def prop_book():
    rb = rongcheng()
    extra = (
        rule("donation", "donation", change("credit", "+min(floor(event.amount / 100), 10)"), group="d"),
        rule("donation fallback", "donation", change("credit", "+1"), group="d"),
        rule("yield clamp", "failed_to_yield_to_pedestrian", change("licence", "-1"), where="licence > 0"),
    )
    ledgers = (rb.ledgers[0], model.Ledger(name="licence", start=Decimal(12), floor=Decimal(0)))
    return rb.model_copy(update={"rules": rb.rules + extra, "ledgers": ledgers})


PROP_BOOK = prop_book()

event_st = hs.tuples(
    hs.sampled_from(["s1", "s2", "s3"]),
    hs.sampled_from(TYPES),
    hs.integers(1, 60),  # day offset
    hs.integers(0, 23),
    hs.lists(hs.sampled_from(["photo", "video"]), max_size=3),
    hs.one_of(hs.none(), hs.integers(0, 5000)),
)


def to_lines(specs):
    out = []
    for i, (subject, typ, day, hour, evidence, amount) in enumerate(specs):
        fields = {"evidence": evidence}
        if amount is not None:
            fields["amount"] = amount
        at = (datetime(2019, 1, 1, hour) + timedelta(days=day - 1)).isoformat()
        out.append(E(i, subject, typ, at, **fields))
    return out


def full_run(lines, as_of="2019-03-31"):
    audit = AuditCollector()
    result = run(PROP_BOOK, lines, as_of=as_of, audit=audit)
    return result, audit


@settings(max_examples=50, deadline=None)
@given(hs.lists(event_st, max_size=25), hs.lists(hs.sampled_from(["", "{", "[]", '{"id": 1}']), max_size=3))
def test_every_line_has_one_outcome_and_counts_add_up(specs, junk):
    lines = to_lines(specs) + junk
    result, audit = full_run(lines, as_of="2019-02-15")
    s = result.summary
    assert s.lines == sum(1 for x in lines if x.strip())
    assert sum(getattr(s, o) for o in LINE_OUTCOMES) == s.lines
    assert sum(s.tiers.values()) <= len(result.subjects)


@settings(max_examples=50, deadline=None)
@given(hs.lists(event_st, max_size=25))
def test_audit_sums_to_final_balances(specs):
    result, audit = full_run(to_lines(specs))
    names = [x.name for x in PROP_BOOK.ledgers]
    for subj in result.subjects:
        for i, name in enumerate(names):
            total = PROP_BOOK.ledgers[i].start
            for d in audit.decisions:
                if d.subject == subj.subject and d.before is not None:
                    total += d.after[i] - d.before[i]
            assert total == subj.ledger(name)


@settings(max_examples=30, deadline=None)
@given(hs.lists(event_st, max_size=25))
def test_deterministic(specs):
    lines = to_lines(specs)
    a, audit_a = full_run(lines)
    b, audit_b = full_run(lines)
    names = [x.name for x in PROP_BOOK.ledgers]
    assert result_json(a) == result_json(b)
    assert audit_a.lines(names) == audit_b.lines(names)


@settings(max_examples=50, deadline=None)
@given(hs.lists(event_st, max_size=25), hs.sampled_from(["s1", "s2", "s3"]))
def test_dropping_a_subject_leaves_others_unchanged(specs, dropped):
    lines = to_lines(specs)
    kept = [x for x, spec in zip(lines, specs) if spec[0] != dropped]
    full, _ = full_run(lines)
    part, _ = full_run(kept)
    assert [s for s in full.subjects if s.subject != dropped] == [s for s in part.subjects]


@settings(max_examples=50, deadline=None)
@given(hs.lists(event_st, min_size=1, max_size=20), hs.data())
def test_reappending_a_valid_line_adds_one_duplicate(specs, data):
    lines = to_lines(specs)
    again = data.draw(hs.sampled_from(lines))
    a, _ = full_run(lines)
    b, _ = full_run(lines + [again])
    assert b.summary.duplicate == a.summary.duplicate + 1
    assert b.subjects == a.subjects
    for o in LINE_OUTCOMES:
        if o != "duplicate":
            assert getattr(a.summary, o) == getattr(b.summary, o)


def test_the_garbage_collector_is_paused_while_results_are_built_and_restored_after():
    """collector.paused_gc: the results phase builds many objects and no cycles; the collector's
    state before it comes back after it, also when the phase raises."""
    import gc

    from creditdsl.collector import paused_gc

    seen = []
    with paused_gc():
        seen.append(gc.isenabled())
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(KeyError):
        with paused_gc():
            raise KeyError("x")
    assert gc.isenabled()


def test_the_collectors_full_passes_wait_while_a_fold_runs_and_come_back_after():
    """collector.folding_gc: the oldest generation's threshold is out of reach inside, the young
    ones are untouched, and all three come back after, also when the fold raises."""
    import gc

    from creditdsl.collector import folding_gc

    before = gc.get_threshold()
    with folding_gc():
        inside = gc.get_threshold()
    assert inside[:2] == before[:2] and inside[2] >= 1 << 30
    assert gc.get_threshold() == before
    with pytest.raises(KeyError):
        with folding_gc():
            raise KeyError("x")
    assert gc.get_threshold() == before


def test_folds_that_overlap_in_threads_put_the_thresholds_back_when_the_last_ends():
    """A first, B second, A ends, B ends: B still folds without the full passes after A
    ended, and the thresholds before A are back at the end (not the raised ones B saw)."""
    import gc
    import threading

    from creditdsl.collector import folding_gc

    before = gc.get_threshold()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = []

    def a():
        with folding_gc():
            a_in.set()
            b_in.wait(10)
        a_out.set()

    def b():
        a_in.wait(10)
        with folding_gc():
            b_in.set()
            a_out.wait(10)
            seen.append(gc.get_threshold()[2])

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert seen and seen[0] >= 1 << 30
    assert gc.get_threshold() == before


def _fold_in_child() -> None:
    from creditdsl.collector import folding_gc

    with folding_gc():
        pass


def test_a_forked_process_folds_while_a_thread_of_its_parent_held_the_lock():
    import multiprocessing

    from creditdsl import collector

    with collector._folds.lock:  # as a thread of the parent might, at the fork
        p = multiprocessing.get_context("fork").Process(target=_fold_in_child)
        p.start()
    p.join(10)
    if p.is_alive():
        p.kill()
        p.join()
    assert p.exitcode == 0


@pytest.mark.parametrize("sorted_file", [True, False])
def test_a_runs_fold_makes_its_decisions_without_the_collectors_full_passes(tmp_path, sorted_file):
    """Both loops of a run (a file sorted by time, read in one pass; lines given in memory,
    through the spool) decide inside folding_gc, and the thresholds are back after."""
    import gc

    from creditdsl.pipeline import load_text

    rb = load_text("rulebook: R\nledgers:\n  credit: 10\nrules:\n  r:\n    on: x\n    credit: -1\n")
    lines = [f'{{"id": "{i}", "subject": "s{i % 3}", "type": "x", "at": "2020-01-0{1 + i}"}}' for i in range(4)]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    seen = []
    before = gc.get_threshold()
    result = run(rb, str(path) if sorted_file else lines, audit=lambda d: seen.append(gc.get_threshold()[2]))
    assert len(seen) == 4 and all(t >= 1 << 30 for t in seen)
    assert gc.get_threshold() == before and result.subjects[0].ledgers == (("credit", 8),)


def test_a_runs_results_are_built_with_the_collector_paused(monkeypatch):
    import gc

    from creditdsl import runner as runner_module

    states = []
    real = runner_module.SubjectResult
    monkeypatch.setattr(runner_module, "SubjectResult", lambda *a: states.append(gc.isenabled()) or real(*a))
    from creditdsl.pipeline import load_text

    rb = load_text("rulebook: R\nledgers:\n  credit: 10\nrules:\n  r:\n    on: x\n    credit: -1\n")
    result = run(rb, ['{"id": "1", "subject": "a", "type": "x", "at": "2020-01-01"}'])
    assert states == [False] and gc.isenabled() and result.subjects[0].ledgers == (("credit", 9),)
