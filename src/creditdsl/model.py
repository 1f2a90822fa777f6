"""The compiled rulebook: frozen pydantic models, one class per language concept.

No I/O, no lark, no rich. Every source-derived node carries a ``span`` (file,
line, column) that is left out of ``model_dump()``, ``repr`` and **equality**:
``Node.__eq__`` compares the type and the dump, so a rulebook compiles to an
equal model when it is re-indented, or when keys whose order does not matter
are re-ordered. (pydantic's ``Field(exclude=True)`` alone does not take a field
out of ``==``.) Children are tuples, so models are hashable and shareable.

Expressions are a tagged union (``kind``); the interpreter compiles them once
into Python closures (``expressions.py``).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from .source import Span
from .values import Duration

RESERVED_WORDS: frozenset[str] = frozenset(
    "on where except limit cap group requires grace fine tier list unlist note source when for "
    "within per reset unless and or not in otherwise event subject true false count".split()
)


class Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    span: Span | None = Field(default=None, exclude=True, repr=False)

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        return self.model_dump() == other.model_dump()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash(json.dumps(self.model_dump(mode="json"), sort_keys=True))


# ---------------------------------------------------------------- expressions


class Literal_(Node):
    kind: Literal["literal"] = "literal"
    value: Decimal | bool | str | date | datetime | Duration
    type: Literal["number", "string", "bool", "date", "datetime", "duration"]


class Name(Node):
    """A bare name: a ledger's balance now, or ``tier`` (the current tier name)."""

    kind: Literal["name"] = "name"
    name: str


class Field_(Node):
    """``event.FIELD`` or ``subject.FIELD``."""

    kind: Literal["field"] = "field"
    source: Literal["event", "subject"]
    field: str


class Unary(Node):
    kind: Literal["unary"] = "unary"
    op: Literal["not", "-", "+"]
    operand: "Expr"


class Binary(Node):
    kind: Literal["binary"] = "binary"
    op: Literal["and", "or", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/"]
    left: "Expr"
    right: "Expr"


class In(Node):
    """``x in [a, b]`` (``negated`` for ``x not in [...]``)."""

    kind: Literal["in"] = "in"
    item: "Expr"
    options: tuple["Expr", ...]
    negated: bool = False


class Call(Node):
    """``min``, ``max``, ``abs``, ``floor``, ``ceil``, ``round``, ``listed``."""

    kind: Literal["call"] = "call"
    func: str
    args: tuple["Expr", ...]


class Count(Node):
    """``count(TYPE within DURATION)``: this subject's events of TYPE in (now − D, now]."""

    kind: Literal["count"] = "count"
    event_type: str
    within: Duration


Expr = Annotated[Union[Literal_, Name, Field_, Unary, Binary, In, Call, Count], Field(discriminator="kind")]


class Expression(Node):
    """An expression as written: the tree plus its source text (text not compared)."""

    tree: Expr
    text: str = Field(default="", exclude=True, repr=False)


# ---------------------------------------------------------------- ledgers, tiers, lists


class Reset(Node):
    every: Literal["yearly", "monthly"]
    from_field: str | None = None  # `reset: yearly from subject.FIELD`


class Ledger(Node):
    name: str
    start: Decimal = Decimal(0)
    floor: Decimal | None = None
    ceiling: Decimal | None = None
    reset: Reset | None = None
    expire: Duration | None = None
    note: str | None = None


class Tier(Node):
    name: str
    condition: Expression | None = None  # None means `otherwise`

    @property
    def otherwise(self) -> bool:
        return self.condition is None


class LabelSet(Node):
    """One line of `sanctions:` or `privileges:`: a tier or list name and its labels."""

    target: str
    labels: tuple[str, ...]


class ListDef(Node):
    name: str
    term: Duration | None = None  # `for:`; None means until an `unlist`
    tier: str | None = None  # members are capped at this tier
    tier_span: Span | None = Field(default=None, exclude=True, repr=False)
    sanctions: tuple[str, ...] = ()
    privileges: tuple[str, ...] = ()
    note: str | None = None


# ---------------------------------------------------------------- rules and triggers


class Limit(Node):
    """`N per PERIOD` (calendar, rulebook timezone, ISO weeks) or `N within DURATION` (rolling)."""

    count: int
    period: Literal["day", "week", "month", "quarter", "year"] | None = None
    within: Duration | None = None


class Cap(Node):
    """`N per PERIOD` or `N within DURATION`: bounds the sum of absolute changes a rule makes."""

    amount: Decimal
    period: Literal["day", "week", "month", "quarter", "year"] | None = None
    within: Duration | None = None


class EvidenceCount(Node):
    count: int
    kind: str


class Requirement(Node):
    """Evidence needed: any alternative (`or`) whose every count (`and`) is met."""

    alternatives: tuple[tuple[EvidenceCount, ...], ...]


class Grace(Node):
    duration: Duration
    unless: tuple[str, ...]  # remedy event types


class LedgerChange(Node):
    """`LEDGER: EXPR [for DURATION]` or `LEDGER: reset`."""

    ledger: str
    amount: Expression | None = None  # None means `reset`
    duration: Duration | None = None

    @property
    def is_reset(self) -> bool:
        return self.amount is None


class Fine(Node):
    amount: Expression
    currency: str | None = None


class TierCap(Node):
    tier: str
    duration: Duration | None = None


class Effects(Node):
    """What a rule or trigger does when it applies."""

    changes: tuple[LedgerChange, ...] = ()
    fine: Fine | None = None
    tier_cap: TierCap | None = None
    list: tuple[str, ...] = ()
    unlist: tuple[str, ...] = ()
    # Where each name of `list`/`unlist` stands (not compared, not dumped).
    list_spans: tuple[Span | None, ...] = Field(default=(), exclude=True, repr=False)
    unlist_spans: tuple[Span | None, ...] = Field(default=(), exclude=True, repr=False)

    @property
    def empty(self) -> bool:
        return not (self.changes or self.fine or self.tier_cap or self.list or self.unlist)


class Rule(Node):
    name: str
    on: tuple[str, ...]
    where: Expression | None = None
    except_: Expression | None = Field(default=None, alias="except")
    requires: Requirement | None = None
    limit: Limit | None = None
    cap: Cap | None = None
    group: str | None = None
    grace: Grace | None = None
    effects: Effects = Effects()
    note: str | None = None
    source: str | None = None
    origin: str = Field(default="", exclude=True, repr=False)  # file that defines it

    model_config = ConfigDict(populate_by_name=True)


class Trigger(Node):
    name: str
    when: Expression
    effects: Effects = Effects()
    note: str | None = None
    source: str | None = None
    origin: str = Field(default="", exclude=True, repr=False)


# ---------------------------------------------------------------- tests


class TestValue(Node):
    """A literal in a test: number, string, bool, date/datetime, or a list of them."""

    value: Any


class TestEvent(Node):
    type: str
    at: str  # date or datetime text; read in the rulebook's timezone when run
    fields: tuple[tuple[str, Any], ...] = ()


class Expectation(Node):
    key: str  # ledger name, `tier`, `fines`, `lists`, `sanctions`, `privileges`
    value: Any


class TestCase(Node):
    __test__ = False  # not a pytest class

    name: str
    subject: tuple[tuple[str, Any], ...] = ()
    events: tuple[TestEvent, ...] = ()
    expect: tuple[Expectation, ...] = ()
    as_of: str | None = None


# ---------------------------------------------------------------- the rulebook


class Rulebook(Node):
    name: str
    jurisdiction: str | None = None
    effective: date | None = None
    until: date | None = None
    timezone: str = "UTC"
    currency: str | None = None
    source: str | None = None
    extends: str | None = None
    drop: tuple[str, ...] = ()
    extends_span: Span | None = Field(default=None, exclude=True, repr=False)
    drop_spans: tuple[Span | None, ...] = Field(default=(), exclude=True, repr=False)
    ledgers: tuple[Ledger, ...] = ()
    tiers: tuple[Tier, ...] = ()
    sanctions: tuple[LabelSet, ...] = ()
    privileges: tuple[LabelSet, ...] = ()
    lists: tuple[ListDef, ...] = ()
    rules: tuple[Rule, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    tests: tuple[TestCase, ...] = ()
    path: str = Field(default="", exclude=True, repr=False)

    def ledger(self, name: str) -> Ledger | None:
        return next((x for x in self.ledgers if x.name == name), None)

    def list_def(self, name: str) -> ListDef | None:
        return next((x for x in self.lists if x.name == name), None)

    def tier_index(self, name: str) -> int | None:
        return next((i for i, t in enumerate(self.tiers) if t.name == name), None)


for _cls in (Unary, Binary, In, Expression, Rule):
    _cls.model_rebuild()
