"""render.py: diagnostics and run results through the real renderer.

Every case renders hand-made Diagnostics over hand-made SourceFiles into a
colourless 100-column console and compares with tests/golden/render/NAME.txt
(regenerate with ``pytest --update-goldens``, then review the diff).
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from creditdsl.diagnostics import Label, Severity, error, warning
from creditdsl.render import (
    format_number,
    make_console,
    render_diagnostics,
    render_diagnostics_json,
    render_invalid_lines,
    render_run,
    to_json_text,
)
from creditdsl.source import SourceFile, Span


RONGCHENG = """\
rulebook: rongcheng
jurisdiction: Rongcheng, Shandong
timezone: Asia/Shanghai
currency: yuan
effective: 2018-01-01
source: The Nation (2019)

ledgers:
  credit: 1000
  licence: 12

tiers:
  A+: credit > 1000
  A: credit >= 1000
  B: credit >= 960
  C: credit >= 850
  D: otherwise

sanctions:
  B: [mortgage refused]

rules:
  littering:
    on: littering
    credt: -3
    note: a public-order offence
"""

SRC = SourceFile("rulebooks/rongcheng.rulebook", RONGCHENG)


def span(src: SourceFile, needle: str, nth: int = 1, length: int | None = None) -> Span:
    """The span of the nth occurrence of ``needle`` (or of ``length`` characters from it)."""
    at = -1
    for _ in range(nth):
        at = src.text.index(needle, at + 1)
    return src.span(at, at + (len(needle) if length is None else length))


def render(diagnostics, sources=None, **kw) -> str:
    con = Console(width=100, color_system=None, file=StringIO())
    if sources is None:
        sources = {SRC.path: SRC}
    render_diagnostics(diagnostics, sources, con, **kw)
    return con.file.getvalue()


STYLE_EXAMPLE = """\
error[E0301]: unknown ledger `credt`
  --> rulebooks/rongcheng.rulebook:25:5
   |
25 |     credt: -3
   |     ^^^^^ not a ledger and not a rule key
   |
  ::: rulebooks/rongcheng.rulebook:9:3
   |
 9 |   credit: 1000
   |   ------ ledger `credit` declared here
   |
   = help: did you mean `credit`?

error: could not check `rulebooks/rongcheng.rulebook` (1 error, 0 warnings)
"""


def unknown_ledger():
    return error(
        "E0301",
        "unknown ledger `credt`",
        span(SRC, "credt"),
        labels=(Label(span(SRC, "credit", 1), "ledger `credit` declared here"),),
        help="did you mean `credit`?",
    )


def test_style_example_layout_exactly(golden):
    # STYLE.md §2.4, with the line numbers of this file.
    d = _with_primary_message(unknown_ledger(), "not a ledger and not a rule key")
    text = render([d], subject_path=SRC.path)
    assert text == STYLE_EXAMPLE
    golden("golden/render/style_example.txt", text)


def _with_primary_message(d, message):
    """The primary span's message travels as a label on the primary span itself."""
    return dataclasses.replace(d, labels=(Label(d.span, message), *d.labels))


CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


@case
def label_near_primary():
    # A label within a few lines of the primary shares the snippet; one hidden line is shown.
    return render(
        [
            error(
                "E0212",
                "duplicate name `littering`",
                span(SRC, "on: littering"),
                labels=(Label(span(SRC, "littering:"), "the rule this belongs to"),),
            )
        ]
    )


@case
def gap_shows_ellipsis():
    return render(
        [
            error(
                "E0306",
                "tier and list share a name",
                span(SRC, "B: credit"),
                labels=(Label(span(SRC, "credit: 1000"), "first"), Label(span(SRC, "C: credit"), "near")),
            )
        ]
    )


@case
def multiline_from_indentation():
    start = SRC.text.index("  littering:")
    end = SRC.text.index("credt: -3") + len("credt: -3")
    return render([error("E0307", "rule has no effect", SRC.span(start + 2, end), notes=("spans the whole rule",))])


@case
def multiline_mid_line():
    start = SRC.text.index("Rongcheng, Shandong")
    end = SRC.text.index("Asia/Shanghai") + len("Asia")
    return render([warning("W0301", "a span starting mid-line", SRC.span(start, end))])


@case
def multiline_long_with_label():
    start = SRC.text.index("tiers:")
    end = SRC.text.index("D: otherwise") + len("D: otherwise")
    return render(
        [
            warning(
                "W0302",
                "some balance has no tier",
                SRC.span(start, end),
                labels=(Label(span(SRC, "A+"), "starts here"),),
                help="add `otherwise` as the last tier",
            )
        ]
    )


@case
def label_in_other_file():
    parent = SourceFile("rulebooks/base.rulebook", "rulebook: base\nledgers:\n  credit: 1000\n")
    return render(
        [
            error(
                "E0212",
                "duplicate name `credit`",
                span(SRC, "credit: 1000"),
                labels=(Label(span(parent, "credit"), "inherited from here"),),
            )
        ],
        {SRC.path: SRC, parent.path: parent},
    )


@case
def label_source_unavailable():
    elsewhere = Span("gone.rulebook", 0, 4, 3, 1, 3, 5)
    return render(
        [error("E0212", "duplicate name `credit`", span(SRC, "credit: 1000"), labels=(Label(elsewhere, "there"),))]
    )


@case
def primary_source_unavailable():
    elsewhere = Span("gone.rulebook", 10, 14, 2, 3, 2, 7)
    return render([error("E0201", "duplicate key `on`", elsewhere, help="remove one")])


@case
def without_span():
    return render(
        [
            error("E0501", "cannot read rulebook `missing.rulebook`: no such file", None, path="missing.rulebook"),
            error("E0503", "bad `--as-of` value `yesterday`", None, help="use a date such as 2019-02-15"),
        ],
        subject_path=["missing.rulebook"],
    )


@case
def warnings_only():
    return render(
        [
            warning("W0301", "tier `C` is hidden behind earlier tiers", span(SRC, "C: credit >= 850")),
            warning("W0302", "some balance has no tier", span(SRC, "tiers")),
        ],
        subject_path=SRC.path,
    )


@case
def sorted_and_capped():
    ds = [
        error("E0301", "unknown ledger `credt`", span(SRC, "credt")),
        error("E0303", "unknown tier `B`", span(SRC, "B: [mortgage")),
        warning("W0302", "some balance has no tier", span(SRC, "tiers")),
        error("E0202", "unknown top-level key `sauce`", span(SRC, "source")),
        error("E0201", "duplicate key `currency`", span(SRC, "currency")),
    ]
    return render(ds, max_errors=3, subject_path=SRC.path)


@case
def zero_width_and_eof():
    src = SourceFile("short.rulebook", "rulebook: x\nledgers:")
    return render(
        [
            error("E0102", "unexpected end of file", src.eof(), notes=("expected an indented block",)),
            error("E0101", "expected a value", src.span(10, 10), help="write `rulebook: NAME`"),
        ],
        {src.path: src},
    )


@case
def span_ending_after_line_break():
    start = SRC.text.index("ledgers:")
    return render([error("E0209", "wrong kind of value", SRC.span(start, start + len("ledgers:\n")))])


@case
def wide_tabs_and_bidi():
    text = "rulebook: 荣成\nledgers:\n\t信用: 1000\n  credit: 10\u202e00\n  名字: 信用分 + creditt\n"
    src = SourceFile("wide.rulebook", text)
    return render(
        [
            error("E0002", "tab in indentation", span(src, "\t"), help="indent with spaces"),
            error("E0006", "bidirectional control character U+202E", span(src, "\u202e")),
            error(
                "E0310",
                "unknown name in expression `creditt`",
                span(src, "creditt"),
                labels=(Label(span(src, "信用分"), "a ledger name, wide"),),
            ),
        ],
        {src.path: src},
    )


@case
def big_line_numbers():
    text = "".join(f"key{i}: {i}\n" for i in range(1, 120))
    src = SourceFile("long.rulebook", text)
    return render(
        [
            error(
                "E0201",
                "duplicate key `key99`",
                span(src, "key99: 99"),
                labels=(Label(span(src, "key9: 9"), "one digit"), Label(span(src, "key101:"), "three digits")),
            )
        ],
        {src.path: src},
    )


@case
def multi_line_note_and_long_line():
    text = "rulebook: x\nsource: " + "word " * 40 + "\n"
    src = SourceFile("long_line.rulebook", text)
    return render(
        [
            error(
                "E0005",
                "limit exceeded",
                span(src, "word", 39),
                notes=("first line\nsecond line", "another note"),
                help="shorten it",
            )
        ],
        {src.path: src},
    )


@case
def clean():
    return render([], subject_path=SRC.path)


@pytest.mark.parametrize("name", sorted(CASES))
def test_render_golden(name, golden):
    golden(f"golden/render/{name}.txt", CASES[name]())


def test_clean_prints_nothing():
    assert CASES["clean"]() == ""


def test_every_line_has_no_trailing_space():
    for name, fn in CASES.items():
        for line in fn().splitlines():
            assert line == line.rstrip(), (name, line)


def test_colour_changes_nothing_but_styles():
    d = _with_primary_message(unknown_ledger(), "not a ledger and not a rule key")
    con = Console(width=100, color_system="truecolor", force_terminal=True, file=StringIO())
    render_diagnostics([d], {SRC.path: SRC}, con, subject_path=SRC.path)
    coloured = con.file.getvalue()
    assert "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == STYLE_EXAMPLE


def test_make_console_plain_and_no_wrap():
    out = StringIO()
    con = make_console(file=out, width=20, color=False)
    long = "x" * 30
    src = SourceFile("a.rulebook", f"source: {long}\n")
    render_diagnostics([error("E0101", "syntax error", span(src, long))], {src.path: src}, con)
    text = out.getvalue()
    assert "\x1b" not in text
    assert f"1 | source: {long}" in text  # not wrapped at 20 columns


def test_max_errors_zero_shows_all():
    ds = [error("E0201", f"duplicate key {i}", span(SRC, "credit", 1)) for i in range(30)]
    text = render(ds, max_errors=0)
    assert text.count("error[E0201]") == 30
    assert "more" not in text
    text = render(ds)
    assert text.count("error[E0201]") == 20
    assert "… and 10 more" in text
    assert text.rstrip().endswith("(30 errors, 0 warnings)")


def test_json_diagnostics():
    import json

    con = Console(width=100, color_system=None, file=StringIO())
    render_diagnostics_json([warning("W0302", "w", span(SRC, "tiers")), unknown_ledger()], con)
    doc = json.loads(con.file.getvalue())
    assert doc["errors"] == 1 and doc["warnings"] == 1
    assert [d["code"] for d in doc["diagnostics"]] == ["W0302", "E0301"]
    assert doc["diagnostics"][1]["location"] == {"file": SRC.path, "line": 25, "col": 5, "end_line": 25, "end_col": 10}


def test_invalid_lines_format():
    from types import SimpleNamespace as NS

    con = Console(width=100, color_system=None, file=StringIO())
    render_invalid_lines("events.jsonl", [NS(line=1, reason="missing required field `subject`"), NS(line=2, reason="not JSON")], con)
    assert con.file.getvalue() == "events.jsonl:1: missing required field `subject`\nevents.jsonl:2: not JSON\n"


# ---------------------------------------------------------------- run results

RESULT = {
    "rulebook": "rongcheng",
    "as_of": "2019-03-01T00:00:00+08:00",
    "subjects": [
        {"subject": "s1", "ledgers": {"credit": Decimal("997"), "licence": 12}, "tier": "B", "fines": 0,
         "lists": [], "sanctions": ["mortgage refused"], "privileges": []},
        {"subject": "s2", "ledgers": {"credit": Decimal("1001.5"), "licence": 12}, "tier": "A+", "fines": 0,
         "lists": [], "sanctions": [], "privileges": []},
        {"subject": "s4", "ledgers": {"credit": 1000, "licence": 12}, "tier": "D", "fines": 0,
         "lists": ["dishonest debtors"], "sanctions": ["no air travel"], "privileges": []},
        {"subject": "s5", "ledgers": {"credit": 990, "licence": 6}, "tier": "B", "fines": Decimal("100"),
         "lists": [], "sanctions": ["mortgage refused"], "privileges": []},
        {"subject": "s6", "ledgers": {"credit": 1000, "licence": 12}, "tier": None, "fines": 0,
         "lists": [], "sanctions": [], "privileges": []},
    ],
    "summary": {"lines": 14, "applied": 9, "skipped": 2, "deferred": 0, "remedied": 0, "unmatched": 0,
                "later": 1, "duplicate": 1, "invalid": 1, "tiers": {"A+": 1, "B": 2, "D": 1}},
}


def test_run_table_golden(golden, console):
    con = console()
    render_run(RESULT, con)
    golden("golden/render/run_table.txt", con.file.getvalue())


def test_run_table_with_privileges_and_cap(golden, console):
    doc = {
        "subjects": [
            {"subject": f"p{i}", "ledgers": {"points": i}, "tier": "good", "fines": 0, "lists": [],
             "sanctions": [], "privileges": ["fast lane"] if i == 1 else []}
            for i in range(4)
        ],
        "summary": {"lines": 4, "applied": 4, "tiers": {"good": 4}},
    }
    con = console()
    render_run(doc, con, max_rows=2)
    golden("golden/render/run_table_privileges_capped.txt", con.file.getvalue())


def test_run_table_accepts_objects_with_to_dict(console):
    class Result:
        def to_dict(self):
            return RESULT

    a, b = console(), console()
    render_run(Result(), a)
    render_run(RESULT, b)
    assert a.file.getvalue() == b.file.getvalue()


def test_format_number():
    assert format_number(Decimal("999.50")) == "999.50"
    assert format_number(Decimal("1E+3")) == "1000"
    assert format_number(Decimal("-3")) == "-3"
    assert format_number(12) == "12"
    assert format_number(None) == ""


def test_json_text_is_exact():
    doc = {"a": Decimal("999.5"), "b": Decimal("1E+3"), "c": [Decimal("0.1"), 2, True, None], "d": "é\n", "e": {}}
    assert to_json_text(doc) == '{"a": 999.5, "b": 1000, "c": [0.1, 2, true, null], "d": "é\\n", "e": {}}'
    assert to_json_text({"x": [1, {"y": Decimal("-0.50")}]}, indent=2) == (
        '{\n  "x": [\n    1,\n    {\n      "y": -0.5\n    }\n  ]\n}'
    )
    with pytest.raises(ValueError):
        to_json_text({"x": Decimal("NaN")})


# ---------------------------------------------------------------- the golden fixture itself


def test_golden_fixture_contract(tmp_path, golden_check):
    import _pytest.outcomes

    check_golden = golden_check

    path = tmp_path / "g.txt"
    with pytest.raises(_pytest.outcomes.Failed, match="missing; create it with `pytest --update-goldens`"):
        check_golden(path, "new\n", update=False)
    assert not path.exists()
    with pytest.raises(_pytest.outcomes.Failed, match="golden updated, review the diff"):
        check_golden(path, "new\n", update=True)
    assert path.read_text() == "new\n"
    check_golden(path, "new\n", update=False)  # equal: passes
    check_golden(path, "new\n", update=True)  # equal: passes even when updating
    with pytest.raises(_pytest.outcomes.Failed, match=r"(?s)differs from golden.*-new.*\+old"):
        check_golden(path, "old\n", update=False)
    assert path.read_text() == "new\n"


def test_goldens_are_all_used():
    used = {f"{n}.txt" for n in CASES} | {"style_example.txt", "run_table.txt", "run_table_privileges_capped.txt"}
    here = Path(__file__).resolve().parent.parent / "golden" / "render"
    present = {p.name for p in here.glob("*.txt")} if here.exists() else set()
    assert present <= used, f"stale golden files: {sorted(present - used)}"


def test_severity_note_header():
    from creditdsl.diagnostics import Diagnostic

    text = render([Diagnostic("E0503", Severity.NOTE, "just so you know", span(SRC, "credt"))])
    assert text.startswith("note[E0503]: just so you know\n")
    assert "could not" not in text and "generated" not in text
