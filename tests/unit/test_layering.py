"""Import layering (STYLE.md §2.2), read from the source with ``ast``:

* only ``parser``, ``indenter`` and ``compiler`` (with its value half,
  ``value_compiler``, and its structure reader, ``entries``) import ``lark``;
* only ``render`` and ``cli`` import ``rich`` (typer pulls rich in for its
  help screens, so ``typer`` is held to ``cli`` as well);
* ``model`` imports pydantic, ``source`` and ``values`` (and the standard
  library), nothing else.

Imports inside functions count too: a lazy import is still an import.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "creditdsl"

# value_compiler is the compiler's value-layer half (a lark Transformer over
# values.lark), split out of compiler.py for size: the same stage, so allowed.
# entries reads the structure layer (a walk of Lark's tree, and a line reader built from
# the grammar's terminals), split out of compiler.py for size: the same stage too.
LARK_ALLOWED = {"parser", "indenter", "compiler", "value_compiler", "entries"}
RICH_ALLOWED = {"render", "cli"}
TYPER_ALLOWED = {"cli"}
MODEL_ALLOWED_THIRD_PARTY = {"pydantic"}
MODEL_ALLOWED_LOCAL = {"source", "values"}


def modules() -> dict[str, Path]:
    """Module name (dotted, relative to the package) → file."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1] or ["__init__"]
        out[".".join(parts)] = path
    return out


def imports(path: Path, module: str) -> set[str]:
    """Absolute names of everything ``path`` imports; local ones as ``creditdsl.X``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package_parts = ["creditdsl", *module.split(".")]
    if path.name != "__init__.py":
        package_parts = package_parts[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - (node.level - 1)]
                prefix = ".".join(base)
                if node.module:
                    found.add(f"{prefix}.{node.module}")
                else:
                    found.update(f"{prefix}.{alias.name}" for alias in node.names)
            elif node.module:
                found.add(node.module)
    return found


def top(name: str) -> str:
    return name.split(".")[0]


ALL = modules()


def test_the_package_is_found():
    assert {"model", "source", "render", "cli"} <= set(ALL)


@pytest.mark.parametrize("module", sorted(ALL))
def test_lark_rich_typer_stay_in_their_modules(module):
    names = {top(n) for n in imports(ALL[module], module)}
    head = module.split(".")[0]
    if "lark" in names:
        assert head in LARK_ALLOWED, f"{module} imports lark; only {sorted(LARK_ALLOWED)} may"
    if "rich" in names:
        assert head in RICH_ALLOWED, f"{module} imports rich; only {sorted(RICH_ALLOWED)} may"
    if "typer" in names:
        assert head in TYPER_ALLOWED, f"{module} imports typer; only {sorted(TYPER_ALLOWED)} may"


def test_model_imports_only_pydantic_source_values():
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    bad = []
    for name in imports(ALL["model"], "model"):
        if name.startswith("creditdsl."):
            if name.split(".")[1] not in MODEL_ALLOWED_LOCAL:
                bad.append(name)
        elif top(name) not in stdlib and top(name) not in MODEL_ALLOWED_THIRD_PARTY:
            bad.append(name)
    assert not bad, f"model.py may import only pydantic, source, values and the standard library: {bad}"


def test_the_checker_finds_violations(tmp_path):
    """The test itself works: it sees lazy and relative imports."""
    p = tmp_path / "x.py"
    p.write_text("def f():\n    from rich.text import Text\n    from . import render\n    from .. import y\n")
    found = imports(p, "sub.x")
    assert {"rich.text", "creditdsl.sub.render", "creditdsl.y"} <= found
