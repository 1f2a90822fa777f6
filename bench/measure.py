"""Run a command as a child; print its wall time, CPU time and peak RSS as JSON (one line).

    python bench/measure.py OUT_FILE_OR_- -- CMD ARGS...

From ``getrusage(RUSAGE_CHILDREN)`` after the child (and any processes it waited for,
such as `--workers` processes) ended: peak RSS is ``ru_maxrss``, the largest resident set
of any one of them; CPU time is user plus system time, all of them together.
"""

import json
import resource
import subprocess
import sys
import time

out = sys.argv[1]
cmd = sys.argv[sys.argv.index("--") + 1:]
t0 = time.perf_counter()
with open(out, "wb") if out != "-" else open("/dev/null", "wb") as fh:
    rc = subprocess.call(cmd, stdout=fh)
wall = time.perf_counter() - t0
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "seconds": wall, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "rss_mb": usage.ru_maxrss / 1024}))
