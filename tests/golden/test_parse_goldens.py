"""Parse trees and compiled models of representative rulebooks, as golden files.

``parse/<name>.rulebook`` → ``<name>.tree.txt`` (the structure tree, Lark's
``pretty``) and ``<name>.model.json`` (what ``creditdsl compile --format json``
prints). Regenerate with ``pytest --update-goldens`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from creditdsl import pipeline
from creditdsl.parser import parse
from creditdsl.render import to_json_text
from creditdsl.source import SourceFile

HERE = Path(__file__).resolve().parent / "parse"
CASES = sorted(HERE.glob("*.rulebook"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_parse_tree(path: Path, golden) -> None:
    tree = parse(SourceFile(path.name, path.read_text(encoding="utf-8")))
    golden(path.with_suffix(".tree.txt"), tree.pretty())


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_compiled_model(path: Path, golden) -> None:
    golden(path.with_suffix(".model.json"), to_json_text(pipeline.compile_json(str(path)), indent=2) + "\n")
