"""Test helpers: build compiled rulebook models in Python, without the parser.

``expr("credit >= 960")`` turns a Python-syntax expression into a ``model.Expression``
(``count("type", "3 days")`` stands for ``count(type within 3 days)``), so interpreter
tests do not depend on the grammar.
"""

from __future__ import annotations

import ast
import json
from decimal import Decimal

from creditdsl import model
from creditdsl.values import parse_duration

_BIN = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


def _tree(node: ast.AST):  # noqa: C901
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool):
            return model.Literal_(value=v, type="bool")
        if isinstance(v, (int, float)):
            return model.Literal_(value=Decimal(str(v)), type="number")
        if isinstance(v, str):
            return model.Literal_(value=v, type="string")
    if isinstance(node, ast.Name):
        if node.id in ("true", "false"):
            return model.Literal_(value=node.id == "true", type="bool")
        return model.Name(name=node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return model.Field_(source=node.value.id, field=node.attr)
    if isinstance(node, ast.UnaryOp):
        op = {ast.Not: "not", ast.USub: "-", ast.UAdd: "+"}[type(node.op)]
        return model.Unary(op=op, operand=_tree(node.operand))
    if isinstance(node, ast.BinOp):
        return model.Binary(op=_BIN[type(node.op)], left=_tree(node.left), right=_tree(node.right))
    if isinstance(node, ast.BoolOp):
        op = "and" if isinstance(node.op, ast.And) else "or"
        out = _tree(node.values[0])
        for v in node.values[1:]:
            out = model.Binary(op=op, left=out, right=_tree(v))
        return out
    if isinstance(node, ast.Compare):
        assert len(node.ops) == 1
        op, right = node.ops[0], node.comparators[0]
        if isinstance(op, (ast.In, ast.NotIn)):
            return model.In(item=_tree(node.left), options=tuple(_tree(e) for e in right.elts),
                            negated=isinstance(op, ast.NotIn))
        return model.Binary(op=_CMP[type(op)], left=_tree(node.left), right=_tree(right))
    if isinstance(node, ast.Call):
        name = node.func.id
        if name == "count":
            return model.Count(event_type=node.args[0].value, within=parse_duration(node.args[1].value))
        return model.Call(func=name, args=tuple(_tree(a) for a in node.args))
    raise ValueError(f"unsupported: {ast.dump(node)}")


def expr(text: str) -> model.Expression:
    return model.Expression(tree=_tree(ast.parse(text, mode="eval").body), text=text)


def change(ledger: str, amount: str | None, duration: str | None = None) -> model.LedgerChange:
    return model.LedgerChange(
        ledger=ledger, amount=None if amount is None else expr(amount),
        duration=None if duration is None else parse_duration(duration),
    )


def rule(name: str, on, *changes: model.LedgerChange, **kw) -> model.Rule:
    effects = dict(changes=tuple(changes))
    for key in ("fine", "tier_cap", "list", "unlist"):
        if key in kw:
            effects[key] = kw.pop(key)
    if isinstance(effects.get("fine"), str):
        effects["fine"] = model.Fine(amount=expr(effects["fine"]), currency="yuan")
    if isinstance(effects.get("tier_cap"), str):
        effects["tier_cap"] = model.TierCap(tier=effects["tier_cap"])
    for key in ("list", "unlist"):
        if isinstance(effects.get(key), str):
            effects[key] = (effects[key],)
    for key in ("where", "except_"):
        if isinstance(kw.get(key), str):
            kw[key] = expr(kw[key])
    if isinstance(kw.get("requires"), str):
        alts = []
        for alt in kw["requires"].split(" or "):
            alts.append(tuple(model.EvidenceCount(count=int(p.split()[0]), kind=p.split()[1]) for p in alt.split(" and ")))
        kw["requires"] = model.Requirement(alternatives=tuple(alts))
    if isinstance(kw.get("limit"), str):
        n, word, rest = kw["limit"].split(" ", 2)
        kw["limit"] = (model.Limit(count=int(n), period=rest) if word == "per"
                       else model.Limit(count=int(n), within=parse_duration(rest)))
    if isinstance(kw.get("cap"), str):
        n, word, rest = kw["cap"].split(" ", 2)
        kw["cap"] = (model.Cap(amount=Decimal(n), period=rest) if word == "per"
                     else model.Cap(amount=Decimal(n), within=parse_duration(rest)))
    on = (on,) if isinstance(on, str) else tuple(on)
    return model.Rule(name=name, on=on, effects=model.Effects(**effects), **kw)


def tiers(*pairs: tuple[str, str | None]) -> tuple[model.Tier, ...]:
    return tuple(model.Tier(name=n, condition=None if c is None else expr(c)) for n, c in pairs)


def rongcheng() -> model.Rulebook:
    """The rulebook of issue 3's "Done when"."""
    return model.Rulebook(
        name="Rongcheng social credit",
        timezone="Asia/Shanghai",
        currency="yuan",
        ledgers=(model.Ledger(name="credit", start=Decimal(1000)), model.Ledger(name="licence", start=Decimal(12))),
        tiers=tiers(("A+", "credit > 1000"), ("A", "credit >= 1000"), ("B", "credit >= 960"),
                    ("C", "credit >= 850"), ("D", None)),
        sanctions=(model.LabelSet(target="B", labels=("mortgage refused",)),),
        lists=(model.ListDef(name="dishonest debtors", tier="D", sanctions=("no air travel",)),),
        rules=(
            rule("littering", "littering", change("credit", "-3")),
            rule("failed to yield", "failed_to_yield_to_pedestrian", change("credit", "-5"), change("licence", "-3"),
                 fine="50"),
            rule("water meter", "helped_read_water_meter", change("credit", "+0.5"), limit="2 per week"),
            rule("good deed", "good_deed", change("credit", "+1"), requires="2 photo or 1 video"),
            rule("missed loan payment", "missed_loan_payment", list="dishonest debtors"),
            rule("debt repaid", "debt_repaid", unlist="dishonest debtors"),
        ),
    )


def lines(*events: dict) -> list[str]:
    return [json.dumps(e) for e in events]
