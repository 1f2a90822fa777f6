"""Golden runs: every folder of tests/golden/run/ holds one rulebook, events.jsonl, optional
subjects.jsonl, and cases.json listing runs (name, as_of, optionally resume_from: the
name of a run whose saved state this one resumes, with its own events file).
Each run's result document (`NAME.result.json`), audit (`NAME.audit.jsonl`) and invalid
lines (`NAME.stderr.txt`) are goldens (regenerate with --update-goldens, then review)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from creditdsl import pipeline
from creditdsl.interpreter import run
from creditdsl.results import AuditWriter, result_json

HERE = Path(__file__).resolve().parent.parent / "golden" / "run"
CASES = sorted(p.name for p in HERE.iterdir() if (p / "cases.json").exists())


def _runs(folder: Path):
    spec = json.loads((folder / "cases.json").read_text())
    return spec["runs"]


def execute(folder: Path, case: dict, states: dict | None = None) -> tuple[str, str, str]:
    rulebook_path = next(folder.glob("*.rulebook"))
    rulebook = pipeline.load_text(rulebook_path.read_text(), rulebook_path.name)
    events = folder / case.get("events", "events.jsonl")
    subjects = folder / "subjects.jsonl"
    buf = io.StringIO()
    kwargs = {}
    if case.get("resume_from"):
        kwargs["resume"] = states[case["resume_from"]]
    if case.get("save_state"):
        kwargs["save_state"] = True
    result = run(
        rulebook, str(events), subjects=str(subjects) if subjects.exists() else None,
        as_of=case.get("as_of"), audit=AuditWriter(buf, [x.name for x in rulebook.ledgers]), **kwargs,
    )
    if states is not None and case.get("save_state"):
        states[case["name"]] = result.state
    stderr = "".join(f"{events.name}:{b.line}: {b.reason}\n" for b in result.invalid)
    return result_json(result), buf.getvalue(), stderr


@pytest.mark.parametrize("case", CASES)
def test_run_golden(case, golden):
    folder = HERE / case
    states: dict = {}
    for spec in _runs(folder):
        result, audit, stderr = execute(folder, spec, states)
        name = spec["name"]
        golden(folder / f"{name}.result.json", result)
        golden(folder / f"{name}.audit.jsonl", audit)
        golden(folder / f"{name}.stderr.txt", stderr)


@pytest.mark.parametrize("case", CASES)
def test_run_golden_is_deterministic(case):
    folder = HERE / case
    spec = _runs(folder)[0]
    assert execute(folder, spec, {}) == execute(folder, spec, {})


def test_resume_equals_one_run():
    """Issue 4: 2020 events with --as-of 2021-01-01 and a saved state, then the rest resumed,
    give the single run's result byte for byte, and the audits concatenate into its audit."""
    folder = HERE / "time_done"
    runs = {c["name"]: c for c in _runs(folder)}
    states: dict = {}
    whole = execute(folder, runs["all"], states)
    first = execute(folder, runs["first_2020"], states)
    second = execute(folder, runs["resumed"], states)
    assert second[0] == whole[0]
    assert first[1] + second[1] == whole[1]
