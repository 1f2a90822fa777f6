"""The ``compare --format html`` report: one self-contained, offline HTML file.

The page holds the comparison's tables (schemes, subjects side by side, the
events scored differently, each migration matrix, distributions, run summaries)
and its charts: the tier distribution per scheme, each migration matrix as a
heatmap, and the score distribution (the first ledger) per scheme. Charts are
Vega-Lite specifications built with Altair and rendered to static SVG by
vl-convert (no JavaScript, no network: vl-convert bundles its own engine), then
embedded inline. Chart data go to vl-convert as JSON text written by the exact
JSON writer, so no Decimal passes through a binary float on our side.

The page contains no script and no external reference (no ``src``/``href`` to
another file or host; the only URIs are the SVG XML namespaces), and it is
well-formed XML (XHTML syntax, ``<!DOCTYPE html>``), so tests parse it whole.
The same comparison gives byte-identical pages with the same vl-convert
version (its version is written in ``<meta name="generator">``); the SVG
geometry depends on vl-convert's text measurement, hence on that version.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from .. import __version__
from .compare import score_text
from .jsontext import to_json_text
from .tables import SUMMARY_ORDER, format_number

_CSS = """
body { font-family: sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0 1em 0; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; }
tr.differs td.subject { font-weight: bold; }
figure { display: inline-block; margin: 0 1.5em 1.5em 0; vertical-align: top; }
figcaption { font-size: 0.9em; color: #555; }
""".strip()


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


_ID = re.compile(r'\bid="([^"]+)"')


def _svg(spec: dict, prefix: str) -> str:
    """A Vega-Lite spec (dict, numbers possibly Decimal) as inline SVG.

    vl-convert numbers gradient ids with a counter that lives as long as the
    process; every id is renamed ``PREFIX-N`` (N in order of appearance), so
    a page is the same whatever was rendered before, and the ids of several
    inline SVGs never clash."""
    import vl_convert

    svg = vl_convert.vegalite_to_svg(to_json_text(spec))
    if svg.startswith("<?xml"):
        svg = svg[svg.index("?>") + 2:].lstrip()
    names: dict[str, str] = {}
    for old in _ID.findall(svg):
        names.setdefault(old, f"{prefix}-{len(names)}")
    if names:
        pattern = re.compile(r'(\bid="|url\(#|href="#)(' + "|".join(re.escape(x) for x in names) + r')(?=[")])')
        svg = pattern.sub(lambda mo: mo.group(1) + names[mo.group(2)], svg)
    return svg.strip()


def _spec(chart: Any, rows: list[dict]) -> dict:
    spec = chart.to_dict()
    spec["datasets"] = {"rows": rows}
    return spec


def _tier_chart(c: Any, tags: list[str]) -> str:
    import altair as alt

    rows = [
        {"scheme": tags[k], "tier": tier, "order": i, "subjects": n}
        for k, dist in enumerate(c.distributions)
        for i, (tier, n) in enumerate(dist)
    ]
    chart = (
        alt.Chart(alt.NamedData("rows"))
        .mark_bar()
        .encode(
            x=alt.X("tier:N", sort=alt.EncodingSortField(field="order", op="min"), title="tier",
                    axis=alt.Axis(labelAngle=0)),
            y=alt.Y("subjects:Q", title="subjects"),
            color=alt.Color("scheme:N", legend=None),
        )
        .properties(width=alt.Step(36), height=180)
        .facet(column=alt.Column("scheme:N", title=None, sort=tags))
        .resolve_scale(x="independent")
    )
    return _svg(_spec(chart, rows), "tiers")


def _heatmap(c: Any, mg: Any, tags: list[str]) -> str:
    import altair as alt

    rows = [
        {"from": r, "to": col, "from_order": i, "to_order": j, "subjects": mg.counts[i][j]}
        for i, r in enumerate(mg.rows)
        for j, col in enumerate(mg.columns)
    ]
    base = alt.Chart(alt.NamedData("rows")).encode(
        x=alt.X("to:N", sort=list(mg.columns), title=f"tier under {tags[mg.second]}", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("from:N", sort=list(mg.rows), title=f"tier under {tags[mg.first]}"),
    )
    rect = base.mark_rect().encode(
        color=alt.Color("subjects:Q", scale=alt.Scale(scheme="blues"), title="subjects")
    )
    text = base.mark_text(fontSize=12).encode(text=alt.Text("subjects:Q"))
    chart = (rect + text).properties(width=alt.Step(40), height=alt.Step(30))
    return _svg(_spec(chart, rows), f"migration-{mg.first + 1}-{mg.second + 1}")


def _score_chart(c: Any, k: int, label: str) -> str | None:
    import altair as alt

    scheme = c.schemes[k]
    if not scheme.ledgers or not c.subjects:
        return None
    ledger = scheme.ledgers[0]
    rows = [{"value": dict(row.ledgers[k]).get(ledger)} for row in c.subjects]
    chart = (
        alt.Chart(alt.NamedData("rows"))
        .mark_bar()
        .encode(
            x=alt.X("value:Q", bin=alt.Bin(maxbins=20), title=f"{ledger} under {label}", axis=alt.Axis(format="~g")),
            y=alt.Y("count():Q", title="subjects"),
        )
        .properties(width=260, height=160)
    )
    return _svg(_spec(chart, rows), f"scores-{k + 1}")


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] = frozenset(),  # type: ignore[assignment]
           row_class: list[str] | None = None, first_class: str | None = None) -> str:
    out = ["<table>", "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in headers) + "</tr>"]
    for n, row in enumerate(rows):
        cls = f' class="{row_class[n]}"' if row_class and row_class[n] else ""
        cells = []
        for i, cell in enumerate(row):
            classes = [x for x in ("num" if i in numeric else "", first_class if i == 0 and first_class else "") if x]
            attr = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(f"<td{attr}>{_e(cell)}</td>")
        out.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _figure(ident: str, caption: str, svg: str) -> str:
    return f'<figure id="{_e(ident)}">\n{svg}\n<figcaption>{_e(caption)}</figcaption>\n</figure>'


def comparison_html(comparison: Any, *, events: str | None = None) -> str:
    """The whole report as text (see the module docstring)."""
    import vl_convert

    c = comparison
    n = len(c.schemes)
    tag = [f"[{k + 1}]" for k in range(n)]
    labels = [f"{tag[k]} {s.name}" for k, s in enumerate(c.schemes)]
    title = "creditdsl comparison: " + " / ".join(s.name for s in c.schemes)
    body: list[str] = [f"<h1>{_e(title)}</h1>"]
    if events:
        body.append(f"<p>Events: <code>{_e(events)}</code></p>")
    body.append(_table(
        ["", "rulebook", "file", "as of"],
        [[tag[k], s.name, s.path, s.result.as_of.isoformat() if s.result.as_of else "-"]
         for k, s in enumerate(c.schemes)],
    ))

    body.append("<h2>Charts</h2>")
    body.append(_figure("chart-tiers", "Tier distribution per scheme: " + "; ".join(labels), _tier_chart(c, tag)))
    for mg in c.migrations:
        body.append(_figure(
            f"chart-migration-{mg.first + 1}-{mg.second + 1}",
            f"Migration {labels[mg.first]} -> {labels[mg.second]}: subjects by tier under each",
            _heatmap(c, mg, tag),
        ))
    for k in range(n):
        svg = _score_chart(c, k, tag[k])
        if svg is not None:
            body.append(_figure(f"chart-scores-{k + 1}", f"Score distribution under {labels[k]}", svg))

    with_lists = any(lst for row in c.subjects for lst in row.lists)
    headers = ["subject"] + [f"{t} tier" for t in tag] + [f"{t} ledgers" for t in tag] + [f"{t} fines" for t in tag]
    if with_lists:
        headers += [f"{t} lists" for t in tag]
    headers.append("differs")
    rows = []
    for row in c.subjects:
        cells = [row.subject, *("-" if t is None else t for t in row.tiers)]
        cells += [", ".join(f"{name} {format_number(v)}" for name, v in x) for x in row.ledgers]
        cells += [format_number(f) for f in row.fines]
        if with_lists:
            cells += [", ".join(x) for x in row.lists]
        cells.append("yes" if row.differs else "")
        rows.append(cells)
    body.append("<h2>Subjects</h2>")
    body.append(_table(headers, rows, set(range(1 + 2 * n, 1 + 3 * n)),
                       ["differs" if r.differs else "" for r in c.subjects], "subject"))

    body.append("<h2>Because: the events the schemes score differently</h2>")
    because = [[row.subject, b.event, b.type, *(score_text(s) for s in b.scores)]
               for row in c.subjects for b in row.because]
    body.append(_table(["subject", "event", "type", *tag], because) if because
                else "<p>Every event is scored alike under every scheme.</p>")

    body.append("<h2>Migration</h2>")
    for mg in c.migrations:
        a, b = tag[mg.first], tag[mg.second]
        body.append(f"<p>{_e(labels[mg.first])} (rows) -> {_e(labels[mg.second])} (columns)</p>")
        body.append(_table([f"{a} \\ {b}", *mg.columns],
                           [[r, *(str(x) for x in mg.counts[i])] for i, r in enumerate(mg.rows)],
                           set(range(1, 1 + len(mg.columns)))))

    body.append("<h2>Distribution</h2>")
    body.append(_table(["", "tiers"], [[tag[k], ", ".join(f"{t} {x}" for t, x in dist)]
                                       for k, dist in enumerate(c.distributions)]))
    body.append("<h2>Summary of each run</h2>")
    body.append(_table(["", *SUMMARY_ORDER], [
        [tag[k], *(str(s.result.summary.to_json()[key]) for key in SUMMARY_ORDER)] for k, s in enumerate(c.schemes)
    ], set(range(1, 1 + len(SUMMARY_ORDER)))))

    generator = f"creditdsl {__version__}; vl-convert {getattr(vl_convert, '__version__', '?')}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8"/>\n'
        f'<meta name="generator" content="{_e(generator)}"/>\n'
        f"<title>{_e(title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
