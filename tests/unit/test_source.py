from hypothesis import given
from hypothesis import strategies as st

from creditdsl.source import SourceFile


def test_positions_are_one_based_code_points():
    src = SourceFile("f", "ab\nçd\n\nx")
    assert src.position(0) == (1, 1)
    assert src.position(3) == (2, 1)
    assert src.position(4) == (2, 2)
    assert src.position(7) == (4, 1)
    assert src.line_count == 4


def test_span_and_line_text():
    src = SourceFile("f", "one\r\ntwo\n")
    span = src.span(5, 8)
    assert (span.line, span.col, span.end_line, span.end_col) == (2, 1, 2, 4)
    assert src.line_text(1) == "one"
    assert src.line_text(2) == "two"
    assert src.slice(span) == "two"


def test_offsets_clamp_into_the_text():
    src = SourceFile("f", "abc")
    assert src.span(-5, 99).start == 0 and src.span(-5, 99).end == 3
    assert src.eof().start == 3
    assert src.offset(9, 9) == 3


def test_join_covers_both():
    src = SourceFile("f", "abc def")
    joined = src.span(4, 7).join(src.span(0, 3))
    assert (joined.start, joined.end, joined.col) == (0, 7, 1)


@given(st.text(alphabet="ab\n", max_size=30), st.integers(-5, 40), st.integers(-5, 40))
def test_span_is_clamped_and_placed_like_position(text, start, end):
    """SourceFile.span (one bisect when both ends are on one line) agrees with position()."""
    sf = SourceFile("t.rulebook", text)
    sp = sf.span(start, end)
    s0 = max(0, min(start, len(text)))
    e0 = max(s0, min(end, len(text)))
    assert (sp.start, sp.end) == (s0, e0)
    assert (sp.line, sp.col) == sf.position(s0)
    assert (sp.end_line, sp.end_col) == sf.position(e0)
    assert hash(sp) == hash(sf.span(start, end)) and sp == sf.span(start, end)
