"""The offline HTML report (`compare --format html`, issue 6): well-formed, self-contained,
every chart present as inline SVG, deterministic, and the shipped example report is what
the CLI writes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from creditdsl import cli
from creditdsl.compare import compare_runs
from creditdsl.render import comparison_html

ROOT = Path(__file__).resolve().parents[2]
LOG = "examples/compare/events.jsonl"
PAIR = ["rulebooks/rongcheng.rulebook", "rulebooks/dongdao_lu_jia.rulebook"]
REPORT = ROOT / "examples" / "compare" / "report.html"
SVG_NS = "{http://www.w3.org/2000/svg}"
SVG_BLOCK = re.compile(r"<svg\b.*?</svg>", re.S)


@pytest.fixture(scope="module")
def page() -> str:
    cwd = Path.cwd()
    import os

    os.chdir(ROOT)
    try:
        return comparison_html(compare_runs([*PAIR, "rulebooks/qingshan.rulebook"], LOG), events=LOG)
    finally:
        os.chdir(cwd)


class _Tags(HTMLParser):
    """Checks that every element opened is closed, in order (void elements aside)."""

    VOID = {"meta", "br", "img", "hr", "input", "link"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action", "data", "poster") and value is not None:
                self.urls.append(value)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href") and value is not None:
                self.urls.append(value)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()


def test_the_page_is_well_formed(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>\n")
    root = ET.fromstring(page)  # XHTML syntax: the whole page parses as XML
    assert root.tag == "html"
    tags = _Tags()
    tags.feed(page)
    tags.close()
    assert tags.errors == [] and tags.stack == []


def test_the_page_is_self_contained(page: str) -> None:
    tags = _Tags()
    tags.feed(page)
    assert "script" not in tags.tags and "link" not in tags.tags and "img" not in tags.tags
    assert "iframe" not in tags.tags and "object" not in tags.tags
    # the only references are to fragments of the page itself
    assert all(u.startswith("#") for u in tags.urls), tags.urls
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?(?!#)", page)
    # every http(s) URI left is an XML namespace name, not something to fetch
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) <= {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_every_chart_is_an_inline_svg(page: str) -> None:
    root = ET.fromstring(page)
    figures = {f.get("id"): f for f in root.iter("figure")}
    expected = ["chart-tiers", "chart-migration-1-2", "chart-migration-1-3", "chart-migration-2-3",
                "chart-scores-1", "chart-scores-2", "chart-scores-3"]
    assert sorted(figures) == sorted(expected)
    for ident in expected:
        svgs = list(figures[ident].iter(f"{SVG_NS}svg"))
        assert len(svgs) == 1, ident
        assert len(list(svgs[0].iter())) > 20, f"{ident}: an empty chart"
        assert figures[ident].find("figcaption").text
    heat = figures["chart-migration-1-2"]
    labels = {t.text for t in heat.iter(f"{SVG_NS}text")}
    assert {"A+", "D", "C"} <= labels  # both axes' tiers are drawn


def test_svg_ids_are_unique_on_the_page(page: str) -> None:
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    for ref in re.findall(r"url\(#([^)]+)\)", page):
        assert ref in ids


def test_tables_are_in_the_page(page: str) -> None:
    root = ET.fromstring(page)
    text = " ".join("".join(td.itertext()) for td in root.iter("td"))
    for needle in ("zhou-yan", "credit 1001, licence 12", "taking an older person to hospital or market: credit +1",
                   "lines", "Dongdao Lu Jia village handbook"):
        assert needle in text or needle in page
    headings = [h.text for h in root.iter("h2")]
    assert headings[:2] == ["Charts", "Subjects"]


def test_the_page_is_deterministic(page: str) -> None:
    import os

    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        again = comparison_html(compare_runs([*PAIR, "rulebooks/qingshan.rulebook"], LOG), events=LOG)
    finally:
        os.chdir(cwd)
    assert again == page


def _masked(text: str) -> tuple[str, int]:
    return SVG_BLOCK.sub("<svg/>", text), len(SVG_BLOCK.findall(text))


def test_the_shipped_report_is_what_the_cli_writes(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.chdir(ROOT)
    target = tmp_path / "report.html"
    with pytest.raises(SystemExit) as exc:
        cli.main(["compare", *PAIR, "--events", LOG, "--format", "html", "--output", str(target)])
    assert exc.value.code == 0
    fresh = target.read_text(encoding="utf-8")
    assert fresh == comparison_html(compare_runs(PAIR, LOG), events=LOG)
    shipped = REPORT.read_text(encoding="utf-8")
    generator = re.search(r'<meta name="generator" content="([^"]+)"', fresh).group(1)
    if generator in shipped:
        assert shipped == fresh, "regenerate examples/compare/report.html (see docs/cli.md, compare)"
    else:  # another vl-convert draws the charts with other geometry: the rest must agree
        assert _masked(shipped.replace(re.search(r'content="([^"]+)"', shipped).group(1), generator)) == _masked(fresh)
