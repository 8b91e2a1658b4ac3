"""Several watchers, one inbox, one PostgreSQL store (tests/shared_store_harness.py): three watcher
processes with their own host names and work folders, 500 case files arriving while watchers are
killed with SIGKILL at random and restarted (60 kills); once as it is, once with the PostgreSQL
server restarted in the middle. Every file exactly once, every document recorded once, verify
intact, nothing left claimed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared_store_harness import run

# Real processes, many files: long, and waited on with the real clock.
pytestmark = [pytest.mark.slow, pytest.mark.real_clock]


def test_three_watchers_killed_at_random_share_one_store(tmp_path: Path,
                                                         postgres_cluster: Any) -> None:
    postgres_cluster.create_database("shared_kills")
    try:
        report = run(500, 60, tmp_path, postgres_cluster, "shared_kills", seed=17)
    finally:
        postgres_cluster.drop_database("shared_kills")
    assert report.problems == []
    assert report.kills >= 50
    assert (report.submissions, report.documents) == (500, 500)
    assert len(report.host_names) == 3  # three machines, as far as the database can tell


def test_the_same_with_the_database_server_restarted_in_the_middle(
        tmp_path: Path, postgres_cluster: Any) -> None:
    postgres_cluster.create_database("shared_restart")
    try:
        report = run(500, 60, tmp_path, postgres_cluster, "shared_restart", seed=23,
                     restart_server=True)
    finally:
        postgres_cluster.drop_database("shared_restart")
    assert report.server_restarts == 1
    assert report.problems == []
    assert (report.submissions, report.documents) == (500, 500)
