"""`extends` and `drop` (LANGUAGE.md §8, §12 "Inheritance").

``link(rulebook, load)`` resolves a compiled file's chain of parents and
returns the merged rulebook with the diagnostics of the whole chain.
``load(path) -> (Rulebook | None, diagnostics)`` compiles one file (the
pipeline passes its own, which keeps the sources for rendering).

Merge rules: ledgers, lists, rules, triggers, sanctions and privileges merge
by name — a replacing item keeps the replaced item's position, new ones come
after the inherited ones; a child's `tiers:` replaces the whole block; header
keys the child sets win; `drop` removes inherited rules or triggers by name.
Inherited nodes keep their spans in the parent file, and rules keep their
``origin`` (coverage counts them for the file that defines them). The child's
`tests:` are its own.

Paths are relative to the file that names them and must stay inside the root
rulebook's folder tree. Codes: E0221 cycle (the message names the chain),
E0222 path leaves the tree, E0223 parent missing, a directory, or unreadable,
E0224 `drop` of a name nothing inherits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from . import model as m
from .diagnostics import Diagnostic, Diagnostics, Label, suggest

Loader = Callable[[str], tuple["m.Rulebook | None", list[Diagnostic]]]

MAX_CHAIN = 32


def link(rulebook: m.Rulebook, load: Loader) -> tuple[m.Rulebook, list[Diagnostic]]:
    diags = Diagnostics()
    root = Path(rulebook.path).resolve().parent
    linked = _link(rulebook, load, root, [Path(rulebook.path).resolve()], diags)
    return linked, diags.sorted()


def _link(rb: m.Rulebook, load: Loader, root: Path, chain: list[Path], diags: Diagnostics) -> m.Rulebook:
    if rb.extends is None:
        for i, name in enumerate(rb.drop):
            where = (rb.drop_spans[i] if i < len(rb.drop_spans) else None) or rb.span
            diags.error("E0224", f"`drop` names `{name}`, but this rulebook extends nothing", where,
                        help="`drop` removes inherited rules; add `extends: PARENT` or remove `drop`", path=rb.path)
        return rb
    here = Path(rb.path).resolve().parent
    target = (here / rb.extends).resolve()
    span = rb.extends_span or rb.span
    names = " → ".join(p.name for p in chain + [target])
    if target in chain:
        diags.error("E0221", f"`extends` cycle: {names}", span, help="remove one `extends` from the chain",
                    path=rb.path)
        return rb
    if len(chain) >= MAX_CHAIN:
        diags.error("E0221", f"`extends` chain longer than {MAX_CHAIN} files: {names}", span, path=rb.path)
        return rb
    if not target.is_relative_to(root):
        diags.error("E0222", f"`extends: {rb.extends}` leaves the rulebook folder `{_shown(root)}`", span,
                    help="parents must lie in the root rulebook's folder or below it", path=rb.path)
        return rb
    if target.is_dir():
        diags.error("E0223", f"`extends: {rb.extends}` is a directory, not a rulebook", span, path=rb.path)
        return rb
    if not target.is_file():
        diags.error("E0223", f"`extends: {rb.extends}`: no such rulebook `{_shown(target)}`", span, path=rb.path)
        return rb
    # Name the parent the way the root was named: absolute stays absolute.
    parent, parent_diags = load(str(target) if Path(rb.path).is_absolute() else _shown(target))
    diags.extend(parent_diags)
    if parent is None:
        if not any(d.is_error for d in parent_diags):
            diags.error("E0223", f"`extends: {rb.extends}` cannot be read", span, path=rb.path)
        return rb
    parent = _link(parent, load, root, chain + [target], diags)
    return merge(parent, rb, diags)


def _shown(path: Path) -> str:
    """A path as the user would write it: relative to the working folder when below it."""
    rel = os.path.relpath(path)
    return path.as_posix() if rel.startswith("..") else Path(rel).as_posix()


def _merge_named(parent: tuple, child: tuple) -> tuple:
    by_name = {x.name: x for x in child}
    out = [by_name.pop(x.name, x) for x in parent]
    out.extend(x for x in child if x.name in by_name)
    return tuple(out)


def _merge_labelsets(parent: tuple[m.LabelSet, ...], child: tuple[m.LabelSet, ...]) -> tuple:
    by_target = {x.target: x for x in child}
    out = [by_target.pop(x.target, x) for x in parent]
    out.extend(x for x in child if x.target in by_target)
    return tuple(out)


def merge(parent: m.Rulebook, child: m.Rulebook, diags: Diagnostics) -> m.Rulebook:
    rules = list(parent.rules)
    triggers = list(parent.triggers)
    for i, name in enumerate(child.drop):
        where = (child.drop_spans[i] if i < len(child.drop_spans) else None) or child.span
        if any(r.name == name for r in rules):
            rules = [r for r in rules if r.name != name]
        elif any(t.name == name for t in triggers):
            triggers = [t for t in triggers if t.name != name]
        else:
            diags.error("E0224", f"`drop` names `{name}`, which no parent defines", where,
                        help=suggest(name, [r.name for r in rules] + [t.name for t in triggers]), path=child.path)
    fields: dict = {}
    for key in ("jurisdiction", "effective", "until", "timezone", "currency", "source"):
        fields[key] = getattr(child, key) if key in child.model_fields_set else getattr(parent, key)
    return m.Rulebook(
        name=child.name,
        **fields,
        extends=child.extends,
        drop=child.drop,
        ledgers=_merge_named(parent.ledgers, child.ledgers),
        tiers=child.tiers if "tiers" in child.model_fields_set else parent.tiers,
        sanctions=_merge_labelsets(parent.sanctions, child.sanctions),
        privileges=_merge_labelsets(parent.privileges, child.privileges),
        lists=_merge_named(parent.lists, child.lists),
        rules=_merge_named(tuple(rules), child.rules),
        triggers=_merge_named(tuple(triggers), child.triggers),
        tests=child.tests,
        path=child.path,
        span=child.span,
    )


__all__ = ["link", "merge", "Label"]
