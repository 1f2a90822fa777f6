"""Shared test infrastructure: golden files and fixed consoles.

Golden files are regenerated only with ``--update-goldens`` (or
``CREDITDSL_UPDATE_GOLDENS=1``). Even then the test *fails*, with a note to
review the diff, so a CI run can never pass by rewriting its own expectations.
"""

from __future__ import annotations

import difflib
import os
from io import StringIO
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite golden files from the actual output (the tests still fail: review the diff)",
    )


def _updating(config: pytest.Config) -> bool:
    return bool(config.getoption("--update-goldens")) or os.environ.get("CREDITDSL_UPDATE_GOLDENS", "") not in (
        "",
        "0",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return _updating(request.config)


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def check_golden(path: str | os.PathLike[str], actual: str, *, update: bool) -> None:
    """Compare ``actual`` with the golden file at ``path`` (relative paths are
    taken from ``tests/``); see the module docstring for ``update``."""
    path = Path(path)
    if not path.is_absolute():
        path = TESTS / path
    name = _relative(path)
    expected = path.read_text(encoding="utf-8") if path.exists() else None
    if expected == actual:
        return
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        diff = "".join(
            difflib.unified_diff(
                (expected or "").splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"{name} (old)",
                tofile=f"{name} (new)",
            )
        )
        pytest.fail(f"golden updated, review the diff: {name}\n{diff}", pytrace=False)
    if expected is None:
        pytest.fail(
            f"golden file {name} is missing; create it with `pytest --update-goldens` "
            f"(or CREDITDSL_UPDATE_GOLDENS=1) and review it.\nactual output:\n{actual}",
            pytrace=False,
        )
    diff = "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=f"{name} (golden)",
            tofile=f"{name} (actual)",
        )
    )
    pytest.fail(
        f"output differs from golden {name} (run with --update-goldens to accept, then review):\n{diff}",
        pytrace=False,
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str | os.PathLike[str], str], None]:
    """``golden(path, actual_text)``: compare with a golden file (see ``check_golden``)."""
    update = _updating(request.config)

    def compare(path: str | os.PathLike[str], actual: str) -> None:
        check_golden(path, actual, update=update)

    return compare


@pytest.fixture
def golden_check() -> Callable[..., None]:
    """The comparison behind ``golden`` with an explicit ``update=`` (for testing the fixture)."""
    return check_golden


@pytest.fixture
def console() -> Callable[..., "object"]:
    """A factory of colourless fixed-width rich consoles writing to a StringIO.

    ``con = console(); ...; con.file.getvalue()``.
    """
    from rich.console import Console

    def make(width: int = 100) -> Console:
        return Console(width=width, color_system=None, file=StringIO(), highlight=False, emoji=False, markup=False)

    return make
