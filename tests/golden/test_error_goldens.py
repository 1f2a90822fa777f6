"""Rendered errors, exactly as a user sees them, one golden file per case.

Each ``errors/<CODE>_<slug>.rulebook`` is checked through the real CLI (colour
off, width 100) from the repository root; the expected stderr, followed by
``exit: N``, sits beside it as ``.stderr``. Optional header comments choose
the command (sqlglot's ``# key: value`` meta):

* ``# verb: run`` with ``# events: FILE`` runs the rulebook over events in
  the same folder (for event-line errors);
* ``# args: ...`` replaces the whole argument list (``{self}`` is the file);
* ``# long-line: N`` appends a generated line of N bytes to a temporary copy
  of the events (so no megabyte file is kept in the repository).

Regenerate with ``pytest --update-goldens`` and review the diff.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from creditdsl.cli import app
from creditdsl.diagnostics import CODES

ROOT = Path(__file__).resolve().parents[2]
ERRORS = Path(__file__).resolve().parent / "errors"
CASES = sorted(ERRORS.glob("*.rulebook"))


def _meta(path: Path) -> dict[str, str]:
    meta = {}
    for line in path.read_bytes().decode("utf-8", errors="replace").splitlines():
        m = re.match(r"# (verb|events|args|long-line): (.*)", line)
        if not m:
            break
        meta[m.group(1)] = m.group(2).strip()
    return meta


def _argv(path: Path, scratch: Path) -> list[str]:
    rel = path.relative_to(ROOT).as_posix()
    meta = _meta(path)
    if "args" in meta:
        return [a.replace("{self}", rel) for a in meta["args"].split()]
    if meta.get("verb") == "run":
        events = path.parent / meta["events"]
        if "long-line" in meta:
            copy = scratch / events.name
            pad = int(meta["long-line"])
            copy.write_bytes(events.read_bytes() + b'{"id": "long", "pad": "' + b"x" * pad + b'"}\n')
            return ["run", rel, os.path.relpath(copy, ROOT)]
        return ["run", rel, events.relative_to(ROOT).as_posix()]
    return ["check", rel]


def render_case(path: Path, scratch: Path) -> str:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(app, _argv(path, scratch), env={"COLUMNS": "100", "NO_COLOR": "1"})
    finally:
        os.chdir(cwd)
    text = result.stderr.replace(os.path.relpath(scratch, ROOT), "<tmp>")
    return f"{text}exit: {result.exit_code}\n"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_rendered_error(path: Path, golden, tmp_path: Path) -> None:
    golden(path.with_suffix(".stderr"), render_case(path, tmp_path))


def test_every_code_has_a_golden_case() -> None:
    covered = {p.name.split("_", 1)[0] for p in CASES}
    missing = sorted(set(CODES) - covered)
    assert not missing, f"codes without a golden case in tests/golden/errors/: {missing}"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_case_shows_its_code(path: Path) -> None:
    code = path.name.split("_", 1)[0]
    expected = path.with_suffix(".stderr")
    assert expected.exists(), f"missing {expected.name}"
    text = expected.read_text(encoding="utf-8")
    assert f"[{code}]" in text or f": {code}:" in text or f"({code})" in text, (
        f"{expected.name} does not show {code}"
    )
