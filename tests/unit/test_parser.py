"""The structure and value grammars, and how Lark's errors become diagnostics."""

import pytest
from lark import Lark

from creditdsl.diagnostics import CreditDslError
from creditdsl.parser import GRAMMAR_DIR, VALUE_STARTS, ValueText, parse, parse_value
from creditdsl.source import SourceFile


def tree_of(text):
    return parse(SourceFile("t.rulebook", text))


def code_of(text):
    with pytest.raises(CreditDslError) as exc:
        parse(SourceFile("t.rulebook", text))
    d = exc.value.diagnostics[0]
    return d.code, d.span.line, d.span.col


def pairs(tree):
    return [(str(c.children[0]), str(c.children[1])) for c in tree.iter_subtrees_topdown() if c.data == "pair"]


@pytest.mark.parametrize("name", ["structure.lark", "values.lark"])
def test_grammars_have_no_conflicts_under_strict_mode(name):
    kw = {"start": VALUE_STARTS} if name == "values.lark" else {}
    if name == "structure.lark":
        from creditdsl.indenter import RulebookIndenter

        kw["postlex"] = RulebookIndenter()
    Lark((GRAMMAR_DIR / name).read_text(), parser="lalr", lexer="contextual", strict=True, **kw)


def test_values_run_to_end_of_line_and_keep_quoted_hash_and_colon():
    tree = tree_of('rulebook: x\nsource: The Nation (2019), "Discipline: #1"   # a comment\n')
    assert pairs(tree)[1] == ("source", 'The Nation (2019), "Discipline: #1"')


def test_hash_not_after_whitespace_is_text():
    assert pairs(tree_of("rulebook: a#b\n"))[0] == ("rulebook", "a#b")


def test_keys_may_hold_spaces_and_values_colons():
    tree = tree_of("rules:\n  failed to yield:\n    on: x\n    at: 2018-07-01T09:30:00\n")
    assert ("at", "2018-07-01T09:30:00") in pairs(tree)
    keys = [str(c.children[0]) for c in tree.iter_subtrees_topdown() if c.data == "section"]
    assert keys == ["rules", "failed to yield"]


def test_comment_lines_anywhere_do_not_break_blocks():
    text = "# head\nrulebook: x\nledgers:\n  # inside\n  credit: 1\n# at column one\n  licence: 2\n# trailing"
    assert [k for k, _ in pairs(tree_of(text))] == ["rulebook", "credit", "licence"]


def test_crlf_line_ends_are_accepted():
    assert pairs(tree_of("rulebook: x\r\nledgers:\r\n  credit: 1\r\n"))[-1] == ("credit", "1")


def test_block_list_items():
    tree = tree_of("drop:\n  - rule a\n  - rule b\n")
    items = [str(c.children[0]) for c in tree.iter_subtrees_topdown() if c.data == "item"]
    assert items == ["rule a", "rule b"]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("rulebook: x\nledgers:\n\tcredit: 1\n", ("E0002", 3, 1)),
        ("rulebook: x\nledgers:\n  \tcredit: 1\n", ("E0002", 3, 3)),
        ("rulebook: x\nledgers:\n    a: 1\n  b: 2\n", ("E0003", 4, 3)),
        ("  rulebook: x\n", ("E0003", 1, 1)),
        ("rulebook: x\nledgers:\n  credit 1\n", ("E0104", 3, 3)),
        ('rulebook: x\nsource: "abc\n', ("E0103", 2, 9)),
        ("rulebook: x\nledgers:\n  a: 1\n    b: 2\n", ("E0101", 4, 5)),
        ("rulebook: x\u202e\n", ("E0006", 1, 12)),
        ("rulebook: x\rledgers:\n", ("E0001", 1, 12)),
    ],
)
def test_structure_errors_are_located(text, expected):
    assert code_of(text) == expected


def value(kind, text, prefix="key: "):
    src = SourceFile("t", prefix + text + "\n")
    return parse_value(kind, ValueText(text, len(prefix)), src)


def test_value_positions_are_offset_into_the_file():
    src = SourceFile("t", "tiers:\n  A: credit => 3\n")
    with pytest.raises(CreditDslError) as exc:
        parse_value("expr", ValueText("credit => 3", 12), src)
    d = exc.value.diagnostics[0]
    assert (d.code, d.span.line, d.span.col, d.span.end_col) == ("E0101", 2, 13, 15)


@pytest.mark.parametrize(
    "kind,text",
    [
        ("expr", "credit > 1000 and not listed(\"dishonest debtors\")"),
        ("expr", "event.kind in [\"a\", \"b\"] or event.kind not in [\"c\"]"),
        ("expr", "count(littering within 30 days) >= 2"),
        ("expr", "-(event.months * 10) + abs(-3) / 2"),
        ("change", "+6 for 3 years"),
        ("change", "reset"),
        ("fine", "event.amount yuan"),
        ("tier_cap", "B for 2 years"),
        ("tier_cap", "A+"),
        ("limit", "2 per month"),
        ("limit", "3 within 30 days"),
        ("cap", "40 per year"),
        ("requires", "2 photo or 1 video and 1 witness"),
        ("grace", "3 days unless litter_cleared or litter_removed"),
        ("names", "[no high-speed rail, \"a, b\", no air travel]"),
        ("reset_spec", "yearly from subject.licence_date"),
        ("test_event", "escorted_elder at 2018-07-02, evidence: [photo, photo], distance_km: 3"),
        ("test_value", "100 yuan"),
    ],
)
def test_every_value_kind_parses(kind, text):
    assert value(kind, text) is not None


@pytest.mark.parametrize(
    "kind,text,code",
    [
        ("expr", "1 < credit < 3", "E0101"),
        ("expr", "credit >=", "E0102"),
        ("expr", "not " * 100 + "true", "E0105"),
        ("expr", '"open', "E0103"),
        ("duration", "3 fortnights", "E0101"),
        ("limit", "2 per decade", "E0101"),
    ],
)
def test_value_errors(kind, text, code):
    with pytest.raises(CreditDslError) as exc:
        value(kind, text)
    assert exc.value.diagnostics[0].code == code


def test_deep_parentheses_parse_without_recursion():
    assert value("expr", "(" * 2000 + "1" + ")" * 2000) is not None


@pytest.mark.parametrize(
    "text,bad,hint",
    [
        ("credit = 1000", "=", "compare with `==`"),
        ("credit => 3", "=>", "did you mean `>=`?"),
        ("credit > 1 && credit < 4", "&&", "write `and`"),
        ("tier == 'A'", "'A'", "double quotes"),
    ],
)
def test_curated_hints_for_common_slips(text, bad, hint):
    with pytest.raises(CreditDslError) as exc:
        value("expr", text)
    d = exc.value.diagnostics[0]
    assert d.message == f"unexpected `{bad}` in an expression"
    assert hint in d.help
    assert d.span.end - d.span.start == len(bad)


def test_cached_parsers_behave_like_fresh_ones(tmp_path, monkeypatch):
    """The grammar-analysis cache (parser._cache_file) loads tables that parse and
    report exactly as a freshly built parser does, indenter errors included."""
    import creditdsl.parser as p

    texts = ["rulebook: x\nledgers:\n  credit: 1\n", "rulebook: x\nledgers:\n\tcredit: 1\n",
             "rulebook: x\nledgers:\n    a: 1\n  b: 2\n"]

    def outcome(text):
        try:
            return parse(SourceFile("t", text)).pretty()
        except CreditDslError as exc:
            return [(d.code, d.span.line, d.span.col) for d in exc.diagnostics]

    cached = [outcome(t) for t in texts]
    monkeypatch.setattr(p, "_cache_file", lambda name: False)
    p.structure_parser.cache_clear()
    try:
        fresh = [outcome(t) for t in texts]
    finally:
        p.structure_parser.cache_clear()
    assert cached == fresh
    assert cached[1] == [("E0002", 3, 1)] and cached[2] == [("E0003", 4, 3)]
