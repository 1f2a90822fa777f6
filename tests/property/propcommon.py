"""Shared helpers of the property tests: example counts, seed rulebooks, event-log strategies."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
FUZZ = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"


def examples(default: int) -> int:
    """The example count of a test: ``default``, or a hundred times that under the fuzz profile."""
    return default * 100 if FUZZ else default


def seed_rulebooks() -> list[str]:
    """Shipped rulebooks and every self-contained rulebook of the conformance suite."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "rulebooks").glob("*.rulebook"))]
    for path in sorted((ROOT / "tests" / "spec" / "cases").glob("*/*.json")):
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            if "files" in case:
                continue
            rb = case["rulebook"]
            texts.append(rb if isinstance(rb, str) else "\n".join(rb) + "\n")
    return texts


def seed_event_lines() -> list[str]:
    lines = []
    for path in sorted((ROOT / "tests" / "spec" / "cases").glob("*/*.json")):
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            for e in case.get("events", []):
                lines.append(e if isinstance(e, str) else json.dumps(e))
    for path in sorted((ROOT / "examples").glob("*/*.jsonl")):
        lines.extend(path.read_text(encoding="utf-8").splitlines()[:200])
    return lines


SUBJECTS = ("a", "b", "c", "10", "9")
FIELD_NAMES = ("amount", "distance_km", "months", "over_pct", "pct", "a", "b", "n", "kind", "ok", "x")
EVIDENCE = ("photo", "video", "witness")


def field_values():
    return st.one_of(
        st.integers(-50, 5000),
        st.decimals(min_value=-100, max_value=100, places=2, allow_nan=False, allow_infinity=False).map(
            lambda d: d.normalize() if d == d.to_integral_value() else d),
        st.sampled_from(["a", "b", "c", "company", "person"]),
        st.booleans(),
    )


@st.composite
def event_dicts(draw, types, subjects=SUBJECTS, days=60, start="2020-01-", ids=None):
    """One event object of one of ``types`` (an id is drawn from ``ids`` to allow duplicates)."""
    day = draw(st.integers(0, days))
    hour = draw(st.sampled_from([0, 0, 0, 9, 12, 23]))
    from datetime import date, timedelta
    d = date(2020, 1, 1) + timedelta(days=day)
    at = d.isoformat() if hour == 0 and draw(st.booleans()) else f"{d.isoformat()}T{hour:02d}:00:00"
    ev = {"id": draw(ids if ids is not None else st.integers(1, 10**6).map(lambda i: f"e{i}")),
          "subject": draw(st.sampled_from(subjects)), "type": draw(st.sampled_from(types)), "at": at}
    for name in draw(st.lists(st.sampled_from(FIELD_NAMES), max_size=3, unique=True)):
        ev[name] = draw(field_values())
    if draw(st.booleans()):
        ev["evidence"] = draw(st.lists(st.sampled_from(EVIDENCE), max_size=3))
    return ev


def dump_event(ev: dict) -> str:
    """A JSON line with Decimals written exactly."""
    from creditdsl.results import dumps

    return dumps(ev)
