"""The benchmark's own pieces (bench/): the split runs' cut of the log and their launcher."""

import json
import subprocess
import sys
from pathlib import Path

from creditdsl.parallel import partition

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from gen import events  # noqa: E402
from run import split_log, together  # noqa: E402


def test_split_log_cuts_by_the_workers_partition(tmp_path):
    log = tmp_path / "events.jsonl"
    lines = list(events(300, 40, 3))
    log.write_text("".join(lines))
    parts = split_log(log, 3, tmp_path)
    got = [p.read_text().splitlines(keepends=True) for p in parts]
    assert sorted(sum(got, [])) == sorted(lines)  # every line once
    for i, part in enumerate(got):
        assert part == [x for x in lines if partition(json.loads(x)["subject"], 3) == i]
    assert all(part for part in got)
    stamps = [p.stat().st_mtime_ns for p in parts]
    assert split_log(log, 3, tmp_path) == parts  # kept while newer than the log
    assert [p.stat().st_mtime_ns for p in parts] == stamps


def test_together_runs_all_and_reports_a_failure(tmp_path):
    touch = [sys.executable, "-c", "import sys; open(sys.argv[1], 'w').close()"]
    ok = subprocess.run(together([touch + [str(tmp_path / "a")], touch + [str(tmp_path / "b")]]))
    assert ok.returncode == 0 and (tmp_path / "a").exists() and (tmp_path / "b").exists()
    bad = subprocess.run(together([touch + [str(tmp_path / "c")], [sys.executable, "-c", "raise SystemExit(3)"]]))
    assert bad.returncode == 3 and (tmp_path / "c").exists()


def test_measure_counts_the_cpu_of_every_process_it_waited_for():
    """bench/measure.py reports the CPU time of the child and of the processes the child
    waited for (a `--workers` run's workers): here a child that starts a grandchild, each
    spinning until its own CPU time reaches 0.2 s, so at least 0.4 s in all."""
    spin = "import time\nwhile time.process_time() < 0.2: pass\n"
    parent = (f"import subprocess, sys\np = subprocess.Popen([sys.executable, '-c', {spin!r}])\n"
              f"{spin}p.wait()\n")
    res = subprocess.run([sys.executable, str(ROOT / "bench" / "measure.py"), "-", "--", sys.executable, "-c", parent],
                         capture_output=True, text=True, check=True)
    fig = json.loads(res.stdout)
    assert fig["rc"] == 0
    assert fig["cpu_seconds"] >= 0.4
    assert fig["rss_mb"] > 0
