"""A hand-written fold of bench/bench.rulebook: the yardstick for `creditdsl run`.

    python bench/baseline.py EVENTS AUDIT_OUT RESULT_OUT [--no-audit]

What a careful programmer would write for exactly these rules: msgspec decodes
each line into a typed struct, one branch per event type, a dict of points per
subject, per-month counters for the two limits and the cap, a heap for the
temporary changes (reverts) and the grace deadlines, bisect for tiers, and one
small audit tuple per change, written to AUDIT_OUT in big chunks.

Shortcuts that hold for the generated log only (bench/gen.py): every `at` is
written with the same +08:00 offset (Asia/Shanghai has had no daylight saving
since 1991), so `at` strings compare like instants and `at[:7]` is the local
month; the log is sorted by time and has no duplicates or invalid lines.
The result (subject → credit, licence, tier, fines) goes to RESULT_OUT as JSON.
"""

from __future__ import annotations

import heapq
import sys
from bisect import bisect_right
from datetime import datetime, timedelta

import msgspec


class Ev(msgspec.Struct):
    id: str
    subject: str
    type: str
    at: str
    evidence: list = []
    amount: int = 0


TIERS = ("D", "C", "B", "A", "A+")
EDGES = (850, 960, 1000, 1001)  # bisect_right(EDGES, credit) indexes TIERS
D90, D180, D3 = timedelta(days=90), timedelta(days=180), timedelta(days=3)
SIMPLE = {  # type -> (rule, credit change)
    "littering": ("littering", -3), "jaywalking": ("jaywalking", -2), "noise_complaint": ("noise", -1),
    "spitting": ("spitting", -2), "tax_evasion": ("tax evasion", -50), "honour_award": ("honour award", 20),
    "late_utility_bill": ("late utility bill", -1), "fare_evasion": ("fare evasion", -2),
}


def fold(path: str, audit_path: str | None) -> dict:
    decode = msgspec.json.Decoder(Ev).decode
    fromiso = datetime.fromisoformat
    credit: dict[str, int] = {}
    licence: dict[str, int] = {}
    fines: dict[str, int] = {}
    counts: dict[tuple, int] = {}  # (subject, rule, month) -> events taken / amount used
    remedy: dict[str, tuple] = {}
    agenda: list = []  # (at, phase, seq, subject, kind, payload)
    seq = 0
    out: list[str] = []
    sink = open(audit_path, "w", encoding="utf-8") if audit_path else None

    def change(sid: str, rule: str, line: int, at: str, delta: int) -> int:
        old = credit[sid]
        new = old + delta
        if new < 0:
            new = 0
        credit[sid] = new
        if sink is not None:
            out.append(f"{line}\t{at}\t{sid}\t{rule}\tcredit\t{new - old}\t{TIERS[bisect_right(EDGES, new)]}\n")
        return new - old

    def due(until: tuple) -> None:
        while agenda and agenda[0][:2] <= until:
            at, phase, _, sid, rule, line, p = heapq.heappop(agenda)
            if phase == 0:  # revert a temporary change
                change(sid, rule, line, at, -p)
            else:  # grace deadline
                seen = remedy.get(sid)
                if seen is not None and seen > p:
                    if sink is not None:
                        out.append(f"{line}\t{at}\t{sid}\t{rule}\tremedied\n")
                else:
                    change(sid, rule, line, at, -1)

    line = 0
    with open(path, "rb") as fh:
        for raw in fh:
            line += 1
            ev = decode(raw)
            sid, kind, at = ev.subject, ev.type, ev.at
            if sid not in credit:
                credit[sid] = 1000
                licence[sid] = 12
                fines[sid] = 0
            if agenda and agenda[0][0] <= at:
                due((at, 0))
            hit = SIMPLE.get(kind)
            if hit is not None:
                change(sid, hit[0], line, at, hit[1])
            elif kind == "good_deed":
                photos = videos = 0
                for e in ev.evidence:
                    k = e if type(e) is str else e.get("kind")
                    if k == "photo":
                        photos += 1
                    elif k == "video":
                        videos += 1
                if photos >= 2 or videos >= 1:
                    key = (sid, 0, at[:7])
                    if counts.get(key, 0) < 2:
                        counts[key] = counts.get(key, 0) + 1
                        change(sid, "good deed", line, at, 1)
            elif kind == "escorted_elder":
                key = (sid, 1, at[:7])
                if counts.get(key, 0) < 2:
                    counts[key] = counts.get(key, 0) + 1
                    change(sid, "elder care", line, at, 3)
            elif kind == "volunteered":
                key = (sid, 2, at[:7])
                used = counts.get(key, 0)
                if used < 6:
                    counts[key] = used + abs(change(sid, "volunteering", line, at, min(2, 6 - used)))
            elif kind == "speeding":
                applied = change(sid, "speeding", line, at, -10)
                if applied:
                    seq += 1
                    heapq.heappush(agenda, ((fromiso(at) + D90).isoformat(), 0, seq, sid, "speeding", line, applied))
                old = licence[sid]
                licence[sid] = max(0, old - 2)
            elif kind == "donated_blood":
                applied = change(sid, "blood donation", line, at, 5)
                if applied:
                    seq += 1
                    heapq.heappush(agenda, ((fromiso(at) + D180).isoformat(), 0, seq, sid, "blood donation", line, applied))
            elif kind == "litter_reported":
                seq += 1
                heapq.heappush(agenda, ((fromiso(at) + D3).isoformat(), 2, seq, sid, "litter reported", line, (at, line)))
            elif kind == "litter_cleared":
                remedy[sid] = (at, line)
            elif kind == "donated":
                change(sid, "charity", line, at, min(ev.amount // 100, 10))
            elif kind == "failed_to_yield_to_pedestrian":
                change(sid, "failed to yield", line, at, -5)
                licence[sid] = max(0, licence[sid] - 3)
                fines[sid] += 50
            elif kind == "unpaid_fine":
                fines[sid] += 100
            if len(out) >= 65536:
                sink.writelines(out)
                out.clear()
            last = at
    if line:
        due((last, 9))
    if sink is not None:
        sink.writelines(out)
        sink.close()
    return {s: [credit[s], licence[s], TIERS[bisect_right(EDGES, credit[s])], fines[s]] for s in sorted(credit)}


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    result = fold(args[0], None if "--no-audit" in sys.argv else args[1])
    with open(args[2], "wb") as fh:
        fh.write(msgspec.json.encode(result))


if __name__ == "__main__":
    main()
