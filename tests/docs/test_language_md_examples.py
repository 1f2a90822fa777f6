"""Every example of the design reference (``../shared/LANGUAGE.md``) checks clean.

LANGUAGE.md marks explanations with ``<-``; they are not part of the language
and are removed first. A complete example (one with a ``rulebook:`` line) must
check with no error and no warning. A fragment (§4 lists, §5 rules, §7
triggers, §9 tests) is placed into the §1 rulebook, together with the names it
uses (a ``points: 0`` ledger; lists ``dishonest debtors``, ``licence
suspended`` and ``disqualified``; for the §9 tests, the ``escort`` and
``donation`` rules the tests exercise), and must check clean too.

The design reference is kept in the repository as ``docs/design/LANGUAGE.md``
(so the suite needs nothing outside the clone); where the shared copy sits
beside the clone (``<repo>/../shared/LANGUAGE.md``, as in CI), a test checks
the two are identical, so the kept copy cannot drift.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from creditdsl import pipeline
from placing import fenced_blocks, is_complete, place, sections

ROOT = Path(__file__).resolve().parents[2]
LANGUAGE_MD = ROOT / "docs" / "design" / "LANGUAGE.md"
SHARED_MD = ROOT.parent / "shared" / "LANGUAGE.md"


def test_kept_copy_is_the_shared_design():
    if SHARED_MD.is_file():  # beside the clone in CI and in the workplace
        assert LANGUAGE_MD.read_bytes() == SHARED_MD.read_bytes(), "update docs/design/LANGUAGE.md from shared/"
    assert "## 12. Fine print" in LANGUAGE_MD.read_text(encoding="utf-8")

# The names LANGUAGE.md's fragments use beyond those of its §1 rulebook.
EXTRA_NAMES = """\
ledgers:
  points: 0
lists:
  dishonest debtors:
  licence suspended:
  disqualified:
rules:
  escort:
    on: escorted_elder
    where: event.distance_km > 1
    credit: +1
    limit: 2 per month
    requires: 2 photo or 1 video
  donation:
    on: donation
    credit: +min(floor(event.amount / 100), 10)
"""


# ---------------------------------------------------------------- extraction


def strip_notes(text: str) -> str:
    """Remove LANGUAGE.md's `<-` explanations (and the spaces before them)."""
    return "\n".join(re.sub(r"\s*<-.*$", "", line) for line in text.splitlines()) + "\n"


def is_rulebook_text(text: str) -> bool:
    """A rulebook or a fragment of one (not JSON, not prose)."""
    first = next((ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
    return bool(re.match(r"^[A-Za-z][^:]*:( |$)", first))


def diagnostics(text: str, path: str = "example.rulebook") -> list[str]:
    loaded = pipeline.analyse_text(text, path)
    return [f"{d.code} {d.message} (line {d.span.line if d.span else '?'})" for d in loaded.diagnostics]


# ---------------------------------------------------------------- the examples

BLOCKS = [
    (line, strip_notes(body))
    for line, info, body in fenced_blocks(LANGUAGE_MD.read_text(encoding="utf-8"))
    if info == "" and is_rulebook_text(strip_notes(body))
]
COMPLETE = [(line, text) for line, text in BLOCKS if is_complete(text)]
FRAGMENTS = [(line, text) for line, text in BLOCKS if not is_complete(text)]
BASE = place(EXTRA_NAMES, COMPLETE[0][1]) if COMPLETE else ""


def test_the_examples_are_found():
    """§1 is complete; §4, §5, §7 and §9 are fragments (a guard against a silent empty run)."""
    assert len(COMPLETE) >= 1
    kinds = {sections(text)[1][0] for _, text in FRAGMENTS}
    assert {"lists", "rules", "triggers", "tests"} <= kinds


@pytest.mark.parametrize("line,text", COMPLETE, ids=[f"line{line}" for line, _ in COMPLETE])
def test_complete_example_checks_clean(line: int, text: str):
    assert diagnostics(text) == []


def test_base_with_extra_names_checks_clean():
    assert diagnostics(BASE) == []


@pytest.mark.parametrize("line,text", FRAGMENTS, ids=[f"line{line}" for line, _ in FRAGMENTS])
def test_fragment_checks_clean_in_the_section_1_rulebook(line: int, text: str):
    placed = place(text, BASE)
    assert diagnostics(placed) == [], placed


def test_place_merges_by_name():
    base = "rulebook: b\nledgers:\n  credit: 1\nrules:\n  a:\n    on: x\n    credit: -1\n"
    frag = "rules:\n  a:\n    on: y\n    credit: -2\n  b:\n    on: z\n    credit: -3\n"
    placed = place(frag, base)
    assert placed.count("  a:") == 1 and "on: y" in placed and "on: x" not in placed
    assert placed.index("  a:") < placed.index("  b:")
