"""diff_rulebooks and `creditdsl diff` (issue 6): empty on itself, field by field, tiers moved,
inheritance resolved, unrelated schemes aligned by event type, goldens, --exit-code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from creditdsl.cli import app
from creditdsl.diff import diff_rulebooks
from creditdsl.pipeline import load_text

ROOT = Path(__file__).resolve().parents[2]
RULEBOOKS = sorted((ROOT / "rulebooks").glob("*.rulebook"))

OLD = """\
rulebook: old
timezone: Asia/Shanghai
currency: yuan
ledgers:
  credit: 1000
  points:
    start: 0
    expire: 3 years
tiers:
  A: credit >= 1000
  B: credit >= 960
  C: credit >= 850
  D: otherwise
sanctions:
  D: [no loans]
lists:
  debtors:
    for: 1 year
    tier: D
rules:
  littering:
    on: littering
    credit: -3
  good deed:
    on: good_deed
    credit: +1
    requires: 2 photo or 1 video
    limit: 2 per month
  litter in front of house:
    on: litter_reported
    credit: -1
    grace: 3 days unless litter_cleared
  missed payment:
    on: missed_payment
    list: debtors
  speeding:
    on: speeding
    points: +6
triggers:
  totting up:
    when: points >= 12
    list: debtors
"""

NEW = """\
rulebook: new
timezone: Asia/Shanghai
currency: yuan
ledgers:
  credit: 1000
  points:
    start: 0
    expire: 2 years
tiers:
  A: credit >= 1000
  C: credit >= 850
  B: credit >= 950
  D: otherwise
sanctions:
  D: [no loans, no rail]
lists:
  debtors:
    for: 2 years
    tier: D
rules:
  littering:
    on: littering
    credit: -5
    fine: 50 yuan
  good deed:
    on: [good_deed, helped_neighbour]
    credit: +1
    requires: 1 photo
    limit: 3 per month
    cap: 10 per year
  litter in front of house:
    on: litter_reported
    credit: -1
    grace: 5 days unless litter_cleared
  speeding:
    on: speeding
    points: +6 for 3 years
    tier: C for 1 year
  petition:
    on: petitioned
    fine: 1000 yuan
triggers:
  totting up:
    when: points >= 10
    list: debtors
"""


@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def invoke(*argv: str):
    result = CliRunner().invoke(app, list(argv), env={"COLUMNS": "100", "NO_COLOR": "1"})
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize("path", RULEBOOKS, ids=lambda p: p.stem)
def test_diff_of_a_rulebook_with_itself_is_empty(path: Path) -> None:
    assert diff_rulebooks(str(path), str(path)) == []


def test_diff_is_empty_when_only_layout_and_comments_differ(tmp_path) -> None:
    a = load_text(OLD, str(tmp_path / "a.rulebook"))
    b = load_text("# reformatted\n" + OLD.replace("credit: -3", "credit:   -3   # three"), str(tmp_path / "b.rulebook"))
    assert diff_rulebooks(a, b) == []


def test_field_by_field(tmp_path) -> None:
    a = load_text(OLD, str(tmp_path / "old.rulebook"))
    b = load_text(NEW, str(tmp_path / "new.rulebook"))
    got = [(e.kind, e.section, e.name, e.field, e.old, e.new) for e in diff_rulebooks(a, b)]
    assert got == [
        ("changed", "rulebook", "old", "rulebook", "old", "new"),
        ("changed", "ledger", "points", "expire", "3 years", "2 years"),
        ("changed", "tier", "B", "condition", "credit >= 960", "credit >= 950"),
        ("moved", "tier", "B", "position", "2", "3"),
        ("changed", "sanctions", "D", "labels", "[no loans]", "[no loans, no rail]"),
        ("changed", "list", "debtors", "for", "1 year", "2 years"),
        ("changed", "rule", "littering", "credit", "-3", "-5"),
        ("changed", "rule", "littering", "fine", None, "50 yuan"),
        ("changed", "rule", "good deed", "on", "good_deed", "good_deed, helped_neighbour"),
        ("changed", "rule", "good deed", "requires", "2 photo or 1 video", "1 photo"),
        ("changed", "rule", "good deed", "limit", "2 per month", "3 per month"),
        ("changed", "rule", "good deed", "cap", None, "10 per year"),
        ("changed", "rule", "litter in front of house", "grace", "3 days unless litter_cleared",
         "5 days unless litter_cleared"),
        ("removed", "rule", "missed payment", None, "on missed_payment, list [debtors]", None),
        ("changed", "rule", "speeding", "points", "+6", "+6 for 3 years"),
        ("changed", "rule", "speeding", "tier", None, "C for 1 year"),
        ("added", "rule", "petition", None, None, "on petitioned, fine 1000 yuan"),
        ("changed", "trigger", "totting up", "when", "points >= 12", "points >= 10"),
    ]


def test_edits_carry_both_spans(tmp_path) -> None:
    a = load_text(OLD, str(tmp_path / "old.rulebook"))
    b = load_text(NEW, str(tmp_path / "new.rulebook"))
    littering = next(e for e in diff_rulebooks(a, b) if e.name == "littering")
    assert littering.old_span.file.endswith("old.rulebook") and littering.old_span.line == 21
    assert littering.new_span.file.endswith("new.rulebook") and littering.new_span.line == 21
    doc = littering.to_json()
    assert doc["old_at"].endswith("old.rulebook:21:3") and doc["new_at"].endswith("new.rulebook:21:3")


def test_inheritance_is_resolved(tmp_path) -> None:
    (tmp_path / "parent.rulebook").write_text(OLD)
    child = load_text(
        "rulebook: old\nextends: parent.rulebook\ndrop: [speeding]\nrules:\n  littering:\n    on: littering\n    credit: -4\n",
        str(tmp_path / "child.rulebook"),
    )
    parent = load_text(OLD, str(tmp_path / "parent.rulebook"))
    got = [(e.kind, e.section, e.name, e.field) for e in diff_rulebooks(parent, child)]
    assert got == [("changed", "rule", "littering", "credit"), ("removed", "rule", "speeding", None)]


def test_unrelated_schemes_are_aligned_by_event_type(tmp_path) -> None:
    a = load_text("rulebook: a\nledgers:\n  credit: 10\nrules:\n  litter:\n    on: littering\n    credit: -1\n"
                  "  help:\n    on: help\n    credit: +1\n", str(tmp_path / "a.rulebook"))
    b = load_text("rulebook: b\nledgers:\n  credit: 10\nrules:\n  dropping litter:\n    on: littering\n    credit: -2\n"
                  "  chickens:\n    on: chickens_out\n    credit: -5\n", str(tmp_path / "b.rulebook"))
    got = [(e.kind, e.section, e.name, e.old, e.new) for e in diff_rulebooks(a, b) if e.section == "event"]
    assert got == [
        ("changed", "event", "littering", "`litter`: on littering, credit -1", "`dropping litter`: on littering, credit -2"),
        ("removed", "event", "help", "`help`: on help, credit +1", None),
        ("added", "event", "chickens_out", None, "`chickens`: on chickens_out, credit -5"),
    ]


# ---------------------------------------------------------------- CLI and goldens

PAIRS = [
    ("rongcheng", "qingshan"),
    ("rongcheng", "dongdao_lu_jia"),
    ("rongcheng", "rongcheng_banded"),
]


@pytest.mark.parametrize("old,new", PAIRS, ids=lambda x: x)
def test_diff_golden_table(at_root, golden, old, new) -> None:
    result = invoke("diff", f"rulebooks/{old}.rulebook", f"rulebooks/{new}.rulebook")
    assert result.exit_code == 0
    golden(f"compare/golden/diff_{old}_{new}.txt", result.output)


def test_diff_golden_json(at_root, golden) -> None:
    result = invoke("diff", "rulebooks/rongcheng.rulebook", "rulebooks/dongdao_lu_jia.rulebook", "--format", "json")
    assert result.exit_code == 0
    golden("compare/golden/diff_rongcheng_dongdao_lu_jia.json", result.output)
    doc = json.loads(result.output)
    assert list(doc) == ["old", "new", "edits"]
    assert all(list(e) == ["kind", "section", "name", "field", "old", "new", "old_at", "new_at"] for e in doc["edits"])


def test_exit_code_option(at_root) -> None:
    same = ("rulebooks/rongcheng.rulebook", "rulebooks/rongcheng.rulebook")
    other = ("rulebooks/rongcheng.rulebook", "rulebooks/qingshan.rulebook")
    assert invoke("diff", *same, "--exit-code").exit_code == 0
    assert invoke("diff", *other).exit_code == 0
    assert invoke("diff", *other, "--exit-code").exit_code == 1
    result = invoke("diff", *same)
    assert result.output.splitlines()[-1] == "no differences"
    assert json.loads(invoke("diff", *same, "--format", "json").output)["edits"] == []


def test_missing_rulebook_is_e0501(at_root) -> None:
    result = invoke("diff", "rulebooks/rongcheng.rulebook", "rulebooks/nowhere.rulebook")
    assert result.exit_code == 1
    assert "E0501" in result.output and "rulebooks/nowhere.rulebook" in result.output
