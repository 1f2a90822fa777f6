"""The cyclic garbage collector during a run's phases (issue 9): a run makes many long-lived
objects and no cycles, and the collector's passes over them cost more than they find.

Public API::

    folding_gc()     a fold: no full pass (the young generations as usual)
    paused_gc()      the results phase: no pass at all
"""

from __future__ import annotations

import gc
import os
import threading
from contextlib import contextmanager
from typing import Iterator


class _Folds:
    """The folds running in this process (threads may run several at once): the first to
    start holds the collector's full passes off, the last to end puts its thresholds back."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.thresholds = gc.get_threshold()


def _fresh_folds() -> None:
    """A forked process's own (a thread of the parent may have held the lock at the fork)."""
    global _folds
    _folds = _Folds()


_folds = _Folds()
os.register_at_fork(after_in_child=_fresh_folds)


@contextmanager
def folding_gc() -> Iterator[None]:
    """The cyclic garbage collector without its full passes, for a fold. A fold's subject
    states are long-lived and hold no cycles, and each full pass visits every object of a
    heap that grows with them (on the bench's 1,000,000 events: six passes, about 1.2 s of
    the 22 s run's CPU, the cache misses included). The young generations are collected as
    usual, so a cycle made and dropped during the fold is freed as before; one that
    reached the oldest generation waits for the first full pass after the fold. Folds that
    overlap in threads share it: the thresholds come back when the last one ends."""
    folds = _folds
    with folds.lock:
        if not folds.running:
            folds.thresholds = young0, young1, _old = gc.get_threshold()
            gc.set_threshold(young0, young1, 1 << 30)
        folds.running += 1
    try:
        yield
    finally:
        with folds.lock:
            folds.running -= 1
            if not folds.running:
                gc.set_threshold(*folds.thresholds)


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector paused, for a phase that builds many objects and no
    cycles (a run's results: records, tuples, their pickles): its passes over the heap,
    which grows with every result, cost more than the phase (about a second of the
    `--workers 2` tail for 100,000 subjects). Reference counting frees as usual."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
