"""Contracts of the front end (issue 2, item 8), stated as properties.

* On any text, analysing a rulebook returns a model or the project's own
  diagnostics, every span inside the file with line/col agreeing with
  ``SourceFile`` — never another exception.
* A rulebook compiles to an equal model when re-indented (any consistent
  indentation width) or when top-level sections and rule keys are re-ordered.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creditdsl import pipeline
from creditdsl.source import SourceFile

BASE = """\
rulebook: Property base
timezone: Asia/Shanghai
currency: yuan
ledgers:
  credit: 1000
  licence:
    start: 12
    floor: 0
tiers:
  A: credit >= 1000
  B: credit >= 960
  C: otherwise
sanctions:
  B: [mortgage refused]
lists:
  debtors:
    for: 1 year
    tier: C
rules:
  littering:
    on: littering
    credit: -3
  yield:
    on: failed_to_yield
    where: event.speed > 10 and not listed("debtors")
    credit: -5
    licence: -3
    fine: 50 yuan
  escort:
    on: [escorted_elder, escorted_elder_market]
    credit: +1
    limit: 2 per month
    requires: 2 photo or 1 video
  missed:
    on: missed_payment
    list: debtors
"""

ALPHABET = st.sampled_from(list("abc :-#\"[],\n\t  ()<>=+*/.012") + ["credit", "rules:", "\n  ", "ledgers:", "é"])


def assert_contract(text: str) -> None:
    loaded = pipeline.analyse_text(text, "fuzz.rulebook")
    src = SourceFile("fuzz.rulebook", text)
    if loaded.rulebook is None:
        assert any(d.is_error for d in loaded.diagnostics)
    for d in loaded.diagnostics:
        assert d.code and d.message
        for span in [d.span, *(label.span for label in d.labels)]:
            if span is None or span.file != "fuzz.rulebook":
                continue
            assert 0 <= span.start <= span.end <= len(text)
            assert (span.line, span.col) == src.position(span.start)
            assert (span.end_line, span.end_col) == src.position(span.end)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(ALPHABET, max_size=60).map("".join))
def test_any_text_gives_a_model_or_located_diagnostics(text):
    assert_contract(text)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.integers(0, len(BASE) - 1), st.integers(0, 12), st.text(max_size=8))
def test_mutated_rulebooks_keep_the_contract(start, length, insert):
    assert_contract(BASE[:start] + insert + BASE[start + length :])


def reindent(text: str, width: int) -> str:
    out = []
    for line in text.splitlines():
        spaces = len(line) - len(line.lstrip(" "))
        out.append(" " * (spaces // 2 * width) + line[spaces:])
    return "\n".join(out) + "\n"


def sections(text: str) -> list[str]:
    chunks: list[list[str]] = []
    for line in text.splitlines():
        if line and not line.startswith(" "):
            chunks.append([])
        chunks[-1].append(line)
    return ["\n".join(c) + "\n" for c in chunks]


def shuffle_rule_keys(text: str, rnd: random.Random) -> str:
    """Re-order the keys inside each rule (all key order there is free but ledger changes')."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        out.append(lines[i])
        if lines[i].startswith("  ") and not lines[i].startswith("   ") and lines[i].endswith(":"):
            block = []
            while i + 1 < len(lines) and lines[i + 1].startswith("    "):
                i += 1
                block.append(lines[i])
            keep = [b for b in block if b.split(":")[0].strip() in ("credit", "licence")]
            rest = [b for b in block if b not in keep]
            rnd.shuffle(rest)
            out.extend(rest + keep)
        i += 1
    return "\n".join(out) + "\n"


BASE_MODEL = pipeline.load_text(BASE, "base.rulebook")


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 8), st.randoms(use_true_random=False))
def test_reindented_and_reordered_rulebooks_compile_equal(width, rnd):
    head, *rest = sections(BASE)
    rnd.shuffle(rest)
    text = reindent(shuffle_rule_keys(head + "".join(rest), rnd), width)
    assert pipeline.load_text(text, "other.rulebook") == BASE_MODEL
