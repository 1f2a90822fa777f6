"""Run a command as a child; print its wall time and peak RSS as JSON (one line).

    python bench/measure.py OUT_FILE_OR_- -- CMD ARGS...

Peak RSS is ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` after the child (and any
processes it waited for) ended: the largest resident set of any one of them.
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
rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": rc, "seconds": wall, "rss_mb": rss_kb / 1024}))
