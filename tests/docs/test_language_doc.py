"""docs/language.md stays true to the code: every example in it is checked.

* A ```` ```rulebook ```` block that starts with ``rulebook:`` (after comments)
  is a complete rulebook: it must check clean (no error, no warning), or, when
  its first line is ``# error: E0xxx`` / ``# warning: W0xxx``, give exactly
  that code.
* Any other ```` ```rulebook ```` block is a fragment: it is placed into the
  tour rulebook (the page's first complete block) merged with the block marked
  ``# base``, and must check clean (or give its marker's code). Blocks merge by
  name (see :func:`place`).
* A block with ``extends:`` is checked in a temporary folder that holds the
  tour rulebook as ``rongcheng.rulebook``.
* A ```` ```jsonl run ```` block (optionally ``as-of=DATE``) is run through
  ``creditdsl.interpreter.run`` against the nearest complete rulebook above
  it; the ```` ```json expect ```` block after it holds the expected results,
  compared on the fields it names; the summary's counts must add up to its
  lines.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from creditdsl import pipeline
from placing import fenced_blocks, is_complete, place
from creditdsl.diagnostics import CODES

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "language.md"
TEXT = DOC.read_text(encoding="utf-8")


# ---------------------------------------------------------------- extraction


def marker(text: str) -> str | None:
    """The code of a first-line `# error: E0xxx` / `# warning: W0xxx` comment."""
    m = re.match(r"#\s*(?:error|warning):\s*([EW]\d{4})\b", text.lstrip())
    return m.group(1) if m else None



# ---------------------------------------------------------------- the blocks of the page

BLOCKS = fenced_blocks(TEXT)
RULEBOOKS = [(line, body) for line, info, body in BLOCKS if info == "rulebook"]
TOUR = next(body for _, body in RULEBOOKS if is_complete(body))
BASE_EXTRA = next(body for _, body in RULEBOOKS if body.lstrip().startswith("# base"))
BASE = place(BASE_EXTRA, TOUR)


def check(text: str, tmp_path: Path) -> list[tuple[str, str]]:
    """(code, message) of every diagnostic, checking ``text`` as a file beside the tour."""
    (tmp_path / "rongcheng.rulebook").write_text(TOUR, encoding="utf-8")
    path = tmp_path / "example.rulebook"
    path.write_text(text, encoding="utf-8")
    loaded = pipeline.analyse(str(path))
    return [(d.code, f"{d.message} (line {d.span.line if d.span else '?'})") for d in loaded.diagnostics]


def _id(line: int) -> str:
    return f"language.md:{line}"


def test_the_page_has_examples():
    kinds = {"complete": 0, "fragment": 0, "marked": 0}
    for _, body in RULEBOOKS:
        kinds["complete" if is_complete(body) else "fragment"] += 1
        kinds["marked"] += marker(body) is not None
    assert kinds["complete"] >= 5 and kinds["fragment"] >= 8 and kinds["marked"] >= 4


@pytest.mark.parametrize("line,body", RULEBOOKS, ids=[_id(line) for line, _ in RULEBOOKS])
def test_rulebook_block(line: int, body: str, tmp_path: Path):
    text = body if is_complete(body) else place(body, BASE)
    found = check(text, tmp_path)
    want = marker(body)
    if want is None:
        assert found == [], f"language.md:{line} should check clean; placed text:\n{text}"
    else:
        assert want in CODES
        assert {code for code, _ in found} == {want}, found


def test_a_broken_fragment_fails(tmp_path: Path):
    """The placing does not hide mistakes: a misspelt ledger in a fragment is still found."""
    broken = "rules:\n  slip:\n    on: slip\n    credt: -1\n"
    assert [code for code, _ in check(place(broken, BASE), tmp_path)] == ["E0301"]


def test_place_merges_by_name():
    base = "rulebook: b\nledgers:\n  credit: 1\nrules:\n  a:\n    on: x\n    credit: -1\n"
    frag = "rules:\n  a:\n    on: y\n    credit: -2\n  b:\n    on: z\n    credit: -3\n"
    placed = place(frag, base)
    assert placed.count("  a:") == 1 and "on: y" in placed and "on: x" not in placed
    assert placed.index("  a:") < placed.index("  b:")


# ---------------------------------------------------------------- runnable examples


def _runs() -> list[tuple[int, str, str | None, str, dict]]:
    """(line, rulebook, as_of, events, expected) of every `jsonl run` block."""
    out = []
    rulebook = None
    for i, (line, info, body) in enumerate(BLOCKS):
        if info == "rulebook" and is_complete(body):
            rulebook = body
        words = info.split()
        if words[:2] == ["jsonl", "run"]:
            as_of = next((w.split("=", 1)[1] for w in words[2:] if w.startswith("as-of=")), None)
            nxt = BLOCKS[i + 1] if i + 1 < len(BLOCKS) else None
            assert nxt is not None and nxt[1] == "json expect", f"language.md:{line}: `jsonl run` needs a `json expect`"
            assert rulebook is not None, f"language.md:{line}: no rulebook above"
            out.append((line, rulebook, as_of, body, json.loads(nxt[2], parse_float=Decimal)))
    return out


RUNS = _runs()


def _subset(expected: Any, actual: Any, where: str) -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing"
            _subset(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list) and expected and isinstance(expected[0], dict) and "subject" in expected[0]:
        by_id = {s["subject"]: s for s in actual}
        for item in expected:
            assert item["subject"] in by_id, f"{where}: no subject {item['subject']}"
            _subset(item, by_id[item["subject"]], f"{where}[{item['subject']}]")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def test_there_are_runnable_examples():
    assert len(RUNS) >= 3


@pytest.mark.parametrize("line,rulebook,as_of,events,expected", RUNS, ids=[_id(r[0]) for r in RUNS])
def test_run_example(line: int, rulebook: str, as_of: str | None, events: str, expected: dict):
    from creditdsl import interpreter

    rb = pipeline.load_text(rulebook, "example.rulebook")
    result = interpreter.run(rb, events.splitlines(), as_of=as_of)
    actual = _numbers(result.to_json())
    _subset(expected, actual, "result")
    s = result.summary
    assert s.outcomes_total() == s.lines


def _numbers(value: Any) -> Any:
    """The result document with every number as a Decimal (JSON reads exact)."""
    from creditdsl.results import dumps

    return json.loads(dumps(value), parse_float=Decimal, parse_int=Decimal)
