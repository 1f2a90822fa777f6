"""Unit tests of checker.py: for each check a failing and a passing case.

Models are built directly in Python (the parser is not needed); a Hypothesis
property checks the tier interval analysis against brute force.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditdsl import model
from creditdsl.checker import CHECKS, check
from creditdsl.checks.intervals import IntervalSet, describe
from creditdsl.diagnostics import CODES, Severity
from creditdsl.source import Span
from creditdsl.values import Duration

# ------------------------------------------------------------------ builders


def num(v) -> model.Literal_:
    return model.Literal_(value=Decimal(str(v)), type="number")


def s(v: str) -> model.Literal_:
    return model.Literal_(value=v, type="string")


def b(v: bool) -> model.Literal_:
    return model.Literal_(value=v, type="bool")


def n(name: str) -> model.Name:
    return model.Name(name=name)


def ev(field: str) -> model.Field_:
    return model.Field_(source="event", field=field)


def bi(op, left, right) -> model.Binary:
    return model.Binary(op=op, left=left, right=right)


def call(func, *args) -> model.Call:
    return model.Call(func=func, args=tuple(args))


def x(tree, text: str = "") -> model.Expression:
    return model.Expression(tree=tree, text=text)


def sp(line: int, col: int = 3) -> Span:
    return Span("t.rulebook", line * 100, line * 100 + 5, line, col, line, col + 5)


def tier(name, cond=None, line=None) -> model.Tier:
    return model.Tier(name=name, condition=None if cond is None else x(cond), span=sp(line) if line else None)


def rule(name="r", *, changes=(("credit", num(-3)),), where=None, **effects) -> model.Rule:
    chs = tuple(model.LedgerChange(ledger=k, amount=x(v)) for k, v in changes)
    return model.Rule(
        name=name, on=("e",), where=None if where is None else x(where), effects=model.Effects(changes=chs, **effects)
    )


def book(**kw) -> model.Rulebook:
    kw.setdefault("ledgers", (model.Ledger(name="credit", start=Decimal(1000), span=sp(2)),))
    return model.Rulebook(name="t", **kw)


def codes(rb: model.Rulebook) -> list[str]:
    return [d.code for d in check(rb)]


def only(rb: model.Rulebook, code: str):
    found = [d for d in check(rb) if d.code == code]
    assert len(found) == 1, check(rb)
    return found[0]


# ------------------------------------------------------------------ registry


def test_registry_codes_exist_and_clean_rulebook_is_clean():
    for code in ("E0301", "E0302", "E0303", "E0304", "E0305", "E0306", "E0307", "E0308", "E0309", "E0310",
                 "E0311", "E0312", "E0208", "W0301", "W0302"):
        assert code in CODES
    assert len(CHECKS) >= 10
    rb = book(
        currency="yuan",
        tiers=(tier("A", bi(">=", n("credit"), num(1000))), tier("B")),
        lists=(model.ListDef(name="debtors", tier="B"),),
        sanctions=(model.LabelSet(target="B", labels=("x",)), model.LabelSet(target="debtors", labels=("y",))),
        rules=(
            rule(where=bi(">", ev("km"), num(1))),
            rule("f", changes=(), fine=model.Fine(amount=x(ev("amount")), currency="yuan")),
            rule("l", changes=(), list=("debtors",)),
        ),
        triggers=(model.Trigger(name="t", when=x(bi("<=", n("credit"), num(0))), effects=model.Effects(unlist=("debtors",))),),
    )
    assert check(rb) == []


def test_spans_may_be_missing():
    d = only(book(rules=(rule(changes=(("credt", num(1)),)),)), "E0301")
    assert d.span is None and d.help == "did you mean `credit`?"


# ------------------------------------------------------------------ E0305 otherwise


def test_otherwise_not_last():
    rb = book(tiers=(tier("A", bi(">", n("credit"), num(9)), line=5), tier("D", line=6),
                     tier("B", bi(">", n("credit"), num(1)), line=7)))
    d = only(rb, "E0305")
    assert codes(rb) == ["E0305"]  # no W0301 for what E0305 already says
    assert d.span.line == 6 and "`B`" in d.message and d.labels[0].span.line == 7


def test_otherwise_repeated():
    rb = book(tiers=(tier("A", bi(">", n("credit"), num(1))), tier("C", line=6), tier("D", line=7)))
    assert [d.span.line for d in check(rb) if d.code == "E0305"] == [6, 7]
    assert any("twice" in d.message for d in check(rb))


def test_otherwise_last_is_fine():
    assert "E0305" not in codes(book(tiers=(tier("A", bi(">", n("credit"), num(1))), tier("D"))))


# ------------------------------------------------------------------ E0306 namespace


def test_tier_and_list_share_name():
    rb = book(tiers=(tier("D", line=4),), lists=(model.ListDef(name="D", span=sp(9)),))
    d = only(rb, "E0306")
    assert d.span.line == 9 and d.labels[0].span.line == 4


def test_tier_and_list_distinct():
    assert "E0306" not in codes(book(tiers=(tier("D"),), lists=(model.ListDef(name="debtors"),)))


# ------------------------------------------------------------------ E0303 / E0304 tiers


def test_unknown_tier_in_rule_cap_and_list():
    rb = book(
        tiers=(tier("A", bi(">", n("credit"), num(1))), tier("B")),
        rules=(rule(tier_cap=model.TierCap(tier="b", span=sp(12))),),
        lists=(model.ListDef(name="l", tier="C", span=sp(20)),),
    )
    found = [d for d in check(rb) if d.code == "E0303"]
    assert [d.span.line for d in found] == [12, 20]
    assert found[0].help == "did you mean `B`?"


def test_known_tier_cap():
    rb = book(tiers=(tier("A", bi(">", n("credit"), num(1))), tier("B")), rules=(rule(tier_cap=model.TierCap(tier="B")),))
    assert "E0303" not in codes(rb)


def test_tier_equals_unknown_name_in_expression():
    rb = book(tiers=(tier("A+", bi(">", n("credit"), num(1))), tier("A")),
              rules=(rule(where=bi("==", n("tier"), s("A++"))), rule("q", where=bi("!=", s("A"), n("tier")))))
    d = only(rb, "E0303")
    assert "A++" in d.message and d.help == "did you mean `A+`?"


def test_tier_in_list_unknown():
    rb = book(tiers=(tier("A"),), rules=(rule(where=model.In(item=n("tier"), options=(s("A"), s("Z")))),))
    assert "`Z`" in only(rb, "E0303").message


def test_unknown_sanctions_target():
    rb = book(tiers=(tier("B"),), lists=(model.ListDef(name="debtors"),),
              privileges=(model.LabelSet(target="detbors", labels=("x",), span=sp(15)),))
    d = only(rb, "E0304")
    assert d.span.line == 15 and d.help == "did you mean `debtors`?"


# ------------------------------------------------------------------ E0301 / E0302 references


def test_unknown_ledger_in_change_has_label():
    d = only(book(rules=(rule(changes=(("credt", num(-3)),)),)), "E0301")
    assert "credt" in d.message and d.labels[0].span.line == 2


def test_unknown_ledger_near_a_rule_key():
    rb = book(rules=(rule(changes=(("credit", num(1)), ("wher", num(1)))),))
    assert only(rb, "E0301").help == "did you mean the rule key `where`?"


def test_unknown_ledger_in_trigger():
    rb = book(triggers=(model.Trigger(name="t", when=x(b(True)), effects=model.Effects(
        changes=(model.LedgerChange(ledger="points"),))),))
    assert "trigger `t`" in only(rb, "E0301").message


def test_unknown_list_in_effects_and_listed():
    rb = book(lists=(model.ListDef(name="dishonest debtors"),),
              rules=(rule(list=("dishonest debtor",)), rule("u", changes=(), unlist=("nope",)),
                     rule("w", where=call("listed", s("dishonest detbors")))))
    found = [d for d in check(rb) if d.code == "E0302"]
    assert len(found) == 3
    assert found[0].help == "did you mean `dishonest debtors`?"


def test_known_lists():
    rb = book(lists=(model.ListDef(name="x"),), rules=(rule(list=("x",), where=call("listed", s("x"))),))
    assert codes(rb) == []


# ------------------------------------------------------------------ E0307 effect


def test_rule_and_trigger_without_effect():
    rb = book(rules=(model.Rule(name="r", on=("e",), span=sp(8)),),
              triggers=(model.Trigger(name="t", when=x(b(True)), span=sp(11)),))
    assert [(d.code, d.span.line) for d in check(rb)] == [("E0307", 8), ("E0307", 11)]


def test_rule_with_only_a_fine_has_effect():
    assert codes(book(rules=(rule(changes=(), fine=model.Fine(amount=x(num(50)))),))) == []


# ------------------------------------------------------------------ E0208 / E0312 fines


def test_expression_fine_in_other_currency():
    rb = book(currency="yuan", rules=(rule(fine=model.Fine(amount=x(ev("amount")), currency="yaun", span=sp(9))),))
    d = only(rb, "E0208")
    assert d.span.line == 9 and d.help == "did you mean `yuan`?"


def test_fine_unit_without_rulebook_currency():
    rb = book(rules=(rule(fine=model.Fine(amount=x(num(5)), currency="yuan")),))
    assert "currency: yuan" in only(rb, "E0208").help


def test_fine_without_unit():
    rb = book(currency="yuan", rules=(rule(fine=model.Fine(amount=x(num(50), "50"))),))
    assert "`fine: 50 yuan`" in only(rb, "E0312").help


def test_fine_without_unit_and_without_currency_is_fine():
    assert codes(book(rules=(rule(fine=model.Fine(amount=x(num(50)))),))) == []


# ------------------------------------------------------------------ E0308 types


@pytest.mark.parametrize(
    "where, fragment",
    [
        (bi(">", model.Literal_(value=date(2020, 1, 1), type="date"), num(3)), "cannot compare a date with a number"),
        (bi("==", n("credit"), s("x")), "cannot compare a number with a string"),
        (bi(">", bi("+", b(True), num(1)), num(0)), "`+` needs numbers, not true or false"),
        (bi("==", bi("*", s("a"), num(2)), num(0)), "`*` needs numbers, not a string"),
        (bi("and", n("credit"), b(True)), "`and` needs true or false"),
        (model.Unary(op="not", operand=num(1)), "`not` needs true or false"),
        (bi("<", b(True), b(False)), "cannot order"),
        (n("credit"), "`where` of rule `r` must be true or false"),
        (bi(">", call("abs", s("x")), num(1)), "`abs` needs numbers"),
        (call("listed", ev("x")), "list name in quotes"),
        (model.In(item=n("credit"), options=(num(1), s("two"))), "`in` compares a number with a string"),
    ],
)
def test_type_errors(where, fragment):
    d = only(book(rules=(rule(where=where),)), "E0308")
    assert fragment in d.message


@pytest.mark.parametrize(
    "where",
    [
        bi(">", ev("distance_km"), num(1)),
        bi("==", ev("kind"), s("x")),
        bi("and", ev("flag"), bi("<", n("credit"), num(3))),
        bi(">", bi("+", model.Literal_(value=date(2020, 1, 1), type="date"),
                   model.Literal_(value=Duration(3, "day"), type="duration")), ev("at")),
        bi(">=", model.Count(event_type="x", within=Duration(1, "year")), call("round", num(1.5), num(0))),
        bi("==", n("tier"), s("A")),
    ],
)
def test_well_typed(where):
    rb = book(tiers=(tier("A"),), rules=(rule(where=where),))
    assert codes(rb) == []


def test_change_and_fine_must_be_numbers():
    rb = book(rules=(rule(changes=(("credit", s("three")),), fine=model.Fine(amount=x(b(True), "true"))),))
    msgs = [d.message for d in check(rb) if d.code == "E0308"]
    assert any("change to `credit`" in m and "a string" in m for m in msgs)
    assert any("fine of rule `r`" in m and "`true`" in m for m in msgs)


def test_tier_condition_and_trigger_when_must_be_bool():
    rb = book(tiers=(model.Tier(name="A", condition=x(n("credit"), "credit"), span=sp(4)),),
              triggers=(model.Trigger(name="t", when=x(num(1)), effects=model.Effects(list=())
                                      .model_copy(update={"changes": (model.LedgerChange(ledger="credit", amount=x(num(1))),)})),))
    found = [d for d in check(rb) if d.code == "E0308"]
    assert len(found) == 2 and found[1].span.line == 4  # no span sorts first


def test_expression_span_is_used():
    tree = bi(">", model.Literal_(value=date(2020, 1, 1), type="date"), num(3)).model_copy(update={"span": sp(30, 12)})
    d = only(book(rules=(rule(where=tree),)), "E0308")
    assert (d.span.line, d.span.col) == (30, 12)


# ------------------------------------------------------------------ E0309 functions


def test_unknown_function():
    d = only(book(rules=(rule(where=bi(">", call("flor", n("credit")), num(1))),)), "E0309")
    assert d.help == "did you mean `floor`?"


@pytest.mark.parametrize("c", [call("round", num(1)), call("min"), call("abs", num(1), num(2)), call("listed")])
def test_wrong_arity(c):
    assert "argument" in only(book(rules=(rule(where=bi("==", c, c)),)), "E0309").message


def test_known_functions():
    e = call("max", call("min", num(1), num(2), num(3)), call("ceil", num(1)), call("floor", ev("x")))
    assert codes(book(rules=(rule(changes=(("credit", e),)),))) == []


# ------------------------------------------------------------------ E0310 names


def test_unknown_bare_name():
    d = only(book(rules=(rule(where=bi(">", n("distance"), num(1))),)), "E0310")
    assert d.help == "an event's field is written `event.distance`"


def test_bare_name_near_tier():
    assert only(book(rules=(rule(where=bi("==", n("teir"), s("A"))),)), "E0310").help == "did you mean `tier`?"


def test_bare_name_near_ledger_is_unknown_ledger():
    d = only(book(rules=(rule(where=bi(">", n("credt"), num(1))),)), "E0301")
    assert d.help == "did you mean `credit`?"


# ------------------------------------------------------------------ E0311 tests


def test_unknown_expectation_key_and_names():
    case = model.TestCase(name="c", expect=(
        model.Expectation(key="credti", value=Decimal(1), span=sp(40)),
        model.Expectation(key="tier", value="Z", span=sp(41)),
        model.Expectation(key="lists", value=["nope"], span=sp(42)),
    ))
    rb = book(tiers=(tier("A"),), tests=(case,))
    assert [(d.code, d.span.line) for d in check(rb)] == [("E0311", 40), ("E0303", 41), ("E0302", 42)]
    assert check(rb)[0].help == "did you mean `credit`?"


def test_known_expectations():
    case = model.TestCase(name="c", expect=tuple(
        model.Expectation(key=k, value=v) for k, v in
        [("credit", 1), ("tier", "A"), ("fines", 0), ("lists", ["l"]), ("sanctions", []), ("privileges", [])]))
    assert codes(book(tiers=(tier("A"),), lists=(model.ListDef(name="l"),), tests=(case,))) == []


# ------------------------------------------------------------------ W0301 / W0302 tiers

C = n("credit")


def gt(v):
    return bi(">", C, num(v))


def ge(v):
    return bi(">=", C, num(v))


def test_rongcheng_tiers_are_clean():
    rb = book(tiers=(tier("A+", gt(1000)), tier("A", ge(1000)), tier("B", ge(960)), tier("C", ge(850)), tier("D")))
    assert codes(rb) == []


def test_hidden_tier():
    rb = book(tiers=(tier("B", ge(960), line=5), tier("A", ge(1000), line=6), tier("D")))
    d = only(rb, "W0301")
    assert d.severity is Severity.WARNING and d.span.line == 6 and "`A`" in d.message
    assert d.labels[0].span.line == 5


def test_hidden_otherwise():
    rb = book(tiers=(tier("A", ge(0)), tier("B", bi("<", C, num(0))), tier("D", line=9)))
    assert only(rb, "W0301").span.line == 9


def test_tier_outside_ledger_range_never_holds():
    ledger = model.Ledger(name="credit", start=Decimal(600), floor=Decimal(350), ceiling=Decimal(950))
    rb = book(ledgers=(ledger,), tiers=(tier("A", ge(1000)), tier("B", ge(350))))
    d = only(rb, "W0301")
    assert "never" in d.message and "[350, 950]" in d.notes[0]


def test_gap_without_otherwise():
    rb = book(tiers=(tier("A", gt(1000)), tier("C", bi("<", C, num(960)), line=7)))
    d = only(rb, "W0302")
    assert "`960 <= credit <= 1000`" in d.message and d.span.line == 7


def test_point_gap():
    rb = book(tiers=(tier("A", gt(1000)), tier("B", bi("<", C, num(1000)))))
    assert "`credit == 1000`" in only(rb, "W0302").message


def test_floor_and_ceiling_limit_the_range_to_cover():
    ledger = model.Ledger(name="credit", start=Decimal(600), floor=Decimal(350), ceiling=Decimal(950))
    rb = book(ledgers=(ledger,), tiers=(
        tier("A", bi("and", ge(700), bi("<=", C, num(950)))), tier("B", bi(">=", num(950), C))))
    assert codes(rb) == []
    rb2 = book(ledgers=(ledger,), tiers=(tier("A", ge(700)), tier("B", bi(">", C, num(350)))))
    assert "`credit == 350`" in only(rb2, "W0302").message


def test_or_not_in_and_constant_arithmetic():
    rb = book(tiers=(
        tier("A", bi("or", ge(1000), model.In(item=C, options=(num(5), num(6))))),
        tier("B", model.Unary(op="not", operand=bi(">=", C, bi("*", num(2), num(500))))),
    ))
    assert codes(rb) == []


def test_silent_beyond_reach():
    # listed(...) and another ledger: no guess either way
    rb = book(
        ledgers=(model.Ledger(name="credit"), model.Ledger(name="points")),
        lists=(model.ListDef(name="l"),),
        tiers=(tier("A", bi("and", ge(10), call("listed", s("l")))), tier("B", bi("<", n("points"), num(3)))),
    )
    assert codes(rb) == []


def test_sound_beyond_reach():
    # whatever `listed` says, credit >= 10 and ... is inside credit >= 5
    rb = book(lists=(model.ListDef(name="l"),),
              tiers=(tier("A", ge(5)), tier("B", bi("and", ge(10), call("listed", s("l")))), tier("C")))
    assert "`B`" in only(rb, "W0301").message


# ------------------------------------------------------------------ intervals


def test_interval_algebra():
    a = IntervalSet.compare(">=", Decimal(1))
    assert describe(a.complement(), "x") == ["x < 1"]
    assert a.union(a.complement()) == IntervalSet.full()
    assert IntervalSet.compare("!=", Decimal(3)).contains(Decimal("3.0000001"))
    assert not IntervalSet.compare("!=", Decimal(3)).contains(Decimal(3))
    assert IntervalSet.between(Decimal(1), Decimal(1)).issubset(IntervalSet.compare("==", Decimal(1)))


# ------------------------------------------------------------------ property: brute force agreement

OPS = ["<", "<=", ">", ">=", "==", "!="]


def conditions(depth: int = 2):
    atom = st.builds(lambda op, v, flip: bi(op, num(v), C) if flip else bi(op, C, num(v)),
                     st.sampled_from(OPS), st.integers(0, 10), st.booleans())
    if depth == 0:
        return atom
    sub = conditions(depth - 1)
    return st.one_of(
        atom,
        atom,
        st.builds(lambda op, l, r: bi(op, l, r), st.sampled_from(["and", "or"]), sub, sub),
        st.builds(lambda e: model.Unary(op="not", operand=e), sub),
    )


def evaluate(node, v: Decimal) -> bool | Decimal:
    if isinstance(node, model.Literal_):
        return node.value
    if isinstance(node, model.Name):
        return v
    if isinstance(node, model.Unary):
        return not evaluate(node.operand, v)
    a, c = evaluate(node.left, v), evaluate(node.right, v)
    return {
        "and": lambda: a and c, "or": lambda: a or c, "<": lambda: a < c, "<=": lambda: a <= c,
        ">": lambda: a > c, ">=": lambda: a >= c, "==": lambda: a == c, "!=": lambda: a != c,
    }[node.op]()


@settings(max_examples=100, deadline=None)
@given(
    conds=st.lists(conditions(), min_size=1, max_size=4),
    otherwise=st.booleans(),
    floor=st.none() | st.integers(0, 10),
    width=st.none() | st.integers(0, 10),
)
def test_tier_warnings_agree_with_brute_force(conds, otherwise, floor, width):
    ceiling = None if width is None else (floor or 0) + width
    ledger = model.Ledger(name="credit", start=Decimal(floor or 0), floor=None if floor is None else Decimal(floor),
                          ceiling=None if ceiling is None else Decimal(ceiling))
    tiers = [tier(f"T{i}", c) for i, c in enumerate(conds)] + ([tier("Z")] if otherwise else [])
    rb = book(ledgers=(ledger,), tiers=tuple(tiers))
    # every non-empty set with integer endpoints in [0, 20] holds a multiple of 1/2 in [-1, 21]
    grid = [Decimal(k) / 2 for k in range(-2, 43)]
    grid = [v for v in grid if (floor is None or v >= floor) and (ceiling is None or v <= ceiling)]
    first = []
    for v in grid:
        holds = [t.condition is None or evaluate(t.condition.tree, v) for t in tiers]
        first.append(holds.index(True) if True in holds else None)
    expect_hidden = {t.name for i, t in enumerate(tiers) if i not in first}
    expect_gap = None in first
    diags = check(rb)
    assert {d.message.split("`")[1] for d in diags if d.code == "W0301"} == expect_hidden
    assert any(d.code == "W0302" for d in diags) == expect_gap
    assert all(d.code in ("W0301", "W0302") for d in diags)


# ------------------------------------------------------------------ from rulebook text (the real compiler)

from creditdsl.pipeline import analyse_text  # noqa: E402

HEAD = """rulebook: t
currency: yuan
ledgers:
  credit: 1000
  points: 0
tiers:
  A: credit >= 1000
  B: otherwise
lists:
  debtors:
    for: 1 year
"""  # 11 lines: snippets start at line 12


def text_diags(text: str):
    loaded = analyse_text(text, "t.rulebook", check=False)
    assert not loaded.errors, loaded.errors
    return check(loaded.rulebook)


TEXT_CASES = [
    ("rules:\n  r:\n    on: e\n    credt: -3\n", [("E0301", 15, 5)]),
    ("rules:\n  r:\n    on: e\n    where: credt > 1\n    credit: -3\n", [("E0301", 15, 12)]),
    ('rules:\n  r:\n    on: e\n    except: listed("debtor")\n    credit: -3\n', [("E0302", 15, 20)]),
    ("rules:\n  r:\n    on: e\n    list: debtor\n", [("E0302", 15, 11)]),
    ("rules:\n  r:\n    on: e\n    tier: b\n", [("E0303", 15, 11)]),
    ('rules:\n  r:\n    on: e\n    where: tier == "C"\n    credit: 1\n', [("E0303", 15, 20)]),
    ("sanctions:\n  debtor: [no rail]\n", [("E0304", 13, 3)]),
    ("rules:\n  r:\n    on: e\n    note: nothing\n", [("E0307", 13, 3)]),
    ("triggers:\n  t:\n    when: points > 3\n", [("E0307", 13, 3)]),
    ("rules:\n  r:\n    on: e\n    where: event.at > 2018-01-01 and credit > 2018-01-01\n    credit: -3\n",
     [("E0308", 15, 38)]),
    ("rules:\n  r:\n    on: e\n    credit: event.x > 1\n", [("E0308", 15, 13)]),
    ("rules:\n  r:\n    on: e\n    credit: +mn(event.x, 10)\n", [("E0309", 15, 14)]),
    ("rules:\n  r:\n    on: e\n    where: distance_km > 1\n    credit: 1\n", [("E0310", 15, 12)]),
    ("rules:\n  r:\n    on: e\n    credit: -3\ntests:\n  c:\n    events:\n      - e at 2018-07-01\n"
     "    expect:\n      credits: 997\n      tier: Z\n", [("E0311", 21, 7), ("E0303", 22, 7)]),
    ("rules:\n  r:\n    on: e\n    fine: event.amount dollars\n", [("E0208", 15, 11)]),
    ("rules:\n  r:\n    on: e\n    fine: event.amount\n", [("E0312", 15, 11)]),
    # passing twins
    ("rules:\n  r:\n    on: e\n    where: event.km > 1 and not listed(\"debtors\")\n    credit: +min(floor(event.amount / 100), 10)\n"
     "    fine: event.amount yuan\n    tier: B for 1 year\n    list: debtors\n", []),
    ("sanctions:\n  debtors: [no rail]\n  B: [x]\ntriggers:\n  t:\n    when: points >= 12\n    unlist: debtors\n", []),
]


@pytest.mark.parametrize("snippet, expected", TEXT_CASES)
def test_from_text(snippet, expected):
    found = [(d.code, d.span.line, d.span.col) for d in text_diags(HEAD + snippet)]
    assert found == expected


def test_tier_list_clash_from_text():
    d = text_diags(HEAD + "  A:\n    for: 2 years\n")
    assert [(x.code, x.span.line, x.labels[0].span.line) for x in d] == [("E0306", 12, 7)]


TIER_HEAD = "rulebook: t\nledgers:\n  credit:\n    start: 600\n    floor: 350\n    ceiling: 950\ntiers:\n"


@pytest.mark.parametrize(
    "tiers, expected",
    [
        ("  A: credit >= 700\n  B: credit > 400 and credit < 700\n  C: credit >= 800\n",
         [("W0301", 10, 3), ("W0302", 10, 3)]),
        ("  A: credit >= 700\n  B: 350 <= credit and credit < 700\n", []),
        ("  A: credit >= 960\n  B: otherwise\n", [("W0301", 8, 3)]),
        ("  A: credit > 500\n  B: credit <= 500\n  C: otherwise\n", [("W0301", 10, 3)]),
    ],
)
def test_tier_coverage_from_text(tiers, expected):
    assert [(d.code, d.span.line, d.span.col) for d in text_diags(TIER_HEAD + tiers)] == expected


LANGUAGE_EXAMPLE = """# Rongcheng city scheme as reported in 2019.
rulebook: Rongcheng social credit
jurisdiction: Rongcheng, Shandong
effective: 2013-01-01
timezone: Asia/Shanghai
currency: yuan
source: The Nation (2019), "Discipline and Punish"

ledgers:
  credit: 1000
  licence:
    start: 12
    reset: yearly
  points: 0

tiers:
  A+: credit > 1000
  A: credit >= 1000
  B: credit >= 960
  C: credit >= 850
  D: otherwise

sanctions:
  B: [mortgage refused]
  D: [mortgage refused, no public-sector job]
  dishonest debtors: [no high-speed rail]

privileges:
  A+: [deposits waived]

lists:
  dishonest debtors:
    for: 1 year
    tier: D
    sanctions: [no high-speed rail, no air travel, no hotel booking, no tenders]
  downgraded:
    for: 1 year
  licence suspended:
  disqualified:

rules:
  littering:
    on: littering
    credit: -3
  failed to yield:
    on: failed_to_yield_to_pedestrian
    credit: -5
    licence: -3
    fine: 50 yuan
  escort elder to hospital:
    on: escorted_elder
    where: event.distance_km > 1
    except: listed("downgraded")
    credit: +1
    limit: 2 per month
    requires: 2 photo or 1 video
  donation:
    on: donation
    credit: +min(floor(event.amount / 100), 10)
  chickens loose:
    on: let_chickens_out
    credit: -10
    fine: event.amount yuan
  petition bypassing village head:
    on: petitioned_upper_government
    fine: 1000 yuan
    tier: B
  speeding major:
    on: speeding_over_50pct
    points: +6 for 3 years
  missed loan payment:
    on: missed_loan_payment
    list: dishonest debtors
  debt repaid:
    on: debt_repaid
    unlist: dishonest debtors

triggers:
  licence exhausted:
    when: licence <= 0
    list: licence suspended
  totting up:
    when: points >= 12
    list: disqualified
    points: reset

tests:
  one littering drops A to B:
    events:
      - littering at 2018-07-01
    expect:
      credit: 997
      tier: B
      lists: []
"""


def test_language_examples_check_clean():
    assert text_diags(LANGUAGE_EXAMPLE) == []


def test_module_doctests():
    import doctest

    import creditdsl.checker
    import creditdsl.checks.intervals

    for module in (creditdsl.checker, creditdsl.checks.intervals):
        failures, _ = doctest.testmod(module)
        assert failures == 0


# ------------------------------------------------------------------ places: E0313, E0314, and kin


@pytest.mark.parametrize(
    "snippet,expected",
    [
        ("triggers:\n  t:\n    when: event.amount > 3\n    credit: -1\n", [("E0313", 14, 11)]),
        ("rules:\n  r:\n    on: e\n    where: event.amount > 3\n    credit: -1\n", []),
        ("rules:\n  r:\n    on: e\n    where: 2 days < 1 week\n    credit: -1\n", [("E0308", 15, 12)]),
        ("rules:\n  r:\n    on: e\n    where: event.at < 30 days + 2030-01-01\n    credit: -1\n", [("E0308", 15, 23)]),
        ("rules:\n  r:\n    on: e\n    where: event.at < 2030-01-01 - 30 days\n    credit: -1\n", []),
    ],
)
def test_places_and_durations_from_text(snippet, expected):
    found = [(d.code, d.span.line, d.span.col) for d in text_diags(HEAD + snippet)]
    assert found == expected


def test_ledger_bounds():
    bad = book(ledgers=(model.Ledger(name="p", floor=Decimal(10), ceiling=Decimal(0)),))
    assert [d.code for d in check(bad)] == ["E0314"]
    outside = book(ledgers=(model.Ledger(name="p", start=Decimal(100), ceiling=Decimal(10)),))
    assert [d.code for d in check(outside)] == ["E0314"]
    inside = book(ledgers=(model.Ledger(name="p", start=Decimal(5), floor=Decimal(0), ceiling=Decimal(10)),))
    assert check(inside) == []
