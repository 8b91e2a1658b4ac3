"""Claims coordinated through a shared PostgreSQL store: the database, not the share's rename or
locks, decides who owns a file, and a dead worker's claims are taken over within a minute."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from recordgen.intake.claim import ClaimArea
from recordgen.pipeline.inbox import process_inbox
from recordgen.records import postgres
from recordgen.records.claims import DEAD_AFTER_SECONDS
from recordgen.records.postgres import Database, PostgresClaims, PostgresStore
from recordgen.services import open_services
from recordgen.settings import Settings

from conftest import example, make_settings


@pytest.fixture(autouse=True)
def no_restart_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test cluster may have started (or restarted) moments ago; the grace after a server
    start has a test of its own."""
    monkeypatch.setattr(postgres, "RESTART_GRACE_SECONDS", 0.0)


@pytest.fixture
def database(postgres_database: Database) -> Database:
    PostgresStore(postgres_database, create="a test").close()
    return postgres_database


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def area(inbox: Path, database: Database, name: str) -> ClaimArea:
    return ClaimArea(inbox / ".recordgen-work", worker_id=name,
                     registry=PostgresClaims(database))


def drop(inbox: Path, name: str) -> Path:
    path = inbox / name
    path.write_text(json.dumps(example("support_plan")))
    return path


def claims(database: Database) -> list[tuple[str, str]]:
    with PostgresStore(database) as store:
        return [(r["inbox_name"], r["worker"]) for r in store.db.execute(
            "SELECT inbox_name, worker FROM claims ORDER BY inbox_name").fetchall()]


def die(worker: ClaimArea, database: Database, seconds_ago: float) -> None:
    """The worker's process stops dead: its connection goes (and with it its database lock), no
    goodbye is said, and its last heartbeat was ``seconds_ago``."""
    registry = worker.registry
    assert isinstance(registry, PostgresClaims)
    registry._stop.set()
    assert registry._db is not None
    registry._db.close()
    assert worker._lock is not None
    worker._lock.close()  # the folder's lock, as the kernel frees it when a process dies
    with PostgresStore(database) as store:
        store.db.execute("UPDATE workers SET heartbeat_at = now() - make_interval(secs => %s) "
                         "WHERE worker = %s", (seconds_ago, worker.worker_id))


def test_a_file_claimed_in_the_database_is_not_taken_by_another_worker(
        inbox: Path, database: Database) -> None:
    """A worker claimed the file in the database and had not moved it yet (or the share's rename
    would let both through): the other worker leaves it alone although it is still there."""
    with area(inbox, database, "host-a-1") as first, area(inbox, database, "host-b-1") as second:
        path = drop(inbox, "plan.json")
        assert first.registry is not None and first.registry.claim("plan.json", "claim-a")
        assert second.claim(path) is None
        assert path.exists()
        assert claims(database) == [("plan.json", "host-a-1")]
        other = drop(inbox, "other.json")
        taken = second.claim(other)
        assert taken is not None and taken.path.parent == second.folder
        assert ("other.json", "host-b-1") in claims(database)


def test_a_dead_workers_claims_are_taken_over_from_its_folder_and_the_inbox(
        inbox: Path, database: Database) -> None:
    dead = area(inbox, database, "host-a-1")
    moved = dead.claim(drop(inbox, "moved.json"))
    assert moved is not None
    assert dead.registry is not None and dead.registry.claim("unmoved.json", "20261123-x")
    drop(inbox, "unmoved.json")
    assert dead.registry.claim("finished.json", "20261123-y")  # died after finishing it
    die(dead, database, seconds_ago=DEAD_AFTER_SECONDS + 1)
    with area(inbox, database, "host-b-1") as heir:
        held = heir.pending()
        assert sorted(c.original_name for c in held) == ["moved.json", "unmoved.json"]
        assert all(c.path.parent == heir.folder for c in held)
        assert moved.claim_id in {c.claim_id for c in held}  # the same claim, kept
        assert claims(database) == [("moved.json", "host-b-1"), ("unmoved.json", "host-b-1")]
        assert not (inbox / ".recordgen-work" / "host-a-1").exists()


def test_no_worker_is_taken_for_dead_just_after_the_server_started(
        inbox: Path, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a restart every worker's lock is free and their heartbeats may be old: they are given
    time to connect again before anyone is taken for dead."""
    monkeypatch.setattr(postgres, "RESTART_GRACE_SECONDS", 3600.0)
    dead = area(inbox, database, "host-a-1")
    assert dead.claim(drop(inbox, "plan.json")) is not None
    die(dead, database, seconds_ago=DEAD_AFTER_SECONDS + 1)
    with area(inbox, database, "host-b-1") as other:
        assert other.pending() == []
    monkeypatch.setattr(postgres, "RESTART_GRACE_SECONDS", 0.0)
    with area(inbox, database, "host-c-1") as heir:
        assert [c.original_name for c in heir.pending()] == ["plan.json"]


def test_a_live_worker_is_never_taken_over(inbox: Path, database: Database) -> None:
    with area(inbox, database, "host-a-1") as alive, area(inbox, database, "host-b-1") as other:
        assert alive.claim(drop(inbox, "plan.json")) is not None
        with PostgresStore(database) as store:  # a heartbeat missed, but its lock is held
            store.db.execute("UPDATE workers SET heartbeat_at = now() - interval '20 seconds' "
                             "WHERE worker = 'host-a-1'")
        assert other.pending() == []
        assert claims(database) == [("plan.json", "host-a-1")]


def test_a_worker_silent_for_too_long_is_taken_over_even_if_its_lock_is_held(
        inbox: Path, database: Database) -> None:
    """A machine cut off from the network while the database still thinks it is connected."""
    with area(inbox, database, "host-a-1") as cut_off, area(inbox, database, "host-b-1") as heir:
        assert cut_off.claim(drop(inbox, "plan.json")) is not None
        assert cut_off.registry is not None
        cut_off.registry._stop.set()  # type: ignore[attr-defined]
        with PostgresStore(database) as store:
            store.db.execute("UPDATE workers SET heartbeat_at = now() - interval '50 seconds' "
                             "WHERE worker = 'host-a-1'")
        assert [c.original_name for c in heir.pending()] == ["plan.json"]


def test_process_on_postgresql_leaves_nothing_claimed(tmp_path: Path,
                                                      database: Database) -> None:
    settings = pg_settings(tmp_path, database)
    for n in range(3):
        plan = example("support_plan")
        plan["case_ref"] = f"THS-2026-{n:04d}"
        drop(settings.folders.inbox, f"plan-{n}.json").write_text(json.dumps(plan))
    with open_services(settings) as services:
        outcomes = process_inbox(services)
    assert [o.status for o in outcomes] == ["produced"] * 3
    assert claims(database) == []
    with PostgresStore(database) as store:
        assert store.db.execute("SELECT count(*) AS n FROM workers").fetchone() == {"n": 0}


def pg_settings(tmp_path: Path, database: Database) -> Settings:
    secret = tmp_path / "db-password"
    secret.write_text(f"{database.password}\n")
    secret.chmod(0o600)
    return make_settings(tmp_path, store={"url": database.url, "password_file": str(secret)})


# --- a real process killed -------------------------------------------------------------------------

CLAIMER = """
import sys
from pathlib import Path
from recordgen.intake.claim import ClaimArea
from recordgen.records.postgres import Database, PostgresClaims
url, password, inbox = sys.argv[1:4]
area = ClaimArea(Path(inbox) / ".recordgen-work", worker_id="host-a-killed",
                 registry=PostgresClaims(Database(url, password)))
assert area.claim(Path(inbox) / "plan.json") is not None
print("claimed", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def killed_claimer(inbox: Path, database: Database) -> Iterator[subprocess.Popen[str]]:
    drop(inbox, "plan.json")
    child = subprocess.Popen([sys.executable, "-c", CLAIMER, database.url,
                              database.password or "", str(inbox)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "claimed"
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()  # closes its pipes


@pytest.mark.real_clock
@pytest.mark.slow
def test_a_killed_workers_claim_is_taken_over_within_a_minute(
        inbox: Path, database: Database, killed_claimer: subprocess.Popen[str]) -> None:
    os.kill(killed_claimer.pid, signal.SIGKILL)
    killed_claimer.wait()
    killed_at = time.monotonic()
    with area(inbox, database, "host-b-1") as heir:
        while not (held := heir.pending()):
            assert time.monotonic() - killed_at < 60, "not taken over within a minute"
            time.sleep(1)
        waited = time.monotonic() - killed_at
    assert [c.original_name for c in held] == ["plan.json"]
    assert waited < 60
    print(f"taken over {waited:.1f} s after the kill")


def test_settings_name_the_registry(tmp_path: Path, database: Database) -> None:
    settings = pg_settings(tmp_path, database)
    with open_services(settings) as services:
        registry: Any = services.store.claim_registry()
        assert isinstance(registry, PostgresClaims)
