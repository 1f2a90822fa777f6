"""The generated fold (codegen.py) gives the general path's bytes: result and audit.

Every rulebook is run twice, once with its generated functions and once with
``plan.fast = {}`` (the general rule loop only), through the raw-line audit writer
and through decision records; the outputs must be identical.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from creditdsl import interpreter, parallel
from creditdsl.pipeline import load_text
from creditdsl.plan import compile_plan
from creditdsl.results import AuditCollector, AuditWriter, result_json

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
