"""`extends` and `drop` (LANGUAGE.md §8, §12)."""

from pathlib import Path

import pytest

from creditdsl import pipeline

PARENT = """\
rulebook: parent
timezone: Asia/Shanghai
currency: yuan
ledgers:
  credit: 1000
tiers:
  A: credit >= 1000
  B: otherwise
lists:
  debtors:
    tier: B
sanctions:
  B: [mortgage refused]
rules:
  littering:
    on: littering
    credit: -3
  yield:
    on: failed_to_yield
    credit: -5
  repaid:
    on: debt_repaid
    unlist: debtors
triggers:
  broke:
    when: credit < 900
    list: debtors
"""


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def load(path):
    loaded = pipeline.analyse(path)
    return loaded.rulebook, loaded.diagnostics


def test_extends_without_overrides_is_the_parent(tmp_path):
    write(tmp_path, "parent.rulebook", PARENT)
    child = write(tmp_path, "child.rulebook", "rulebook: child\nextends: parent.rulebook\n")
    rb, diags = load(child)
    parent, _ = load(str(tmp_path / "parent.rulebook"))
    assert diags == []
    assert rb.model_dump(exclude={"name", "extends"}) == parent.model_dump(exclude={"name", "extends"})
    assert rb.rules[0].origin.endswith("parent.rulebook")


def test_replacing_rule_keeps_its_place_and_new_rules_follow(tmp_path):
    write(tmp_path, "parent.rulebook", PARENT)
    child = write(
        tmp_path,
        "child.rulebook",
        "rulebook: child\nextends: parent.rulebook\nrules:\n  littering:\n    on: littering\n    credit: -10\n"
        "  fight:\n    on: fight\n    credit: -10\n",
    )
    rb, diags = load(child)
    assert not diags
    assert [r.name for r in rb.rules] == ["littering", "yield", "repaid", "fight"]
    assert rb.rules[0].effects.changes[0].amount.tree.value == -10
    assert rb.rules[0].origin.endswith("child.rulebook") and rb.rules[1].origin.endswith("parent.rulebook")


def test_tiers_block_replaces_whole_and_header_keys_merge(tmp_path):
    write(tmp_path, "parent.rulebook", PARENT)
    child = write(
        tmp_path,
        "child.rulebook",
        "rulebook: child\nextends: parent.rulebook\ntimezone: Europe/Berlin\ntiers:\n  AA: credit >= 1050\n"
        "  A: credit >= 990\n  B: otherwise\nsanctions:\n  A: [no loans]\n",
    )
    rb, diags = load(child)
    assert diags == []
    assert [(t.name, t.span.file.endswith("child.rulebook")) for t in rb.tiers] == [
        ("AA", True), ("A", True), ("B", True)
    ]
    assert rb.timezone == "Europe/Berlin" and rb.currency == "yuan"
    assert [s.target for s in rb.sanctions] == ["B", "A"]


def test_renamed_tiers_are_checked_against_inherited_names(tmp_path):
    write(tmp_path, "parent.rulebook", PARENT)
    child = write(
        tmp_path, "child.rulebook", "rulebook: child\nextends: parent.rulebook\ntiers:\n  good: otherwise\n"
    )
    _, diags = load(child)
    found = {(d.code, Path(d.span.file).name, d.span.line) for d in diags}
    assert ("E0303", "parent.rulebook", 11) in found  # the list's `tier: B`
    assert ("E0304", "parent.rulebook", 13) in found  # `sanctions:` for B


def test_drop_removes_inherited_rules_and_triggers(tmp_path):
    write(tmp_path, "parent.rulebook", PARENT)
    child = write(tmp_path, "child.rulebook", "rulebook: child\nextends: parent.rulebook\ndrop: [yield, broke]\n")
    rb, diags = load(child)
    assert not diags
    assert [r.name for r in rb.rules] == ["littering", "repaid"] and rb.triggers == ()


def test_grandparents_chain_in_order(tmp_path):
    write(tmp_path, "base/parent.rulebook", PARENT)
    write(tmp_path, "base/middle.rulebook", "rulebook: middle\nextends: parent.rulebook\nledgers:\n  points: 0\n")
    child = write(tmp_path, "child.rulebook", "rulebook: child\nextends: base/middle.rulebook\n")
    rb, diags = load(child)
    assert not diags
    assert [x.name for x in rb.ledgers] == ["credit", "points"]


@pytest.mark.parametrize(
    "files,root,code,needle",
    [
        ({"a.rulebook": "rulebook: a\nextends: b.rulebook\n", "b.rulebook": "rulebook: b\nextends: a.rulebook\n"
          "ledgers:\n  c: 1\n"}, "a.rulebook", "E0221", "a.rulebook → b.rulebook → a.rulebook"),
        ({"a.rulebook": "rulebook: a\nextends: a.rulebook\n"}, "a.rulebook", "E0221", "a.rulebook → a.rulebook"),
        ({"sub/a.rulebook": "rulebook: a\nextends: ../p.rulebook\n", "p.rulebook": PARENT}, "sub/a.rulebook",
         "E0222", "leaves the rulebook folder"),
        ({"a.rulebook": "rulebook: a\nextends: nope.rulebook\n"}, "a.rulebook", "E0223", "no such rulebook"),
        ({"a.rulebook": "rulebook: a\nextends: sub\n", "sub/x.rulebook": PARENT}, "a.rulebook", "E0223",
         "is a directory"),
        ({"a.rulebook": "rulebook: a\nextends: p.rulebook\ndrop: [litering]\n", "p.rulebook": PARENT}, "a.rulebook",
         "E0224", "did you mean `littering`?"),
        ({"a.rulebook": "rulebook: a\nextends: p.rulebook\n", "p.rulebook": "rulebook: p\nledgers:\n  1x: 1\n"},
         "a.rulebook", "E0209", "is not a ledger name"),
    ],
)
def test_link_errors(tmp_path, files, root, code, needle):
    for name, text in files.items():
        write(tmp_path, name, text)
    _, diags = load(str(tmp_path / root))
    errors = [d for d in diags if d.is_error]
    assert errors and errors[0].code == code
    assert needle in errors[0].message + (errors[0].help or "")
    assert errors[0].span is not None


def test_parents_are_named_like_the_root(tmp_path, monkeypatch):
    write(tmp_path, "parent.rulebook", PARENT)
    write(tmp_path, "child.rulebook", "rulebook: child\nextends: parent.rulebook\n")
    rb, _ = load(str(tmp_path / "child.rulebook"))
    assert Path(rb.rules[0].origin).is_absolute()
    monkeypatch.chdir(tmp_path)
    rb, _ = load("child.rulebook")
    assert rb.rules[0].origin == "parent.rulebook"
