"""The shipped schemes: every rulebook checks clean and passes its own tests; every
example's run equals its golden result and audit (regenerate with --update-goldens,
then review the diff)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from creditdsl import interpreter, tester
from creditdsl.pipeline import analyse, load
from creditdsl.results import AuditWriter, result_json

ROOT = Path(__file__).resolve().parents[2]
RULEBOOKS = sorted((ROOT / "rulebooks").glob("*.rulebook"))
# examples/compare holds the log shared by several schemes (`creditdsl compare`, tests/compare).
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if (p / "events.jsonl").exists() and p.name != "compare")

REQUIRED = [
    "rongcheng", "rongcheng_banded", "qingshan", "dongdao_lu_jia", "ximu_jia", "vanguard_village",
    "mao_liu_jia", "creditchina_blacklist", "driving_licence", "sesame", "sector_lists", "suqian", "hangzhou",
]


def test_every_required_rulebook_and_example_exists() -> None:
    assert sorted(p.stem for p in RULEBOOKS) == sorted(REQUIRED)
    assert sorted(p.name for p in EXAMPLES) == sorted(REQUIRED)


@pytest.mark.parametrize("path", RULEBOOKS, ids=lambda p: p.stem)
def test_rulebook_checks_with_no_diagnostics(path: Path) -> None:
    loaded = analyse(str(path))
    assert [f"{d.code}: {d.message}" for d in loaded.diagnostics] == []


@pytest.mark.parametrize("path", RULEBOOKS, ids=lambda p: p.stem)
def test_rulebook_has_a_header_and_passes_its_tests(path: Path) -> None:
    rb, _, _ = load(str(path))
    assert rb.jurisdiction and rb.source and rb.tests
    results = tester.run_tests(rb)
    bad = [(r.location, r.name, r.status, r.error, r.mismatches) for r in results if not r.passed]
    assert bad == []


def test_all_rules_and_triggers_are_covered() -> None:
    report = tester.test_paths([ROOT / "rulebooks"])
    cov = tester.coverage(report)
    assert report.ok
    assert [f"{u.location} {u.kind} {u.name}" for u in cov.uncovered] == []


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_run_equals_golden(example: Path, golden) -> None:
    rb, _, _ = load(str(ROOT / "rulebooks" / f"{example.name}.rulebook"))
    subjects = example / "subjects.jsonl"
    audit = io.StringIO()
    result = interpreter.run(
        rb, str(example / "events.jsonl"), subjects=str(subjects) if subjects.exists() else None,
        audit=AuditWriter(audit, [x.name for x in rb.ledgers]),
    )
    summary = result.summary
    assert summary.outcomes_total() == summary.lines
    golden(example / "expected" / "run.json", result_json(result, indent=2))
    golden(example / "expected" / "audit.jsonl", audit.getvalue())
