"""Fuzzing (issue 8 item 6): rulebook text and event lines, generated and mutated.

Contract (STYLE.md §2.9 property 1): for any rulebook text, loading it returns a rulebook
or raises the project's CreditDslError whose every span in this file lies inside the text
(0 <= start <= end <= len(text)) with line/col agreeing with source.SourceFile; a loaded
rulebook then runs over a small log without any other exception. For any event lines,
`run` returns a result whose summary accounts for every non-blank line.
``make fuzz`` runs these with HYPOTHESIS_PROFILE=fuzz (a hundred times the examples).
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from propcommon import SUBJECTS, dump_event, event_dicts, examples, seed_event_lines, seed_rulebooks

from creditdsl import pipeline
from creditdsl.diagnostics import CreditDslError
from creditdsl.interpreter import run
from creditdsl.results import AuditCollector, result_json
from creditdsl.source import SourceFile

PATH = "/nonexistent-fuzz-dir/fuzz.rulebook"  # parents named by `extends` cannot be found
SEEDS = seed_rulebooks()
LINES = seed_event_lines()

NASTY = list("\t\r\n :#\"'[]{},-+*/()<>=!.0123456789aAzZ_ ") + [
    "\u202e", "\u200b", "\ufeff", "\x00", "é", "💥", "  ", "    ", "\\", "\"\"", "for ", " within ",
    " per ", "otherwise", "event.", "subject.", "count(", "listed(", "reset", "unless ", " or ", " and ",
    "2020-02-30", "1 month", "9" * 40, "(" * 50, "-" * 30,
]


def check_error(exc: CreditDslError, text: str, path: str) -> None:
    # spans point into the source as read (a leading BOM is dropped, as when reading a file)
    known = getattr(exc, "sources", {}).get(path)
    text = known.text if known is not None else text.removeprefix("\ufeff")
    src = SourceFile(path, text)
    assert exc.diagnostics, "an error carries at least one diagnostic"
    for d in exc.diagnostics:
        assert d.code and d.message
        spans = [d.span] + [label.span for label in d.labels]
        for span in spans:
            if span is None or span.file != path:
                continue
            assert 0 <= span.start <= span.end <= len(text), (d.code, span, len(text))
            assert src.position(span.start) == (span.line, span.col), (d.code, span)
            assert src.position(span.end) == (span.end_line, span.end_col), (d.code, span)


def load_or_error(text: str):
    try:
        return pipeline.load_text(text, PATH)
    except CreditDslError as exc:
        check_error(exc, text, PATH)
        return None


SMALL_LOG = [
    '{"id": "e1", "subject": "a", "type": "littering", "at": "2020-01-01", "amount": 300}',
    '{"id": "e2", "subject": "a", "type": "x", "at": "2020-01-02T10:00:00", "evidence": ["photo"]}',
    '{"id": "e3", "subject": "b", "type": "deed", "at": "2020-02-01", "distance_km": 3}',
]


def load_and_run(text: str) -> None:
    rb = load_or_error(text)
    if rb is None:
        return
    types = sorted({t for r in rb.rules for t in r.on})[:4]
    log = list(SMALL_LOG) + [
        json.dumps({"id": f"t{i}", "subject": "a", "type": t, "at": f"2020-01-{i + 3:02d}", "amount": 120})
        for i, t in enumerate(types)
    ]
    result = run(rb, log, as_of="2021-01-01", audit=AuditCollector())
    assert result.summary.lines == len(log)
    result_json(result)


@st.composite
def mutated(draw, seeds=SEEDS):
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "dup line", "drop line", "swap lines", "indent"]))
        if op in ("insert", "delete", "replace"):
            i = draw(st.integers(0, len(text)))
            if op == "insert":
                text = text[:i] + draw(st.sampled_from(NASTY) | st.text(max_size=3)) + text[i:]
            elif op == "delete":
                text = text[:i] + text[i + draw(st.integers(1, 20)):]
            else:
                text = text[:i] + draw(st.sampled_from(NASTY)) + text[i + 1:]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            if op == "dup line":
                lines.insert(i, lines[i])
            elif op == "drop line":
                del lines[i]
            elif op == "swap lines":
                j = draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
            else:
                lines[i] = draw(st.sampled_from([" ", "  ", "\t", "   "])) + lines[i]
            text = "\n".join(lines)
    return text


@settings(max_examples=examples(60))
@given(mutated())
def test_mutated_rulebooks(text):
    load_and_run(text)


@settings(max_examples=examples(30))
@given(st.lists(st.sampled_from(NASTY), max_size=80).map("".join))
def test_generated_junk_rulebooks(text):
    load_and_run("rulebook: t\nledgers:\n  credit: 1\n" + text)
    load_and_run(text)


@st.composite
def key_value_text(draw):
    """Rulebook-shaped text: keys and values from the language's vocabulary, random nesting."""
    keys = ["rulebook", "ledgers", "credit", "tiers", "rules", "on", "where", "limit", "cap", "grace", "fine",
            "tier", "list", "unlist", "lists", "for", "triggers", "when", "tests", "events", "expect", "extends",
            "drop", "start", "floor", "ceiling", "reset", "expire", "requires", "group", "except", "A", "r"]
    values = ["", "1000", "-3", "+0.5", "credit >= 1000", "otherwise", "x", "[a, b]", "2 per month",
              "1 within 7 days", "3 days unless y", "50 yuan", "B for 1 year", "yearly", "1 year", "reset",
              "listed(\"l\")", "count(x within 2 days) > 1", "- x at 2020-01-01", "\"q#:\"", "2020-13-01"]
    lines = ["rulebook: fuzz"]
    depth = 0
    for _ in range(draw(st.integers(1, 25))):
        depth = draw(st.integers(0, depth + 1))
        lines.append("  " * depth + draw(st.sampled_from(keys)) + ":" +
                     (" " + draw(st.sampled_from(values)) if draw(st.booleans()) else ""))
    return "\n".join(lines) + "\n"


@settings(max_examples=examples(60))
@given(key_value_text())
def test_generated_structures(text):
    load_and_run(text)


FUZZ_BOOK = pipeline.load_text("""\
rulebook: fuzz
currency: yuan
ledgers:
  credit: 1000
tiers:
  A: credit >= 1000
  B: otherwise
rules:
  littering:
    on: littering
    credit: -3
  donation:
    on: donation
    where: event.amount > 10
    credit: +min(floor(event.amount / 100), 10)
    requires: 1 photo or 1 video
  fine:
    on: x
    fine: event.amount yuan
    limit: 2 per week
""")


@st.composite
def mutated_line(draw):
    line = draw(st.sampled_from(LINES + [dump_event(draw(event_dicts(["littering", "donation", "x"])))]))
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(line)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        piece = draw(st.sampled_from(['"', ",", ":", "{", "}", "[", "]", "NaN", "1e999", "-", "9" * 30, "\\u0000",
                                      "\\ud800", "\udcff", "null", "true", " ", "\t", "é", "\x00", '"at"', '"id"']))
        if op == "insert":
            line = line[:i] + piece + line[i:]
        elif op == "delete":
            line = line[:i] + line[i + 3:]
        elif op == "replace":
            line = line[:i] + piece + line[i + 1:]
        else:
            line = line[:i]
    return line


@settings(max_examples=examples(60))
@given(st.lists(mutated_line(), max_size=12), st.sampled_from([None, "2020-01-15", "2030-01-01"]))
def test_mutated_event_lines(lines, as_of):
    raw = [x.encode("utf-8", "surrogatepass") for x in lines]
    result = run(FUZZ_BOOK, raw, as_of=as_of, audit=AuditCollector())
    nonblank = sum(1 for x in raw if x.strip())
    s = result.summary
    assert s.lines == nonblank
    assert s.outcomes_total() == s.lines
    assert len(result.invalid) == s.invalid
    for bad in result.invalid:
        assert bad.code.startswith("E04")
    result_json(result)
