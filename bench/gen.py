"""Seeded generators for the benchmark: an event log and a large rulebook.

    python bench/gen.py events OUT [--events N] [--subjects N] [--seed S]
    python bench/gen.py rulebook OUT [--rules N]

The log covers one year (2023, local time in Asia/Shanghai, written with its
+08:00 offset), sorted by time, about 20 event types (three of them match no
rule; `litter_cleared` is the grace rule's remedy and follows some
`litter_reported` within 0-5 days). Same arguments, same bytes.
"""

from __future__ import annotations

import argparse
import random
from datetime import datetime, timedelta, timezone

TZ = timezone(timedelta(hours=8))
START = datetime(2023, 1, 1, tzinfo=TZ)
YEAR = 365 * 86400

# (type, weight): weights are relative frequencies
TYPES = [
    ("littering", 12), ("failed_to_yield_to_pedestrian", 3), ("good_deed", 10), ("escorted_elder", 5),
    ("volunteered", 8), ("speeding", 4), ("donated_blood", 2), ("litter_reported", 6), ("jaywalking", 8),
    ("donated", 5), ("noise_complaint", 6), ("spitting", 5), ("unpaid_fine", 2), ("tax_evasion", 1),
    ("honour_award", 1), ("late_utility_bill", 6), ("fare_evasion", 5), ("address_change", 3), ("login", 8),
]
EVIDENCE = ['', ', "evidence": ["photo"]', ', "evidence": ["photo", "photo"]', ', "evidence": ["video"]',
            ', "evidence": [{"kind": "video", "by": "camera 7"}]']
PLACES = ["Xingfu Street", "Renmin Road", "Harbour Lane", "Station Square", "Old Town"]


def events(n: int, subjects: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    names = [t for t, _ in TYPES]
    weights = [w for _, w in TYPES]
    kinds = rng.choices(names, weights, k=n)
    rows: list[tuple[int, int, str]] = []
    for kind in kinds:
        if len(rows) >= n:
            break
        t = rng.randrange(YEAR)
        who = rng.randrange(subjects)
        rows.append((t, who, kind))
        if kind == "litter_reported" and rng.random() < 0.5 and len(rows) < n:
            rows.append((min(YEAR - 1, t + rng.randrange(5 * 86400)), who, "litter_cleared"))
    rows.sort(key=lambda r: r[0])  # stable: ties keep generation order
    out = []
    stamps: dict[int, str] = {}
    for i, (t, who, kind) in enumerate(rows, 1):
        at = stamps.get(t)
        if at is None:
            at = stamps[t] = (START + timedelta(seconds=t)).isoformat()
        extra = ""
        if kind == "good_deed":
            extra = EVIDENCE[i % 5]
        elif kind == "donated":
            extra = f', "amount": {50 + (i * 7919) % 1950}'
        elif kind == "littering" or kind == "spitting":
            extra = f', "place": "{PLACES[i % 5]}"'
        out.append(f'{{"id": "e{i}", "subject": "p{who:06d}", "type": "{kind}", "at": "{at}"{extra}}}\n')
    return out


def write_events(path: str, n: int, subjects: int, seed: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(events(n, subjects, seed))


def rulebook(rules: int) -> str:
    """A rulebook with `rules` rules over 50 event types and 4 ledgers (about 6 lines a rule)."""
    lines = [
        "rulebook: Generated", "timezone: Asia/Shanghai", "currency: yuan", "", "ledgers:",
        "  credit: 1000", "  licence:", "    start: 12", "    floor: 0", "  points:", "    start: 0",
        "    expire: 3 years", "  bonus: 0", "", "tiers:", "  A+: credit > 1000", "  A: credit >= 1000",
        "  B: credit >= 960", "  C: credit >= 850", "  D: otherwise", "", "sanctions:", "  B: [mortgage refused]",
        "  D: [mortgage refused, no public-sector job]", "", "rules:",
    ]
    for i in range(rules):
        lines += [f"  rule {i}:", f"    on: type_{i % 50}"]
        k = i % 5
        if k == 0:
            lines += [f"    where: event.amount > {i % 7}", f"    credit: -{1 + i % 9}"]
        elif k == 1:
            lines += [f"    credit: +{1 + i % 4}", "    limit: 2 per month", "    requires: 2 photo or 1 video"]
        elif k == 2:
            lines += ["    licence: -2", f"    points: +{1 + i % 3}", "    fine: 50 yuan"]
        elif k == 3:
            lines += ["    credit: +min(floor(event.amount / 100), 10)", "    cap: 20 per year"]
        else:
            lines += ["    credit: -1", "    grace: 3 days unless cleared", f"    note: generated rule {i}"]
        lines.append(f"    source: generated ({i})")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["events", "rulebook"])
    ap.add_argument("out")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--subjects", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=20230101)
    ap.add_argument("--rules", type=int, default=1000)
    a = ap.parse_args()
    if a.what == "events":
        write_events(a.out, a.events, a.subjects, a.seed)
    else:
        with open(a.out, "w", encoding="utf-8") as fh:
            fh.write(rulebook(a.rules))


if __name__ == "__main__":
    main()
