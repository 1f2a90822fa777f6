"""Static checks of a compiled (and linked) rulebook: ``check(rulebook) -> diagnostics``.

In: a :class:`model.Rulebook` the compiler accepted (names are unique, keys are
known, literals are valid, reserved words are not names: those are the
compiler's E02xx). Out: a sorted list of :class:`Diagnostic`; nothing raises,
nothing prints. Errors stop a run (``pipeline`` raises); warnings are shown.

``CHECKS`` is the registry, run in this order (sqlglot's optimizer RULES):
each check is a small pure function ``(Rulebook) -> Iterable[Diagnostic]`` in
:mod:`creditdsl.checks`. Adding a check means adding one function here, one
code in ``diagnostics.CODES`` and one golden case.

Codes:

* E0301 unknown ledger (a rule's or trigger's change; a bare name close to a ledger)
* E0302 unknown list (``list:``, ``unlist:``, ``listed("X")``, a test's ``lists:``)
* E0303 unknown tier (``tier:`` caps of rules, triggers and lists; ``tier == "X"``; a test's ``tier:``)
* E0304 unknown tier or list in ``sanctions:`` / ``privileges:``
* E0305 ``otherwise`` not last, or repeated
* E0306 a tier and a list with the same name
* E0307 a rule or trigger with no effect
* E0308 static type error in an expression, or an expression of the wrong type for its place
  (``where``/``except``/tier condition/``when`` must be bool; changes and fines numbers)
* E0309 unknown function or wrong number of arguments
* E0310 unknown bare name in an expression (neither a ledger nor ``tier``)
* E0311 unknown expectation key in a test (a test's ``tier: null`` expects no tier)
* E0313 ``event.FIELD`` in a tier condition or a trigger's ``when`` (no event there)
* E0314 a ledger's floor above its ceiling, or its start outside them
* E0208 a fine in a currency other than the rulebook's (literal or expression fines)
* E0312 a fine without a unit in a rulebook that declares a ``currency``. This is
  strict on purpose: money is the one quantity in a rulebook with a unit, and
  ``fine: 200`` next to ``credit: -200`` is more likely a slip than shorthand.
  A rulebook without ``currency`` writes bare amounts.
* W0301 a tier hidden behind earlier tiers; W0302 some balance has no tier
  (exact for one-ledger numeric conditions, sound best effort beyond: see
  :mod:`creditdsl.checks.tiers`).

Unknown bare names: when the nearest known name is a ledger (``credt``), the
error is E0301 "unknown ledger" with that suggestion; otherwise E0310.

>>> from decimal import Decimal
>>> from creditdsl import model
>>> rb = model.Rulebook(name="x", ledgers=(model.Ledger(name="credit", start=Decimal(1000)),),
...     rules=(model.Rule(name="r", on=("e",)),))
>>> [d.code for d in check(rb)]
['E0307']
"""

from __future__ import annotations

from . import model
from .checks import names, places, tiers, types
from .checks.common import Check
from .diagnostics import Diagnostic

CHECKS: tuple[Check, ...] = (
    names.otherwise_last,  # E0305
    names.tier_list_namespace,  # E0306
    names.tier_references,  # E0303, E0304
    names.ledger_changes,  # E0301
    names.list_references,  # E0302
    names.has_effect,  # E0307
    names.fine_currency,  # E0208, E0312
    types.expressions,  # E0301, E0302, E0303, E0308, E0309, E0310
    names.test_expectations,  # E0311, E0303, E0302
    places.event_fields_without_event,  # E0313
    places.ledger_bounds,  # E0314
    tiers.tier_coverage,  # W0301, W0302
)


def check(rulebook: model.Rulebook) -> list[Diagnostic]:
    """Run every check in ``CHECKS`` order; diagnostics sorted by place, without repeats."""
    seen: set = set()
    out: list[Diagnostic] = []
    for run in CHECKS:
        for d in run(rulebook):
            key = (d.code, d.message, d.span)
            if key not in seen:
                seen.add(key)
                out.append(d)
    return sorted(out, key=Diagnostic.sort_key)  # stable: same place keeps check order
