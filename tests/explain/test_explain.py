"""explain: every path back it proposes is confirmed by the interpreter, no smaller plan
reaches the tier (brute force on small generated cases), the waiting date matches runs at
that instant and one microsecond before; goldens for example subjects."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creditdsl import interpreter
from creditdsl.events import Event, parse_event
from creditdsl.explain import explain
from creditdsl.pipeline import load, load_text
from creditdsl.plan import compile_plan
from creditdsl.render import explain_html, explain_json, explain_text
from creditdsl.results import dumps

ROOT = Path(__file__).resolve().parents[2]
TICK = timedelta(microseconds=1)


def _examples() -> list[str]:
    out = []
    for p in sorted((ROOT / "examples").iterdir()):
        rb = ROOT / "rulebooks" / f"{p.name}.rulebook"
        if (p / "events.jsonl").exists() and rb.exists():
            out.append(p.name)
    return out


@lru_cache(maxsize=None)
def _loaded(scheme: str):
    rb, _, sources = load(f"rulebooks/{scheme}.rulebook")
    subjects = ROOT / "examples" / scheme / "subjects.jsonl"
    return rb, compile_plan(rb), sources, (f"examples/{scheme}/subjects.jsonl" if subjects.exists() else None)


def _planned_events(plan, subject: str, deeds: list[dict], first_line: int) -> list[Event]:
    out = []
    n = 0
    for g in deeds:
        for _ in range(g["count"]):
            n += 1
            obj = {"id": f"check-{n}", "subject": subject, "type": g["type"], "at": g["at"]}
            if g["evidence"]:
                obj["evidence"] = g["evidence"]
            obj.update(g["fields"])
            out.append(parse_event(dumps(obj).encode(), first_line + n, plan.tz))
    return out


def _subject_events(plan, events_path: str, subject: str, now: datetime) -> list[Event]:
    items = list(interpreter._items(events_path, plan.tz))
    return [e for e in items if isinstance(e, Event) and e.subject == subject and e.at <= now]


def _tier_at(plan, events, subjects, subject: str, as_of) -> int:
    res = interpreter.run(plan, events, subjects=subjects, as_of=as_of)
    tier = res.subject(subject).tier
    return -1 if tier is None else plan.tier_pos[tier]


def _reached(tier: int, target: int) -> bool:
    return 0 <= tier <= target


def check_paths(plan, events_path, subjects, doc) -> None:
    """Every claim of ``doc['path_back']`` against fresh interpreter runs."""
    subject = doc["subject"]
    now = datetime.fromisoformat(doc["as_of"])
    mine = _subject_events(plan, events_path, subject, now)
    subj = None
    if subjects:
        from creditdsl.events import read_subjects

        subj = [s for s in read_subjects(subjects)[0] if s.id == subject]
    last_line = max((e.line for e in mine), default=0)
    for p in doc["path_back"]:
        target = plan.tier_pos[p["tier"]]
        w = p["by_waiting"]
        if w["reachable"]:
            at = datetime.fromisoformat(w["at"])
            assert _reached(_tier_at(plan, mine, subj, subject, at), target)
            assert not _reached(_tier_at(plan, mine, subj, subject, at - TICK), target)
        else:
            assert w["reason"]
        d = p["by_deeds"]
        if d["reachable"]:
            planned = _planned_events(plan, subject, d["deeds"], last_line)
            assert len(planned) == d["count"]
            at = datetime.fromisoformat(d["reached_at"])
            assert all(e.at >= now for e in planned)
            assert _reached(_tier_at(plan, mine + planned, subj, subject, at), target), (subject, p)
            if w["reachable"]:
                assert at < datetime.fromisoformat(w["at"])
        else:
            assert d["reason"], p


def _targets():
    out = []
    for scheme in _examples():
        rb, plan, _, subjects = _loaded(scheme)
        if not rb.tiers:
            continue
        res = interpreter.run(plan, f"examples/{scheme}/events.jsonl", subjects=subjects)
        for s in res.subjects:
            if s.tier is None or plan.tier_pos[s.tier] > 0:
                out.append((scheme, s.subject))
    return out


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("scheme,subject", _targets(), ids=lambda x: x)
def test_every_example_subject_below_the_best_tier(scheme: str, subject: str) -> None:
    rb, plan, sources, subjects = _loaded(scheme)
    events = f"examples/{scheme}/events.jsonl"
    doc = explain(plan, events, subject, subjects=subjects, sources=sources).to_json()
    assert doc["path_back"], "a subject below the best tier has a path back section"
    check_paths(plan, events, subjects, doc)


GOLDEN_SUBJECTS = [
    ("rongcheng", "bai-ge"),  # C: deeds only
    ("rongcheng_banded", "wd-04"),  # listed: deeds wait for the list to end; reverts pending
    ("rongcheng_banded", "wd-19"),  # a list only time lifts: waiting, and why deeds cannot beat it
    ("dongdao_lu_jia", "dl-02"),  # a permanent cap: cannot be reached, and why
    ("dongdao_lu_jia", "dl-03"),  # limits (2 trips a month) and equivalent deeds
    ("creditchina_blacklist", None),  # no tiers: timeline, lists, pending
]


def _first_subject(scheme: str) -> str:
    _, plan, _, subjects = _loaded(scheme)
    res = interpreter.run(plan, f"examples/{scheme}/events.jsonl", subjects=subjects)
    return next(s.subject for s in res.subjects if s.lists) if any(s.lists for s in res.subjects) else res.subjects[0].subject


@pytest.mark.parametrize("scheme,subject", GOLDEN_SUBJECTS, ids=lambda x: str(x))
def test_explain_goldens(scheme: str, subject: str | None, golden) -> None:
    _, plan, sources, subjects = _loaded(scheme)
    subject = subject or _first_subject(scheme)
    ex = explain(plan, f"examples/{scheme}/events.jsonl", subject, subjects=subjects, sources=sources)
    doc = ex.to_json()
    golden(f"explain/golden/{scheme}-{subject}.txt", explain_text(doc))
    golden(f"explain/golden/{scheme}-{subject}.json", explain_json(doc))


def test_html_is_self_contained_and_deterministic() -> None:
    _, plan, sources, _ = _loaded("rongcheng_banded")
    ex = explain(plan, "examples/rongcheng_banded/events.jsonl", "wd-04", sources=sources)
    page = explain_html(ex.to_json(), ex.starts, ex.bands)
    again = explain(plan, "examples/rongcheng_banded/events.jsonl", "wd-04", sources=sources)
    assert page == explain_html(again.to_json(), again.starts, again.bands)
    assert "<svg" in page and "tier AAA" in page and "<table>" in page
    for bad in ("src=", "<script", "<link", "@import", "https://", "url("):
        assert bad not in page
    assert page.count("http://") == page.count('xmlns="http://www.w3.org/2000/svg"')
    import xml.etree.ElementTree as ET

    for svg in page.split("<svg")[1:]:
        ET.fromstring("<svg" + svg.split("</svg>")[0] + "</svg>")


def test_as_of_and_horizon() -> None:
    _, plan, sources, _ = _loaded("rongcheng_banded")
    from creditdsl.values import Duration

    doc = explain(plan, "examples/rongcheng_banded/events.jsonl", "wd-19", sources=sources,
                  horizon=Duration(1, "year")).to_json()
    assert all(not p["by_waiting"]["reachable"] for p in doc["path_back"])
    reasons = [p["by_deeds"]["reason"] or "" for p in doc["path_back"]]
    assert any("after the horizon" in r for r in reasons)
    early = explain(plan, "examples/rongcheng_banded/events.jsonl", "wd-19", as_of="2021-01-01").to_json()
    assert early["as_of"].startswith("2021-01-01")
    assert all(s["at"] < "2021-01-01" for s in early["timeline"] if s["outcome"] != "later")


# ---------------------------------------------------------------- generated rulebooks

TEMPLATE = """rulebook: generated
timezone: UTC
ledgers:
  credit: 10
tiers:
  A: credit >= {a}
  B: credit >= {b}
  C: otherwise
lists:
  watch:
    for: {term} days
    tier: C
rules:
  good:
    on: good
    credit: +{g}
{limit}  small good:
    on: small
    credit: +1
    requires: 1 photo
  bad:
    on: bad
    credit: -{d}{lasting}
  flagged:
    on: flagged
    list: watch
{cleared}"""

DEEDS = ("good", "small", "cleared")


@st.composite
def cases(draw):
    a = draw(st.integers(11, 14))
    b = draw(st.integers(7, 10))
    text = TEMPLATE.format(
        a=a, b=b, term=draw(st.integers(1, 40)), g=draw(st.integers(1, 3)),
        limit="    limit: 1 per month\n" if draw(st.booleans()) else "",
        d=draw(st.integers(1, 4)), lasting=draw(st.sampled_from(["", " for 10 days", " for 45 days"])),
        cleared="  cleared:\n    on: cleared\n    unlist: watch\n" if draw(st.booleans()) else "",
    )
    n = draw(st.integers(1, 4))
    events = []
    for i in range(n):
        typ = draw(st.sampled_from(["bad", "bad", "flagged", "good"]))
        day = draw(st.integers(1, 27))
        events.append({"id": f"e{i}", "subject": "s", "type": typ, "at": f"2020-03-{day:02d}T10:00:00"})
    events.sort(key=lambda e: e["at"])
    return text, events


def _grid(plan, state, now, deadline) -> list[datetime]:
    """Instants where a deed may make a difference: now, pending work, month starts."""
    from creditdsl.values import next_period_start

    grid = {now}
    grid |= {datetime.fromisoformat(x[0]).astimezone(plan.tz) for x in state["agenda"]}
    t = now
    for _ in range(2):
        t = next_period_start(t, "month")
        grid.add(t)
    return sorted(x for x in grid if now <= x <= deadline)[:5]


def _deed_event(plan, typ: str, at: datetime, n: int) -> Event:
    obj = {"id": f"b{n}", "subject": "s", "type": typ, "at": at.isoformat()}
    if typ == "small":
        obj["evidence"] = ["photo"]
    return parse_event(dumps(obj).encode(), 100 + n, plan.tz)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_generated_plans_are_verified_and_minimal(case) -> None:
    text, events = case
    rb = load_text(text)
    plan = compile_plan(rb)
    lines = [json.dumps(e) for e in events]
    doc = explain(plan, lines, "s").to_json()
    check_paths(plan, [parse_event(x.encode(), i + 1, plan.tz) for i, x in enumerate(lines)], None, doc)
    # brute force: no plan with fewer deeds, at instants of a small grid, reaches the tier
    mine = [parse_event(x.encode(), i + 1, plan.tz) for i, x in enumerate(lines)]
    now = datetime.fromisoformat(doc["as_of"])
    base = interpreter.run(plan, mine, as_of=now, save_state=True)
    for p in doc["path_back"]:
        d = p["by_deeds"]
        if not d["reachable"] or d["count"] > 3:
            continue
        target = plan.tier_pos[p["tier"]]
        w = p["by_waiting"]
        deadline = (datetime.fromisoformat(w["at"]) - TICK) if w["reachable"] else \
            datetime.fromisoformat(doc["as_of"]).replace(year=now.year + 3)
        grid = _grid(plan, base.state, now, deadline)
        for k in range(1, d["count"]):
            for types in itertools.product(DEEDS, repeat=k):
                for times in itertools.combinations_with_replacement(grid, k):
                    planned = [_deed_event(plan, t, at, i) for i, (t, at) in enumerate(zip(types, times))]
                    for check in (x for x in grid if x >= times[-1]):
                        tier = _tier_at(plan, mine + planned, None, "s", check)
                        assert not _reached(tier, target), (text, events, p, types, times, check)
