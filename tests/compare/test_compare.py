"""compare_runs and `creditdsl compare` (issue 6): a rulebook compared with itself, goldens of
the shipped Rongcheng and Dongdao Lu Jia rulebooks over examples/compare/events.jsonl,
each rulebook reading times in its own timezone, and the CLI's exit codes."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from creditdsl import cli
from creditdsl.cli import app
from creditdsl.compare import NONE_KEY, compare_runs
from creditdsl.pipeline import load, load_text
from creditdsl.render import comparison_json

ROOT = Path(__file__).resolve().parents[2]
RULEBOOKS = sorted((ROOT / "rulebooks").glob("*.rulebook"))
LOG = "examples/compare/events.jsonl"
PAIR = ["rulebooks/rongcheng.rulebook", "rulebooks/dongdao_lu_jia.rulebook"]


@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def invoke(*argv: str):
    result = CliRunner().invoke(app, list(argv), env={"COLUMNS": "100", "NO_COLOR": "1"})
    assert "Traceback" not in result.output
    return result


# ---------------------------------------------------------------- a rulebook with itself


@pytest.mark.parametrize("path", RULEBOOKS, ids=lambda p: p.stem)
def test_a_rulebook_compared_with_itself_shows_no_difference(path: Path) -> None:
    example = ROOT / "examples" / path.stem
    subjects = example / "subjects.jsonl"
    rb, _, _ = load(str(path))
    c = compare_runs([rb, rb], str(example / "events.jsonl"), subjects=str(subjects) if subjects.exists() else None)
    assert c.subjects, "the example names subjects"
    assert not c.differs
    assert all(not s.differs and not s.because for s in c.subjects)
    (mg,) = c.migrations
    assert mg.diagonal
    assert mg.rows == mg.columns
    assert sum(map(sum, mg.counts)) == len(c.subjects)
    for i, row in enumerate(mg.rows):
        assert mg.counts[i][i] == dict(c.distributions[0])[row]
    assert c.distributions[0] == c.distributions[1]


def test_three_copies_give_every_pair_in_argument_order(at_root) -> None:
    rb, _, _ = load(PAIR[0])
    c = compare_runs([rb, rb, rb], LOG)
    assert [(m.first, m.second) for m in c.migrations] == [(0, 1), (0, 2), (1, 2)]
    assert all(m.diagonal for m in c.migrations)


# ---------------------------------------------------------------- the shipped pair


def test_shipped_pair_table_golden(at_root, golden) -> None:
    result = invoke("compare", *PAIR, "--events", LOG)
    assert result.exit_code == 0
    golden("compare/golden/rongcheng_dongdao.txt", result.output)


def test_shipped_pair_json_golden(at_root, golden) -> None:
    result = invoke("compare", *PAIR, "--events", LOG, "--format", "json")
    assert result.exit_code == 0
    golden("compare/golden/rongcheng_dongdao.json", result.output)
    doc = json.loads(result.output, parse_float=Decimal)
    assert list(doc) == ["rulebooks", "subjects", "migration", "distribution"]
    assert doc["rulebooks"] == ["Rongcheng social credit (as reported)", "Dongdao Lu Jia village handbook"]
    ids = [s["subject"] for s in doc["subjects"]]
    assert ids == sorted(ids)
    for s in doc["subjects"]:
        assert list(s) == ["subject", "tiers", "ledgers", "fines", "lists", "differs", "because"]
        for b in s["because"]:
            assert list(b) == ["event", "type", "rules", "changes"]
            assert len(b["rules"]) == len(b["changes"]) == 2
    (mg,) = doc["migration"]
    assert (mg["from"], mg["to"]) == tuple(doc["rulebooks"])
    assert sum(n for row in mg["matrix"].values() for n in row.values()) == len(doc["subjects"])


def test_shipped_pair_attributes_differences_to_events(at_root) -> None:
    c = compare_runs(PAIR, LOG)
    zhou = next(s for s in c.subjects if s.subject == "zhou-yan")
    # three escorts count (the limit is 2 per month, and c020 at 23:30 UTC on 31 July is
    # 1 August in Shanghai); the third July escort (c011) is skipped by Dongdao and not
    # handled by Rongcheng, so it is no difference
    events = [b.event for b in zhou.because]
    assert events == ["c003", "c008", "c020", "c021", "c024"]
    assert zhou.because[0].scores[1].rules == ("taking an older person to hospital or market",)
    assert dict(zhou.because[0].scores[1].changes) == {"credit": Decimal(1)}
    assert zhou.because[0].scores[0].rules == ()
    sun = next(s for s in c.subjects if s.subject == "sun-li")
    petition = sun.because[0]
    assert petition.type == "petitioned_higher_government"
    assert petition.scores[1].fine == Decimal(1000) and petition.scores[1].changes == ()


# ---------------------------------------------------------------- time: each rulebook's own zone

ZONED = """\
rulebook: {name}
timezone: {tz}
ledgers:
  credit: 100
tiers:
  A: credit >= 100
  B: otherwise
rules:
  help:
    on: help
    credit: +1
    limit: 1 per day
"""

ZONED_EVENTS = [
    '{"id": "e1", "subject": "s1", "type": "help", "at": "2019-01-01T23:00:00+00:00"}',
    '{"id": "e2", "subject": "s1", "type": "help", "at": "2019-01-02T01:00:00+00:00"}',
    '{"id": "e3", "subject": "s2", "type": "help", "at": "2019-01-01T20:00:00"}',
]


def _zoned(tmp_path: Path):
    utc = load_text(ZONED.format(name="utc", tz="UTC"), str(tmp_path / "utc.rulebook"))
    sh = load_text(ZONED.format(name="shanghai", tz="Asia/Shanghai"), str(tmp_path / "sh.rulebook"))
    return utc, sh


def test_each_rulebook_counts_its_own_days(tmp_path) -> None:
    utc, sh = _zoned(tmp_path)
    c = compare_runs([utc, sh], ZONED_EVENTS)
    s1 = c.subjects[0]
    # 23:00 and 01:00 UTC are two days in UTC, one day (07:00 and 09:00) in Shanghai
    assert [dict(x)["credit"] for x in s1.ledgers] == [Decimal(102), Decimal(101)]
    assert s1.differs
    assert [b.event for b in s1.because] == ["e2"]
    assert s1.because[0].scores[0].rules == ("help",) and s1.because[0].scores[1].rules == ()


def test_each_rulebook_reads_as_of_in_its_own_zone(tmp_path) -> None:
    utc, sh = _zoned(tmp_path)
    # 2019-01-02 starts at 00:00 UTC, and at 16:00 UTC the day before in Shanghai
    c = compare_runs([utc, sh], ZONED_EVENTS, as_of="2019-01-02")
    by = {s.subject: s for s in c.subjects}
    assert [dict(x)["credit"] for x in by["s1"].ledgers] == [Decimal(101), Decimal(100)]
    assert c.schemes[0].result.summary.later == 1 and c.schemes[1].result.summary.later == 2
    # s2's naive 20:00 is in the UTC run's past and in Shanghai's (12:00 UTC), so both score it
    assert [dict(x)["credit"] for x in by["s2"].ledgers] == [Decimal(101), Decimal(101)]
    assert not by["s2"].differs


def test_a_subject_one_scheme_never_meets_is_in_its_start_state(tmp_path) -> None:
    utc, sh = _zoned(tmp_path)
    events = ['{"id": "x", "subject": "late", "type": "help", "at": "2019-01-01T18:00:00+00:00"}']
    c = compare_runs([utc, sh], events, as_of="2019-01-02")
    (row,) = c.subjects
    assert row.subject == "late"
    assert row.tiers == ("A", "A")
    assert [dict(x)["credit"] for x in row.ledgers] == [Decimal(101), Decimal(100)]


def test_no_tier_is_null_and_none_key(tmp_path) -> None:
    a = load_text("rulebook: a\nledgers:\n  credit: 0\ntiers:\n  A: credit > 0\nrules:\n  up:\n    on: up\n    credit: +1\n",
                  str(tmp_path / "a.rulebook"))
    events = ['{"id": "1", "subject": "p", "type": "up", "at": "2020-01-01"}',
              '{"id": "2", "subject": "q", "type": "other", "at": "2020-01-01"}']
    c = compare_runs([a, a], events)
    doc = json.loads(comparison_json(c))
    assert [s["tiers"] for s in doc["subjects"]] == [["A", "A"], [None, None]]
    assert doc["migration"][0]["matrix"] == {"A": {"A": 1, NONE_KEY: 0}, NONE_KEY: {"A": 0, NONE_KEY: 1}}
    assert doc["distribution"] == [{"A": 1, NONE_KEY: 1}, {"A": 1, NONE_KEY: 1}]


def test_output_is_byte_identical(at_root) -> None:
    first = comparison_json(compare_runs(PAIR, LOG))
    assert first == comparison_json(compare_runs(PAIR, LOG))


# ---------------------------------------------------------------- CLI


def test_cli_needs_two_rulebooks(at_root) -> None:
    result = invoke("compare", PAIR[0], "--events", LOG)
    assert result.exit_code == 2


def test_cli_missing_files_are_e0501(at_root, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["compare", *PAIR, "--events", "no/such.jsonl"])
    out, err = capsys.readouterr()
    assert exc.value.code == 1 and out == ""
    assert "E0501" in err and "no/such.jsonl" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exc:
        cli.main(["compare", PAIR[0], "rulebooks/none.rulebook", "--events", LOG])
    out, err = capsys.readouterr()
    assert exc.value.code == 1 and "E0501" in err and "rulebooks/none.rulebook" in err


def test_cli_bad_as_of_is_usage(at_root, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["compare", *PAIR, "--events", LOG, "--as-of", "yesterday"])
    _, err = capsys.readouterr()
    assert exc.value.code == 2 and "E0503" in err


def test_cli_reports_invalid_lines_and_goes_on(tmp_path, capsys) -> None:
    log = tmp_path / "e.jsonl"
    log.write_text('{"id": "1", "subject": "p", "type": "littering", "at": "2018-07-01"}\nnot json\n')
    with pytest.raises(SystemExit) as exc:
        cli.main(["compare", str(ROOT / PAIR[0]), str(ROOT / PAIR[1]), "--events", str(log), "--format", "json"])
    out, err = capsys.readouterr()
    assert exc.value.code == 0
    assert f"{log}:2:" in err
    assert json.loads(out)["subjects"][0]["subject"] == "p"


def test_cli_output_file(at_root, tmp_path, capsys) -> None:
    target = tmp_path / "c.json"
    with pytest.raises(SystemExit) as exc:
        cli.main(["compare", *PAIR, "--events", LOG, "--format", "json", "--output", str(target)])
    out, _ = capsys.readouterr()
    assert exc.value.code == 0 and out == ""
    assert target.read_text(encoding="utf-8") == comparison_json(compare_runs(PAIR, LOG))
    with pytest.raises(SystemExit) as exc:
        cli.main(["compare", *PAIR, "--events", LOG, "--output", str(tmp_path / "no" / "dir" / "c.txt")])
    _, err = capsys.readouterr()
    assert exc.value.code == 1 and "E0504" in err
