"""Outputs are written whole or not at all; --rejects holds exactly the invalid lines."""

import json
import os

import pytest

from creditdsl import cli
from creditdsl.outputs import atomic_output

RULEBOOK = "rulebook: x\nledgers:\n  credit: 1000\nrules:\n  littering:\n    on: littering\n    credit: -3\n"
EVENTS = (
    '{"id": "e1", "subject": "s1", "type": "littering", "at": "2019-01-07"}\n'
    "not json\n"
    "\n"
    '{"id": "e2", "type": "littering", "at": "2019-01-07"}\n'
    '{"id": "e3", "subject": "s2", "type": "littering", "at": "2019-01-08"}\n'
)


def test_atomic_output_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(str(target)) as f:
            f.write("partial")
            raise KeyboardInterrupt
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["out.txt"]
    with atomic_output(str(target)) as f:
        f.write("new\n")
    assert target.read_text() == "new\n"


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.rulebook").write_text(RULEBOOK)
    (tmp_path / "e.jsonl").write_text(EVENTS)
    return tmp_path


def main(*args):
    with pytest.raises(SystemExit) as exc:
        cli.main(list(args))
    return exc.value.code


def test_rejects_hold_exactly_the_invalid_lines(files, capsys):
    assert main("run", "r.rulebook", "e.jsonl", "--rejects", "rej.jsonl", "--format", "json",
                "--output", "out.json") == 0
    rejects = [json.loads(line) for line in (files / "rej.jsonl").read_text().splitlines()]
    assert [(r["line"], r["code"]) for r in rejects] == [(2, "E0401"), (4, "E0403")]
    doc = json.loads((files / "out.json").read_text())
    assert doc["summary"]["invalid"] == len(rejects)
    assert doc["summary"]["lines"] == 4  # non-blank input lines
    assert capsys.readouterr().out == ""


def test_interrupted_run_leaves_no_output_and_exits_130(files, monkeypatch):
    from creditdsl import interpreter

    def interrupted(*args, audit=None, **kw):
        audit.stream.write('{"seq": 1')  # a partial audit line is already in the temporary file
        raise KeyboardInterrupt

    monkeypatch.setattr(interpreter, "run", interrupted)
    assert main("run", "r.rulebook", "e.jsonl", "--audit", "a.jsonl", "--rejects", "rej.jsonl",
                "--output", "out.txt") == 130
    assert sorted(os.listdir(files)) == ["e.jsonl", "r.rulebook"]


def test_outputs_get_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_output(str(tmp_path / "report.html")) as f:
            f.write("x")
    finally:
        os.umask(old)
    assert (tmp_path / "report.html").stat().st_mode & 0o777 == 0o644


def test_run_with_workers_is_byte_identical_through_the_cli(files):
    lines = "".join(
        f'{{"id": "e{i}", "subject": "s{i % 7}", "type": "littering", "at": "2019-01-{i % 28 + 1:02d}"}}\n'
        for i in range(60)
    )
    (files / "many.jsonl").write_text(lines + "not json\n")  # not sorted by time: the parent dispatches
    by_time = sorted(lines.splitlines(True), key=lambda x: x[-15:])
    (files / "sorted.jsonl").write_text("".join(by_time[:30]) + "not json\n" + "".join(by_time[30:]))  # self-read
    for log in ("many", "sorted"):
        for n in ("1", "3"):
            assert main("run", "r.rulebook", f"{log}.jsonl", "--workers", n, "--format", "json", "--output",
                        f"out{n}.json", "--audit", f"audit{n}.jsonl", "--rejects", f"rej{n}.jsonl") == 0
        for name in ("out{}.json", "audit{}.jsonl", "rej{}.jsonl"):
            assert (files / name.format(1)).read_bytes() == (files / name.format(3)).read_bytes()


def test_workers_refuse_stdin_and_state(files):
    assert main("run", "r.rulebook", "-", "--workers", "2") == 2
    assert main("run", "r.rulebook", "e.jsonl", "--workers", "2", "--save-state", "s.json") == 2


def test_the_json_result_is_written_in_chunks_with_the_same_text(tmp_path):
    """run --format json writes the result piece by piece (results.result_json_chunks):
    the pieces join to result_json's text whatever their size, and the CLI's file is it."""
    from rbbuild import rongcheng

    from creditdsl.interpreter import run
    from creditdsl.results import result_json, result_json_chunks

    lines = [json.dumps({"id": f"e{i}", "subject": f"p{i % 7}", "type": "littering",
                         "at": f"2019-01-{1 + i % 28:02d}T10:00:00+08:00"}) for i in range(40)]
    result = run(rongcheng(), lines)
    whole = result_json(result)
    assert json.loads(whole)["summary"]["lines"] == 40
    for size in (1, 2, 3, 100):
        pieces = list(result_json_chunks(result, per_chunk=size))
        assert "".join(pieces) == whole
        assert len(pieces) > 1 or size == 100


def test_the_chunked_json_result_is_the_documents_text(tmp_path):
    """result_json_chunks writes each subject with an f-string and caches (ledger names,
    label tuples, numbers): its text is dumps(result.to_json()) — subjects with quotes,
    backslashes, DEL and non-ASCII, no tier, lists, sanctions, privileges, fines, fractions."""
    from creditdsl.interpreter import run
    from creditdsl.pipeline import load_text
    from creditdsl.results import dumps, result_json_chunks

    rb = load_text(
        "rulebook: Chunks\ncurrency: yuan\nledgers:\n  credit: 100\n  civic: 0\n"
        "lists:\n  watch:\n    sanctions: [no travel]\n    privileges: [\"fast \\\"lane\\\"\"]\n"
        "tiers:\n  A: credit >= 100\n  B: credit >= 99\n"
        "sanctions:\n  B: [mortgage refused, \"caf\u00e9\"]\nprivileges:\n  A: [deposits waived]\n"
        "rules:\n  bad:\n    on: bad\n    credit: -0.5\n    fine: 12.5 yuan\n"
        "  listed:\n    on: listed\n    list: watch\n  worse:\n    on: worse\n    credit: -10\n")
    names = ["p1", 'q"uote', "back\\slash", "del\x7f", "\u00fcml", "tab\tx", "p2"]
    lines = [json.dumps({"id": f"e{i}", "subject": names[i % len(names)], "type": t,
                         "at": f"2019-01-{1 + i % 28:02d}T10:00:00+08:00"})
             for i, t in enumerate(["bad", "listed", "nothing"] * 7)]
    lines.append(json.dumps({"id": "w", "subject": "p2", "type": "worse", "at": "2019-02-01T10:00:00+08:00"}))
    result = run(rb, lines, subjects=[{"id": "never seen"}])
    doc = result.to_json()
    subjects = doc["subjects"]
    assert {s["subject"] for s in subjects} == set(names) | {"never seen"}
    assert any(s["tier"] is None for s in subjects) and any(s["tier"] == "B" for s in subjects)
    assert any(s["lists"] and s["privileges"] for s in subjects) and any(s["sanctions"] for s in subjects)
    assert any(s["fines"] for s in subjects)
    assert "".join(result_json_chunks(result, per_chunk=3)) == dumps(doc) + "\n"
