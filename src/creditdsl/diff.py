"""Two rulebooks, structurally (STYLE.md §2.7): ``diff_rulebooks(old, new) -> list[Edit]``.

**diff.** Both rulebooks are loaded with inheritance resolved and aligned by
name: the header, ledgers, tiers (conditions changed; positions moved, i.e.
not on a longest common subsequence of the common tiers), sanctions,
privileges, lists, rules and triggers are ``added``, ``removed``, ``changed``
(one edit per field: ``on``, ``where``, ``except``, ``requires``, ``limit``,
``cap``, ``group``, ``grace``, each ledger's change, ``fine``, ``tier``,
``list``, ``unlist``, ``note``, ``source``) or ``moved``; kept items give no
edit, so ``diff_rulebooks(a, a) == []``. When the two schemes share no rule
name (two unrelated municipal schemes), rules are aligned by event type
instead: one ``event`` edit per event type either scheme handles, saying what
each does with it (``added``: only the new one handles it; ``removed``: only
the old one; ``changed``: both, differently).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from . import model as m
from .compare import load_rulebook
from .source import Span
from .values import format_decimal

@dataclass(frozen=True)
class Edit:
    """One structural difference: ``kind`` is added, removed, changed or moved."""

    kind: str
    section: str  # rulebook, ledger, tier, sanctions, privileges, list, rule, trigger, event
    name: str
    field: str | None = None
    old: str | None = None
    new: str | None = None
    old_span: Span | None = None
    new_span: Span | None = None

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "section": self.section,
            "name": self.name,
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "old_at": None if self.old_span is None else str(self.old_span),
            "new_at": None if self.new_span is None else str(self.new_span),
        }


def diff_json(old: m.Rulebook, new: m.Rulebook, edits: Sequence[Edit]) -> dict:
    """The ``diff --format json`` document."""
    return {
        "old": {"rulebook": old.name, "path": old.path},
        "new": {"rulebook": new.name, "path": new.path},
        "edits": [e.to_json() for e in edits],
    }


# ---------------------------------------------------------------- text of model parts


def _expr(e: m.Expression | None) -> str | None:
    return None if e is None else e.text


def _labels(labels: Iterable[str]) -> str:
    return "[" + ", ".join(labels) + "]"


def _limit(x: m.Limit | None) -> str | None:
    if x is None:
        return None
    return f"{x.count} per {x.period}" if x.period else f"{x.count} within {x.within}"


def _cap(x: m.Cap | None) -> str | None:
    if x is None:
        return None
    amount = format_decimal(x.amount)
    return f"{amount} per {x.period}" if x.period else f"{amount} within {x.within}"


def _requires(x: m.Requirement | None) -> str | None:
    if x is None:
        return None
    return " or ".join(" and ".join(f"{e.count} {e.kind}" for e in alt) for alt in x.alternatives)


def _grace(x: m.Grace | None) -> str | None:
    if x is None:
        return None
    return f"{x.duration} unless {', '.join(x.unless)}"


def _change(x: m.LedgerChange | None) -> str | None:
    if x is None:
        return None
    if x.amount is None:
        return "reset"
    return x.amount.text + (f" for {x.duration}" if x.duration is not None else "")


def _fine(x: m.Fine | None) -> str | None:
    if x is None:
        return None
    return x.amount.text + (f" {x.currency}" if x.currency else "")


def _tier_cap(x: m.TierCap | None) -> str | None:
    if x is None:
        return None
    return x.tier + (f" for {x.duration}" if x.duration is not None else "")


def _effect_fields(e: m.Effects, ledgers: Sequence[str]) -> list[tuple[str, str | None, Any]]:
    """(field, text, compared value) of effects; ``ledgers`` fixes which ledger fields appear."""
    changes = {c.ledger: c for c in e.changes}
    out: list[tuple[str, str | None, Any]] = [(n, _change(changes.get(n)), changes.get(n)) for n in ledgers]
    out += [
        ("fine", _fine(e.fine), e.fine),
        ("tier", _tier_cap(e.tier_cap), e.tier_cap),
        ("list", _labels(e.list) if e.list else None, e.list),
        ("unlist", _labels(e.unlist) if e.unlist else None, e.unlist),
    ]
    return out


def _rule_fields(r: m.Rule, ledgers: Sequence[str]) -> list[tuple[str, str | None, Any]]:
    return [
        ("on", ", ".join(r.on), r.on),
        ("where", _expr(r.where), r.where),
        ("except", _expr(r.except_), r.except_),
        ("requires", _requires(r.requires), r.requires),
        ("limit", _limit(r.limit), r.limit),
        ("cap", _cap(r.cap), r.cap),
        ("group", r.group, r.group),
        ("grace", _grace(r.grace), r.grace),
        *_effect_fields(r.effects, ledgers),
        ("note", r.note, r.note),
        ("source", r.source, r.source),
    ]


def _trigger_fields(t: m.Trigger, ledgers: Sequence[str]) -> list[tuple[str, str | None, Any]]:
    return [
        ("when", _expr(t.when), t.when),
        *_effect_fields(t.effects, ledgers),
        ("note", t.note, t.note),
        ("source", t.source, t.source),
    ]


def _ledger_fields(x: m.Ledger) -> list[tuple[str, str | None, Any]]:
    reset = None
    if x.reset is not None:
        reset = x.reset.every + (f" from subject.{x.reset.from_field}" if x.reset.from_field else "")
    return [
        ("start", format_decimal(x.start), x.start),
        ("floor", None if x.floor is None else format_decimal(x.floor), x.floor),
        ("ceiling", None if x.ceiling is None else format_decimal(x.ceiling), x.ceiling),
        ("reset", reset, x.reset),
        ("expire", None if x.expire is None else str(x.expire), x.expire),
    ]


def _list_fields(x: m.ListDef) -> list[tuple[str, str | None, Any]]:
    return [
        ("for", None if x.term is None else str(x.term), x.term),
        ("tier", x.tier, x.tier),
        ("sanctions", _labels(x.sanctions) if x.sanctions else None, x.sanctions),
        ("privileges", _labels(x.privileges) if x.privileges else None, x.privileges),
        ("note", x.note, x.note),
    ]


def _describe(fields: list[tuple[str, str | None, Any]], skip: tuple[str, ...] = ("note", "source")) -> str:
    return ", ".join(f"{k} {v}" for k, v, _ in fields if v is not None and k not in skip)


def describe_rule(r: m.Rule) -> str:
    """What a rule does, in one line: ``on littering, credit -3, fine 50 yuan``."""
    return _describe(_rule_fields(r, [c.ledger for c in r.effects.changes]))


def _describe_trigger(t: m.Trigger) -> str:
    return _describe(_trigger_fields(t, [c.ledger for c in t.effects.changes]))


# ---------------------------------------------------------------- alignment


def _by_name(items: Sequence[Any], key: str = "name") -> dict[str, Any]:
    return {getattr(x, key): x for x in items}


def _field_edits(section: str, name: str, old_fields: list, new_fields: list,
                 old_span: Span | None, new_span: Span | None) -> list[Edit]:
    out = []
    for (field, old_text, old_value), (_, new_text, new_value) in zip(old_fields, new_fields):
        if old_value != new_value:
            out.append(Edit("changed", section, name, field, old_text, new_text, old_span, new_span))
    return out


def _named(section: str, old_items: Sequence[Any], new_items: Sequence[Any], fields: Any, describe: Any,
           key: str = "name") -> list[Edit]:
    """Removed and changed in the old order, then added in the new order."""
    old_map, new_map = _by_name(old_items, key), _by_name(new_items, key)
    out: list[Edit] = []
    for name, a in old_map.items():
        b = new_map.get(name)
        if b is None:
            out.append(Edit("removed", section, name, None, describe(a), None, a.span, None))
        elif a != b:
            out += _field_edits(section, name, *fields(a, b), a.span, b.span)
    for name, b in new_map.items():
        if name not in old_map:
            out.append(Edit("added", section, name, None, None, describe(b), None, b.span))
    return out


def _ledgers_of(*effects: m.Effects) -> list[str]:
    names: list[str] = []
    for e in effects:
        for c in e.changes:
            if c.ledger not in names:
                names.append(c.ledger)
    return names


def _lcs(a: list[str], b: list[str]) -> set[str]:
    """The names on one longest common subsequence of ``a`` and ``b`` (both of distinct names)."""
    n, k = len(a), len(b)
    table = [[0] * (k + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(k - 1, -1, -1):
            table[i][j] = table[i + 1][j + 1] + 1 if a[i] == b[j] else max(table[i + 1][j], table[i][j + 1])
    keep: set[str] = set()
    i = j = 0
    while i < n and j < k:
        if a[i] == b[j]:
            keep.add(a[i])
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return keep


def _tiers(old: m.Rulebook, new: m.Rulebook) -> list[Edit]:
    def text(t: m.Tier) -> str:
        return "otherwise" if t.condition is None else t.condition.text

    out = _named(
        "tier", old.tiers, new.tiers,
        lambda a, b: ([("condition", text(a), a.condition)], [("condition", text(b), b.condition)]),
        text,
    )
    old_names = [t.name for t in old.tiers]
    new_names = [t.name for t in new.tiers]
    common_old = [x for x in old_names if x in new_names]
    common_new = [x for x in new_names if x in old_names]
    keep = _lcs(common_old, common_new)
    old_map, new_map = _by_name(old.tiers), _by_name(new.tiers)
    for name in common_new:
        if name not in keep:
            out.append(Edit(
                "moved", "tier", name, "position", str(old_names.index(name) + 1), str(new_names.index(name) + 1),
                old_map[name].span, new_map[name].span,
            ))
    return out


def _header(old: m.Rulebook, new: m.Rulebook) -> list[Edit]:
    out = []
    for field in ("name", "jurisdiction", "effective", "until", "timezone", "currency", "source"):
        a, b = getattr(old, field), getattr(new, field)
        if a != b:
            out.append(Edit(
                "changed", "rulebook", old.name, "rulebook" if field == "name" else field,
                None if a is None else str(a), None if b is None else str(b),
            ))
    return out


def _event_edits(old: m.Rulebook, new: m.Rulebook) -> list[Edit]:
    """Unrelated schemes: per event type either handles, what each does with it."""
    types: list[str] = []
    for r in (*old.rules, *new.rules):
        types.extend(t for t in r.on if t not in types)
    out = []
    for t in types:
        a = [r for r in old.rules if t in r.on]
        b = [r for r in new.rules if t in r.on]

        def text(rules: list[m.Rule]) -> str | None:
            return "; ".join(f"`{r.name}`: {describe_rule(r)}" for r in rules) if rules else None

        kind = "added" if not a else "removed" if not b else "changed"
        if a and b and [r.model_dump() for r in a] == [r.model_dump() for r in b]:
            continue
        out.append(Edit(kind, "event", t, None, text(a), text(b),
                        a[0].span if a else None, b[0].span if b else None))
    return out


def diff_rulebooks(old: Any, new: Any) -> list[Edit]:
    """The structural edits from ``old`` to ``new`` (models or paths; see the module docstring)."""
    a, b = load_rulebook(old), load_rulebook(new)
    out = _header(a, b)
    out += _named("ledger", a.ledgers, b.ledgers, lambda x, y: (_ledger_fields(x), _ledger_fields(y)),
                  lambda x: _describe(_ledger_fields(x)))
    out += _tiers(a, b)
    for section in ("sanctions", "privileges"):
        out += _named(
            section, getattr(a, section), getattr(b, section),
            lambda x, y: ([("labels", _labels(x.labels), x.labels)], [("labels", _labels(y.labels), y.labels)]),
            lambda x: _labels(x.labels), key="target",
        )
    out += _named("list", a.lists, b.lists, lambda x, y: (_list_fields(x), _list_fields(y)),
                  lambda x: _describe(_list_fields(x), skip=("note",)) or "until unlisted")
    related = bool({r.name for r in a.rules} & {r.name for r in b.rules}) or not a.rules or not b.rules
    if related:
        out += _named(
            "rule", a.rules, b.rules,
            lambda x, y: (_rule_fields(x, _ledgers_of(x.effects, y.effects)),
                          _rule_fields(y, _ledgers_of(x.effects, y.effects))),
            describe_rule,
        )
    else:
        out += _event_edits(a, b)
    out += _named(
        "trigger", a.triggers, b.triggers,
        lambda x, y: (_trigger_fields(x, _ledgers_of(x.effects, y.effects)),
                      _trigger_fields(y, _ledgers_of(x.effects, y.effects))),
        _describe_trigger,
    )
    return out
