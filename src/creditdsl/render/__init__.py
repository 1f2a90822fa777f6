"""All terminal output: diagnostics, run results, test reports, JSON documents.

Only this package and ``cli`` import rich (a test enforces it). Everything else
returns values; here they become text. One module per kind of output:
``console`` (consoles and text helpers), ``diagnostics`` (rustc-style
diagnostics; its docstring fixes the layout), ``jsontext`` (exact JSON),
``tables`` (run table, test report), ``compare`` (compare and diff),
``html`` (the offline compare report), ``explain`` (explain and statements).
"""

from .compare import comparison_json, diff_json_text, render_comparison, render_diff
from .console import make_console
from .diagnostics import (
    diagnostics_document,
    render_diagnostics,
    render_diagnostics_json,
    render_internal_error,
    render_invalid_lines,
    render_messages,
)
from .explain import explain_html, explain_json, explain_text, statements_csv, statements_json, statements_text
from .html import comparison_html
from .jsontext import render_json, to_json_text, write_json_chunks
from .tables import format_number, render_run, render_test_report, write_text

__all__ = [
    "make_console",
    "render_diagnostics",
    "render_diagnostics_json",
    "diagnostics_document",
    "render_run",
    "render_test_report",
    "render_json",
    "write_json_chunks",
    "render_invalid_lines",
    "render_messages",
    "render_internal_error",
    "format_number",
    "to_json_text",
    "write_text",
    "render_comparison",
    "comparison_json",
    "comparison_html",
    "render_diff",
    "diff_json_text",
    "explain_text",
    "explain_json",
    "explain_html",
    "statements_text",
    "statements_json",
    "statements_csv",
]
