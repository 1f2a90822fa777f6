"""The conformance suite: data-driven cases (LANGUAGE.md, section by section).

Each ``cases/<section>/<topic>.json`` holds ``{"cases": [...]}``; a case is::

    name            unique within its file (the test id is section/topic/name)
    note            one line: what the case pins down (and where LANGUAGE.md says so)
    rulebook        the rulebook text, as a list of lines (or one string)
    files           optional {relative path: lines}: more rulebooks beside it (for `extends`)
    events          a list of event lines: an object is written as one JSON line, a string
                    is taken verbatim (to write broken lines); "" is a blank line
    subjects        optional list of subject objects (the subjects file)
    as_of           optional `--as-of` value
    want            partial expectations, compared against the real run:
        as_of         the result document's `as_of`
        subject_ids   the exact list of subject ids, in order
        subjects      {id: {ledgers: {...}, tier, fines, lists, sanctions, privileges}}
                      (only the keys given are compared; `ledgers` only for the ledgers given)
        summary       {lines, applied, ..., tiers} (only the keys given)
        audit         the exact number of audit lines, each compared on the keys given
        invalid       [[line, code], ...]: the invalid lines reported, in input order
        tests         {test name: true|false}: the rulebook's own `tests:` pass or fail
        warnings      diagnostic codes of warnings (checker or run), in order, exactly
    want_error_code a diagnostic code that loading or running must raise
    want_error      optional substring of that diagnostic's message
    want_error_at   optional [line, col] where that diagnostic points (1-based)
    resume_at       split the events at this instant: run to it, save the state, resume with
                    the rest; the concatenated result must equal `want` (§12 continuing a run)

Every expected value was worked out by hand from LANGUAGE.md, never copied from a run.
A future engine passes this suite by reading the same files.

Cases that wait on a feature of the time issue (E0502 "not yet supported") are strict
xfails listed in ``WAITS``; cases that expose an engine bug are strict xfails listed in
``BUGS``, with the reason. Remove an entry as soon as its case passes (strict: an xfail
that starts passing fails the suite, so none can be forgotten).
"""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from creditdsl import pipeline
from creditdsl.diagnostics import CreditDslError
from creditdsl.interpreter import parse_as_of, run
from creditdsl.savestate import state_text
from creditdsl.values import zone
from creditdsl.results import AuditCollector, dumps, result_json

CASES = Path(__file__).resolve().parent / "cases"

WAIT = "waits on issue 4"
WAITS: set[str] = set()

BUGS: dict[str, str] = {
}


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def all_cases() -> list[tuple[str, dict]]:
    out = []
    for path in sorted(CASES.glob("*/*.json")):
        for case in _load(path)["cases"]:
            out.append((f"{path.parent.name}/{path.stem}/{case['name']}", case))
    return out


def _text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "\n".join(value) + "\n"


def event_lines(events: list) -> list[str]:
    return [e if isinstance(e, str) else dumps(e) for e in events]


def _params():
    params = []
    for case_id, case in all_cases():
        marks = []
        if case_id in WAITS:
            marks.append(pytest.mark.xfail(strict=True, reason=WAIT))
        elif case_id in BUGS:
            marks.append(pytest.mark.xfail(strict=True, reason="bug: " + BUGS[case_id]))
        params.append(pytest.param(case, id=case_id, marks=marks))
    return params


def match(want: Any, got: Any, where: str) -> None:
    """``got`` agrees with ``want`` on every key ``want`` names (lists: same length, each matches)."""
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{where}: want an object, got {got!r}"
        for k, v in want.items():
            assert k in got, f"{where}: no key {k!r} in {got!r}"
            match(v, got[k], f"{where}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list), f"{where}: want a list, got {got!r}"
        assert len(want) == len(got), f"{where}: want {len(want)} items, got {len(got)}: {got!r}"
        for i, (w, g) in enumerate(zip(want, got)):
            match(w, g, f"{where}[{i}]")
    else:
        if isinstance(want, (int, Decimal)) and not isinstance(want, bool):
            assert isinstance(got, (int, Decimal)) and not isinstance(got, bool) and want == got, (
                f"{where}: want {want}, got {got!r}"
            )
        else:
            assert want == got, f"{where}: want {want!r}, got {got!r}"


def run_case(case: dict, tmp: Path) -> tuple[Any, list[dict], Any, list[str]]:
    """(result document, audit lines, RunResult, warning codes); raises CreditDslError."""
    for rel, lines in case.get("files", {}).items():
        p = tmp / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(_text(lines), encoding="utf-8")
    main = tmp / "main.rulebook"
    text = _text(case["rulebook"])
    main.write_text(text, encoding="utf-8")
    loaded = pipeline.analyse_text(text, str(main))
    rulebook = pipeline.load_text(text, str(main))
    warnings = [d.code for d in loaded.diagnostics if not d.is_error]
    audit = AuditCollector()
    events = event_lines(case.get("events", []))
    if "resume_at" in case:  # run to resume_at, save the state, resume with the rest (§12)
        tz = zone(rulebook.timezone)
        cut = parse_as_of(case["resume_at"], tz)
        split = next((i for i, e in enumerate(case.get("events", []))
                      if isinstance(e, dict) and parse_as_of(e["at"], tz) > cut), len(events))
        first = run(rulebook, events[:split], subjects=case.get("subjects"), as_of=cut, audit=audit,
                    save_state=True)
        warnings += [d.code for d in first.warnings]
        state = json.loads(state_text(first.state))  # through its text, as a file would be
        result = run(rulebook, events[split:], as_of=case.get("as_of"), audit=audit, resume=state)
    else:
        result = run(rulebook, events, subjects=case.get("subjects"), as_of=case.get("as_of"), audit=audit)
    warnings += [d.code for d in result.warnings]
    doc = json.loads(result_json(result), parse_float=Decimal)
    lines = [json.loads(x, parse_float=Decimal) for x in audit.lines(r.name for r in rulebook.ledgers)]
    return doc, lines, result, warnings


def _plain(value: Any) -> Any:
    """A test literal as event/expectation data: money reads as its amount."""
    if isinstance(value, dict) and "amount" in value:
        return value["amount"]
    return value


def run_tests_of(rulebook: Any, tmp: Path) -> dict[str, bool]:
    """The rulebook's own `tests:` (LANGUAGE.md §9), run through the interpreter."""
    out = {}
    for case in rulebook.tests:
        lines = []
        for i, ev in enumerate(case.events, 1):
            obj = {"id": f"t{i}", "subject": "test", "type": ev.type, "at": ev.at}
            obj.update({k: _plain(v) for k, v in ev.fields})
            lines.append(dumps(obj))
        subject = {"id": "test", **{k: _plain(v) for k, v in case.subject}}
        result = run(rulebook, lines, subjects=[subject], as_of=case.as_of)
        got = json.loads(result_json(result), parse_float=Decimal)["subjects"][0]
        ok = True
        for exp in case.expect:
            value = _plain(exp.value)
            if exp.key in got["ledgers"]:
                ok &= Decimal(str(value)) == got["ledgers"][exp.key]
            elif exp.key == "fines":
                ok &= Decimal(str(value)) == got["fines"]
            elif exp.key in ("lists", "sanctions", "privileges"):
                want = value if isinstance(value, (list, tuple)) else [value]
                ok &= list(want) == got[exp.key]
            else:
                ok &= value == got[exp.key]
        out[case.name] = bool(ok)
    return out


@pytest.mark.parametrize("case", _params())
def test_spec_case(case: dict) -> None:
    assert case.get("note"), "every case has a one-line note"
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if "want_error_code" in case:
            with pytest.raises(CreditDslError) as info:
                run_case(case, tmp)
            codes = [x.code for x in info.value.diagnostics]
            assert case["want_error_code"] in codes, f"want {case['want_error_code']}, got {codes}"
            if "want_error_at" in case:
                spans = [(x.span.line, x.span.col) for x in info.value.diagnostics
                         if x.code == case["want_error_code"] and x.span is not None]
                assert tuple(case["want_error_at"]) in spans, spans
            if "want_error" in case:
                messages = [x.message for x in info.value.diagnostics if x.code == case["want_error_code"]]
                assert any(case["want_error"] in m for m in messages), messages
            return
        doc, audit, result, warnings = run_case(case, tmp)
        want = dict(case["want"])
        if "subject_ids" in want:
            assert [s["subject"] for s in doc["subjects"]] == want.pop("subject_ids")
        if "subjects" in want:
            got = {s["subject"]: s for s in doc["subjects"]}
            match(want.pop("subjects"), got, "subjects")
        if "audit" in want:
            match(want.pop("audit"), audit, "audit")
        if "invalid" in want:
            assert [[x.line, x.code] for x in result.invalid] == want.pop("invalid")
        if "warnings" in want:
            assert warnings == want.pop("warnings")
        if "tests" in want:
            rulebook = pipeline.load_text(_text(case["rulebook"]), str(tmp / "main.rulebook"))
            assert run_tests_of(rulebook, tmp) == want.pop("tests")
        match(want, doc, "result")
        # every case also checks the line accounting of §5
        summary = doc["summary"]
        assert summary["lines"] == sum(summary[k] for k in (
            "applied", "skipped", "deferred", "remedied", "unmatched", "later", "duplicate", "invalid"))
