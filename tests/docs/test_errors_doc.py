"""docs/errors.md and diagnostics.CODES agree, both ways, and its examples are true.

* one ``## CODE: title`` section per code, with CODES' title, ordered by range
  (E00xx, E01xx, ...; a range's W codes after its E codes);
* every ```rulebook block starting ``# error: CODE`` produces CODE when checked
  (so the example really shows the error it documents); every other
  ```rulebook block checks without errors.

(The golden rendered error per code is tests/golden/errors/, owned by its own test.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from creditdsl.diagnostics import CODES

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
TEXT = DOC.read_text(encoding="utf-8")
HEADING = re.compile(r"^## ([EW]\d{4}): (.+)$", re.MULTILINE)
BLOCK = re.compile(r"^```rulebook\n(.*?)^```$", re.MULTILINE | re.DOTALL)
MARK = re.compile(r"\A# error: ([EW]\d{4})\n")


def sections() -> list[tuple[str, str]]:
    return HEADING.findall(TEXT)


def test_every_code_has_a_section():
    documented = {code for code, _ in sections()}
    missing = [code for code in CODES if code not in documented]
    assert not missing, f"codes without a section in docs/errors.md: {missing}"


def test_every_section_is_a_code():
    unknown = [code for code, _ in sections() if code not in CODES]
    assert not unknown, f"docs/errors.md documents codes that diagnostics.CODES lacks: {unknown}"


def code_order(code: str) -> tuple[str, str, str]:
    """E0301 < E0312 < W0301 < E0401: by range, E before W, then number."""
    return (code[1:3], code[0], code[3:])


def test_sections_once_in_order_with_codes_titles():
    found = sections()
    codes = [code for code, _ in found]
    assert len(codes) == len(set(codes)), "a code has two sections"
    assert codes == sorted(codes, key=code_order), "sections are not in code order"
    wrong = [(code, title, CODES[code][0]) for code, title in found if code in CODES and title != CODES[code][0]]
    assert not wrong, f"section titles differ from CODES titles (code, doc, CODES): {wrong}"


def test_every_section_has_an_explanation_and_a_fix():
    parts = HEADING.split(TEXT)[1:]
    for code, _title, body in zip(parts[0::3], parts[1::3], parts[2::3]):
        prose = [p for p in body.strip().split("\n\n") if p and not p.startswith("```")]
        assert prose, f"{code}: no explanation"
        assert "Fix:" in body, f"{code}: no `Fix:` paragraph"


EXAMPLES = [(m.group(1), m.start()) for m in BLOCK.finditer(TEXT)]


def _section_of(offset: int) -> str:
    code = "?"
    for m in HEADING.finditer(TEXT):
        if m.start() > offset:
            break
        code = m.group(1)
    return code


@pytest.mark.parametrize(
    "source, offset", EXAMPLES, ids=[f"{_section_of(o)}@{TEXT.count(chr(10), 0, o) + 1}" for _, o in EXAMPLES]
)
def test_rulebook_examples_do_what_they_say(source, offset, tmp_path):
    from creditdsl import pipeline

    path = tmp_path / "example.rulebook"
    path.write_text(source, encoding="utf-8")
    loaded = pipeline.analyse(str(path))
    codes = [d.code for d in loaded.diagnostics]
    mark = MARK.match(source)
    if mark:
        assert mark.group(1) == _section_of(offset), "an example's marker names another section's code"
        assert mark.group(1) in codes, f"expected {mark.group(1)}, got {codes}"
    else:
        errors = [f"{d.code}: {d.message}" for d in loaded.diagnostics if d.is_error]
        assert not errors, f"a fixed example must check clean: {errors}"
