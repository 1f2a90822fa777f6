"""Metamorphic properties (issue 8 item 7), with as_of fixed:

* re-ordering the lines of different subjects (each subject's own lines keep their order)
  changes no subject's result, nor the summary;
* splitting a log by subject and merging the per-subject results (subjects sorted, summary
  counts added) gives the same result document;
* running the same inputs twice gives byte-identical result and audit outputs.
"""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from propcommon import dump_event, event_dicts, examples, seed_rulebooks

from creditdsl import pipeline
from creditdsl.diagnostics import CreditDslError
from creditdsl.interpreter import run
from creditdsl.results import AuditCollector, result_json

AS_OF = "2020-03-15T12:00:00"


def _runnable() -> list:
    books = []
    for text in seed_rulebooks():
        try:
            rb = pipeline.load_text(text)
            run(rb, [], as_of=AS_OF)
        except CreditDslError:
            continue
        if rb.rules:
            books.append(rb)
    return books


BOOKS = _runnable()


@st.composite
def book_and_log(draw):
    rb = draw(st.sampled_from(BOOKS))
    types = sorted({t for r in rb.rules for t in r.on} | {t for r in rb.rules if r.grace for t in r.grace.unless})
    types.append("unknown_type")
    ids = st.integers(1, 25).map(lambda i: f"e{i}")  # small id space: duplicates and conflicts occur
    events = draw(st.lists(event_dicts(types, ids=ids, days=90), min_size=1, max_size=25))
    lines = [dump_event(e) for e in events]
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), '{"id": "bad", "subject": "a", "type": "x", "at": "nope"}')
    return rb, lines


def _doc(rb, lines, **kw) -> dict:
    return json.loads(result_json(run(rb, lines, as_of=AS_OF, **kw)), parse_float=Decimal)


def _subject_of(line: str) -> str:
    return str(json.loads(line)["subject"])


@settings(max_examples=examples(40))
@given(book_and_log(), st.randoms(use_true_random=False))
def test_reordering_subjects_changes_nothing(case, rnd):
    rb, lines = case
    by_subject: dict[str, list[str]] = {}
    for line in lines:
        by_subject.setdefault(_subject_of(line), []).append(line)
    # interleave the subjects' queues at random, keeping each queue's order
    queues = [list(q) for q in by_subject.values()]
    shuffled = []
    while queues:
        q = rnd.choice(queues)
        shuffled.append(q.pop(0))
        if not q:
            queues.remove(q)
    a, b = _doc(rb, lines), _doc(rb, shuffled)
    assert a["subjects"] == b["subjects"]
    assert a["summary"] == b["summary"]
    assert a == b


@settings(max_examples=examples(40))
@given(book_and_log())
def test_split_by_subject_and_merge(case):
    rb, lines = case
    whole = _doc(rb, lines)
    by_subject: dict[str, list[str]] = {}
    for line in lines:
        by_subject.setdefault(_subject_of(line), []).append(line)
    subjects = []
    summary: dict = {}
    for sid in sorted(by_subject):
        part = _doc(rb, by_subject[sid])
        subjects.extend(part["subjects"])
        for k, v in part["summary"].items():
            if k == "tiers":
                tiers = summary.setdefault("tiers", {})
                for t, n in v.items():
                    tiers[t] = tiers.get(t, 0) + n
            else:
                summary[k] = summary.get(k, 0) + v
    subjects.sort(key=lambda s: s["subject"])
    assert subjects == whole["subjects"]
    tier_order = [t.name for t in rb.tiers]
    summary["tiers"] = {t: summary.get("tiers", {})[t] for t in tier_order if t in summary.get("tiers", {})}
    assert summary == whole["summary"]
    assert list(whole["summary"]["tiers"]) == [t for t in tier_order if t in whole["summary"]["tiers"]]


@settings(max_examples=examples(30))
@given(book_and_log())
def test_twice_byte_identical(case):
    rb, lines = case
    outs = []
    for _ in range(2):
        audit = AuditCollector()
        result = run(rb, lines, as_of=AS_OF, audit=audit)
        outs.append((result_json(result), "\n".join(audit.lines(x.name for x in rb.ledgers))))
    assert outs[0] == outs[1]


def test_same_command_twice_is_byte_identical(tmp_path):
    """The CLI itself: `creditdsl run ... --as-of --format json --audit FILE` twice."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    outs = []
    for n in range(2):
        audit = tmp_path / f"audit{n}.jsonl"
        proc = subprocess.run(
            [sys.executable, "-m", "creditdsl", "run", str(root / "rulebooks" / "rongcheng.rulebook"),
             str(root / "examples" / "rongcheng" / "events.jsonl"), "--as-of", "2019-06-30",
             "--format", "json", "--audit", str(audit)],
            capture_output=True, cwd=root, timeout=120,
        )
        outs.append((proc.returncode, proc.stdout, proc.stderr, audit.read_bytes()))
    assert outs[0] == outs[1]
    assert outs[0][1] and outs[0][3]
