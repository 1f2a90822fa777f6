"""The benchmark of issue 9: `creditdsl run` against a hand-written fold (bench/baseline.py).

    python bench/run.py [--events N] [--subjects N] [--repeat R] [--workers W]

Every measured command runs in its own child process (bench/measure.py), one
after the other, interleaved (baseline, creditdsl, creditdsl --workers W, ...),
R times; figures are medians and ratios are of medians from this same run, so
other load on the machine affects both sides alike. Both sides write their
audit to a file. Also measured: the baseline without its audit, the floor
(bench/floor.py: creditdsl's per-line obligations alone, no rules), peak RSS
(largest process), CPU time (user and system, all processes of a command: what
`--workers` spends beyond the split runs), and the compile+check time of a generated 1,000-rule
rulebook (in process, median of 5), and the *split* runs: the log cut by subject
into W parts (the partition `--workers W` uses) and W processes of the baseline, then
of `creditdsl run`, started together on the parts (bench/together.py) -- what W
processes of each fold do on this machine with nothing to merge, the ceiling of
`--workers W`. Figures go to stdout and to
bench/out/bench.json. BENCH_EVENTS in the environment overrides --events
(and scales subjects to a tenth of it) for quick checks.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PY = sys.executable
CREDITDSL = str(Path(PY).with_name("creditdsl"))


def measure(cmd: list[str], stdout: str = "-") -> dict:
    res = subprocess.run([PY, str(HERE / "measure.py"), stdout, "--", *cmd], capture_output=True, text=True, check=True)
    fig = json.loads(res.stdout)
    if fig["rc"] != 0:
        raise SystemExit(f"failed ({fig['rc']}): {' '.join(cmd)}")
    return fig


def same_scores(result_path: Path, baseline_path: Path) -> tuple[int, list]:
    doc = json.loads(result_path.read_text(), parse_float=Decimal)
    base = json.loads(baseline_path.read_text())
    mine = {s["subject"]: [s["ledgers"]["credit"], s["ledgers"]["licence"], s["tier"], s["fines"]] for s in doc["subjects"]}
    bad = [k for k in sorted(set(mine) | set(base)) if mine.get(k) != base.get(k)]
    return len(mine), bad[:5]


def split_log(events: Path, workers: int, out: Path = OUT) -> list[Path]:
    """The log's lines cut into ``workers`` files in ``out`` by the subject's worker (as
    `--workers` cuts it); kept while newer than the log."""
    from creditdsl.parallel import partition

    parts = [out / f"{events.stem}-part{i}of{workers}.jsonl" for i in range(workers)]
    if all(p.exists() and p.stat().st_mtime >= events.stat().st_mtime for p in parts):
        return parts
    import msgspec

    class Subject(msgspec.Struct):
        subject: str

    decode = msgspec.json.Decoder(Subject).decode
    owner: dict[str, int] = {}
    files = [open(p, "wb") for p in parts]
    with open(events, "rb") as fh:
        for raw in fh:
            s = decode(raw).subject
            i = owner.get(s)
            if i is None:
                i = owner[s] = partition(s, workers)
            files[i].write(raw)
    for f in files:
        f.close()
    return parts


def together(cmds: list[list[str]]) -> list[str]:
    out = [PY, str(HERE / "together.py")]
    for k, c in enumerate(cmds):
        out += (["--and"] if k else []) + c
    return out


def compile_time(rules: int) -> float:
    sys.path.insert(0, str(HERE))
    from gen import rulebook

    from creditdsl import pipeline
    from creditdsl.plan import compile_plan

    path = OUT / f"rules{rules}.rulebook"
    path.write_text(rulebook(rules), encoding="utf-8")
    pipeline.load(str(path))  # warm-up (imports, grammar)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        rb, diags, _ = pipeline.load(str(path))
        compile_plan(rb)
        times.append(time.perf_counter() - t0)
        assert not any(d.is_error for d in diags)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--subjects", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    if os.environ.get("BENCH_EVENTS"):
        a.events = int(os.environ["BENCH_EVENTS"])
    subjects = a.subjects or max(1, a.events // 10)
    OUT.mkdir(exist_ok=True)
    events = OUT / f"events-{a.events}-{subjects}.jsonl"
    rulebook = str(HERE / "bench.rulebook")
    if not events.exists():
        t0 = time.perf_counter()
        subprocess.run([PY, str(HERE / "gen.py"), "events", str(events), "--events", str(a.events),
                        "--subjects", str(subjects)], check=True)
        print(f"generated {events.name} in {time.perf_counter() - t0:.1f} s", flush=True)
    lines = sum(1 for _ in open(events, "rb"))

    parts = split_log(events, a.workers)
    base_split = together([[PY, str(HERE / "baseline.py"), str(p), str(OUT / f"baseline-audit-part{i}.tsv"),
                            str(OUT / f"baseline-result-part{i}.json")] for i, p in enumerate(parts)])
    mine_split = together([[CREDITDSL, "run", rulebook, str(p), "--audit", str(OUT / f"audit-part{i}.jsonl"),
                            "--format", "json"] for i, p in enumerate(parts)])
    workers_cmd = [CREDITDSL, "run"]
    runs: dict[str, list[dict]] = {"baseline": [], "baseline_no_audit": [], "floor": [], "creditdsl": [],
                                   "creditdsl_workers": [], "baseline_split": [], "creditdsl_split": [],
                                   "creditdsl_no_audit": [], "creditdsl_workers_no_audit": []}
    base_res, mine_res, par_res = OUT / "baseline-result.json", OUT / "result.json", OUT / "result-workers.json"
    # without an audit: the same result documents, nothing for the workers to key or merge
    bare_res, bare_par_res = OUT / "result-no-audit.json", OUT / "result-workers-no-audit.json"
    for i in range(a.repeat):
        runs["baseline"].append(measure([PY, str(HERE / "baseline.py"), str(events), str(OUT / "baseline-audit.tsv"), str(base_res)]))
        runs["creditdsl"].append(measure([CREDITDSL, "run", rulebook, str(events), "--audit", str(OUT / "audit.jsonl"),
                                          "--format", "json"], str(mine_res)))
        runs["creditdsl_workers"].append(measure([*workers_cmd, rulebook, str(events), "--audit", str(OUT / "audit-workers.jsonl"),
                                                  "--format", "json", "--workers", str(a.workers)], str(par_res)))
        runs["floor"].append(measure([PY, str(HERE / "floor.py"), str(events), str(OUT / "floor-audit.jsonl")]))
        runs["baseline_no_audit"].append(measure([PY, str(HERE / "baseline.py"), str(events), "-", str(base_res), "--no-audit"]))
        runs["baseline_split"].append(measure(base_split))
        runs["creditdsl_split"].append(measure(mine_split))
        runs["creditdsl_no_audit"].append(measure([CREDITDSL, "run", rulebook, str(events), "--format", "json"],
                                                  str(bare_res)))
        runs["creditdsl_workers_no_audit"].append(measure([*workers_cmd, rulebook, str(events), "--format", "json",
                                                          "--workers", str(a.workers)], str(bare_par_res)))
        print(f"round {i + 1}/{a.repeat}: " + ", ".join(f"{k} {v[-1]['seconds']:.2f} s" for k, v in runs.items()), flush=True)

    n_subjects, mismatches = same_scores(mine_res, base_res)
    identical = mine_res.read_bytes() == par_res.read_bytes() == bare_res.read_bytes() == bare_par_res.read_bytes() \
        and (OUT / "audit.jsonl").read_bytes() == (OUT / "audit-workers.jsonl").read_bytes()
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
    cpu = {k: statistics.median(r["cpu_seconds"] for r in v) for k, v in runs.items()}
    rss = {k: max(r["rss_mb"] for r in v) for k, v in runs.items()}
    compile_s = compile_time(1000)
    fig = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "events": lines, "subjects": n_subjects, "repeat": a.repeat, "workers": a.workers,
        "seconds_median": med,
        "cpu_seconds_median": cpu,
        "events_per_second": {k: lines / v for k, v in med.items()},
        "ratio_creditdsl_vs_baseline": med["baseline"] / med["creditdsl"],
        "ratio_creditdsl_workers_vs_baseline": med["baseline"] / med["creditdsl_workers"],
        "workers_speedup": med["creditdsl"] / med["creditdsl_workers"],
        "workers_speedup_no_audit": med["creditdsl_no_audit"] / med["creditdsl_workers_no_audit"],
        "split_speedup_baseline": med["baseline"] / med["baseline_split"],
        "split_speedup_creditdsl": med["creditdsl"] / med["creditdsl_split"],
        "ratio_floor_vs_baseline": med["baseline"] / med["floor"],
        "ratio_creditdsl_vs_floor": med["floor"] / med["creditdsl"],
        "peak_rss_mb": rss,
        "same_scores_and_tiers": not mismatches, "mismatches": mismatches,
        "workers_byte_identical": identical,
        "compile_check_1000_rules_seconds": compile_s,
        "audit_lines": {"creditdsl": sum(1 for _ in open(OUT / "audit.jsonl", "rb"))},
    }
    (OUT / "bench.json").write_text(json.dumps(fig, indent=2) + "\n")
    print(f"\n{lines:,} events, {n_subjects:,} subjects, median of {a.repeat} "
          f"({os.cpu_count()} cpus, Python {platform.python_version()})")
    for k in runs:
        print(f"  {k:<26} {med[k]:7.2f} s  {lines / med[k]:>10,.0f} events/s  peak RSS {rss[k]:6.0f} MB"
              f"  CPU {cpu[k]:6.2f} s")
    print(f"  creditdsl / baseline (events/s):            {fig['ratio_creditdsl_vs_baseline']:.3f}x  (target >= 0.8x)")
    print(f"  floor / baseline (bench/floor.py):          {fig['ratio_floor_vs_baseline']:.3f}x  "
          "(per-line obligations alone, no rules)")
    print(f"  creditdsl / floor:                          {fig['ratio_creditdsl_vs_floor']:.3f}x")
    print(f"  creditdsl --workers {a.workers} / baseline:            {fig['ratio_creditdsl_workers_vs_baseline']:.3f}x")
    print(f"  --workers {a.workers} speed-up over 1 worker:         {fig['workers_speedup']:.2f}x  (target >= 1.6x)")
    print("  the same, neither writing an audit:".ljust(46) + f"{fig['workers_speedup_no_audit']:.2f}x  "
          "(nothing to key or merge)")
    print(f"  split by subject, {a.workers} processes at once, no merge (the ceiling of --workers {a.workers}):")
    print(f"    baseline speed-up:                        {fig['split_speedup_baseline']:.2f}x")
    print(f"    creditdsl speed-up:                       {fig['split_speedup_creditdsl']:.2f}x")
    print(f"  CPU of all processes, --workers {a.workers} / split:     {cpu['creditdsl_workers'] / cpu['creditdsl_split']:.2f}x  "
          f"({cpu['creditdsl_workers']:.1f} s / {cpu['creditdsl_split']:.1f} s; one worker {cpu['creditdsl']:.1f} s)")
    print(f"  peak RSS creditdsl (audit to file):         {rss['creditdsl']:.0f} MB  (target < 200 MB)")
    print(f"  compile+check, 1,000-rule rulebook:         {compile_s * 1000:.0f} ms  (target < 500 ms)")
    print(f"  same scores and tiers as the baseline:      {'yes' if not mismatches else 'NO ' + str(mismatches)}")
    print(f"  --workers {a.workers} byte-identical (result, audit): {'yes' if identical else 'NO'}  "
          "(results with and without an audit too)")
    print(f"  figures: {OUT / 'bench.json'}")
    if mismatches or not identical:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
