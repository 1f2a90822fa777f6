"""What every event line costs `creditdsl run` before any rule: the benchmark's floor.

    python bench/floor.py EVENTS AUDIT_OUT

The per-line obligations of LANGUAGE.md and issue 9, written as tightly as bench/baseline.py
is, and nothing else (no rules, no ledgers, no tiers, no timed work):

* decode the whole object (rules read any field) and vouch for it: no duplicate key (the
  colon count of events.fast_event), string id/subject/type, an `at` with its offset;
* the instant in the rulebook's zone (audit, calendar periods) and in UTC (the order);
* the duplicate memory: a 128-bit blake2b hash of the id, searched in and appended to the
  subject's records with the line's 8-byte token (state.py);
* one JSON audit line per event, of the shape creditdsl writes, in chunks of 2,048.

Lines the fast reader would decline (a backslash, nested objects) are skipped here;
creditdsl reads them strictly, which costs more still.

A hand-written fold cannot keep these obligations and run faster than this; bench/run.py
reports `floor / baseline`, the most an interpreter of the language could reach in CPython
on this machine against the baseline, which keeps none of them (a typed struct, `at`
compared as text, no duplicate memory, a 60-byte TSV line).
"""

from __future__ import annotations

import hashlib
import struct
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import msgspec


def floor(path: str, audit_path: str) -> int:
    decode = msgspec.json.Decoder().decode
    fromiso = datetime.fromisoformat
    tz, utc = ZoneInfo("Asia/Shanghai"), timezone.utc
    blake, pack = hashlib.blake2b(digest_size=16).copy, struct.Struct(">Q").pack  # as state._blake16
    seen: dict[str, bytes] = {}
    out: list[str] = []
    offset = number = 0
    with open(path, "rb") as fh, open(audit_path, "w", encoding="utf-8") as sink:
        for raw in fh:
            number += 1
            start = offset
            offset += len(raw)
            if 92 in raw:  # a backslash, tested with an int as events.fast_event does
                continue
            try:
                value = decode(raw)
            except msgspec.DecodeError:  # a blank or broken line: creditdsl's strict reader's
                continue
            if type(value) is not dict or raw.count(b":") != len(value) + 3:
                continue
            ident, subject, kind, at = value.get("id"), value.get("subject"), value.get("type"), value.get("at")
            if type(ident) is not str or type(subject) is not str or type(kind) is not str or type(at) is not str:
                continue
            written = fromiso(at)
            written.astimezone(tz)  # creditdsl keeps both: the local instant and the UTC order key
            written.astimezone(utc)
            h = blake()
            h.update(ident.encode("utf-8", "surrogatepass"))
            key = h.digest()
            records = seen.get(subject, b"")
            if records.find(key) < 0:
                seen[subject] = records + key + pack(start)
            out.append(f'{{"seq": {number}, "line": {number}, "at": "{at}", '
                       f'"event": "{ident}", "subject": "{subject}", "rule": "{kind}", "outcome": "applied", '
                       '"reason": null, "changes": {"credit": -3}, "before": {"credit": 1000, "licence": 12}, '
                       '"after": {"credit": 997, "licence": 12}, "tier_before": "A", "tier_after": "C"}')
            if len(out) >= 2048:
                out.append("")
                sink.write("\n".join(out))
                out = []
        out.append("")
        sink.write("\n".join(out))
    return number


if __name__ == "__main__":
    floor(sys.argv[1], sys.argv[2])
