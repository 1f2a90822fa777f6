"""The checker's checks, one module per concern; ``creditdsl.checker`` runs them in order.

Each check is a pure function ``(Rulebook) -> Iterable[Diagnostic]``.
"""
