"""Run several commands at once and wait for all of them: the exit status is the first non-zero one.

    python bench/together.py CMD1 ARGS... --and CMD2 ARGS... [--and ...]

bench/run.py measures it (bench/measure.py) to time N folds of the parts of a log split
by subject, side by side: what N processes on this machine can do with no merge at all.
"""

import subprocess
import sys

cmds: list[list[str]] = [[]]
for arg in sys.argv[1:]:
    if arg == "--and":
        cmds.append([])
    else:
        cmds[-1].append(arg)
procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL) for c in cmds]
codes = [p.wait() for p in procs]
sys.exit(next((c for c in codes if c), 0))
