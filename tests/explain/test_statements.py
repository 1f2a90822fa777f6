"""statements: periods end at the end of DAY in the rulebook's timezone; golden weekly list
of negative changes for the Dongdao Lu Jia example (Teng Jia's Friday broadcast)."""

from __future__ import annotations

from pathlib import Path

import pytest

from creditdsl.cli import main
from creditdsl.pipeline import load
from creditdsl.render import statements_csv, statements_json, statements_text
from creditdsl.statements import StatementError, statements

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def _dongdao():
    rb, _, _ = load("rulebooks/dongdao_lu_jia.rulebook")
    return rb


def test_weekly_negative_changes_golden(golden) -> None:
    docs = [s.to_json() for s in statements(_dongdao(), "examples/dongdao_lu_jia/events.jsonl", every="week",
                                            on="friday", only="lost")]
    golden("explain/golden/dongdao_lu_jia-weekly-lost.txt", statements_text(docs))
    golden("explain/golden/dongdao_lu_jia-weekly-lost.csv", statements_csv(docs))


def test_periods_cover_time_without_gaps() -> None:
    for every, on in (("week", None), ("week", "friday"), ("month", None), ("month", "20")):
        sts = statements(_dongdao(), "examples/dongdao_lu_jia/events.jsonl", every=every, on=on)
        assert sts
        for a, b in zip(sts, sts[1:]):
            assert a.end == b.start
        for s in sts:
            assert s.end.hour == 0 and s.end.minute == 0 and s.end.utcoffset().total_seconds() == 8 * 3600
            for e in s.subjects:
                assert all(s.start <= i.at < s.end for i in e.items)
        assert sts[-1].partial and not any(s.partial for s in sts[:-1])
    weekly = statements(_dongdao(), "examples/dongdao_lu_jia/events.jsonl", every="week", on="friday")
    assert all(s.end.weekday() == 5 for s in weekly)  # the end of Friday is Saturday 00:00
    monthly = statements(_dongdao(), "examples/dongdao_lu_jia/events.jsonl", every="month", on="20")
    assert all(s.end.day == 21 for s in monthly)


def test_only_filters_and_totals_agree_with_the_audit() -> None:
    rb = _dongdao()
    every = statements(rb, "examples/dongdao_lu_jia/events.jsonl", every="month")
    lost = statements(rb, "examples/dongdao_lu_jia/events.jsonl", every="month", only="lost")
    gained = statements(rb, "examples/dongdao_lu_jia/events.jsonl", every="month", only="gained")
    from creditdsl import interpreter

    result = interpreter.run(rb, "examples/dongdao_lu_jia/events.jsonl")
    for s in result.subjects:
        total = sum((e.changes.get("credit", 0) for st in every for e in st.subjects if e.subject == s.subject), 0)
        assert 100 + total == s.ledger("credit")
    assert all(v < 0 for st in lost for e in st.subjects for i in e.items for v in i.changes.values())
    assert all(v > 0 for st in gained for e in st.subjects for i in e.items for v in i.changes.values())


@pytest.mark.parametrize("every,on", [("week", "someday"), ("month", "29"), ("month", "0"), ("fortnight", None)])
def test_bad_arguments(every, on) -> None:
    with pytest.raises(StatementError):
        statements(_dongdao(), "examples/dongdao_lu_jia/events.jsonl", every=every, on=on)


def _cli(capsys, *args) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_cli_statements(capsys) -> None:
    code, out, _ = _cli(capsys, "statements", "rulebooks/dongdao_lu_jia.rulebook", "examples/dongdao_lu_jia/events.jsonl",
                        "--every", "week", "--on", "friday", "--only", "lost")
    assert code == 0 and "letting chickens out" in out
    code, out, _ = _cli(capsys, "statements", "rulebooks/dongdao_lu_jia.rulebook", "examples/dongdao_lu_jia/events.jsonl",
                        "--every", "month", "--format", "json")
    assert code == 0 and out.lstrip().startswith('{\n  "statements"')
    code, _, err = _cli(capsys, "statements", "rulebooks/dongdao_lu_jia.rulebook", "examples/dongdao_lu_jia/events.jsonl",
                        "--every", "month", "--on", "31")
    assert code == 2 and "1 to 28" in err


def test_cli_explain(capsys, tmp_path) -> None:
    code, out, _ = _cli(capsys, "explain", "rulebooks/rongcheng.rulebook", "examples/rongcheng/events.jsonl", "bai-ge")
    assert code == 0 and "Path back" in out
    code, out, err = _cli(capsys, "explain", "rulebooks/rongcheng.rulebook", "examples/rongcheng/events.jsonl", "nobody")
    assert code == 1 and "no subject `nobody`" in err and "Traceback" not in err
    page = tmp_path / "x.html"
    code, _, _ = _cli(capsys, "explain", "rulebooks/rongcheng.rulebook", "examples/rongcheng/events.jsonl", "bai-ge",
                      "--format", "html", "--output", str(page))
    assert code == 0 and page.read_text().startswith("<!DOCTYPE html>")
    code, _, err = _cli(capsys, "explain", "rulebooks/rongcheng.rulebook", "examples/rongcheng/events.jsonl", "bai-ge",
                        "--horizon", "soon")
    assert code == 2
    code, out, _ = _cli(capsys, "explain", "rulebooks/rongcheng.rulebook", "examples/rongcheng/events.jsonl", "bai-ge",
                        "--format", "json", "--as-of", "2018-06-01")
    assert code == 0 and '"as_of": "2018-06-01T00:00:00+08:00"' in out
