"""The sortedness scan (timeline.scan_sorted): conservative, never a crash.

A log file said to be sorted is folded as it is read; one said not to be goes through the
spool. Either way the run must equal the run of the same lines given in memory (which are
always spooled), whatever the `at` texts are: mixed offsets, `Z`, a space for the `T`,
impossible dates of a valid shape, dates without a time, unreadable text.
"""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as hs
from rbbuild import rongcheng

from creditdsl.events import InvalidLine, parse_event
from creditdsl.interpreter import run
from creditdsl.results import AuditCollector, result_json
from creditdsl.timeline import scan_sorted

TZ = ZoneInfo("Asia/Shanghai")

_AT = hs.one_of(
    hs.builds(lambda m, d, h, off: f"2023-{m:02d}-{d:02d}T{h:02d}:00:00{off}",
              hs.sampled_from([1, 2, 13]), hs.sampled_from([1, 29, 31]), hs.sampled_from([0, 23, 24]),
              hs.sampled_from(["+08:00", "+09:00", "Z"])),  # impossible values of a valid shape, often
    hs.builds(lambda d, h: f"2023-01-{d:02d} {h:02d}:00:00+08:00", hs.integers(1, 3), hs.integers(0, 23)),
    hs.builds(lambda d: f"2023-01-{d:02d}", hs.integers(1, 3)),
    hs.sampled_from(["", "yesterday", "2023-02-30T10:00:00+08:00"]),
)


# half the logs sorted as text: the scan's text comparison gets far enough to matter
_ATS = hs.lists(_AT, min_size=1, max_size=8).flatmap(lambda x: hs.sampled_from([x, sorted(x)]))


def _log(tmp_path_factory, ats: list[str]) -> tuple[Path, list[str]]:
    """An events file of one littering event per `at`, and its lines."""
    lines = [json.dumps({"id": f"e{i}", "subject": "p", "type": "littering", "at": at}) for i, at in enumerate(ats)]
    log = tmp_path_factory.mktemp("scan") / "events.jsonl"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return log, lines


@settings(max_examples=150, deadline=None)
@given(_ATS)
def test_sorted_means_the_valid_events_are_in_order(tmp_path_factory, ats):
    log, lines = _log(tmp_path_factory, ats)
    keys = [e.key for e in (parse_event(x.encode(), 1, TZ) for x in lines) if not isinstance(e, InvalidLine)]
    if scan_sorted(log, TZ):
        assert keys == sorted(keys)


@settings(max_examples=150, deadline=None)
@given(_ATS)
def test_a_file_and_the_same_lines_in_memory_give_the_same_run(tmp_path_factory, ats):
    log, lines = _log(tmp_path_factory, ats)
    audits = [AuditCollector(), AuditCollector()]
    got = [run(rongcheng(), source, audit=a) for source, a in zip((str(log), list(lines)), audits)]
    assert result_json(got[0]) == result_json(got[1])
    assert audits[0].lines(["credit", "licence"]) == audits[1].lines(["credit", "licence"])
    assert [(b.line, b.code) for b in got[0].invalid] == [(b.line, b.code) for b in got[1].invalid]
