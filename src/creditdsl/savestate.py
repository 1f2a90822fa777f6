"""Continuing a run (LANGUAGE.md §12): the complete end state as a versioned JSON document.

Public API::

    write_state(state: dict, path) -> None      state = RunResult.state (run(..., save_state=True))
    state_text(state: dict) -> str              the text write_state writes
    read_state(path) -> dict                    raises CreditDslError E0501 / E0505 when unusable
    dump(runner, as_of) -> dict                 (used by interpreter.run)
    restore(runner, state) -> (as_of, line_offset)

Format (version 1), one JSON object with keys in this order:
``format`` ("creditdsl-state"), ``version`` (1), ``rulebook`` (name), ``fingerprint``
(blake2b of the compiled rulebook, so a state is never resumed under another
rulebook), ``as_of``, ``line_offset`` (input lines read so far: line numbers of the
next run continue from it, so the two audits concatenate into one run's audit),
``seq`` (audit decisions so far), ``agenda_seq``, ``started``, ``warned``,
``summary`` (line counts, deferred lines excluded), ``open_lines`` (deferred lines:
track → [best rank, pending deadlines]), ``subjects`` (every slot of
``state.SubjectState``; Decimals as strings, instants as ISO 8601 UTC) and
``agenda`` (pending timed work: [instant, phase, sequence, kind, payload]; a
deferred event is kept as its JSON line).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from .schedule import DEADLINE, REVERT
from .diagnostics import CreditDslError, error
from .events import Event, parse_event
from .state import counters, normalized, resolve_tokens, seen_from_ids
from .results import LINE_OUTCOMES, dumps

FORMAT = "creditdsl-state"
VERSION = 1


def fingerprint(rulebook: Any) -> str:
    blob = json.dumps(rulebook.model_dump(mode="json"), sort_keys=True).encode()
    return hashlib.blake2b(blob, digest_size=16).hexdigest()


def _t(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _pt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _cell(value: Any) -> Any:
    """Counters: [period_key, n] (period_key a tuple) or a list of instants / (instant, amount)."""
    if type(value) is list and len(value) == 2 and type(value[0]) is tuple and type(value[0][0]) is int:
        return {"period": list(value[0]), "n": str(value[1])}
    return {"window": [[_t(x[0]), str(x[1])] if type(x) is tuple else _t(x) for x in value]}


def _uncell(value: dict) -> Any:
    if "period" in value:
        n = Decimal(value["n"])
        return [tuple(value["period"]), int(n) if n == n.to_integral_value() and "." not in value["n"] else n]
    return [(_pt(x[0]), Decimal(x[1])) if type(x) is list else _pt(x) for x in value["window"]]


def _event_payload(ev: Event) -> dict:
    return {"line": ev.line, "json": dumps(ev.fields)}


def _pending_json(pending: dict[int, int]) -> dict[str, list[int]]:
    """Revert tokens by ledger index (the file's form; indexes and tokens ascending)."""
    out: dict[str, list[int]] = {}
    for token, index in sorted(pending.items(), key=lambda p: (p[1], p[0])):
        out.setdefault(str(index), []).append(token)
    return out


def _counted(plan: Any, st: Any) -> list[tuple[Any, Any]]:
    """(limit or cap key, cell) of the subject's counters in use, in the order of their keys
    (a limit: rule index; a cap: (rule index, ledger index))."""
    if st.counts is None:
        return []
    pairs = [(k, c) for k, c in zip(plan.counter_keys, st.counts) if c is not None]
    return sorted(pairs, key=lambda p: (p[0], -1) if type(p[0]) is int else p[0])


def _subject_state(plan: Any, runner: Any, st: Any, log: Any) -> dict:
    """One subject's part of the state file (line tokens replaced by digests first: they
    name lines of this run's log only)."""
    if log is not None:
        records = bytearray(st.seen)
        resolve_tokens(records, lambda offset: runner.line_digest(offset, log))
        st.seen = bytes(records)
    counted = _counted(plan, st)
    return {
        "id": st.id,
        "fields": dumps(st.fields),
        "bal": [str(x) for x in st.bal],
        "fines": str(st.fines),
        "lists": dict(st.lists),
        "cap": st.cap,
        "tcaps": {str(k): v for k, v in st.tcaps.items()},
        "limits": {str(k): _cell(v) for k, v in counted if type(k) is int},
        "caps": {f"{k[0]},{k[1]}": _cell(v) for k, v in counted if type(k) is tuple},
        "hist": {k: [_t(x) for x in v] for k, v in st.hist.items()},
        "seen": st.seen.hex(),
        "pending": _pending_json(st.pending),
        "trig": st.trig,
        "anniversary": _t(st.anniversary),
        "remedy": {k: [_t(v[0]), v[1]] for k, v in st.remedy.items()},
    }


def dump(runner: Any, as_of: datetime | None, line_offset: int) -> dict:
    plan = runner.plan
    subjects = []
    log = None if runner.log_path is None else open(runner.log_path, "rb")  # noqa: SIM115
    try:
        for sid in sorted(runner.states):
            subjects.append(_subject_state(plan, runner, runner.states[sid], log))
    finally:
        if log is not None:
            log.close()
    agenda = []
    for key, phase, seq, kind, payload in sorted(runner.agenda):
        if kind == REVERT:
            sid, index, amount, rule_index, line, event_id, since, why = payload
            payload = [sid, index, str(amount), rule_index, line, event_id, _t(since), why]
        elif kind == DEADLINE:
            sid, rule_index, ev, track = payload
            payload = [sid, rule_index, _event_payload(ev), track]
        else:
            payload = list(payload)
        agenda.append([_t(key), phase, seq, kind, payload])
    summary = runner.summary
    return {
        "format": FORMAT,
        "version": VERSION,
        "rulebook": plan.rulebook.name,
        "fingerprint": fingerprint(plan.rulebook),
        "as_of": _t(as_of),
        "line_offset": line_offset,
        "seq": runner.seq,
        "agenda_seq": runner.agenda_seq,
        "started": runner.started,
        "warned": sorted(runner.warned),
        "summary": {k: getattr(summary, k) for k in ("lines",) + LINE_OUTCOMES},
        "open_lines": {str(k): v for k, v in runner.open_lines.items()},
        "subjects": subjects,
        "agenda": agenda,
    }


def _bad(message: str) -> CreditDslError:
    return CreditDslError([error("E0505", message)])


def restore(runner: Any, data: dict) -> tuple[datetime | None, int]:
    plan = runner.plan
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _bad("not a creditdsl state file")
    if data.get("version") != VERSION:
        raise _bad(f"state file version {data.get('version')} is not supported (expected {VERSION})")
    if type(data.get("fingerprint")) is not str or type(data.get("rulebook")) is not str:
        raise _bad("state file is damaged: no rulebook fingerprint")
    if data.get("fingerprint") != fingerprint(plan.rulebook):
        raise _bad(f"state file was saved under another rulebook (`{data.get('rulebook')}`)")
    tz = plan.tz
    try:
        runner.seq = data["seq"]
        runner.agenda_seq = data["agenda_seq"]
        runner.started = data["started"]
        runner.warned = set(data["warned"])
        for k, v in data["summary"].items():
            setattr(runner.summary, k, v)
        runner.open_lines = {int(k): list(v) for k, v in data["open_lines"].items()}
        for s in data["subjects"]:
            fields = json.loads(s["fields"], parse_float=Decimal)
            st = plan.new_state(s["id"], fields)
            st.bal = [Decimal(x) for x in s["bal"]]
            st.fines = Decimal(s["fines"])
            st.lists = dict(s["lists"])
            st.cap = s["cap"]
            st.tcaps = {int(k): v for k, v in s["tcaps"].items()}
            saved: dict = {int(k): _uncell(v) for k, v in s["limits"].items()}
            saved.update({tuple(int(p) for p in k.split(",")): _uncell(v) for k, v in s["caps"].items()})
            if saved:
                slots = counters(st, len(plan.counter_keys))
                for key, cell in saved.items():
                    slots[plan.counter_slot[key]] = cell
            st.hist = {k: [_pt(x) for x in v] for k, v in s["hist"].items()}
            seen = s["seen"]
            st.seen = bytes(normalized(bytearray.fromhex(seen)) if type(seen) is str else seen_from_ids(
                {k: bytes.fromhex(v) for k, v in seen.items()}))
            st.pending = {t: int(k) for k, v in s["pending"].items() for t in v}
            st.trig = s["trig"]
            st.anniversary = _pt(s["anniversary"])
            st.remedy = {k: (_pt(v[0]), v[1]) for k, v in s["remedy"].items()}
            runner.states[st.id] = st
        agenda = []
        for key, phase, seq, kind, payload in data["agenda"]:
            if kind == REVERT:
                sid, index, amount, rule_index, line, event_id, since, why = payload
                payload = (sid, index, Decimal(amount), rule_index, line, event_id,
                           _pt(since).astimezone(tz), why)
            elif kind == DEADLINE:
                sid, rule_index, ev, track = payload
                event = parse_event(ev["json"].encode(), ev["line"], tz)
                payload = (sid, rule_index, event, track)
            else:
                payload = tuple(payload)
            agenda.append((_pt(key), phase, seq, kind, payload))
        runner.agenda = agenda  # sorted, hence a heap
        return _pt(data["as_of"]), data["line_offset"]
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise _bad(f"state file is damaged: {type(exc).__name__}: {exc}") from None


def state_text(state: dict) -> str:
    """The text of a state file (what ``write_state`` writes)."""
    return json.dumps(state, indent=1) + "\n"


def write_state(state: dict, path: str | Path) -> None:
    Path(path).write_text(state_text(state), encoding="utf-8")


def read_state(path: str | Path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CreditDslError([error("E0501", f"cannot read state file `{path}`: {exc}")]) from None
    try:
        return json.loads(text)
    except ValueError:
        raise _bad(f"`{path}` is not a creditdsl state file") from None
