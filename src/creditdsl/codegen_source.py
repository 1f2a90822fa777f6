"""The pieces of generated source that codegen.py, codegen_effects.py and codegen_tiers.py
share (issue 9, speed).

Public API (for those modules)::

    _Src()                     lines of Python source being written, with its constants
                               (``src.const(value, prefix)`` names a value the code reads)
    _X(text)                   an expression inside a generated f-string
    _fline(parts)              the source of an f-string joining literal text and _X parts
    _bal_parts(names, var)     f-string parts of the JSON text of balances in list ``var``
    _bal_text(src, names, var) an expression giving that text
    _skip_line(rq, TQ, outcome) the f-string of an audit line that changes nothing
    _clamp(src, plan, index)   code keeping a local ``new`` within a ledger's bounds
    _tier_texts(src, plan)     the constant of the tiers' JSON texts (index -1: null)
    _const(expr)               the value of a numeric constant expression, else None
    _DIRTY                     the tier cache's "recompute" mark (state.DIRTY)
"""

from __future__ import annotations

import decimal
import json
from decimal import Decimal
from typing import Any

from .expressions import decimal_context
from .results import _q

_DIRTY = -2


def _const(expr: Any) -> Decimal | None:
    """The value of a numeric constant expression (``-3``, ``+0.5``, ``50``), else None."""
    node = getattr(expr, "tree", expr)
    ops = []
    while node.kind == "unary" and node.op in ("-", "+"):
        ops.append(node.op)
        node = node.operand
    if node.kind != "literal" or type(node.value) not in (Decimal, int):
        return None
    value = Decimal(node.value)
    with decimal.localcontext(decimal_context()):  # as the compiled closure computes it
        for op in reversed(ops):
            value = -value if op == "-" else +value
    return value


class _Src:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.consts: dict[str, Any] = {}
        self.depth = 0
        self.tier_texts: str | None = None  # _tier_texts's constant, once made

    def const(self, value: Any, prefix: str = "K") -> str:
        for k, v in self.consts.items():
            if v is value:
                return k
        name = f"{prefix}{len(self.consts)}"
        self.consts[name] = value
        return name

    def __call__(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)


class _X(str):
    """An expression inside a generated f-string (no quotes, no backslashes)."""


def _fline(parts: list) -> str:
    """Source of an f-string joining literal text and _X expressions."""
    out = []
    for p in parts:
        if isinstance(p, _X):
            out.append("{" + p + "}")
        else:
            out.append(p.replace("\\", "\\\\").replace("'", "\\'").replace("{", "{{").replace("}", "}}"))
    return "f'" + "".join(out) + "'"


def _bal_parts(names: tuple[str, ...], var: str) -> list:
    """f-string parts of the JSON text of the balances in list ``var``."""
    if not names:
        return ["{}"]
    parts: list = []
    for i, n in enumerate(names):
        parts.append(("{" if i == 0 else ", ") + json.dumps(n) + ": ")
        parts.append(_X(f"NG({var}[{i}]) or N({var}[{i}])"))
    parts.append("}")
    return parts


def _skip_line(rq: str, TQ: str, outcome: str = "skipped") -> str:
    """The f-string of a line that changes nothing, `skipped` or `deferred` (locals: q, H, rs,
    bt, t)."""
    return _fline(['{"seq": ', _X("q"), ", ", _X("H"), rq + f', "outcome": "{outcome}", "reason": ', _X("rs"),
                   ', "changes": {}, "before": ', _X("bt"), ', "after": ', _X("bt"), ', "tier_before": ', _X("t"),
                   ', "tier_after": ', _X("t"), "}"])


def _clamp(src: _Src, plan: Any, index: int, indent: str = "") -> bool:
    """Code keeping a local ``new`` within ledger ``index``'s floor and ceiling; False: the
    ledger has neither (no code)."""
    lo, hi = plan.floors[index], plan.ceilings[index]
    for bound, op in ((lo, "<"), (hi, ">")):
        if bound is not None:
            B = src.const(bound, "C")
            src(f"{indent}if new {op} {B}:")
            src(f"{indent}    new = {B}")
    return lo is not None or hi is not None


def _tier_texts(src: _Src, plan: Any) -> str:
    """The name in ``src`` of the tiers' JSON texts by tier index (index -1: ``null``)."""
    if src.tier_texts is None:
        src.tier_texts = src.const(tuple(_q(t) for t in plan.tier_names) + ("null",), "TQ")
    return src.tier_texts


def _bal_text(src: _Src, names: tuple[str, ...], var: str) -> str:
    """An expression giving the JSON text of the balances in list ``var``."""
    parts = []
    for i, n in enumerate(names):
        key = ("{" if i == 0 else ", ") + json.dumps(n) + ": "
        parts.append(f"{key!r} + N({var}[{i}])")
    return " + ".join(parts) + " + '}'" if parts else "'{}'"
