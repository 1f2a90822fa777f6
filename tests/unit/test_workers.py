"""`--workers N` gives the bytes of one worker; a time-sorted log is folded in bounded memory.

No timed assertions: these tests check outputs and that a memory-limited process finishes.
"""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditdsl import interpreter, parallel, timeline
from creditdsl.pipeline import load_text
from creditdsl.results import AuditWriter, result_json

RULEBOOK = textwrap.dedent("""\
    rulebook: Workers
    timezone: Europe/Berlin
    currency: yuan
    ledgers:
      credit: 1000
      licence:
        start: 12
        floor: 0
        reset: yearly from subject.issued
      quota:
        start: 0
        reset: monthly
      points:
        start: 0
        expire: 40 days
    lists:
      watch:
        for: 2 months
        tier: B
    tiers:
      A+: credit > 1000
      A: credit >= 1000
      B: credit >= 990
      C: otherwise
    sanctions:
      B: [mortgage refused]
    rules:
      speeding:
        on: speeding
        licence: -4
        points: +3
      parking:
        on: parking
        quota: +1
        credit: -1 for 1 month
        limit: 2 per month
      petition:
        on: petition
        tier: C for 20 days
      warned:
        on: warned
        list: watch
      litter:
        on: litter
        credit: -2
        grace: 3 days unless cleaned
      volunteer:
        on: volunteer
        credit: +4
        cap: 6 within 30 days
        requires: 1 photo
      bonus:
        on: volunteer
        where: event.hours > 2
        credit: +1
    triggers:
      licence exhausted:
        when: licence <= 0
        list: watch
    """)
TYPES = ["speeding", "parking", "petition", "warned", "litter", "cleaned", "volunteer", "unknown"]


def _log(n: int, subjects: int, seed: int, shuffled: bool = False) -> list[str]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        day = rng.randrange(400)
        at = f"2020-{1 + day // 31 % 12:02d}-{1 + day % 28:02d}T{rng.choice(['00:00:00', '09:30:00', '23:59:59'])}"
        if day >= 372:
            at = f"2021-01-{day - 371:02d}T00:00:00"
        kind = rng.choice(TYPES)
        extra = ', "evidence": ["photo"], "hours": %d' % rng.randrange(5) if kind == "volunteer" else ""
        rows.append((at, f'{{"id": "e{i}", "subject": "s{rng.randrange(subjects)}", "type": "{kind}", "at": "{at}"{extra}}}'))
    rows.sort(key=lambda r: r[0])
    lines = [r[1] for r in rows]
    lines.insert(n // 3, lines[n // 4])  # a duplicate
    lines.insert(n // 2, '{"id": "x", "subject": "s1", "type": "speeding"}')  # invalid: no `at`
    lines.insert(n // 2 + 1, "not json")
    if shuffled:
        rng.shuffle(lines)
    return lines


def _subjects(tmp: Path, subjects: int) -> str:
    path = tmp / "subjects.jsonl"
    path.write_text("".join(
        json.dumps({"id": f"s{i}", "issued": f"201{i % 10}-0{1 + i % 9}-1{i % 10}"} if i % 3 else {"id": f"s{i}"}) + "\n"
        for i in range(subjects)))
    return str(path)


# no calendar resets and no triggers: events take the generated code's fast path in the loops
SIMPLE_RULEBOOK = "\n".join(x for x in RULEBOOK[:RULEBOOK.index("triggers:")].splitlines() if "reset:" not in x) + "\n"


def _both(tmp: Path, lines: list[str], workers: int, rulebook: str = RULEBOOK, **kw):
    rb = load_text(rulebook)
    path = tmp / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    one = io.StringIO()
    r1 = interpreter.run(rb, str(path), audit=AuditWriter(one, [x.name for x in rb.ledgers]), **kw)
    many = io.StringIO()
    r2 = parallel.run_parallel(rb, str(path), workers, audit_stream=many, **kw)
    return (result_json(r1), one.getvalue(), [str(w) for w in r1.warnings], r1.invalid), \
        (result_json(r2), many.getvalue(), [str(w) for w in r2.warnings], r2.invalid)


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize("as_of", [None, "2020-07-01", "2020-12-31T23:59:59"])
def test_workers_give_the_one_worker_bytes(tmp_path, workers, as_of):
    lines = _log(3000, 60, seed=workers)
    one, many = _both(tmp_path, lines, workers, as_of=as_of, subjects=_subjects(tmp_path, 50))
    assert one[0] == many[0]
    assert one[1] == many[1]
    assert one[1].count("\n") > 3000
    assert one[2] == many[2]
    assert [(b.line, b.code) for b in one[3]] == [(b.line, b.code) for b in many[3]]


# calendar resets but none from a subject's field: no warning can come, so no position is needed
CALENDAR_RULEBOOK = "\n".join(x for x in RULEBOOK[:RULEBOOK.index("triggers:")].splitlines() if " from " not in x) + "\n"


def _results_without_audit(tmp: Path, lines: list[str], workers: int, rulebook: str, **kw):
    rb = load_text(rulebook)
    path = tmp / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    r1 = interpreter.run(rb, str(path), **kw)
    r2 = parallel.run_parallel(rb, str(path), workers, **kw)
    return (result_json(r1), [str(w) for w in r1.warnings]), (result_json(r2), [str(w) for w in r2.warnings])


@pytest.mark.parametrize("shuffled", [False, True], ids=["self-read", "spool"])
@pytest.mark.parametrize("rulebook", [RULEBOOK, CALENDAR_RULEBOOK, SIMPLE_RULEBOOK],
                         ids=["resets-from-a-field", "calendar-resets", "fast-path"])
def test_workers_without_an_audit_give_the_one_worker_result_and_warnings(tmp_path, rulebook, shuffled):
    """Without an audit a worker keys its work only when a warning may need its position
    (parallel.keyed): the result and the warnings, in their order, stay the one worker's."""
    subjects = _subjects(tmp_path, 50)
    lines = _log(3000, 60, seed=31, shuffled=True) if shuffled else _self_read_lines(3000, seed=31)
    one, many = _results_without_audit(tmp_path, lines, 2, rulebook, as_of="2020-12-31T23:59:59", subjects=subjects)
    assert one == many
    if rulebook is RULEBOOK:
        assert len(one[1]) > 5  # W0501 from both workers, merged by position


@pytest.mark.parametrize("shuffled", [False, True], ids=["self-read", "spool"])
@pytest.mark.parametrize("rulebook", [CALENDAR_RULEBOOK, SIMPLE_RULEBOOK], ids=["calendar-resets", "fast-path"])
def test_workers_without_an_audit_make_no_positions(tmp_path, monkeypatch, rulebook, shuffled):
    """Nothing reads a position when there is no audit and no warning can come: the workers
    make none (the log's `at`s have no offset, so each event's would be an instant code)."""
    from creditdsl import agenda, selfread

    calls = []
    real = selfread.run_self_read

    def spy(*a, **k):
        result = real(*a, **k)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(selfread, "run_self_read", spy)
    lines = _log(2000, 40, seed=32, shuffled=True) if shuffled else _self_read_lines(2000, seed=32)
    rb = load_text(rulebook)
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    expected = result_json(interpreter.run(rb, str(path)))

    def no_code(*_args):
        raise AssertionError("a position was made")

    monkeypatch.setattr(agenda, "instant_code", no_code)  # the workers are forked: they have it too
    assert result_json(parallel.run_parallel(rb, str(path), 2)) == expected
    assert calls == [not shuffled]  # the path meant was taken (a log in order: self-read)
    # with an audit every work item has one (on the spool path the parent makes its passive lines' positions)
    with pytest.raises((RuntimeError, AssertionError), match="a position was made"):
        parallel.run_parallel(rb, str(path), 2, audit_stream=io.StringIO())


def test_workers_on_unsorted_input_through_the_spool(tmp_path, monkeypatch):
    monkeypatch.setattr(timeline, "CHUNK", 500)  # several spilled runs
    lines = _log(2500, 40, seed=7, shuffled=True)
    one, many = _both(tmp_path, lines, 2)
    assert one[0] == many[0] and one[1] == many[1]


def test_spilled_runs_give_the_in_memory_order(tmp_path, monkeypatch):
    rb = load_text(RULEBOOK)
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(_log(2000, 30, seed=3, shuffled=True)) + "\n")
    outs = []
    for chunk in (10**9, 300):
        monkeypatch.setattr(timeline, "CHUNK", chunk)
        buf = io.StringIO()
        r = interpreter.run(rb, str(path), audit=AuditWriter(buf, [x.name for x in rb.ledgers]))
        outs.append((result_json(r), buf.getvalue()))
    assert outs[0] == outs[1]


def test_partition_is_stable():
    assert [parallel.partition(f"p{i}", 4) for i in range(8)] == [parallel.partition(f"p{i}", 4) for i in range(8)]
    assert parallel.partition("p1", 1) == 0


STREAM_SCRIPT = textwrap.dedent("""\
    import resource, sys
    limit = int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from creditdsl import interpreter
    from creditdsl.pipeline import load_text
    from creditdsl.results import AuditWriter
    rb = load_text(open(sys.argv[1]).read())
    with open(sys.argv[4], "w") as out:
        r = interpreter.run(rb, sys.argv[2], audit=AuditWriter(out, [x.name for x in rb.ledgers]))
    print(r.summary.lines, r.summary.applied)
    """)


def test_a_sorted_log_streams_in_bounded_memory(tmp_path):
    """A log whose parsed events would not fit under the address-space limit still runs.

    The log has 400,000 events over 20 subjects; the limit is the address space of the
    interpreter's imports plus 200 MB (Linux: /proc/self/status)."""
    rb = tmp_path / "rb.rulebook"
    rb.write_text("rulebook: Stream\nledgers:\n  credit: 1000\nrules:\n  litter:\n    on: litter\n    credit: -1\n"
                  "  deed:\n    on: deed\n    credit: +1\n")
    log = tmp_path / "events.jsonl"
    n = 400_000
    with open(log, "w") as fh:
        for block in range(0, n, 10_000):
            fh.write("".join(
                f'{{"id": "e{i}", "subject": "s{i % 20}", "type": "{"litter" if i % 2 else "deed"}", '
                f'"at": "2020-01-{1 + i // 86400:02d}T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}+00:00", '
                f'"note": "{"x" * 40}"}}\n'
                for i in range(block, block + 10_000)))
    probe = subprocess.run([sys.executable, "-c", "import creditdsl.interpreter, creditdsl.pipeline;"
                            "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmPeak')][0])"],
                           capture_output=True, text=True, check=True)
    # the imports' address space plus 200 MB: holding the parsed log (~1 KB an event, ~450 MB)
    # does not fit; streaming keeps per-subject state and the duplicate map (~90 MB here)
    limit = (int(probe.stdout) + 200 * 1024) * 1024
    res = subprocess.run([sys.executable, "-c", STREAM_SCRIPT, str(rb), str(log), str(limit), str(tmp_path / "audit")],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == [str(n), str(n)]


def test_workers_keep_a_subject_named_only_by_later_lines(tmp_path):
    lines = ['{"id": "e1", "subject": "p", "type": "speeding", "at": "2020-01-02"}',
             '{"id": "e2", "subject": "late only", "type": "speeding", "at": "2020-06-02"}']
    one, many = _both(tmp_path, lines, 2, as_of="2020-02-01")
    assert one[0] == many[0] and one[1] == many[1]
    assert [s["subject"] for s in json.loads(one[0])["subjects"]] == ["late only", "p"]


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize("as_of", [None, "2020-07-01", "2020-12-31T23:59:59"])
def test_workers_reading_their_own_lines_give_the_one_worker_bytes(tmp_path, monkeypatch, workers, as_of):
    """A log sorted by time: each worker reads the file (selfread.py); passive lines in order."""
    from creditdsl import selfread

    calls = []
    real = selfread.run_self_read
    monkeypatch.setattr(selfread, "run_self_read", lambda *a, **k: calls.append(1) or real(*a, **k))
    lines = _log(3000, 60, seed=workers + 10)
    lines = [x for x in lines if x != "not json" and '"id": "x"' not in x]
    assert lines[1000] == lines[750]
    del lines[1000]  # _log's duplicate, out of time order
    for at in (0, 5, 700, 1500, 2999):  # a duplicate right after its line, invalid lines, an id conflict
        lines.insert(at + 1, lines[at])
    lines.insert(100, "not json")
    lines.insert(1000, '{"id": "x", "subject": "s1", "type": "speeding"}')
    lines.insert(1200, lines[1199].replace('"type": "', '"type": "other_'))
    lines.insert(0, "[1]")
    lines.append('{"oops": 1}')
    one, many = _both(tmp_path, lines, workers, as_of=as_of, subjects=_subjects(tmp_path, 50))
    assert calls, "the self-read path was not taken"
    assert one[0] == many[0]
    assert one[1] == many[1]
    assert one[2] == many[2]
    assert [(b.line, b.code) for b in one[3]] == [(b.line, b.code) for b in many[3]]


def _self_read_lines(n: int, seed: int) -> list[str]:
    """A time-sorted log with passive lines all through it, and ids that hold `%`."""
    lines = [x for x in _log(n, 60, seed=seed) if x != "not json" and '"id": "x"' not in x]
    del lines[n // 3]  # _log's duplicate, out of time order
    lines = [x.replace('"id": "e1', '"id": "%d%s e1').replace('"id": "e2', '"id": "ü%%e2') for x in lines]
    for at in range(7, len(lines) - 1, 97):  # duplicates and invalid lines
        lines.insert(at + 1, lines[at] if at % 2 else '{"id": "%s", "subject": "s%d", "type": "speeding"}' % (at, at % 7))
    return lines


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize("rulebook", [RULEBOOK, SIMPLE_RULEBOOK], ids=["resets", "fast-path"])
def test_workers_with_heartbeats_on_every_eighth_line_give_the_one_worker_bytes(tmp_path, monkeypatch, workers, rulebook):
    """The merge reads the workers' files as they grow; heartbeats in the passive files are
    skipped and let it go on between passive lines (the same code runs every 4,096 lines
    on a real log: here every 8)."""
    from creditdsl import selfread

    calls = []
    real = selfread.run_self_read
    monkeypatch.setattr(selfread, "run_self_read", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(selfread, "HEARTBEAT", 7)
    monkeypatch.setattr(selfread, "RESULT_CHUNK", 7)  # the results in many messages, merged as they come
    one, many = _both(tmp_path, _self_read_lines(3000, workers), workers, rulebook)
    assert calls, "the self-read path was not taken"
    assert '"%d%s e1' in one[1] and '"\\u00fc%%e2' in one[1] and '"duplicate"' in one[1] and '"invalid"' in one[1]
    assert one[0] == many[0]
    assert one[1] == many[1]


def test_a_failing_worker_stops_the_merge_and_the_run_raises(tmp_path, monkeypatch):
    """A worker that fails mid-log: the parent's merge thread stops (it does not wait for
    the worker's file to end) and run_parallel raises; no temporary file is left."""
    import tempfile

    from creditdsl import selfread

    real = selfread.fast_event

    def failing(raw, line, tz):
        if line == 1500:
            raise ValueError("boom")
        return real(raw, line, tz)

    monkeypatch.setattr(selfread, "fast_event", failing)  # the workers are forked: they see it
    monkeypatch.setattr(selfread, "HEARTBEAT", 7)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    rb = load_text(RULEBOOK)
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(_self_read_lines(3000, 1)) + "\n")
    with pytest.raises(RuntimeError, match="boom"):
        parallel.run_parallel(rb, str(path), 2, audit_stream=io.StringIO())
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("creditdsl-workers-")]


def test_an_interrupted_worker_ends_quietly_and_the_run_raises(tmp_path, monkeypatch, capfd):
    """Ctrl-C reaches every process of the group: a worker stops without a Python
    traceback on stderr (the parent reports the interruption), and tells the parent."""
    from creditdsl import selfread

    real = selfread.fast_event

    def interrupted(raw, line, tz):
        if line == 1500:
            raise KeyboardInterrupt
        return real(raw, line, tz)

    monkeypatch.setattr(selfread, "fast_event", interrupted)
    rb = load_text(RULEBOOK)
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(_self_read_lines(3000, 1)) + "\n")
    with pytest.raises(RuntimeError, match="interrupted"):
        parallel.run_parallel(rb, str(path), 2, audit_stream=io.StringIO())
    assert "Traceback" not in capfd.readouterr().err


def _apart(workers: int) -> tuple[str, str]:
    """Two subjects of the log that belong to different workers, for 2 and for 3 workers."""
    names = [f"s{i}" for i in range(60)]
    for a in names:
        for b in names:
            if all(parallel.partition(a, n) != parallel.partition(b, n) for n in (2, 3)):
                return a, b
    raise AssertionError("no two subjects apart")  # pragma: no cover


@pytest.mark.parametrize("workers", [2, 3])
def test_a_lines_owner_is_its_decoded_subjects(tmp_path, monkeypatch, workers):
    """A line's owner comes from a typed decode of its `at` and `subject` (the parent's scan
    writes it to the owners file, selfread.Owners). Lines where a
    search of the bytes would name another subject (a nested `subject` key first, a `{` in a
    string, a key ending in an escaped quote and `subject`) or find none (no space after the
    colon, a backslash, leading blanks, a subject that is not a string, an unterminated line,
    the key twice) are folded, or reported, once, by their owner."""
    from creditdsl import selfread

    calls = []
    real = selfread.run_self_read
    monkeypatch.setattr(selfread, "run_self_read", lambda *a, **k: calls.append(real(*a, **k)) or calls[-1])
    real_name, other = _apart(workers)
    at = '"at": "2020-06-15T12:00:00"'
    odd = [
        f'{{"id": "n1", "meta": {{"subject": "{other}"}}, "subject": "{real_name}", "type": "speeding", {at}}}',
        f'{{"id": "n2{{", "note": "{{\\"subject\\": \\"{other}\\"", "subject": "{real_name}", "type": "speeding", {at}}}',
        f'{{"id": "n3{{", "subject": "{real_name}", "type": "speeding", {at}}}',
        f'{{"id": "n4","subject":"{real_name}","type":"speeding",{at}}}',
        f'{{"id": "n5\\u0041", "subject": "{real_name}", "type": "speeding", {at}}}',
        f'   {{"id": "n6", "subject": "{real_name}", "type": "speeding", {at}}}',
        f'{{"id": "n7", "subject": 7, "type": "speeding", {at}}}',
        f'{{"id": "n8", "subject": "{real_name}", "type": "speeding", {at}, "subject": "{other}"}}',
        f'{{"id": "n9", "subject": "{real_name}',
        f'{{"id": "n10", "x\\"subject": "{other}", "subject": "{real_name}", "type": "speeding", {at}}}',
    ]
    lines = _self_read_lines(1500, workers)
    middle = next(i for i, x in enumerate(lines) if '"at": "' in x and '"at": "2020-06-15T12' < x[x.find('"at": "'):])
    lines[middle:middle] = odd
    one, many = _both(tmp_path, lines, workers, SIMPLE_RULEBOOK)
    assert calls and calls[0] is not None, "the self-read path was not taken (or found the log unsorted)"
    audit = [json.loads(x) for x in one[1].splitlines()]
    valid = ("n1", "n2{", "n3{", "n4", "n5A", "n6", "n10")
    folded = {d["event"]: d["subject"] for d in audit if d["event"] in valid and d["outcome"] == "applied"}
    assert folded == dict.fromkeys(valid, real_name)
    assert one[0] == many[0]
    assert one[1] == many[1]
    assert [(b.line, b.code) for b in one[3]] == [(b.line, b.code) for b in many[3]]


def test_the_owners_file_names_every_lines_worker(tmp_path):
    """The parent's sortedness scan writes one byte per line of the log, in order: the
    worker of the line's subject, or UNKNOWN when a typed decode of `at` and `subject` does
    not read the line (blank, not JSON, a subject that is not a string, no `at`); flushed
    every 65,536 lines and at the end."""
    from zoneinfo import ZoneInfo

    from creditdsl.selfread import UNKNOWN, Owners

    odd = ["", "not json", '{"id": "a", "subject": 7, "type": "t", "at": "2020-01-01T00:00:00"}',
           '{"id": "b", "subject": "s3", "type": "t"}']
    lines = [f'{{"id": "e{i}", "subject": "s{i % 97}", "type": "t", "at": "2020-01-01T00:00:00"}}'
             for i in range(70_000)]
    for k, x in enumerate(odd):
        lines.insert(65_530 + 3 * k, x)  # about the first flush
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    expected = []
    for x in lines:
        s = json.loads(x).get("subject") if x.startswith("{") and '"at"' in x else None
        expected.append(parallel.partition(s, 3) if type(s) is str else UNKNOWN)
    owners = Owners(str(tmp_path / "owners"), 3)
    assert timeline.scan_sorted(path, ZoneInfo("Asia/Shanghai"), owners)
    written = (tmp_path / "owners").read_bytes()
    assert len(written) == 65_536  # flushed after line 65,536: the rest is pending
    owners.close()
    assert (tmp_path / "owners").read_bytes() == bytes(expected)

    class Flushes:  # when the scan flushes, and how much
        def __init__(self):
            self.pending, self.sizes = [], []

        def flush(self):
            self.sizes.append(len(self.pending))
            self.pending.clear()

    seen = Flushes()
    assert timeline.scan_sorted(path, ZoneInfo("Asia/Shanghai"), seen)
    assert seen.sizes == [65_536] and len(seen.pending) == len(lines) - 65_536


def test_a_worker_waiting_for_its_owners_ends_when_the_parent_is_gone(tmp_path, monkeypatch):
    """A worker reads the owners file as the parent writes it, in pieces of a heartbeat's
    lines; if its parent is gone (not its parent process any more), it ends instead of
    waiting for ever; once the parent's scan has ended (``owners.end``), the owners end with
    the file, the last piece shorter."""
    import os
    import types

    from creditdsl import selfread
    from creditdsl.selfread import _owner_chunks

    def waited(_seconds):
        raise AssertionError("waited for a parent that is gone")

    monkeypatch.setattr(selfread, "time", types.SimpleNamespace(sleep=waited))
    path = tmp_path / "owners"
    path.write_bytes(bytes(range(7)))
    still = _owner_chunks(str(path), os.getppid(), 3)
    assert [next(still), next(still)] == [b"\x00\x01\x02", b"\x03\x04\x05"]
    gone = _owner_chunks(str(path), -1, 3)  # never a parent: after its whole pieces, it ends
    assert [next(gone), next(gone)] == [b"\x00\x01\x02", b"\x03\x04\x05"]
    with pytest.raises(SystemExit):
        next(gone)
    (tmp_path / "owners.end").write_bytes(b"")  # the scan has ended: so do the owners
    assert list(_owner_chunks(str(path), -1, 3)) == [b"\x00\x01\x02", b"\x03\x04\x05", b"\x06"]
    assert list(_owner_chunks(str(path), -1, 7)) == [bytes(range(7))]


def test_a_worker_failing_while_it_sends_its_results_fails_the_run(tmp_path, monkeypatch):
    """The results come in chunks (selfread._streamed); a worker that fails after sending some
    makes the run raise, and leaves no temporary file."""
    import tempfile

    from creditdsl import selfread
    from creditdsl.runner import Runner

    real = Runner.rows

    def failing(self, as_of, release=False):
        for n, row in enumerate(real(self, as_of, release)):
            if n == 20:
                raise ValueError("boom in the results")
            yield row

    monkeypatch.setattr(Runner, "rows", failing)  # the workers are forked: they see it
    monkeypatch.setattr(selfread, "RESULT_CHUNK", 7)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(_self_read_lines(3000, 1)) + "\n")
    with pytest.raises(RuntimeError, match="boom in the results"):
        parallel.run_parallel(load_text(RULEBOOK), str(path), 2, audit_stream=io.StringIO())
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("creditdsl-workers-")]


@pytest.mark.parametrize("shuffled", [False, True])  # (False: the self-read path)
def test_workers_fold_without_the_collectors_full_passes(tmp_path, monkeypatch, shuffled):
    """A worker's fold (selfread's on a sorted log, parallel's on an unsorted one) runs inside
    collector.folding_gc: a worker that makes a subject's state with the full passes still due
    fails, and the run with it."""
    import gc
    import os

    from creditdsl.runner import Runner

    parent, real = os.getpid(), Runner.state

    def state(self, subject):
        if os.getpid() != parent and gc.get_threshold()[2] < 1 << 30:
            raise ValueError("a worker folds with the full passes due")
        return real(self, subject)

    monkeypatch.setattr(Runner, "state", state)  # the workers are forked: they see it
    one, many = _both(tmp_path, _log(600, 40, seed=5, shuffled=True) if shuffled else _self_read_lines(600, 5), 2)
    assert one[1] == many[1] and one[0] == many[0]


def test_a_worker_whose_subjects_come_later_starts_the_reset_chain_at_the_logs_first_event(tmp_path):
    """Every worker starts the calendar-reset chain at the first event of the whole log, not
    at its own first: the chain's positions then agree, and the reset lines of one instant
    interleave by subject id across workers (p2 and p4 are worker 0's, p3 worker 1's)."""
    assert [parallel.partition(s, 2) for s in ("p2", "p3", "p4")] == [0, 1, 0]
    ev = '{{"id": "{0}", "subject": "{1}", "type": "parking", "at": "2020-{2}T10:00:00+01:00"}}'
    lines = [ev.format("e1", "p2", "01-05"),  # the log's first event: worker 0's
             ev.format("e2", "p3", "02-10"),  # worker 1's first, after the February reset
             ev.format("e3", "p2", "02-11"), ev.format("e4", "p4", "02-11"),
             ev.format("e5", "p4", "03-05")]
    one, many = _both(tmp_path, lines, 2)
    resets = [json.loads(x)["subject"] for x in one[1].splitlines() if '"reset"' in x]
    assert resets == ["p2", "p2", "p3", "p4"]
    assert one[1] == many[1] and one[0] == many[0]


def test_the_merge_removes_the_files_it_has_merged(tmp_path):
    """The merge thread removes the workers' files once merged (while the workers build
    their results), so the run's end does not wait for their blocks to be freed."""
    import threading

    from creditdsl.worker_merge import MergeThread
    from creditdsl.worker_audit import _END

    paths = []
    for i in range(2):
        group, passive = tmp_path / f"audit-{i}", tmp_path / f"passive-{i}"
        key = f"2020-01-0{i + 1}T00:00:00.0000001{i + 1:012d}".encode()
        group.write_bytes(b"\x1e" + key + b'\x1f\n{"seq": %d, "i": ' + str(i).encode() + b"}\n" + _END)
        passive.write_bytes(b"\x1e000000000009\x1c" + _END)
        paths.append((str(group), str(passive)))
    out = io.StringIO()
    merge = MergeThread(paths, out, threading.Event())
    merge.start()
    merge.join()
    merge.done()
    assert out.getvalue() == '{"seq": 1, "i": 0}\n{"seq": 2, "i": 1}\n'
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=300, deadline=None)
@given(kinds=st.lists(st.sampled_from("eeptt"), min_size=1, max_size=40), data=st.data())
def test_records_placed_a_read_at_a_time_keep_the_one_worker_order(kinds, data):
    """The merge places the records a read's worth at a time (worker_merge._place): wherever
    the reads end, the output is the one-worker order. That order: an event's decisions
    after the passive lines above its line and after the timed work that came since the
    event before (which its arrival runs); at the end, the passive lines, then the work.
    kinds: e an event line, p a passive line (invalid, duplicate), t timed work."""
    from creditdsl.worker_merge import _place, _Placing
    from creditdsl.worker_audit import Numbered

    group: list[bytes] = []  # the records as both workers' files give them, merged
    passive: list[bytes] = []
    expected: list[str] = []
    waiting_passive: list[str] = []
    waiting_work: list[str] = []
    line = 0
    for i, kind in enumerate(kinds):
        code = f"2023-01-01T00:{i // 60:02d}:{i % 60:02d}.000000"  # an instant code (26 characters)
        text = f"{kind}{i}"
        if kind == "t":
            group.append(f"{code}0{i:06d}\x1f\n{{\"seq\": %d, \"x\": \"{text}\"}}\n".encode())
            waiting_work.append(text)
            continue
        line += 1
        if kind == "p":
            passive.append(f"{line:012d}\x1f\n{{\"seq\": %d, \"x\": \"{text}\"}}\n".encode())
            waiting_passive.append(text)
        else:
            group.append(f"{code}1{line:012d}\x1f\n{{\"seq\": %d, \"x\": \"{text}\"}}\n".encode())
            expected += waiting_passive + waiting_work + [text]
            waiting_passive, waiting_work = [], []
        if data.draw(st.booleans()):  # a heartbeat: every passive line up to here is written
            passive.append(f"{line:012d}\x1c".encode())
    expected += waiting_passive + waiting_work
    cuts = sorted(data.draw(st.lists(st.integers(0, len(group)), max_size=6)))
    out = io.StringIO()
    state = _Placing(Numbered(out), iter(passive))
    for a, b in zip([0, *cuts], [*cuts, len(group)]):
        _place(state, group[a:b])
    state.finish()
    got = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [g["x"] for g in got] == expected
    assert [g["seq"] for g in got] == list(range(1, len(expected) + 1))


def test_more_workers_than_an_owner_byte_holds_are_refused(tmp_path):
    from creditdsl.selfread import UNKNOWN, run_self_read

    rb = load_text(SIMPLE_RULEBOOK)
    with pytest.raises(ValueError, match="workers"):
        run_self_read(parallel.compile_plan(rb), str(tmp_path / "none.jsonl"), UNKNOWN, None, None, None, None)


def test_a_log_that_grows_after_the_scan_is_read_as_far_as_the_scan_read_it(tmp_path, monkeypatch):
    """The workers take each line's owner from the parent's scan; lines appended to the log
    after the scan has read it are not read by any worker (they would wait for ever for
    owners the scan never wrote): the run is the run of the lines the scan read."""
    import itertools
    import time
    import types

    from creditdsl import selfread

    lines = _self_read_lines(3000, 2)
    rb = load_text(SIMPLE_RULEBOOK)
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    one = io.StringIO()
    r1 = interpreter.run(rb, str(path), audit=AuditWriter(one, [x.name for x in rb.ledgers]))
    real = selfread.scan_sorted

    def scan_then_grow(p, tz, owners):
        found = real(p, tz, owners)
        with open(p, "a") as fh:
            fh.write("\n".join(lines[-50:]).replace('"id": "', '"id": "late ') + "\n")
        return found

    waits = itertools.count()

    def sleep(seconds):  # a worker that waits 10 s for owners fails, instead of hanging the test
        if next(waits) > 10_000:
            raise AssertionError("waited for owners the scan never wrote")
        time.sleep(seconds)

    monkeypatch.setattr(selfread, "scan_sorted", scan_then_grow)
    monkeypatch.setattr(selfread, "time", types.SimpleNamespace(sleep=sleep))
    many = io.StringIO()
    r2 = parallel.run_parallel(rb, str(path), 2, audit_stream=many)
    assert result_json(r2) == result_json(r1)
    assert many.getvalue() == one.getvalue()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.datetimes(timezones=st.just(timezone.utc)), min_size=2, max_size=6),
       st.one_of(st.integers(-14 * 60, 14 * 60).map(lambda m: timedelta(minutes=m)),
                 st.integers(-50_400, 50_400).map(lambda s: timedelta(seconds=s))))
def test_instant_codes_sort_like_their_instants(instants, offset):
    """Positions compare instants as text (parallel.py): codes have one width and sort like
    the instants, the first and last hours of the calendar included."""
    from creditdsl.agenda import CODE_WIDTH, code_base, instant_code

    instants += [datetime.min.replace(tzinfo=timezone.utc), datetime.max.replace(tzinfo=timezone.utc)]
    codes = [instant_code(x, code_base(offset)) for x in instants]
    assert {len(c) for c in codes} == {CODE_WIDTH}
    assert sorted(instants) == [x for _, x in sorted(zip(codes, instants))]
    assert len(set(codes)) == len(set(instants))


def test_events_written_at_any_offset_keep_the_one_worker_order(tmp_path):
    """An event written at the code's offset (the zone's in winter, +01:00 for Berlin) is
    positioned by its own `at` text, any other by its instant's code: both kinds meet timed
    work (reverts a month later) at the same instants and keep the one-worker order."""
    at = ["2020-01-05T10:00:00+01:00", "2020-01-05T09:00:00Z", "2020-01-05T14:30:00+05:30",
          "2020-02-05T10:00:00+01:00", "2020-02-05T09:00:00+00:00", "2020-03-05T10:00:00+01:00",
          "2020-04-05T11:00:00+02:00", "2020-04-05T09:00:00Z", "2020-05-05T11:00:00+02:00",
          "2020-05-05T10:00:00+01:00", "2020-06-05T11:00:00+02:00"]
    lines = []
    for n, when in enumerate(at):  # three subjects parking at each instant: reverts a month on
        for s in ("p1", "p2", "p3"):
            lines.append(f'{{"id": "e{n}{s}", "subject": "{s}", "type": "parking", "at": "{when}"}}')
    one, many = _both(tmp_path, lines, 2, rulebook=SIMPLE_RULEBOOK)
    assert one[1].count('"reverted"') > 10
    assert one[0] == many[0] and one[1] == many[1]


def test_the_offset_text_is_how_an_at_written_at_that_offset_ends():
    """selfread positions an event by its own `at` only when the text ends with the codes'
    offset; an offset with seconds (old local mean times) never matches a 25-character `at`."""
    from creditdsl.selfread import _offset_text

    assert _offset_text(timedelta(hours=8)) == "+08:00"
    assert _offset_text(timedelta(0)) == "+00:00"
    assert _offset_text(-timedelta(hours=5, minutes=30)) == "-05:30"
    lmt = _offset_text(timedelta(hours=8, minutes=5, seconds=43))
    assert not "2020-01-01T00:00:00+08:05".endswith(lmt) and not "2020-01-01T00:00:00+08:06".endswith(lmt)
