"""Every `$ creditdsl ...` session shown in README.md is what the CLI prints."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from creditdsl.cli import app

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SESSIONS = re.findall(r"```\n\$ creditdsl (.*?)\n(.*?)```", README, re.S)


def test_readme_shows_sessions():
    assert len(SESSIONS) >= 2


@pytest.mark.parametrize("command,expected", SESSIONS, ids=[c.split()[0] for c, _ in SESSIONS])
def test_readme_session_is_true(command, expected):
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(app, shlex.split(command), env={"COLUMNS": "100", "NO_COLOR": "1"})
    finally:
        os.chdir(cwd)
    assert result.output == expected
