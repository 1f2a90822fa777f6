"""``explain`` and ``statements`` output: plain text, JSON, CSV and one offline HTML page.

Every function takes the documents of ``Explanation.to_json()`` /
``Statement.to_json()`` (plus, for HTML, the chart facts an Explanation keeps)
and returns text; the CLI writes it. The HTML page has no network reference:
its chart is an inline SVG drawn here, coordinates computed with Decimals and
rounded to 0.1, so the same inputs give the same bytes.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from html import escape
from typing import Any, Sequence

from .jsontext import to_json_text
from .tables import format_number


def _n(value: Any) -> str:
    return format_number(value) if value is not None else ""


def _signed(value: Any) -> str:
    text = format_number(value)
    return text if text.startswith("-") or text == "0" else "+" + text


def _changes(changes: dict) -> str:
    return ", ".join(f"{k} {_signed(v)}" for k, v in changes.items())


def _balances(ledgers: dict | None) -> str:
    return "" if not ledgers else ", ".join(f"{k} {_n(v)}" for k, v in ledgers.items())


def _deed_lines(groups: list[dict], pad: str) -> list[str]:
    out = []
    for g in groups:
        extra = []
        if g["evidence"]:
            extra.append("evidence: " + ", ".join(g["evidence"]))
        extra += [f"{k}: {_n(v) if isinstance(v, Decimal) else v}" for k, v in g["fields"].items()]
        tail = f" ({'; '.join(extra)})" if extra else ""
        out.append(f"{pad}{g['count']} x {g['type']} at {g['at']}, rule `{g['rule']}`{tail}")
    return out


# ---------------------------------------------------------------- explain, text


def explain_text(doc: dict) -> str:
    lines = [f"{doc['subject']} under {doc['rulebook']}, as of {doc['as_of'] or 'the start'}", ""]
    lines.append("Timeline")
    if not doc["timeline"]:
        lines.append("  (no decision)")
    for s in doc["timeline"]:
        head = f"  #{s['seq']} {s['at'] or '-'}"
        if s["event"] is not None:
            head += f"  event {s['event']}"
        if s["line"] is not None:
            head += f" (line {s['line']})"
        head += f"  {s['rule'] or '-'}: {s['outcome']}"
        lines.append(head)
        detail = []
        if s["changes"]:
            detail.append(_changes(s["changes"]))
        if s["fine"] is not None:
            detail.append(f"fine {_n(s['fine'])}")
        detail += [f"listed on {n}" for n in s["listed"]] + [f"off {n}" for n in s["unlisted"]]
        after = _balances(s["ledgers"])
        if after or s["tier"] is not None:
            detail.append(f"then {after}{'; ' if after else ''}tier {s['tier'] or '-'}")
        if detail:
            lines.append("      " + "; ".join(detail))
        if s["reason"]:
            lines.append(f"      reason: {s['reason']}")
        if s["location"]:
            lines.append(f"      {s['location']}: {s['source'] or ''}".rstrip())
    now = doc["now"]
    lines += ["", "Now", f"  ledgers: {_balances(now['ledgers'])}"]
    tier = now["tier"] or "none"
    if now["tier_by_ledgers"] != now["tier"]:
        tier += f" (by ledgers alone: {now['tier_by_ledgers'] or 'none'})"
    lines.append(f"  tier: {tier}")
    lines.append(f"  fines: {_n(now['fines'])}")
    lines.append("  lists: " + ("none" if not now["lists"] else "; ".join(
        f"{x['name']} (since {x['since'] or '?'}, until {x['until'] or 'removed'})" for x in now["lists"])))
    lines.append("  caps: " + ("none" if not now["caps"] else "; ".join(
        f"tier {x['tier']} from {x['from']} until {x['until'] or 'lifted'}" for x in now["caps"])))
    for key in ("sanctions", "privileges"):
        lines.append(f"  {key}: " + ("none" if not now[key] else "; ".join(
            f"{x['label']} ({', '.join(x['from'])})" for x in now[key])))
    lines += ["", "Pending"]
    if not doc["pending"]:
        lines.append("  nothing")
    for p in doc["pending"]:
        origin = f" [rule `{p['rule']}`, event {p['event']}]" if p["rule"] else ""
        lines.append(f"  {p['at']}  {p['kind']}: {p['effect']}{origin}")
    lines += ["", f"Path back (horizon {doc['horizon']})"]
    if not doc["path_back"]:
        lines.append("  no tiers in this rulebook" if not doc["tiers"] else "  already at the best tier")
    for p in doc["path_back"]:
        lines.append(f"  to {p['tier']}:")
        w = p["by_waiting"]
        lines.append(f"    by waiting: {'at ' + w['at'] if w['reachable'] else w['reason']}")
        d = p["by_deeds"]
        if d["reachable"]:
            lines.append(f"    by deeds: {d['count']} event{'s' if d['count'] != 1 else ''}, reached at {d['reached_at']}")
            lines += _deed_lines(d["deeds"], "      ")
        else:
            lines.append(f"    by deeds: {d['reason']}")
        used = {g["rule"] for g in d["deeds"] or ()}
        if d["equivalent"]:
            for rule, others in ((r, o) for r, o in d["equivalent"].items() if r in used):
                lines.append(f"    (`{rule}` may be replaced by: {', '.join('`' + o + '`' for o in others)})")
        for x in d["left_out"]:
            lines.append(f"    left out: `{x['rule']}`: {x['reason']}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- explain, HTML

_CSS = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
td.num { text-align: right; }
code { font-size: 0.95em; }
figure { margin: 1em 0; }
figcaption { font-size: 0.9em; color: #555; }
""".strip()

_BAND_COLOURS = ("#e8f4ea", "#f4f4e0", "#f8ece0", "#f4e2e2", "#ece4f4", "#e2ecf4", "#eeeeee")
W, H, LEFT, RIGHT, TOP, BOTTOM = 720, 260, 60, 90, 20, 40
_Q = Decimal("0.1")


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _c(value: Decimal) -> str:
    return format_number(value.quantize(_Q))


def _chart(ledger: str, points: list[tuple[datetime, Decimal]], bands: list | None) -> str:
    """A step line of one ledger over time, with the tier bands shaded behind it."""
    t0, t1 = points[0][0], points[-1][0]
    span = Decimal(max(int((t1 - t0).total_seconds()), 1))
    values = [v for _, v in points]
    edges = [b for band in (bands or []) for b in band[1:] if b is not None]
    lo, hi = min(values + edges), max(values + edges)
    pad = max((hi - lo) / 10, Decimal(1))
    lo, hi = lo - pad, hi + pad
    pw, ph = Decimal(W - LEFT - RIGHT), Decimal(H - TOP - BOTTOM)

    def x(t: datetime) -> Decimal:
        return LEFT + pw * Decimal(int((t - t0).total_seconds())) / span

    def y(v: Decimal) -> Decimal:
        return TOP + ph * (hi - v) / (hi - lo)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
             f'role="img" aria-label="{_e(ledger)} over time">']
    for i, (name, lower, upper) in enumerate(bands or []):
        top = y(min(upper, hi)) if upper is not None else Decimal(TOP)
        bottom = y(max(lower, lo)) if lower is not None else Decimal(H - BOTTOM)
        if bottom <= top:
            continue
        parts.append(f'<rect x="{LEFT}" y="{_c(top)}" width="{_c(pw)}" height="{_c(bottom - top)}" '
                     f'fill="{_BAND_COLOURS[i % len(_BAND_COLOURS)]}"/>')
        parts.append(f'<text x="{_c(LEFT + pw + 6)}" y="{_c((top + bottom) / 2 + 4)}" font-size="11">'
                     f'tier {_e(name)}</text>')
    parts.append(f'<rect x="{LEFT}" y="{TOP}" width="{_c(pw)}" height="{_c(ph)}" fill="none" stroke="#999"/>')
    path = []
    prev = None
    for t, v in points:
        if prev is None:
            path.append(f"M{_c(x(t))},{_c(y(v))}")
        else:
            path.append(f"H{_c(x(t))}V{_c(y(v))}")
        prev = v
    parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="#1f5fa8" stroke-width="2"/>')
    for v in (lo + pad, hi - pad):
        parts.append(f'<text x="{LEFT - 6}" y="{_c(y(v) + 4)}" font-size="11" text-anchor="end">{_e(_n(v))}</text>')
    parts.append(f'<text x="{LEFT}" y="{H - BOTTOM + 16}" font-size="11">{_e(t0.date().isoformat())}</text>')
    parts.append(f'<text x="{_c(LEFT + pw)}" y="{H - BOTTOM + 16}" font-size="11" text-anchor="end">'
                 f'{_e(t1.date().isoformat())}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _series(doc: dict, starts: dict) -> dict[str, list[tuple[datetime, Decimal]]]:
    steps = [s for s in doc["timeline"] if s["at"] and s["ledgers"]]
    out: dict[str, list[tuple[datetime, Decimal]]] = {}
    if not steps or not doc["as_of"]:
        return out
    first = datetime.fromisoformat(steps[0]["at"])
    end = datetime.fromisoformat(doc["as_of"])
    for name, start in starts.items():
        pts = [(first, Decimal(start))]
        for s in steps:
            pts.append((datetime.fromisoformat(s["at"]), Decimal(s["ledgers"][name])))
        pts.append((max(end, pts[-1][0]), pts[-1][1]))
        out[name] = pts
    return out


def _table(headers: Sequence[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:  # type: ignore[assignment]
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def explain_html(doc: dict, starts: dict, bands: dict) -> str:
    """One self-contained page: timeline table, a chart per ledger with tier bands, path back."""
    title = f"{doc['subject']} under {doc['rulebook']}"
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{_e(title)}</title>",
           f"<style>{_CSS}</style></head><body>", f"<h1>{_e(title)}</h1>",
           f"<p>As of {_e(doc['as_of'] or 'the start')}; horizon {_e(doc['horizon'])}.</p>"]
    now = doc["now"]
    out.append("<h2>Now</h2>")
    rows = [["ledgers", _e(_balances(now["ledgers"]))], ["tier", _e(now["tier"] or "none")],
            ["tier by ledgers alone", _e(now["tier_by_ledgers"] or "none")], ["fines", _e(_n(now["fines"]))],
            ["lists", _e("; ".join(f"{x['name']} until {x['until'] or 'removed'}" for x in now["lists"]) or "none")],
            ["caps", _e("; ".join(f"tier {x['tier']} from {x['from']}" for x in now["caps"]) or "none")],
            ["sanctions", _e("; ".join(f"{x['label']} ({', '.join(x['from'])})" for x in now["sanctions"]) or "none")],
            ["privileges", _e("; ".join(f"{x['label']} ({', '.join(x['from'])})" for x in now["privileges"]) or "none")]]
    out.append(_table(["", ""], rows))
    series = _series(doc, starts)
    if series:
        out.append("<h2>Ledgers over time</h2>")
        for name, pts in series.items():
            out.append(f"<figure>{_chart(name, pts, bands.get(name))}<figcaption>{_e(name)} over time"
                       + (", tiers shaded" if bands.get(name) else "") + "</figcaption></figure>")
    out.append("<h2>Timeline</h2>")
    rows = []
    for s in doc["timeline"]:
        rows.append([str(s["seq"]), _e(s["at"] or ""), _e(s["event"] or ""), _e(s["rule"] or ""), _e(s["outcome"]),
                     _e(_changes(s["changes"])), _e(_balances(s["ledgers"])), _e(s["tier"] or ""),
                     _e(s["reason"] or ""),
                     (f"<code>{_e(s['location'])}</code> {_e(s['source'] or '')}" if s["location"] else "")])
    out.append(_table(["#", "at", "event", "rule", "outcome", "changes", "after", "tier", "reason", "rule source"],
                      rows, {0}))
    out.append("<h2>Pending</h2>")
    if doc["pending"]:
        out.append(_table(["at", "kind", "effect", "rule", "event"],
                          [[_e(p["at"]), _e(p["kind"]), _e(p["effect"]), _e(p["rule"] or ""), _e(p["event"] or "")]
                           for p in doc["pending"]]))
    else:
        out.append("<p>Nothing pending.</p>")
    out.append("<h2>Path back</h2>")
    if not doc["path_back"]:
        out.append("<p>" + ("No tiers in this rulebook." if not doc["tiers"] else "Already at the best tier.") + "</p>")
    for p in doc["path_back"]:
        out.append(f"<h3>To {_e(p['tier'])}</h3><ul>")
        w = p["by_waiting"]
        out.append(f"<li>By waiting: {_e('at ' + w['at'] if w['reachable'] else w['reason'])}</li>")
        d = p["by_deeds"]
        if d["reachable"]:
            out.append(f"<li>By deeds: {d['count']} event{'s' if d['count'] != 1 else ''}, reached at "
                       f"{_e(d['reached_at'])}<ul>")
            out += [f"<li>{_e(line.strip())}</li>" for line in _deed_lines(d["deeds"], "")]
            out.append("</ul></li>")
        else:
            out.append(f"<li>By deeds: {_e(d['reason'])}</li>")
        for x in d["left_out"]:
            out.append(f"<li>Left out: <code>{_e(x['rule'])}</code>: {_e(x['reason'])}</li>")
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def explain_json(doc: dict) -> str:
    return to_json_text(doc, indent=2) + "\n"


# ---------------------------------------------------------------- statements


def statements_text(docs: list[dict]) -> str:
    lines: list[str] = []
    for st in docs:
        head = f"Statement {st['start']} .. {st['end']}" + (" (partial)" if st["partial"] else "")
        lines.append(head)
        if not st["subjects"]:
            lines.append("  no change")
        for e in st["subjects"]:
            what = []
            if e["changes"]:
                what.append(_changes(e["changes"]))
            if e["tier_before"] != e["tier_after"]:
                what.append(f"tier {e['tier_before'] or '-'} -> {e['tier_after'] or '-'}")
            what += [f"listed on {n}" for n in e["listed"]] + [f"off {n}" for n in e["unlisted"]]
            lines.append(f"  {e['subject']}: {'; '.join(what)}")
            for i in e["items"]:
                reason = f" ({i['reason']})" if i["reason"] else ""
                change = _changes(i["changes"])
                lines.append(f"    {i['at']} {i['rule'] or i['outcome']}: {change or i['outcome']}{reason}")
        lines.append("")
    return "\n".join(lines) if lines else "no statement: no decision\n"


CSV_HEADER = ("start", "end", "partial", "subject", "at", "event", "rule", "outcome", "ledger", "change",
              "tier_before", "tier_after", "listed", "unlisted", "reason")


def statements_csv(docs: list[dict]) -> str:
    """One row per (decision, ledger change); a decision without a ledger change has one row."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_HEADER)
    for st in docs:
        for e in st["subjects"]:
            for i in e["items"]:
                changes = list(i["changes"].items()) or [("", None)]
                for ledger, amount in changes:
                    w.writerow([st["start"], st["end"], "true" if st["partial"] else "false", e["subject"], i["at"],
                                i["event"] or "", i["rule"] or "", i["outcome"], ledger,
                                "" if amount is None else format_number(amount), i["tier_before"] or "",
                                i["tier_after"] or "", ";".join(i["listed"]), ";".join(i["unlisted"]),
                                i["reason"] or ""])
    return buf.getvalue()


def statements_json(docs: list[dict]) -> str:
    return to_json_text({"statements": docs}, indent=2) + "\n"
