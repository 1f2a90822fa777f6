"""The `compare` and `diff` sections of docs/cli.md show real output: every `$ creditdsl`
session is what the CLI prints, and every excerpt is part of what it prints."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from creditdsl.cli import app

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    match = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", DOC, re.S | re.M)
    assert match, f"docs/cli.md has no `## {title}` section"
    return match.group(1)


def run(command: str) -> str:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(app, shlex.split(command), env={"COLUMNS": "100", "NO_COLOR": "1"})
    finally:
        os.chdir(cwd)
    return result.output


SESSIONS = [
    (title, command, expected)
    for title in ("compare", "diff")
    for command, expected in re.findall(r"```\n\$ creditdsl (.*?)\n(.*?)```", section(title), re.S)
]


def test_each_section_shows_a_session() -> None:
    assert {t for t, _, _ in SESSIONS} == {"compare", "diff"}


@pytest.mark.parametrize("title,command,expected", SESSIONS, ids=[c.split()[0] for _, c, _ in SESSIONS])
def test_session_is_true(title: str, command: str, expected: str) -> None:
    assert run(command) == expected


def test_excerpts_are_real() -> None:
    json_out = run("compare rulebooks/rongcheng.rulebook rulebooks/dongdao_lu_jia.rulebook "
                   "--events examples/compare/events.jsonl --format json")
    blocks = re.findall(r"```\n(\{\"subject\".*?)\n```", section("compare"), re.S)
    assert len(blocks) == 1
    assert blocks[0] in [line.strip().rstrip(",") for line in json_out.splitlines()]
    diff_out = run("diff rulebooks/rongcheng.rulebook rulebooks/dongdao_lu_jia.rulebook").splitlines()
    lines = [x for x in section("diff").splitlines() if x.startswith(("- event", "+ event", "~ event"))]
    assert len(lines) == 3 and all(x in diff_out for x in lines)
