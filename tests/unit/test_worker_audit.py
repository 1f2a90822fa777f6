"""worker_audit.py: the records a worker writes come back whole and in order while the file
grows, and the parent's batch numbering gives the one-worker lines (any `%`, any text)."""

from __future__ import annotations

import io
import threading
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from creditdsl.results import quote
from creditdsl.worker_audit import GroupWriter, Numbered, follow

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


def _line(seq: int | str, reason: str) -> str:
    return '{"seq": ' + str(seq) + ', "line": 1, "reason": ' + quote(reason) + "}"


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), texts, st.booleans()), min_size=1, max_size=30), st.data())
def test_records_written_in_pieces_come_back_whole_and_numbered(tmp_path_factory, items, data):
    """A GroupWriter's file, copied to the file `follow` reads in pieces of any size (cutting
    records and UTF-8 characters anywhere), gives the lines back, numbered from 1. Lines come
    with a number (the general path's) or with the hole ``%d`` (a worker's generated folds,
    Plan.fast_keyed), and their text may hold a `%` of its own."""
    tmp = tmp_path_factory.mktemp("audit")
    runner = SimpleNamespace(pos="")
    whole = io.StringIO()
    writer = GroupWriter(runner, whole, ())
    expected = []
    for n, (group, reason, hole) in enumerate(items):
        runner.pos = f"2020-01-0{group + 1}T00:00:00.0000001{n // 2:012d}"  # two lines to a work item
        writer.raw(_line("%d" if hole else 99, reason))
        expected.append(_line(len(expected) + 1, reason) + "\n")
    writer.close()
    raw = whole.getvalue().encode("utf-8")
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=8)))
    path = tmp / "audit"
    path.write_bytes(b"")

    def write() -> None:
        with open(path, "ab", buffering=0) as fh:
            at = 0
            for cut in [*cuts, len(raw)]:
                fh.write(raw[at:cut])
                at = cut

    writer_thread = threading.Thread(target=write)
    writer_thread.start()
    out = io.StringIO()
    numbered = Numbered(out)
    numbered.batch.extend(follow(str(path)))
    numbered.flush()
    writer_thread.join()
    assert out.getvalue() == "".join(expected)


def test_follow_stops_when_the_writer_failed(tmp_path):
    """A file that will never end (its worker failed): follow gives its whole records and
    stops once told, instead of waiting for the end record."""
    path = tmp_path / "audit"
    path.write_bytes('\x1e0\x1f\n{"seq": %d}\n\x1e1\x1f\n{"seq": %d, "reason": "é'.encode())
    failed = threading.Event()
    failed.set()
    assert list(follow(str(path), failed)) == [b'0\x1f\n{"seq": %d}\n']
