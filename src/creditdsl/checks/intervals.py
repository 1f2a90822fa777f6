"""Exact sets of Decimal balances: finite unions of intervals.

An :class:`IntervalSet` is a normalised tuple of disjoint, non-touching
:class:`Interval` s in increasing order. Endpoints are exact ``Decimal`` s, each
open or closed; ``Decimal("-Infinity")`` and ``Decimal("Infinity")`` stand for
unbounded ends (always open). Balances are treated as a dense line: between
two different decimals there is always a third, so an open interval such as
``(960, 1000)`` is never empty however close its ends are.

>>> a = IntervalSet.compare(">=", Decimal(960))
>>> b = IntervalSet.compare("<", Decimal(1030))
>>> describe(a.intersect(b), "credit")
['960 <= credit < 1030']
>>> describe(a.union(b).complement(), "credit")
[]
>>> describe(IntervalSet.compare("!=", Decimal(5)).complement(), "x")
['x == 5']
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..values import format_decimal

INF = Decimal("Infinity")
NINF = Decimal("-Infinity")


@dataclass(frozen=True, slots=True)
class Interval:
    lo: Decimal
    lo_closed: bool
    hi: Decimal
    hi_closed: bool

    @staticmethod
    def make(lo: Decimal, lo_closed: bool, hi: Decimal, hi_closed: bool) -> "Interval":
        return Interval(lo, lo_closed and lo.is_finite(), hi, hi_closed and hi.is_finite())

    @property
    def empty(self) -> bool:
        return self.lo > self.hi or (self.lo == self.hi and not (self.lo_closed and self.hi_closed))

    def contains(self, x: Decimal) -> bool:
        above = x > self.lo or (x == self.lo and self.lo_closed)
        below = x < self.hi or (x == self.hi and self.hi_closed)
        return above and below

    def sample(self) -> Decimal:
        """A balance inside this (non-empty) interval."""
        if self.lo_closed:
            return self.lo
        if self.hi_closed:
            return self.hi
        if not self.lo.is_finite() and not self.hi.is_finite():
            return Decimal(0)
        if not self.lo.is_finite():
            return self.hi - 1
        if not self.hi.is_finite():
            return self.lo + 1
        return (self.lo + self.hi) / 2


def _intersect(a: Interval, b: Interval) -> Interval:
    if a.lo > b.lo:
        lo, lo_closed = a.lo, a.lo_closed
    elif b.lo > a.lo:
        lo, lo_closed = b.lo, b.lo_closed
    else:
        lo, lo_closed = a.lo, a.lo_closed and b.lo_closed
    if a.hi < b.hi:
        hi, hi_closed = a.hi, a.hi_closed
    elif b.hi < a.hi:
        hi, hi_closed = b.hi, b.hi_closed
    else:
        hi, hi_closed = a.hi, a.hi_closed and b.hi_closed
    return Interval(lo, lo_closed, hi, hi_closed)


@dataclass(frozen=True, slots=True)
class IntervalSet:
    parts: tuple[Interval, ...] = ()

    # ---------------------------------------------------------- constructors

    @staticmethod
    def of(*intervals: Interval) -> "IntervalSet":
        """Normalise: drop empties, sort, merge overlapping or touching intervals."""
        items = sorted((i for i in intervals if not i.empty), key=lambda i: (i.lo, not i.lo_closed))
        merged: list[Interval] = []
        for item in items:
            if merged:
                last = merged[-1]
                if item.lo < last.hi or (item.lo == last.hi and (last.hi_closed or item.lo_closed)):
                    if item.hi > last.hi or (item.hi == last.hi and item.hi_closed):
                        merged[-1] = Interval(last.lo, last.lo_closed, item.hi, item.hi_closed)
                    continue
            merged.append(item)
        return IntervalSet(tuple(merged))

    @staticmethod
    def full() -> "IntervalSet":
        return IntervalSet((Interval(NINF, False, INF, False),))

    @staticmethod
    def empty_set() -> "IntervalSet":
        return IntervalSet(())

    @staticmethod
    def between(lo: Decimal | None, hi: Decimal | None) -> "IntervalSet":
        """``[lo, hi]``, either end missing meaning unbounded (a ledger's floor and ceiling)."""
        lo_ = NINF if lo is None else lo
        hi_ = INF if hi is None else hi
        return IntervalSet.of(Interval.make(lo_, True, hi_, True))

    @staticmethod
    def compare(op: str, value: Decimal) -> "IntervalSet":
        """The balances ``x`` with ``x OP value``."""
        if op == "<":
            return IntervalSet.of(Interval(NINF, False, value, False))
        if op == "<=":
            return IntervalSet.of(Interval(NINF, False, value, True))
        if op == ">":
            return IntervalSet.of(Interval(value, False, INF, False))
        if op == ">=":
            return IntervalSet.of(Interval(value, True, INF, False))
        if op == "==":
            return IntervalSet.of(Interval(value, True, value, True))
        if op == "!=":
            return IntervalSet.of(Interval(value, True, value, True)).complement()
        raise ValueError(op)

    # ---------------------------------------------------------- algebra

    @property
    def is_empty(self) -> bool:
        return not self.parts

    def union(self, other: "IntervalSet") -> "IntervalSet":
        return IntervalSet.of(*self.parts, *other.parts)

    def intersect(self, other: "IntervalSet") -> "IntervalSet":
        return IntervalSet.of(*(_intersect(a, b) for a in self.parts for b in other.parts))

    def complement(self) -> "IntervalSet":
        out: list[Interval] = []
        lo, lo_closed = NINF, False
        for part in self.parts:
            out.append(Interval.make(lo, lo_closed, part.lo, not part.lo_closed))
            lo, lo_closed = part.hi, not part.hi_closed
        out.append(Interval.make(lo, lo_closed, INF, False))
        return IntervalSet.of(*out)

    def minus(self, other: "IntervalSet") -> "IntervalSet":
        return self.intersect(other.complement())

    def issubset(self, other: "IntervalSet") -> bool:
        return self.minus(other).is_empty

    def contains(self, x: Decimal) -> bool:
        return any(p.contains(x) for p in self.parts)


def describe(s: IntervalSet, name: str) -> list[str]:
    """Each interval of ``s`` as a condition on ``name``, as a rulebook author writes it."""
    out = []
    for p in s.parts:
        lo, hi = format_decimal(p.lo) if p.lo.is_finite() else None, format_decimal(p.hi) if p.hi.is_finite() else None
        if lo is not None and p.lo == p.hi:
            out.append(f"{name} == {lo}")
        elif lo is None and hi is None:
            out.append(f"any {name}")
        elif lo is None:
            out.append(f"{name} {'<=' if p.hi_closed else '<'} {hi}")
        elif hi is None:
            out.append(f"{name} {'>=' if p.lo_closed else '>'} {lo}")
        else:
            out.append(f"{lo} {'<=' if p.lo_closed else '<'} {name} {'<=' if p.hi_closed else '<'} {hi}")
    return out
