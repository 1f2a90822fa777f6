"""Files a command writes, all or nothing.

``atomic_output(path)`` yields a text file in the target's folder; only when
the block completes is it renamed over ``path`` (``os.replace``, atomic on
POSIX). An exception — including ``KeyboardInterrupt`` (Ctrl-C) — removes the
temporary file, so an interrupted run leaves no partial audit, report, rejects
or state file behind, and an earlier file of the same name is untouched.

>>> import tempfile, os
>>> d = tempfile.mkdtemp()
>>> with atomic_output(os.path.join(d, "a.txt")) as f:
...     _ = f.write("done\\n")
>>> open(os.path.join(d, "a.txt")).read()
'done\\n'
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from typing import IO, Iterator


@contextmanager
def atomic_output(path: str, *, binary: bool = False) -> Iterator[IO]:
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".part", dir=folder)
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # as open() would create it, not mkstemp's 0600
        if binary:
            handle: IO = os.fdopen(fd, "wb")
        else:
            handle = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        with handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
