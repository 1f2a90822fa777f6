"""Helpers shared by the checks: name sets, span fall-backs, labels, suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from typing import Callable

from .. import model
from ..diagnostics import Diagnostic, Label, suggest
from ..source import Span

Check = Callable[[model.Rulebook], Iterable[Diagnostic]]

RULE_KEYS = (
    "on where except limit cap group requires grace fine tier list unlist note source".split()
)
TRIGGER_KEYS = "when fine tier list unlist note source".split()
EXPECTATION_KEYS = ("tier", "fines", "lists", "sanctions", "privileges")


def span_of(*nodes: object) -> Span | None:
    """The first available span among ``nodes`` (hand-built models may have none)."""
    for node in nodes:
        span = getattr(node, "span", None)
        if span is not None:
            return span
    return None


def label(node: object, message: str) -> tuple[Label, ...]:
    """A one-label tuple pointing at ``node``, or none when it has no span."""
    span = span_of(node)
    return (Label(span, message),) if span is not None else ()


def nearest(word: str, candidates: Iterable[str]) -> str | None:
    """The nearest candidate (same cutoff as ``diagnostics.suggest``)."""
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def ledger_names(rulebook: model.Rulebook) -> list[str]:
    return [x.name for x in rulebook.ledgers]


def tier_names(rulebook: model.Rulebook) -> list[str]:
    return [x.name for x in rulebook.tiers]


def list_names(rulebook: model.Rulebook) -> list[str]:
    return [x.name for x in rulebook.lists]


def actors(rulebook: model.Rulebook) -> Iterator[tuple[str, model.Rule | model.Trigger]]:
    """Rules then triggers, each with its kind ("rule" / "trigger")."""
    for rule in rulebook.rules:
        yield "rule", rule
    for trigger in rulebook.triggers:
        yield "trigger", trigger


def hint(word: str, candidates: Iterable[str]) -> str | None:
    """``diagnostics.suggest``, but a name differing only in case is always suggested."""
    candidates = list(candidates)
    for c in candidates:
        if c.casefold() == word.casefold():
            return f"did you mean `{c}`?"
    return suggest(word, candidates)


def known(kind: str, names: list[str], declare: str) -> str:
    """A fall-back help line listing the known names (or saying there are none)."""
    if not names:
        return f"this rulebook declares no {kind}s; declare one under `{declare}:`"
    shown = ", ".join(f"`{n}`" for n in names[:8]) + (", ..." if len(names) > 8 else "")
    return f"{kind}s: {shown}"
