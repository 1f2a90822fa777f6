"""JSON documents written exactly: Decimals as JSON numbers, never floats."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, Mapping

from rich.console import Console


# ---------------------------------------------------------------- JSON


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


def _number_text(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"{value} is not a JSON number")
    if value == value.to_integral_value():
        return format(value.quantize(Decimal(1)), "f")
    return format(value.normalize(), "f")


def _encode(value: Any, indent: int | None, level: int, out: list[str]) -> None:
    if isinstance(value, Decimal):
        out.append(_number_text(value))
    elif value is None or isinstance(value, (bool, int, float, str)):
        out.append(json.dumps(value, ensure_ascii=False, allow_nan=False))
    elif isinstance(value, Mapping) or isinstance(value, (list, tuple, set, frozenset)):
        is_map = isinstance(value, Mapping)
        items = list(value.items()) if is_map else list(value)
        if not items:
            out.append("{}" if is_map else "[]")
            return
        out.append("{" if is_map else "[")
        inner = "\n" + " " * (indent * (level + 1)) if indent is not None else ""
        sep = "," if indent is not None else ", "
        for i, item in enumerate(items):
            if i:
                out.append(sep)
            out.append(inner)
            if is_map:
                key, item = item
                out.append(json.dumps(str(key), ensure_ascii=False))
                out.append(": ")
            _encode(item, indent, level + 1, out)
        out.append("\n" + " " * (indent * level) if indent is not None else "")
        out.append("}" if is_map else "]")
    else:
        _encode(_json_default(value), indent, level, out)


def to_json_text(doc: Any, *, indent: int | None = None) -> str:
    """JSON text with Decimals written as exact JSON numbers (``999.5``, ``1000``).

    For documents that do not come through ``results``' own writer (the
    compiled model, diagnostics). Keys keep their order; dates become ISO
    strings and pydantic models their JSON dump.
    """
    out: list[str] = []
    _encode(doc, indent, 0, out)
    return "".join(out)


def render_json(doc: Any, console: Console, *, indent: int | None = 2) -> None:
    """Print a JSON document (a dict, or text already written by a JSON writer)."""
    text = doc if isinstance(doc, str) else to_json_text(doc, indent=indent)
    console.out(text.rstrip("\n"), highlight=False)


def write_json_chunks(chunks: Iterable[str], console: Console) -> None:
    """Write JSON text already made in pieces (results.result_json_chunks) straight to the
    console's file as each piece comes: a document of tens of megabytes is never held
    whole, nor passed through rich. The text must end with a newline."""
    console.file.flush()
    write = console.file.write
    for chunk in chunks:
        write(chunk)
