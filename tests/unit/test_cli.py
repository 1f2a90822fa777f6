"""cli.py: verbs, exit codes (0 ok, 1 input wrong, 2 usage, 3 internal, 141 closed stdout),
and the promise that no Python traceback reaches a user.

Most cases call ``cli.main(argv)`` in-process (it always ends in SystemExit);
a few run the real console script in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from creditdsl import cli

GOOD = """\
rulebook: demo
timezone: Asia/Shanghai
currency: yuan
ledgers:
  credit: 1000
tiers:
  A: credit >= 1000
  B: credit >= 960
  D: otherwise
sanctions:
  B: [mortgage refused]
rules:
  littering:
    on: littering
    credit: -3
"""

BAD = GOOD.replace("    credit: -3", "    credt: -3")

WARN = """\
rulebook: demo
ledgers:
  credit: 1000
tiers:
  A: credit >= 1000
rules:
  littering:
    on: littering
    credit: -3
"""

EVENTS = "\n".join(
    [
        '{"id": "e1", "subject": "s1", "type": "littering", "at": "2019-01-07"}',
        '{"id": "e2", "type": "littering", "at": "2019-01-07"}',
        "not json",
        '{"id": "e1", "subject": "s1", "type": "littering", "at": "2019-01-07"}',
        '{"id": "e3", "subject": "s2", "type": "littering", "at": "2019-01-08"}',
    ]
) + "\n"

VALID_EVENTS = '{"id": "e1", "subject": "s1", "type": "littering", "at": "2019-01-07"}\n'


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, text in {
        "good.rulebook": GOOD,
        "bad.rulebook": BAD,
        "warn.rulebook": WARN,
        "events.jsonl": EVENTS,
        "valid.jsonl": VALID_EVENTS,
    }.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def call(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        cli.main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return exc.value.code, out, err


# ---------------------------------------------------------------- check


def test_check_clean_is_silent(files, capsys):
    assert call(capsys, "check", "good.rulebook") == (0, "", "")


def test_check_warnings_exit_0_and_are_shown(files, capsys):
    code, out, err = call(capsys, "check", "warn.rulebook")
    assert code == 0 and out == ""
    assert "warning[W0302]" in err
    assert err.rstrip().endswith("warning: `warn.rulebook` generated 1 warning")


def test_check_errors_exit_1(files, capsys):
    code, out, err = call(capsys, "check", "bad.rulebook")
    assert code == 1 and out == ""
    assert "error[E0301]: unknown ledger `credt`" in err
    assert "  --> bad.rulebook:15:5" in err
    assert "= help: did you mean `credit`?" in err
    assert err.rstrip().endswith("error: could not check `bad.rulebook` (1 error, 0 warnings)")


def test_check_several_files(files, capsys):
    code, _, err = call(capsys, "check", "good.rulebook", "bad.rulebook", "warn.rulebook")
    assert code == 1
    assert "could not check `good.rulebook`, `bad.rulebook`, `warn.rulebook` (1 error, 1 warning)" in err


@pytest.mark.parametrize("path", ["missing.rulebook", "sub/dir/none.rulebook"])
def test_check_missing_file_names_the_path(files, capsys, path):
    code, _, err = call(capsys, "check", path)
    assert code == 1
    assert "error[E0501]" in err and path in err


def test_check_directory(files, capsys):
    (files / "adir").mkdir()
    code, _, err = call(capsys, "check", "adir")
    assert code == 1 and "E0501" in err and "adir" in err


def test_check_unreadable_file(files, capsys, monkeypatch):
    # chmod 0 cannot stop root (CI runs as root), so the read itself is made to fail.
    from pathlib import Path

    p = files / "secret.rulebook"
    p.write_text(GOOD)
    real = Path.read_bytes

    def refuse(self):
        if self.name == "secret.rulebook":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    code, _, err = call(capsys, "check", "secret.rulebook")
    assert code == 1 and "E0501" in err and "secret.rulebook" in err and "Permission denied" in err


def test_check_json(files, capsys):
    code, out, err = call(capsys, "check", "--format", "json", "bad.rulebook", "warn.rulebook")
    assert code == 1 and err == ""
    doc = json.loads(out)
    assert doc["errors"] == 1 and doc["warnings"] == 1
    assert [d["code"] for d in doc["diagnostics"]] == ["E0301", "W0302"]
    assert doc["diagnostics"][0]["location"]["file"] == "bad.rulebook"


def test_check_json_clean(files, capsys):
    code, out, _ = call(capsys, "check", "--format", "json", "good.rulebook")
    assert code == 0 and json.loads(out) == {"diagnostics": [], "errors": 0, "warnings": 0}


def test_check_max_errors(files, capsys):
    code, _, err = call(capsys, "check", "--max-errors", "1", "bad.rulebook", "missing.rulebook")
    assert code == 1
    assert err.count("error[") == 1 and "… and 1 more" in err
    assert "(2 errors, 0 warnings)" in err


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x00\x01\x02\xff\xfe binary",
        b"\xef\xbb\xbfrulebook: bom\n",
        b"(" * 3000 + b"\n",
        b"rulebook: x\ntiers:\n  A: " + b"(" * 3000 + b"credit" + b")" * 3000 + b"\n",
        b"rulebook: x\n\tledgers:\n",
        b":::: ---- [[[ \"\n",
        b"rulebook: x\n" + b"a" * 200_000 + b"\n",
        b"rulebook: x\nrules:\n  r:\n    on: e\n    credit: \xe2\x80\xae-3\n",
        b"",
    ],
)
def test_garbage_never_tracebacks(files, capsys, garbage):
    (files / "g.rulebook").write_bytes(garbage)
    code, _, _ = call(capsys, "check", "g.rulebook")
    assert code in (0, 1)
    code, _, _ = call(capsys, "compile", "g.rulebook")
    assert code in (0, 1)
    code, _, _ = call(capsys, "run", "g.rulebook", "events.jsonl")
    assert code in (0, 1)


# ---------------------------------------------------------------- usage


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["bogus"],
        ["check"],
        ["check", "--nope", "good.rulebook"],
        ["check", "--max-errors", "x", "good.rulebook"],
        ["check", "--format", "yaml", "good.rulebook"],
        ["run", "good.rulebook"],
        ["run", "good.rulebook", "events.jsonl", "--format", "xml"],
        ["compile"],
    ],
)
def test_usage_errors_exit_2(files, capsys, argv):
    code, out, err = call(capsys, *argv)
    assert code == 2
    assert "Usage:" in out + err


def test_help_documents_exit_codes(capsys):
    for argv in (["--help"], ["run", "--help"], ["check", "--help"]):
        code, out, _ = call(capsys, *argv)
        assert code == 0
        text = " ".join(out.split())
        assert "Exit codes: 0 success" in text and "2 usage" in text and "3 internal error" in text


def test_version(capsys):
    code, out, _ = call(capsys, "--version")
    assert code == 0 and out.startswith("creditdsl ")


# ---------------------------------------------------------------- compile


def test_compile_json(files, capsys):
    code, out, err = call(capsys, "compile", "good.rulebook")
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert doc["name"] == "demo"
    assert "span" not in out
    assert json.loads(out, parse_float=str)["ledgers"][0]["start"] == 1000  # a JSON number, not a string


def test_compile_errors(files, capsys):
    code, out, err = call(capsys, "compile", "bad.rulebook")
    assert code == 1 and out == ""
    assert "error[E0301]" in err and "could not compile `bad.rulebook`" in err


def test_compile_missing(files, capsys):
    code, _, err = call(capsys, "compile", "nope.rulebook")
    assert code == 1 and "nope.rulebook" in err


# ---------------------------------------------------------------- run


def test_run_table_and_invalid_lines(files, capsys):
    code, out, err = call(capsys, "run", "good.rulebook", "events.jsonl")
    assert code == 0
    assert "events.jsonl:2: missing required field `subject`" in err
    assert err.splitlines()[1].startswith("events.jsonl:3: ")
    assert "│ s1      │ B    │    997 │" in out
    assert "duplicate: 1, invalid: 2" in out


def test_run_strict_fails_after_the_whole_run(files, capsys):
    code, out, err = call(capsys, "run", "--strict", "good.rulebook", "events.jsonl", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["summary"]["invalid"] == 2 and doc["summary"]["lines"] == 5
    assert "events.jsonl:3:" in err


def test_run_strict_clean_is_0(files, capsys):
    code, out, err = call(capsys, "run", "--strict", "good.rulebook", "valid.jsonl", "--format", "json")
    assert code == 0 and err == ""
    assert json.loads(out)["subjects"][0]["ledgers"] == {"credit": 997}


def test_run_json_is_exact_and_deterministic(files, capsys):
    first = call(capsys, "run", "good.rulebook", "events.jsonl", "--format", "json")
    second = call(capsys, "run", "good.rulebook", "events.jsonl", "--format", "json")
    assert first == second
    assert '"credit": 997' in first[1]


def test_run_audit(files, capsys):
    code, _, _ = call(capsys, "run", "good.rulebook", "events.jsonl", "--audit", "audit.jsonl")
    assert code == 0
    lines = [json.loads(x) for x in (files / "audit.jsonl").read_text().splitlines()]
    assert lines[0]["rule"] == "littering" and lines[0]["changes"] == {"credit": -3}
    assert [x["seq"] for x in lines] == list(range(1, len(lines) + 1))


def test_run_audit_unwritable(files, capsys):
    code, _, err = call(capsys, "run", "good.rulebook", "events.jsonl", "--audit", "no/such/dir/audit.jsonl")
    assert code == 1 and "E0504" in err and "no/such/dir/audit.jsonl" in err


def test_run_as_of(files, capsys):
    code, out, _ = call(capsys, "run", "good.rulebook", "events.jsonl", "--as-of", "2019-01-07", "--format", "json")
    assert code == 0
    assert json.loads(out)["summary"]["later"] == 1


def test_run_bad_as_of_is_usage(files, capsys):
    code, out, err = call(capsys, "run", "good.rulebook", "events.jsonl", "--as-of", "yesterday")
    assert code == 2 and out == ""
    assert "E0503" in err and "yesterday" in err


@pytest.mark.parametrize(
    "argv, path",
    [
        (["run", "good.rulebook", "nope.jsonl"], "nope.jsonl"),
        (["run", "nope.rulebook", "events.jsonl"], "nope.rulebook"),
        (["run", "good.rulebook", "events.jsonl", "--subjects", "who.jsonl"], "who.jsonl"),
    ],
)
def test_run_missing_files(files, capsys, argv, path):
    code, out, err = call(capsys, *argv)
    assert code == 1 and out == ""
    assert "E0501" in err and path in err


def test_run_rulebook_errors(files, capsys):
    code, out, err = call(capsys, "run", "bad.rulebook", "events.jsonl")
    assert code == 1 and out == ""
    assert "error[E0301]" in err and "could not run `bad.rulebook`" in err


def test_run_reads_stdin(files, capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(EVENTS.encode())))
    code, out, err = call(capsys, "run", "good.rulebook", "-", "--format", "json")
    assert code == 0
    assert json.loads(out)["summary"]["lines"] == 5
    assert "<stdin>:3:" in err


# ---------------------------------------------------------------- internal errors and pipes


@pytest.fixture
def crash(monkeypatch, tmp_path):
    import tempfile

    import creditdsl.pipeline as pipeline

    def boom(paths):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(pipeline, "check_paths", boom)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("CREDITDSL_DEBUG", raising=False)
    return tmp_path


def test_internal_error_exit_3_without_traceback(files, crash, capsys):
    code, out, err = call(capsys, "check", "good.rulebook")
    assert code == 3
    assert "internal error: this is a bug in creditdsl" in err
    assert "RuntimeError: kaboom" in err
    assert "--debug" in err
    logs = list(crash.glob("creditdsl-crash-*.log"))
    assert len(logs) == 1 and "Traceback" in logs[0].read_text()


@pytest.mark.parametrize("how", ["flag-first", "flag-last", "env"])
def test_internal_error_traceback_on_request(files, crash, capsys, monkeypatch, how):
    argv = ["check", "good.rulebook"]
    if how == "flag-first":
        argv = ["--debug", *argv]
    elif how == "flag-last":
        argv = [*argv, "--debug"]
    else:
        monkeypatch.setenv("CREDITDSL_DEBUG", "1")
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    _, err = capsys.readouterr()
    assert exc.value.code == 3
    assert "Traceback" in err and "kaboom" in err
    assert "internal error: this is a bug in creditdsl" in err


def test_closed_stdout_in_process(files, capsys, monkeypatch):
    class Closed:
        encoding = "utf-8"

        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

        def isatty(self):
            return False

        def fileno(self):
            raise OSError("no fileno")

    monkeypatch.setattr(sys, "stdout", Closed())
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "good.rulebook", "valid.jsonl"])
    assert exc.value.code == cli.EXIT_PIPE
    assert capsys.readouterr().err == ""


def _script() -> list[str]:
    exe = Path(sys.executable).with_name("creditdsl")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "creditdsl"]


def test_closed_stdout_subprocess(files):
    events = "".join(
        json.dumps({"id": f"e{i}", "subject": f"s{i}", "type": "littering", "at": "2019-01-07"}) + "\n"
        for i in range(20000)
    )
    (files / "many.jsonl").write_text(events)
    proc = subprocess.Popen(
        [*_script(), "run", "good.rulebook", "many.jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=files,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    code = proc.wait(timeout=120)
    assert first.startswith(b"rulebook demo")
    assert err == b"", err.decode(errors="replace")
    assert code in (0, cli.EXIT_PIPE)  # 0 only if the pipe took everything before it closed


def test_console_script_garbage_subprocess(files):
    (files / "g.rulebook").write_bytes(b"\xff\xfe\x00garbage")
    proc = subprocess.run([*_script(), "check", "g.rulebook"], capture_output=True, cwd=files, timeout=120)
    assert proc.returncode == 1
    assert b"Traceback" not in proc.stderr
    assert b"g.rulebook" in proc.stderr
