"""The ``creditdsl`` command line: a thin shell over ``pipeline`` and ``render``.

``shell`` holds the typer app, the exit codes, the shared helpers and
``main()`` (the console script); the verbs register themselves on the app
from ``rulebooks`` (check, compile, test), ``runs`` (run) and ``reports``
(compare, diff, explain, statements). See ``shell``'s docstring for the exit
codes.
"""

# Importing registers the verbs, in the order `--help` lists them.
from . import rulebooks  # noqa: F401, I001 - check, compile, test
from . import runs  # noqa: F401 - run
from . import reports  # noqa: F401 - compare, diff, explain, statements
from .shell import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_PIPE, EXIT_USAGE, app, main

__all__ = ["app", "main", "EXIT_OK", "EXIT_INPUT", "EXIT_USAGE", "EXIT_INTERNAL", "EXIT_PIPE"]
