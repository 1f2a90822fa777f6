"""Checks of names and structure: tiers, lists, ledgers named by effects, fines, tests.

Codes: E0301 unknown ledger (in a change), E0302 unknown list, E0303 unknown
tier, E0304 unknown tier or list, E0305 `otherwise` misplaced, E0306 tier and
list share a name, E0307 rule or trigger without effect, E0208 fine in another
currency, E0312 fine without a unit, E0311 unknown expectation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .. import model
from ..diagnostics import Diagnostic, error
from .common import (
    EXPECTATION_KEYS,
    RULE_KEYS,
    TRIGGER_KEYS,
    actors,
    hint,
    known,
    label,
    ledger_names,
    list_names,
    nearest,
    span_of,
    tier_names,
)


def otherwise_last(rulebook: model.Rulebook) -> Iterator[Diagnostic]:
    """E0305: `otherwise` appears at most once, as the last tier."""
    first: model.Tier | None = None
    last_index = len(rulebook.tiers) - 1
    for index, tier in enumerate(rulebook.tiers):
        if not tier.otherwise:
            continue
        if first is not None:
            yield error(
                "E0305",
                f"`otherwise` appears twice (tier `{tier.name}`)",
                span_of(tier),
                labels=label(first, f"tier `{first.name}` is already `otherwise`"),
                help="keep one `otherwise`, as the last tier",
            )
        elif index != last_index:
            after = ", ".join(f"`{t.name}`" for t in rulebook.tiers[index + 1 :])
            yield error(
                "E0305",
                f"`otherwise` must be the last tier, but tier `{tier.name}` comes before {after}",
                span_of(tier),
                labels=label(rulebook.tiers[index + 1], "this tier could never be reached"),
                help=f"move tier `{tier.name}` to the end of `tiers:`",
            )
        if first is None:
            first = tier


def tier_list_namespace(rulebook: model.Rulebook) -> Iterator[Diagnostic]:
    """E0306: tiers and lists share one namespace (sanctions name either)."""
    tiers = {t.name: t for t in rulebook.tiers}
    for lst in rulebook.lists:
        tier = tiers.get(lst.name)
        if tier is not None:
            yield error(
                "E0306",
                f"list `{lst.name}` has the name of a tier",
                span_of(lst),
                labels=label(tier, f"tier `{tier.name}` declared here"),
                notes=("`sanctions:` and `privileges:` name tiers or lists, so their names must differ",),
                help="rename the list or the tier",
            )


def _unknown_tier(name: str, rulebook: model.Rulebook, span: Any, where: str) -> Diagnostic:
    tiers = tier_names(rulebook)
    text = hint(name, tiers) or known("tier", tiers, "tiers")
    return error("E0303", f"unknown tier `{name}` in {where}", span, help=text)


def tier_references(rulebook: model.Rulebook) -> Iterator[Diagnostic]:
    """E0303 for `tier:` caps of rules, triggers and lists; E0304 for sanctions/privileges."""
    tiers = set(tier_names(rulebook))
    for kind, actor in actors(rulebook):
        cap = actor.effects.tier_cap
        if cap is not None and cap.tier not in tiers:
            yield _unknown_tier(cap.tier, rulebook, span_of(cap, actor.effects, actor), f"{kind} `{actor.name}`")
    for lst in rulebook.lists:
        if lst.tier is not None and lst.tier not in tiers:
            yield _unknown_tier(lst.tier, rulebook, lst.tier_span or span_of(lst), f"list `{lst.name}`")
    targets = tier_names(rulebook) + list_names(rulebook)
    for key, sets in (("sanctions", rulebook.sanctions), ("privileges", rulebook.privileges)):
        for item in sets:
            if item.target not in targets:
                yield error(
                    "E0304",
                    f"`{key}:` names `{item.target}`, which is neither a tier nor a list",
                    span_of(item),
                    help=hint(item.target, targets) or known("tier or list", targets, "tiers"),
                )


def ledger_changes(rulebook: model.Rulebook) -> Iterator[Diagnostic]:
    """E0301: a change names a ledger that is not declared (or inherited)."""
    ledgers = rulebook.ledgers
    names = [x.name for x in ledgers]
    for kind, actor in actors(rulebook):
        keys = RULE_KEYS if kind == "rule" else TRIGGER_KEYS
        for change in actor.effects.changes:
            if change.ledger in names:
                continue
            near = nearest(change.ledger, names + list(keys))
            labels: tuple = ()
            if near in names:
                advice = f"did you mean `{near}`?"
                labels = label(next(x for x in ledgers if x.name == near), f"ledger `{near}` declared here")
            elif near is not None:
                advice = f"did you mean the {kind} key `{near}`?"
            else:
                advice = known("ledger", names, "ledgers")
            yield error(
                "E0301",
                f"unknown ledger `{change.ledger}` in {kind} `{actor.name}`",
                span_of(change, actor.effects, actor),
                labels=labels,
                help=advice,
            )


def list_references(rulebook: model.Rulebook) -> Iterator[Diagnostic]:
    """E0302: `list:` / `unlist:` name a declared list."""
    names = list_names(rulebook)
    for kind, actor in actors(rulebook):
        fx = actor.effects
        for key, items, spans in (("list", fx.list, fx.list_spans), ("unlist", fx.unlist, fx.unlist_spans)):
            for i, name in enumerate(items):
                if name not in names:
                    yield error(
                        "E0302",
                        f"`{key}:` in {kind} `{actor.name}` names unknown list `{name}`",
                        (spans[i] if i < len(spans) else None) or span_of(fx, actor),
                        help=hint(name, names) or known("list", names, "lists"),
                    )


def has_effect(rulebook: model.Rulebook) -> Iterator[Diagnostic]:
    """E0307: a rule or trigger that changes nothing."""
    for kind, actor in actors(rulebook):
        if actor.effects.empty:
            yield error(
                "E0307",
                f"{kind} `{actor.name}` has no effect",
                span_of(actor),
                help="give it a ledger change, `fine`, `tier`, `list` or `unlist`",
            )


def fine_currency(rulebook: model.Rulebook) -> Iterator[Diagnostic]:
    """E0208: a fine in another currency; E0312: a fine without the rulebook's currency."""
    currency = rulebook.currency
    for kind, actor in actors(rulebook):
        fine = actor.effects.fine
        if fine is None:
            continue
        span = span_of(fine, actor.effects, actor)
        if fine.currency is not None and fine.currency != currency:
            if currency is None:
                yield error(
                    "E0208",
                    f"fine in `{fine.currency}` but the rulebook declares no `currency`",
                    span,
                    help=f"add `currency: {fine.currency}` at the top level, or drop the unit",
                )
            else:
                yield error(
                    "E0208",
                    f"fine in `{fine.currency}` but the rulebook's currency is `{currency}`",
                    span,
                    help=hint(fine.currency, [currency]) or f"write the fine in `{currency}`",
                )
        elif fine.currency is None and currency is not None:
            yield error(
                "E0312",
                f"fine of {kind} `{actor.name}` has no unit",
                span,
                help=f"write the unit: `fine: {fine.amount.text or 'AMOUNT'} {currency}`",
            )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def test_expectations(rulebook: model.Rulebook) -> Iterator[Diagnostic]:
    """E0311 unknown expectation keys; E0303 / E0302 unknown tier / list names in them."""
    ledgers = ledger_names(rulebook)
    tiers = tier_names(rulebook)
    lists = list_names(rulebook)
    keys = ledgers + list(EXPECTATION_KEYS)
    for case in rulebook.tests:
        for exp in case.expect:
            span = span_of(exp, case)
            value = exp.value.value if isinstance(exp.value, model.TestValue) else exp.value
            if exp.key not in keys:
                yield error(
                    "E0311",
                    f"test `{case.name}` expects unknown key `{exp.key}`",
                    span,
                    help=hint(exp.key, keys) or "expect ledgers, `tier`, `fines`, `lists`, `sanctions` or `privileges`",
                )
            elif exp.key == "tier" and exp.key not in ledgers:
                for name in _strings(value):
                    if name not in tiers and name.lower() not in ("null", "none"):  # `null`: no tier
                        yield _unknown_tier(name, rulebook, span, f"the expectations of test `{case.name}`")
            elif exp.key == "lists" and exp.key not in ledgers:
                for name in _strings(value):
                    if name not in lists:
                        yield error(
                            "E0302",
                            f"test `{case.name}` expects unknown list `{name}`",
                            span,
                            help=hint(name, lists) or known("list", lists, "lists"),
                        )


test_expectations.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
