"""Properties of compare_runs (issue 6), over generated pairs of small rulebooks and logs:
for every subject, `differs` is false exactly when tiers, ledgers, fines and lists agree
(read from independent runs); each side equals its own `run`; a rulebook never differs
from itself; migration matrices and distributions count every subject once."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from creditdsl import interpreter
from creditdsl.compare import NONE_KEY, compare_runs
from creditdsl.pipeline import load_text

TYPES = ("t1", "t2", "t3", "t4")


@st.composite
def rulebooks(draw, name: str) -> str:
    start = draw(st.sampled_from([0, 10]))
    lines = [f"rulebook: {name}", f"timezone: {draw(st.sampled_from(['UTC', 'Asia/Shanghai']))}", "currency: yuan",
             "ledgers:", f"  credit: {start}", "tiers:", f"  A: credit >= {draw(st.integers(-2, 12))}"]
    if draw(st.booleans()):
        lines.append("  B: otherwise")
    lines += ["lists:", "  watch:", f"    for: {draw(st.integers(1, 3))} days", "rules:"]
    for t in ("t1", "t2"):
        if draw(st.booleans()):
            lines += [f"  rule {t}:", f"    on: {t}", f"    credit: {draw(st.sampled_from([-2, -1, 1, 2]))}"]
            if draw(st.booleans()):
                lines.append(f"    fine: {draw(st.sampled_from([5, 10]))} yuan")
    if draw(st.booleans()):
        lines += ["  listing:", "    on: t3", "    list: watch"]
    if draw(st.booleans()):
        lines += ["  unlisting:", "    on: t4", "    unlist: watch"]
    if lines[-1] == "rules:":
        lines += ["  rule t1:", "    on: t1", "    credit: 1"]
    return "\n".join(lines) + "\n"


events = st.lists(
    st.tuples(st.sampled_from(["p", "q", "r"]), st.sampled_from(TYPES), st.integers(1, 6), st.integers(0, 23)),
    max_size=14,
).map(lambda xs: [
    json.dumps({"id": f"e{i}", "subject": s, "type": t, "at": f"2020-03-{d:02d}T{h:02d}:00:00"})
    for i, (s, t, d, h) in enumerate(xs)
])


def _agree(rows) -> bool:
    first = rows[0]
    return all(
        r.tier == first.tier and dict(r.ledgers) == dict(first.ledgers) and r.fines == first.fines
        and set(r.lists) == set(first.lists)
        for r in rows
    )


@settings(max_examples=60, deadline=None)
@given(a=rulebooks("a"), b=rulebooks("b"), log=events)
def test_differs_exactly_when_something_disagrees(a: str, b: str, log: list[str]) -> None:
    models = [load_text(a, "a.rulebook"), load_text(b, "b.rulebook")]
    c = compare_runs(models, log)
    alone = [{s.subject: s for s in interpreter.run(m, log).subjects} for m in models]
    assert [s.subject for s in c.subjects] == sorted(set(alone[0]) | set(alone[1]))
    for row in c.subjects:
        runs = [alone[k][row.subject] for k in range(2)]
        assert row.tiers == tuple(r.tier for r in runs)
        assert row.ledgers == tuple(r.ledgers for r in runs)
        assert row.fines == tuple(r.fines for r in runs)
        assert row.lists == tuple(r.lists for r in runs)
        assert row.differs is (not _agree(runs))
        for because in row.because:
            assert not because.scores[0].same_as(because.scores[1])
    (mg,) = c.migrations
    assert sum(map(sum, mg.counts)) == len(c.subjects)
    for k, axis in ((0, mg.rows), (1, mg.columns)):
        dist = dict(c.distributions[k])
        assert list(dist) == list(axis)
        assert sum(dist.values()) == len(c.subjects)
        assert (NONE_KEY in dist) is any(row.tiers[k] is None for row in c.subjects)


@settings(max_examples=30, deadline=None)
@given(a=rulebooks("a"), log=events)
def test_a_rulebook_never_differs_from_itself(a: str, log: list[str]) -> None:
    model = load_text(a, "a.rulebook")
    c = compare_runs([model, model], log)
    assert not c.differs
    assert all(not row.because for row in c.subjects)
    assert c.migrations[0].diagonal
