"""The agenda's vocabulary: the kinds of timed work, shared by every module that reads it.

The interpreter keeps timed work on a heap of ``(instant, phase, sequence,
kind, payload)``: phase 0 runs before the events of an instant (reverts,
expiries, list-term ends, temporary-cap ends, resets, in the order they were
scheduled), phase 2 after them (grace deadlines) — LANGUAGE.md §12 "One
instant, one order". ``savestate`` writes the same entries to a state file,
and ``explain``/``pathback`` read them back to show what is pending.
"""

REVERT = 10  # a temporary change (`for DURATION`) or a ledger `expire` runs out
LIST_END = 11  # a list term (`for:`) ends
TCAP_END = 12  # a temporary tier cap (`tier: X for DURATION`) ends
DEADLINE = 13  # a grace deadline: apply the deferred effects unless remedied
RESET = 14  # a calendar reset (`reset: yearly | monthly`)
ARESET = 15  # an anniversary reset (`reset: yearly from subject.FIELD`)
