"""The tier of a subject as generated code (issue 9, speed): see codegen.py.

Public API::

    tier_function(plan) -> Callable[[SubjectState], int] | None

When every tier condition compares ledgers with numbers (``and``/``or``/``not`` of
such comparisons, ``true``/``false``, ``otherwise``), ``Plan.tier_index`` becomes one
generated function of straight-line comparisons (first true condition wins, then the
permanent and temporary tier caps and the lists' tiers, exactly as ``Plan.tier_index``
applies them). None: the plan keeps its general method.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from .codegen_source import _DIRTY, _const, _Src

_CMP = {"<", "<=", ">", ">=", "==", "!="}


def _cond_source(node: Any, plan: Any, src: _Src) -> str | None:
    """Python source for a tier condition that can neither skip nor fail: comparisons of a
    ledger with a number, `and`/`or`/`not` of those, true/false; None for anything else."""
    kind = node.kind
    if kind == "literal" and type(node.value) is bool:
        return repr(node.value)
    if kind == "unary" and node.op == "not":
        inner = _cond_source(node.operand, plan, src)
        return None if inner is None else f"(not {inner})"
    if kind == "binary" and node.op in ("and", "or"):
        a, b = _cond_source(node.left, plan, src), _cond_source(node.right, plan, src)
        return None if a is None or b is None else f"({a} {node.op} {b})"
    if kind == "binary" and node.op in _CMP:
        sides = []
        for side in (node.left, node.right):
            if side.kind == "name" and side.name in plan.ledger_index:
                sides.append(f"b[{plan.ledger_index[side.name]}]")
                continue
            c = _const(side)
            if c is None:
                return None
            sides.append(src.const(c, "C"))
        return f"({sides[0]} {node.op} {sides[1]})"
    return None


def tier_function(plan: Any) -> Callable | None:
    """``Plan.tier_index`` as straight-line comparisons, when every tier condition allows it."""
    if os.environ.get("CREDITDSL_NO_CODEGEN") or not plan.tier_cacheable:
        return None
    src = _Src()
    conds = []
    for t in plan.rulebook.tiers:
        if t.condition is None:
            conds.append("True")
            continue
        text = _cond_source(t.condition.tree, plan, src)
        if text is None:
            return None
        conds.append(text)
    src("def tier_index(st):")
    src("    t = st.tier")
    src(f"    if t != {_DIRTY}:")
    src("        return t")
    src("    b = st.bal")
    first = True
    for i, c in enumerate(conds):
        src(f"    {'if' if first else 'elif'} {c}:")
        src(f"        t = {i}")
        first = False
    if first:
        src("    t = -1")
    else:
        src("    else:")
        src("        t = -1")
    src("    if t >= 0 and (st.cap > t or st.tcaps or st.lists):")
    src("        t = worst(st, t)")
    src("    st.tier = t")
    src("    return t")
    list_tier = plan.list_tier

    def worst(st: Any, found: int) -> int:  # Plan.tier_index's caps, as written there
        w = st.cap
        for idx in st.tcaps.values():
            if idx > w:
                w = idx
        for name in st.lists:
            idx = list_tier.get(name, -1)
            if idx > w:
                w = idx
        return w if w > found else found

    ns: dict[str, Any] = {"worst": worst}
    ns.update(src.consts)
    exec(compile("\n".join(src.lines) + "\n", "<creditdsl tiers>", "exec"), ns)  # noqa: S102
    return ns["tier_index"]
