"""The spine: read → parse → compile → link → check (→ run).

Each function calls its predecessors and raises :class:`CreditDslError` when
errors were found; warnings travel alongside. The CLI makes one call here and
one call to ``render``. Sources are kept (``Loaded.sources``) so that every
diagnostic can be rendered with its line.

>>> rb = load_text("rulebook: demo\\nledgers:\\n  credit: 10\\n")
>>> rb.name, rb.ledgers[0].name, str(rb.ledgers[0].start)
('demo', 'credit', '10')
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import model as m
from .compiler import compile_source
from .diagnostics import CreditDslError, Diagnostic, Severity, error
from .inheritance import link
from .source import SourceFile

MAX_RULEBOOK_BYTES = 2_000_000


def read_source(path: str) -> SourceFile:
    """A rulebook file as text. E0501 missing/unreadable/directory, E0004 not UTF-8, E0005 too large."""
    p = Path(path)
    try:
        if p.is_dir():
            raise CreditDslError([error("E0501", f"`{path}` is a directory, not a rulebook file", path=path)])
        size = p.stat().st_size
        if size > MAX_RULEBOOK_BYTES:
            raise CreditDslError([error("E0005", f"`{path}` has {size:,} bytes; the bound is {MAX_RULEBOOK_BYTES:,}",
                                        path=path)])
        data = p.read_bytes()
    except CreditDslError:
        raise
    except FileNotFoundError:
        raise CreditDslError([error("E0501", f"no such file `{path}`", path=path)]) from None
    except OSError as exc:
        raise CreditDslError([error("E0501", f"cannot read `{path}`: {exc.strerror or exc}", path=path)]) from None
    return decode_source(path, data)


def decode_source(path: str, data: bytes) -> SourceFile:
    """UTF-8 (a leading BOM is dropped); a NUL byte or bad UTF-8 is E0004 with its position."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8", errors="replace")
        src = SourceFile(path, good)
        raise CreditDslError([error("E0004", f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                                    src.eof(), help="save the rulebook as UTF-8")]) from None
    if "\x00" in text:
        at = text.index("\x00")
        src = SourceFile(path, text[:at])
        raise CreditDslError([error("E0004", "the file holds a NUL byte: it is binary, not a rulebook", src.eof())])
    return SourceFile(path, text)


@dataclass
class Loaded:
    """A linked, checked rulebook with its warnings and every source it read."""

    rulebook: m.Rulebook | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]


class _Session:
    """Reads and compiles files once each, remembering their sources."""

    def __init__(self) -> None:
        self.sources: dict[str, SourceFile] = {}

    def compile_file(self, path: str) -> tuple[m.Rulebook | None, list[Diagnostic]]:
        try:
            src = read_source(path)
        except CreditDslError as exc:
            return None, list(exc.diagnostics)
        return self.compile_src(src)

    def compile_src(self, src: SourceFile) -> tuple[m.Rulebook | None, list[Diagnostic]]:
        self.sources[src.path] = src
        return compile_source(src)

    def finish(self, rulebook: m.Rulebook | None, diags: list[Diagnostic], check: bool) -> Loaded:
        if rulebook is not None and not any(d.is_error for d in diags):
            rulebook, link_diags = link(rulebook, self.compile_file)
            diags = diags + link_diags
            if check and not any(d.is_error for d in diags):
                diags = diags + run_checks(rulebook)
        return Loaded(rulebook, sorted(diags, key=Diagnostic.sort_key), self.sources)


def run_checks(rulebook: m.Rulebook) -> list[Diagnostic]:
    from .checker import check

    return list(check(rulebook))


def analyse(path: str, check: bool = True) -> Loaded:
    """Everything known about one rulebook file; never raises for bad input."""
    session = _Session()
    rulebook, diags = session.compile_file(os.fspath(path))
    return session.finish(rulebook, diags, check)


def analyse_text(text: str, path: str = "<string>", check: bool = True) -> Loaded:
    session = _Session()
    rulebook, diags = session.compile_src(SourceFile(path, text.removeprefix("\ufeff")))
    return session.finish(rulebook, diags, check)


def _ok(loaded: Loaded) -> m.Rulebook:
    if loaded.errors or loaded.rulebook is None:
        exc = CreditDslError(loaded.errors or [error("E0204", "no rulebook could be built")])
        exc.sources = loaded.sources  # type: ignore[attr-defined]
        raise exc
    return loaded.rulebook


def load(path: str) -> tuple[m.Rulebook, list[Diagnostic], dict[str, SourceFile]]:
    """(rulebook, warnings, sources); raises CreditDslError (with ``.sources``) on any error."""
    loaded = analyse(path)
    return _ok(loaded), loaded.diagnostics, loaded.sources


def load_text(text: str, path: str = "<string>") -> m.Rulebook:
    """A rulebook from text (parents resolved relative to ``path``); raises CreditDslError on errors."""
    return _ok(analyse_text(text, path))


def check_paths(paths: list[str]) -> tuple[list[Diagnostic], dict[str, SourceFile]]:
    """All diagnostics (errors and warnings) of several rulebooks, and their sources."""
    diags: list[Diagnostic] = []
    sources: dict[str, SourceFile] = {}
    for path in paths:
        loaded = analyse(path)
        diags.extend(loaded.diagnostics)
        sources.update(loaded.sources)
    return diags, sources


def compile_json(path: str) -> dict[str, Any]:
    """The compiled, linked model as plain JSON data (spans left out; numbers exact)."""
    rulebook, _, _ = load(path)
    return to_plain(rulebook.model_dump(by_alias=True, exclude_none=True))


def to_plain(value: Any) -> Any:
    """Model dump → JSON-ready data: Decimals stay Decimal (the JSON writer prints them exactly)."""
    from datetime import date, datetime

    from .values import Duration

    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, Duration):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return value
    return value


def period_warnings(rulebook: m.Rulebook, events_path: str) -> list[Diagnostic]:
    """W0502 when events fall before the rulebook's `effective` date or after its `until`.

    `effective` and `until` are informational (LANGUAGE.md §12): the run still
    scores every event, and says how many lie outside. Only the `at` of each
    line is read (lines whose `at` cannot be read are the run's invalid lines,
    reported there)."""
    if rulebook.effective is None and rulebook.until is None:
        return []
    from datetime import datetime, time, timedelta

    from .events import _parse_at
    from .timeline import _at_only
    from .values import localize, zone

    tz = zone(rulebook.timezone)
    start = localize(datetime.combine(rulebook.effective, time()), tz) if rulebook.effective else None
    end = localize(datetime.combine(rulebook.until + timedelta(days=1), time()), tz) if rulebook.until else None
    before = after = 0
    first = last = None

    decode = _at_only.decode  # reads `at` alone, as the timeline's sortedness scan does
    with open(events_path, "rb") as fh:
        for raw in fh:
            try:
                at = _parse_at(decode(raw).at, tz)
            except Exception:  # noqa: BLE001 - an unreadable line is the run's to report
                continue
            if start is not None and at < start:
                before += 1
                first = at if first is None or at < first else first
            if end is not None and at >= end:
                after += 1
                last = at if last is None or at > last else last
    out = []
    if before:
        out.append(Diagnostic("W0502", Severity.WARNING,
                              f"{before} event(s) fall before `effective: {rulebook.effective}` (the first at "
                              f"{first.isoformat()}); they are scored all the same", path=events_path))
    if after:
        out.append(Diagnostic("W0502", Severity.WARNING,
                              f"{after} event(s) fall after `until: {rulebook.until}` (the last at "
                              f"{last.isoformat()}); they are scored all the same", path=events_path))
    return out
