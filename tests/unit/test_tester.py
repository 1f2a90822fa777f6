"""tester: cases of a rulebook's `tests:` block run by the interpreter (LANGUAGE.md §9)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from creditdsl import tester
from creditdsl.diagnostics import CreditDslError, error
from creditdsl.pipeline import analyse_text, load_text

HEAD = """\
rulebook: t
timezone: Asia/Shanghai
currency: yuan
ledgers:
  credit: 1000
tiers:
  A: credit >= 1000
  B: otherwise
sanctions:
  B: [mortgage refused]
lists:
  debtors:
    sanctions: [no air travel]
rules:
  littering:
    on: littering
    credit: -3
  yield:
    on: failed_to_yield
    credit: -5
    fine: 50 yuan
  deed:
    on: good_deed
    where: event.km > 1
    credit: +1
    requires: 2 photo or 1 video
  missed payment:
    on: missed_payment
    list: debtors
  kind to the old:
    on: kind_to_the_old
    where: subject.age >= 60
    credit: +2
"""


def rb(tests: str, check: bool = True) -> object:
    if not check:  # what the checker would refuse (E03xx), to see the runner's own answer
        return analyse_text(HEAD + "tests:\n" + tests, "mem.rulebook", check=False).rulebook
    return load_text(HEAD + "tests:\n" + tests, "mem.rulebook")


def one(tests: str, check: bool = True) -> tester.TestResult:
    [result] = tester.run_tests(rb(tests, check))  # type: ignore[arg-type]
    return result


def test_a_passing_case() -> None:
    r = one("""\
  littering drops to B:
    events:
      - littering at 2018-07-01
      - good_deed at 2018-07-02T10:00, evidence: [photo, photo], km: 3
    expect:
      credit: 998
      tier: B
      sanctions: [mortgage refused]
      fines: 0
      lists: []
""")
    assert r.status == tester.PASS and r.passed
    assert r.mismatches == ()
    assert r.location == "mem.rulebook:" + str(r.span.line)
    assert [d.rule for d in r.decisions] == ["littering", "deed"]


def test_a_failing_expectation_names_its_span_expected_and_actual() -> None:
    r = one("""\
  wrong:
    events:
      - littering at 2018-07-01
    expect:
      tier: B
      credit: 999
""")
    assert r.status == tester.FAIL
    [m] = r.mismatches
    assert (m.key, m.expected, m.actual) == ("credit", "999", "997")
    text = (HEAD + "tests:\n").count("\n")
    assert m.span is not None and m.span.line == text + 6
    assert any("littering applied; credit -3" in line for line in r.evidence())
    assert r.audit_lines()[0].startswith('{"seq": 1, "line": 1,')


def test_fines_as_money_and_currency_checked() -> None:
    good = one("""\
  fined:
    events:
      - failed_to_yield at 2018-07-01
      - failed_to_yield at 2018-07-02
    expect:
      fines: 100 yuan
""")
    assert good.passed
    bad = one("""\
  fined in euros:
    events:
      - failed_to_yield at 2018-07-01
    expect:
      fines: 50 euro
""")
    assert bad.status == tester.FAIL
    assert "currency is yuan" in bad.mismatches[0].actual


def test_lists_are_sets_and_a_single_label_is_a_list() -> None:
    r = one("""\
  listed:
    events:
      - missed_payment at 2018-07-01
    expect:
      lists: debtors
      sanctions: [no air travel]
""")
    assert r.passed, r.mismatches


def test_subject_fields_and_as_of() -> None:
    r = one("""\
  old neighbour:
    subject:
      age: 70
    events:
      - kind_to_the_old at 2018-07-01
      - kind_to_the_old at 2018-08-01
    as of: 2018-07-15
    expect:
      credit: 1002
""")
    assert r.passed, r.mismatches
    outcomes = [d.outcome for d in r.decisions]
    assert outcomes == ["applied", "later"]


def test_unknown_key_fails_with_the_known_keys() -> None:
    r = one("""\
  typo:
    events:
      - littering at 2018-07-01
    expect:
      credits: 997
""", check=False)
    assert r.status == tester.FAIL
    assert "not a ledger" in r.mismatches[0].actual and "credit" in r.mismatches[0].actual


def test_tier_none() -> None:
    book = analyse_text("rulebook: t\nledgers:\n  x: 0\ntiers:\n  up: x > 0\nrules:\n  r:\n    on: e\n    x: -1\n"
                        "tests:\n  none:\n    events:\n      - e at 2020-01-01\n    expect:\n      tier: none\n      x: -1\n",
                        check=False).rulebook
    [r] = tester.run_tests(book)
    assert r.passed, r.mismatches


def test_a_run_error_is_an_error_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    from creditdsl import plan

    def refuse(_rb: object) -> None:
        raise CreditDslError([error("E0503", "bad --as-of: `2019-13-01` is not a valid date")])

    monkeypatch.setattr(plan, "compile_plan", refuse)
    r = one("""\
  any:
    events:
      - littering at 2018-07-01
    expect:
      credit: 997
""")
    assert r.status == tester.ERROR
    assert r.error is not None and "E0503" in r.error and "2019-13-01" in r.error


def test_an_internal_crash_is_reported_as_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from creditdsl import interpreter

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(interpreter, "run", boom)
    r = one("  any:\n    events:\n      - littering at 2018-07-01\n    expect:\n      credit: 997\n")
    assert r.status == tester.ERROR and "RuntimeError: boom" in (r.error or "")


def test_event_lines_are_exact_json_with_ids_in_order() -> None:
    book = rb("""\
  x:
    events:
      - good_deed at 2018-07-02T10:00, evidence: [video], km: 2.50
      - littering at 2018-07-03
    expect:
      credit: 1000
""")
    lines = tester.event_lines(book.tests[0])  # type: ignore[attr-defined]
    assert lines[0] == ('{"id": "t1", "subject": "subject", "type": "good_deed", "at": "2018-07-02T10:00", '
                        '"evidence": ["video"], "km": 2.50}'.replace("2.50", "2.5"))
    assert lines[1].startswith('{"id": "t2"')


def test_describe_shows_changes_and_tier_move() -> None:
    r = one("  x:\n    events:\n      - failed_to_yield at 2018-07-01\n    expect:\n      credit: 995\n")
    [line] = r.evidence()
    assert "yield applied" in line and "credit -5" in line and "fine 50" in line and "tier A -> B" in line


# ---------------------------------------------------------------- files and coverage


def write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


PARENT = """\
rulebook: parent
ledgers:
  credit: 10
rules:
  a:
    on: a
    credit: -1
  b:
    on: b
    credit: -2
triggers:
  low:
    when: credit < 5
    list: watched
lists:
  watched:
tests:
  a works:
    events:
      - a at 2020-01-01
    expect:
      credit: 9
"""

CHILD = """\
rulebook: child
extends: parent.rulebook
rules:
  c:
    on: c
    credit: -6
tests:
  b and the trigger, through the child:
    events:
      - b at 2020-01-01
      - c at 2020-01-02
    expect:
      credit: 2
      lists: [watched]
"""


def test_collect_is_recursive_sorted_and_unique(tmp_path: Path) -> None:
    write(tmp_path, "b/x.rulebook", PARENT)
    write(tmp_path, "a.rulebook", PARENT)
    write(tmp_path, "notes.txt", "x")
    found = tester.collect_rulebooks([tmp_path, tmp_path / "a.rulebook"])
    assert [Path(f).relative_to(tmp_path).as_posix() for f in found] == ["a.rulebook", "b/x.rulebook"]


def test_inherited_rules_count_for_the_file_defining_them(tmp_path: Path) -> None:
    write(tmp_path, "parent.rulebook", PARENT)
    write(tmp_path, "child.rulebook", CHILD)
    report = tester.test_paths([tmp_path])
    assert report.passed == 2 and report.failed == 0 and report.ok
    cov = tester.coverage(report)
    names = [(Path(u.origin).name, u.kind, u.name) for u in cov.units]
    assert names == [("child.rulebook", "rule", "c"), ("parent.rulebook", "rule", "a"),
                     ("parent.rulebook", "rule", "b"), ("parent.rulebook", "trigger", "low")]
    assert cov.uncovered == [] and cov.percent == Decimal(100)
    # the parent alone covers only `a`
    alone = tester.coverage(tester.test_paths([tmp_path / "parent.rulebook"]))
    assert [u.name for u in alone.uncovered] == ["b", "low"]
    assert alone.percent == Decimal("33.3")


def test_a_file_that_does_not_load_counts_as_failed(tmp_path: Path) -> None:
    write(tmp_path, "bad.rulebook", "rulebook: bad\nledgers:\n  credit: 1\nrules:\n  r:\n    on: x\n")
    report = tester.test_paths([tmp_path])
    [f] = report.files
    assert not f.loaded and f.diagnostics and report.failed == 1 and not report.ok
    data = tester.report_json(report, tester.coverage(report))
    assert data["summary"] == {"passed": 0, "failed": 1}
    assert data["files"][0]["errors"]


def test_report_json_keeps_mismatches(tmp_path: Path) -> None:
    write(tmp_path, "p.rulebook", PARENT.replace("credit: 9", "credit: 8"))
    report = tester.test_paths([tmp_path])
    data = tester.report_json(report, tester.coverage(report))
    [case] = data["files"][0]["tests"]
    assert case["status"] == "fail"
    assert case["mismatches"][0]["expected"] == "8" and case["mismatches"][0]["actual"] == "9"
    assert data["coverage"]["units"] == 3


# ---------------------------------------------------------------- the `test` verb and its report


def cli(*args: str) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from creditdsl.cli import app

    res = CliRunner().invoke(app, list(args))
    return res.exit_code, res.stdout, getattr(res, "stderr", "")


def test_cli_all_pass_with_full_coverage(tmp_path: Path) -> None:
    write(tmp_path, "parent.rulebook", PARENT)
    write(tmp_path, "child.rulebook", CHILD)
    code, out, _ = cli("test", str(tmp_path), "--coverage", "--fail-under", "100")
    assert code == 0, out
    assert out.splitlines()[-1] == "2 passed, 0 failed"
    assert "coverage: 100% of 4 rules and triggers (4 covered)" in out


def test_cli_failure_shows_location_expectation_actual_and_audit(tmp_path: Path) -> None:
    p = write(tmp_path, "p.rulebook", PARENT.replace("credit: 9", "credit: 8"))
    code, out, _ = cli("test", str(p))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == f"{p} F  0 passed, 1 failed"
    assert f"___ FAIL {p}:18: a works ___" in lines
    assert f"{p}:22: expect credit: 8" in lines
    assert any(line.strip() == "got: 9" for line in lines)
    assert any("t1 line 1: a applied; credit -1" in line for line in lines)
    assert lines[-1] == "0 passed, 1 failed"


def test_cli_fail_under(tmp_path: Path) -> None:
    p = write(tmp_path, "parent.rulebook", PARENT)
    code, out, _ = cli("test", str(p), "--fail-under", "50")
    assert code == 1
    assert "not covered:" in out and "trigger `low`" in out
    assert out.splitlines()[-1] == "1 passed, 0 failed"
    code, _, _ = cli("test", str(p), "--fail-under", "33.3")
    assert code == 0
    code, _, _ = cli("test", str(p), "--fail-under", "lots")
    assert code == 2


def test_cli_missing_path_and_empty_folder(tmp_path: Path) -> None:
    assert cli("test", str(tmp_path / "nope"))[0] == 1
    assert cli("test", str(tmp_path))[0] == 1


def test_cli_json(tmp_path: Path) -> None:
    import json

    p = write(tmp_path, "parent.rulebook", PARENT)
    code, out, _ = cli("test", str(p), "--format", "json", "--coverage")
    assert code == 0
    doc = json.loads(out)
    assert doc["summary"] == {"passed": 1, "failed": 0}
    assert doc["coverage"]["units"] == 3 and len(doc["coverage"]["uncovered"]) == 2
