"""The generated fold (codegen.py) gives the general path's bytes: result and audit.

Every rulebook is run twice, once with its generated functions and once with
``plan.fast = {}`` (the general rule loop only), through the raw-line audit writer
and through decision records; the outputs must be identical.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone
import os
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from creditdsl import interpreter, parallel
from creditdsl.events import InvalidLine, fast_event, parse_event
from creditdsl.pipeline import load_text
from creditdsl.plan import compile_plan
from creditdsl.results import AuditCollector, AuditWriter, result_json
from creditdsl.timeline import scan_sorted
from creditdsl.values import zone

_MIN = datetime.min.replace(tzinfo=timezone.utc)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "property"))
sys.path.insert(0, str(ROOT / "tests" / "reference"))

from test_reference_agreement import load, log, rulebook_text  # noqa: E402
from test_workers import RULEBOOK, _log  # noqa: E402


def _both_paths(rb, lines, as_of=None, subjects=None):
    outs = []
    for fast in (True, False):
        if fast:
            plan = compile_plan(rb)
            assert plan.fast or not plan.by_type
        else:
            os.environ["CREDITDSL_NO_CODEGEN"] = "1"  # no generated tiers either
            try:
                plan = compile_plan(rb)
            finally:
                del os.environ["CREDITDSL_NO_CODEGEN"]
            plan.fast = {}
            assert "tier_index" not in vars(plan)
        buf = io.StringIO()
        r = interpreter.run(plan, lines, as_of=as_of, subjects=subjects, audit=AuditWriter(buf, plan.ledger_names))
        coll = AuditCollector()
        r2 = interpreter.run(plan, lines, as_of=as_of, subjects=subjects, audit=coll)
        outs.append((result_json(r), buf.getvalue(), result_json(r2), coll.lines(plan.ledger_names)))
    return outs


def test_bench_rulebook_both_paths():
    rb = load_text((ROOT / "bench" / "bench.rulebook").read_text())
    sys.path.insert(0, str(ROOT / "bench"))
    from gen import events

    lines = events(3000, 60, 5)
    fast, general = _both_paths(rb, lines)
    assert fast == general
    assert fast[1].count("\n") >= 3000


def test_workers_rulebook_both_paths():
    rb = load_text(RULEBOOK)
    for as_of in (None, "2020-07-01"):
        fast, general = _both_paths(rb, _log(2000, 40, seed=11), as_of=as_of)
        assert fast == general


def test_bench_rulebook_workers_bytes(tmp_path):
    rb = load_text((ROOT / "bench" / "bench.rulebook").read_text())
    sys.path.insert(0, str(ROOT / "bench"))
    from gen import events

    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(events(3000, 60, 6)) + "\n")
    one, many = io.StringIO(), io.StringIO()
    r1 = interpreter.run(rb, str(path), audit=AuditWriter(one, [x.name for x in rb.ledgers]))
    r2 = parallel.run_parallel(rb, str(path), 2, audit_stream=many)
    assert result_json(r1) == result_json(r2) and one.getvalue() == many.getvalue()


@settings(max_examples=60, deadline=None)
@given(rulebook_text(time=True), log(), st.sampled_from([None, "2020-02-15", "2020-06-01"]))
def test_generated_rulebooks_both_paths(text, lines, as_of):
    fast, general = _both_paths(load(text), lines, as_of=as_of, subjects=[{"id": "c", "kind": "company"}])
    assert fast == general


@settings(max_examples=40, deadline=None)
@given(rulebook_text(time=False), log(), st.sampled_from([None, "2020-02-15"]))
def test_generated_rulebooks_without_time_both_paths(text, lines, as_of):
    fast, general = _both_paths(load(text), lines, as_of=as_of)
    assert fast == general


@settings(max_examples=40, deadline=None)
@given(rulebook_text(time=True), log())
def test_a_log_file_folds_as_the_same_lines_in_memory(tmp_path_factory, text, lines):
    """A sorted log file is folded as it is read (interpreter._fold_stream: line tokens, the
    inlined fast path, unknown types, st.now only for count()); lines given in memory go
    through the spool and Runner.event. Same result, same audit bytes."""
    rb = load(text)
    tz = compile_plan(rb).tz
    read = [parse_event(x.encode(), 1, tz) if x.strip() else None for x in lines]
    lines = [x for _, x in sorted(zip(read, lines), key=lambda p: (0, _MIN) if p[0] is None or
                                  isinstance(p[0], InvalidLine) else (1, p[0].key))]
    path = tmp_path_factory.mktemp("stream") / "events.jsonl"
    path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    assert scan_sorted(path, tz)  # the one-pass fold, not the spool
    outs = []
    for source in (str(path), list(lines)):
        buf = io.StringIO()
        plan = compile_plan(rb)
        r = interpreter.run(plan, source, subjects=[{"id": "c", "kind": "company"}],
                            audit=AuditWriter(buf, plan.ledger_names))
        outs.append((result_json(r), buf.getvalue()))
    assert outs[0] == outs[1]


def test_bench_floor_writes_one_audit_line_per_event(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    from floor import floor
    from gen import events

    path = tmp_path / "events.jsonl"
    path.write_text("".join(events(500, 20, 7)) + "\n")  # and a blank line
    assert floor(str(path), str(tmp_path / "audit.jsonl")) == 501
    audit = [json.loads(x) for x in (tmp_path / "audit.jsonl").read_text().splitlines()]
    # a line for each line creditdsl's fast reader vouches for (it reads the others strictly)
    fast = [n for n, x in enumerate(events(500, 20, 7), 1) if fast_event(x.encode(), n, zone("Asia/Shanghai"))]
    assert [x["line"] for x in audit] == fast and 400 < len(fast) < 500


COUNTING = """rulebook: counting
timezone: Asia/Shanghai
ledgers:
  credit:
    start: 1000
rules:
  repeat offence:
    on: littering
    where: count(littering within 10 days) >= 2
    credit: -5
  littering:
    on: littering
    credit: -1
"""


def _file_and_memory(rb, lines, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    plan = compile_plan(rb)
    assert scan_sorted(path, plan.tz)
    outs = []
    for source in (str(path), lines):
        buf = io.StringIO()
        r = interpreter.run(plan, source, audit=AuditWriter(buf, plan.ledger_names))
        outs.append((result_json(r), buf.getvalue()))
    return outs


def _littering(days):
    return [json.dumps({"id": f"e{i}", "subject": "p", "type": t, "at": f"2020-01-{d:02d}T10:00:00+08:00"})
            for i, (d, t) in enumerate(days)]


def test_count_reads_the_instant_of_the_event_in_the_one_pass_fold(tmp_path):
    lines = _littering([(1, "littering"), (3, "littering"), (5, "unheard_of"), (20, "littering"), (22, "littering")])
    stream, memory = _file_and_memory(load_text(COUNTING), lines, tmp_path)
    assert stream == memory and stream[1].count('"repeat offence", "outcome": "applied"') == 2


def test_without_generated_code_the_one_pass_fold_takes_the_general_path(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDITDSL_NO_CODEGEN", "1")
    lines = _littering([(1, "littering"), (2, "unheard_of"), (3, "littering")])
    stream, memory = _file_and_memory(load_text(COUNTING), lines, tmp_path)
    assert stream == memory and stream[1].count('"outcome": "applied"') == 3


def test_a_generated_revert_writes_the_general_paths_line_whatever_its_reason_holds():
    """codegen's revert line adds quotes to the reason when its `why` needs no escapes (the
    text of a duration); a `why` from an edited state file may hold anything."""
    from creditdsl.runner import Runner
    from creditdsl.schedule import REVERT

    rb = load_text((ROOT / "bench" / "bench.rulebook").read_text())
    lines = {}
    for fast in (True, False):
        plan = compile_plan(rb)
        if not fast:
            plan.fast = {}
        for why in ("for 90 days", 'for "90" days ü\\', "expire: 1 year\x7f"):
            buf = io.StringIO()
            writer = AuditWriter(buf, plan.ledger_names)
            runner = Runner(plan, writer)
            st = runner.state("p é")
            since = datetime(2023, 1, 5, 9, 30, tzinfo=plan.tz)
            token = runner.push(datetime(2023, 4, 5, 9, 30, tzinfo=plan.tz), 0, REVERT,
                                (st.id, 0, -10, 5, 7, "e\u00e9\"1", since, why))
            st.pending[token] = 0
            runner.run_agenda((datetime(2024, 1, 1, tzinfo=timezone.utc), 9))
            writer.flush()
            lines[fast, why] = buf.getvalue()
    for why in ("for 90 days", 'for "90" days ü\\', "expire: 1 year\x7f"):
        assert lines[True, why] == lines[False, why]
        assert json.loads(lines[True, why])["reason"].endswith(f"({why})")


def test_unmatched_lines_of_generated_code_are_the_general_paths(tmp_path):
    """Types the rulebook does not name (codegen's UNNAMED fold, taken by the one-pass fold
    of a file) and a remedy type with no rule of its own write `unmatched` lines directly;
    plain lines add quotes, others escape."""
    rb = load_text((ROOT / "bench" / "bench.rulebook").read_text())
    at = '"at": "2023-01-0%dT10:00:00+08:00"'
    lines = [
        '{"id": "u1", "subject": "p1", "type": "login", %s}' % (at % 1),
        '{"id": "u2", "subject": "p1", "type": "\u00fcber\\"typ", %s}' % (at % 2),
        '{"id": "u\\u00e93", "subject": "p\\"2", "type": "login", %s}' % (at % 3),
        '{"id": "u4", "subject": "p2", "type": "litter_cleared", %s}' % (at % 4),
        '{"id": "u5\\\\", "subject": "p2", "type": "litter_cleared", %s}' % (at % 5),
        '{"id": "u6", "subject": "p3", "type": "a{b}c\'d", %s}' % (at % 6),
    ]
    fast, general = _both_paths(rb, lines)
    assert fast == general
    stream, memory = _file_and_memory(rb, lines, tmp_path)
    assert stream == memory == fast[:2]
    reasons = [json.loads(x)["reason"] for x in stream[1].splitlines()]
    assert reasons == ["no rule for event type `login`", 'no rule for event type `\u00fcber"typ`',
                       "no rule for event type `login`", "no rule for event type `litter_cleared`",
                       "no rule for event type `litter_cleared`", "no rule for event type `a{b}c'd`"]


def test_keyed_folds_write_the_merge_hole_instead_of_a_number():
    """A worker's generated folds (Plan.fast_keyed) write `{"seq": %d, ` where a line's number
    goes, for the parent to fill (worker_audit.py), and keep no count; a generated source
    that numbers a line any other way is left as it is (its lines keep their numbers, which
    the worker's writer turns into holes)."""
    from creditdsl.codegen import _keyed_source
    from creditdsl.runner import Runner

    rb = load_text((ROOT / "bench" / "bench.rulebook").read_text())
    raw = b'{"id": "e1", "subject": "p", "type": "speeding", "at": "2023-01-05T10:00:00+08:00"}'
    written = {}
    for keyed in (False, True):
        plan = compile_plan(rb)
        lines: list[str] = []
        sink = type("Sink", (), {"raw": staticmethod(lines.append), "__call__": lambda self, d: None})()
        runner = Runner(plan, sink)
        if keyed:
            runner.fast = plan.fast_keyed
        ev = fast_event(raw, 1, plan.tz)
        runner.state(ev.subject)
        runner.event(ev)
        written[keyed] = (lines, runner.seq)
    assert written[False] == ([written[True][0][0].replace('{"seq": %d, ', '{"seq": 1, ', 1)], 1)
    assert written[True][0][0].startswith('{"seq": %d, "line": 1, ') and written[True][1] == 0
    other = "R.seq = q = R.seq + 1\nF(f'{{\"seq\": {q},\"line\": 1}}')\n"
    assert _keyed_source(other) == other
    usual = "R.seq = q = R.seq + 1\nF(f'{{\"seq\": {q}, \"line\": 1}}')\n"
    assert _keyed_source(usual) == "pass\nF(f'{{\"seq\": %d, \"line\": 1}}')\n"


@settings(max_examples=20, deadline=None)
@given(rulebook_text(time=True), log(), st.sampled_from([None, "2020-02-15"]))
def test_generated_rulebooks_through_workers_give_the_one_worker_bytes(tmp_path_factory, text, lines, as_of):
    """The workers' folds (Plan.fast_keyed, whose lines the parent numbers) give the bytes of
    one worker, for any rulebook the generator makes, on sorted and unsorted logs."""
    rb = load(text)
    path = tmp_path_factory.mktemp("workers") / "events.jsonl"
    path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    subjects = [{"id": "c", "kind": "company"}]
    one, many = io.StringIO(), io.StringIO()
    plan = compile_plan(rb)
    r1 = interpreter.run(plan, str(path), as_of=as_of, subjects=subjects, audit=AuditWriter(one, plan.ledger_names))
    r2 = parallel.run_parallel(rb, str(path), 2, subjects=subjects, as_of=as_of, audit_stream=many)
    assert result_json(r1) == result_json(r2)
    assert one.getvalue() == many.getvalue()


def test_a_sum_rounded_to_the_context_is_not_called_clamped():
    """A change of 28 significant digits added to a balance rounds to the context's 28 digits,
    so the change applied differs from the one asked for; that is no clamp (no bound is
    reached, or there is none), and both paths say so. A real clamp is still noted."""
    text = ("rulebook: rounding\ntimezone: UTC\nledgers:\n  credit:\n    start: -5\n    ceiling: 1010\n"
            "  points:\n    start: -5\n  bounded:\n    start: -5\n    floor: -1000\n"
            "  capped:\n    start: 0\n    floor: -1\n"
            "rules:\n  share:\n    on: littering\n    points: (credit / 6)\n    bounded: (credit / 6)\n"
            "    capped: -3\n")
    lines = ['{"id": "e1", "subject": "a", "type": "littering", "at": "2020-01-01T00:00:00"}']
    fast, general = _both_paths(load_text(text), lines)
    assert fast == general
    assert json.loads(fast[1])["reason"] == "clamped: -1 of -3 to capped"


_REQUIRES = "rulebook: R\nledgers:\n  credit: 10\nrules:\n  r:\n    on: x\n    credit: -1\n    requires: 2 photo or 1 video\n"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["photo", "video", "memo", "ü"]), max_size=4).map(tuple), min_size=1, max_size=12))
def test_a_rules_requirement_reasons_are_kept_and_the_same(seq):
    """CompiledRule.evidence_reason keeps its reasons by evidence: the same text, first or
    again, as counting it afresh."""
    rule = next(r for r in compile_plan(load_text(_REQUIRES)).all_rules if r.requires)
    for evidence in seq + seq:
        assert rule.evidence_reason(evidence) == rule._evidence_reason(evidence)
    assert set(rule.reasons) == set(seq)


def test_a_rule_keeps_the_reasons_of_a_bounded_number_of_evidence_tuples():
    from creditdsl.plan import REASONS_KEPT

    rule = next(r for r in compile_plan(load_text(_REQUIRES)).all_rules if r.requires)
    for n in range(REASONS_KEPT * 3):
        assert rule.evidence_reason(("photo", f"k{n}")) == f"requires 2 photo or 1 video; got 1 k{n}, 1 photo"
    assert len(rule.reasons) == REASONS_KEPT
    assert rule.evidence_reason(["video"]) is None  # a list is not kept, and still counted
    assert rule.evidence_reason(["photo"]) == "requires 2 photo or 1 video; got 1 photo"
