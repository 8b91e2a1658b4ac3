"""A short run of the crash harness in the normal suite: files dropped while the watcher is killed
with SIGKILL at random moments and restarted; nothing lost, truncated or duplicated (issue 7 §2).
The long run (500 files, 100 kills) is `python tests/crash_harness.py`."""

from __future__ import annotations

from pathlib import Path

import pytest

from crash_harness import run

# Real processes that sleep and wait on the real clock: left out of the faked-date runs
# (TESTING.md, "Faked dates").
pytestmark = pytest.mark.real_clock


def test_random_kills_lose_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    report = run(files=60, kills=12, root=tmp_path, seed=11, timeout=240)
    assert report.kills == 12
    assert report.problems == []
    assert (report.submissions, report.documents) == (60, 60)
