"""`creditdsl run --save-state FILE` and `--resume FILE` (LANGUAGE.md §12 "Continuing a run").

Uses issue 4's "Done when" data (tests/golden/run/time_done): the 2020 events run with
`--as-of 2021-01-01 --save-state S`, then the remaining events with `--resume S`, give
the one run's JSON result byte for byte, and the two audit files concatenate into its
audit file.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from creditdsl import cli

DONE = Path(__file__).resolve().parent.parent / "golden" / "run" / "time_done"


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("time.rulebook", "events.jsonl", "events_2020.jsonl", "events_rest.jsonl"):
        shutil.copy(DONE / name, tmp_path / name)
    return tmp_path


def call(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        cli.main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return exc.value.code, out, err


def test_save_then_resume_equals_one_run(files, capsys):
    code, whole, _ = call(capsys, "run", "time.rulebook", "events.jsonl", "--format", "json", "--audit", "whole.audit")
    assert code == 0
    code, first, _ = call(capsys, "run", "time.rulebook", "events_2020.jsonl", "--as-of", "2021-01-01",
                          "--save-state", "2020.state", "--format", "json", "--audit", "first.audit")
    assert code == 0
    state = json.loads((files / "2020.state").read_text())
    assert (state["format"], state["version"], state["rulebook"]) == ("creditdsl-state", 1, "Time")
    assert state["as_of"] == "2021-01-01T00:00:00+01:00"
    assert json.loads(first)["as_of"] == "2021-01-01T00:00:00+01:00"
    code, resumed, _ = call(capsys, "run", "time.rulebook", "events_rest.jsonl", "--resume", "2020.state",
                            "--format", "json", "--audit", "rest.audit")
    assert code == 0
    assert resumed == whole
    audit = (files / "first.audit").read_text() + (files / "rest.audit").read_text()
    assert audit == (files / "whole.audit").read_text()
    # the Done-when counts come through the state
    summary = json.loads(resumed)["summary"]
    assert (summary["remedied"], summary["skipped"], summary["unmatched"], summary["applied"]) == (1, 1, 2, 8)


def test_resume_and_save_in_one_run_may_name_the_same_file(files, capsys):
    assert call(capsys, "run", "time.rulebook", "events_2020.jsonl", "--as-of", "2021-01-01",
                "--save-state", "s.state", "--format", "json")[0] == 0
    code, out, _ = call(capsys, "run", "time.rulebook", "events_rest.jsonl", "--resume", "s.state",
                        "--save-state", "s.state", "--as-of", "2022-06-02", "--format", "json")
    assert code == 0
    assert json.loads((files / "s.state").read_text())["as_of"] == "2022-06-02T00:00:00+02:00"
    # resuming again with no events gives the same result at the saved as_of
    (files / "none.jsonl").write_text("")
    code, again, _ = call(capsys, "run", "time.rulebook", "none.jsonl", "--resume", "s.state", "--format", "json")
    assert code == 0 and json.loads(again)["subjects"] == json.loads(out)["subjects"]
    assert json.loads(again)["as_of"] == "2022-06-02T00:00:00+02:00"


def test_missing_state_file_is_e0501(files, capsys):
    code, out, err = call(capsys, "run", "time.rulebook", "events_rest.jsonl", "--resume", "nope.state")
    assert code == 1 and out == ""
    assert "E0501" in err and "nope.state" in err


@pytest.mark.parametrize("text, words", [
    ("not json at all", "not a creditdsl state file"),
    ('{"format": "something else"}', "not a creditdsl state file"),
    ('{"format": "creditdsl-state", "version": 99}', "version 99"),
    ('{"format": "creditdsl-state", "version": 1}', "damaged"),
    ('[1, 2]', "not a creditdsl state file"),
])
def test_unusable_state_file_is_e0505(files, capsys, text, words):
    (files / "bad.state").write_text(text)
    code, out, err = call(capsys, "run", "time.rulebook", "events_rest.jsonl", "--resume", "bad.state",
                          "--save-state", "out.state", "--audit", "a.audit")
    assert code == 1 and out == ""
    assert "E0505" in err and words in err
    # nothing half-written is left behind
    assert not (files / "out.state").exists() and not (files / "a.audit").exists()


def test_state_of_another_rulebook_is_refused(files, capsys):
    assert call(capsys, "run", "time.rulebook", "events_2020.jsonl", "--save-state", "s.state")[0] == 0
    other = (files / "time.rulebook").read_text().replace("credit: -1\n", "credit: -2\n")
    (files / "other.rulebook").write_text(other)
    code, _, err = call(capsys, "run", "other.rulebook", "events_rest.jsonl", "--resume", "s.state")
    assert code == 1 and "E0505" in err and "another rulebook" in err
