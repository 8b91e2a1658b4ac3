"""Shared fixtures: settings pointing at temporary folders, the bundled examples, a fixed clock."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from recordgen.clock import UK, FixedClock
from recordgen.records.postgres import Database
from recordgen.settings import Settings, load_settings, settings_from_mapping

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
TODAY = dt.date(2026, 11, 23)

# Helpers shared by test modules (docx_text, ...) live beside this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Every temporary folder of the suite, LibreOffice profiles included, lives under one folder, so
# that any LibreOffice process still running at the end can be recognised as ours (issue 7 §5).
SESSION_TMP = Path(tempfile.mkdtemp(prefix="recordgen-tests-"))
tempfile.tempdir = str(SESSION_TMP)
os.environ["TMPDIR"] = str(SESSION_TMP)


def _our_libreoffice_processes() -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(SESSION_TMP) in cmdline and ("soffice" in cmdline or "oosplash" in cmdline):
            found.append(f"{proc.name}: {cmdline[:200]}")
    return found


@pytest.fixture(scope="session", autouse=True)
def no_libreoffice_left_behind() -> Iterator[None]:
    """After the whole suite, no LibreOffice process the tests started may still be running."""
    yield
    deadline = time.monotonic() + 10
    while _our_libreoffice_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _our_libreoffice_processes() == [], "LibreOffice processes were left behind"
    shutil.rmtree(SESSION_TMP, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Any]:
    """One throwaway PostgreSQL cluster for the whole session, started on first use and stopped
    at the end (tests/pg_cluster.py): nothing is left running."""
    from pg_cluster import start_cluster

    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_database(postgres_cluster: Any) -> Iterator[Database]:
    """A fresh, empty database in the session's cluster, dropped after the test."""
    name = f"recordgen_{secrets.token_hex(6)}"
    postgres_cluster.create_database(name)
    try:
        yield Database(postgres_cluster.url(name), postgres_cluster.password)
    finally:
        postgres_cluster.drop_database(name)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # LibreOffice is waited on with sleeps, which libfaketime cannot fake from Python.
    for item in items:
        if item.get_closest_marker("libreoffice"):
            item.add_marker(pytest.mark.real_clock)


def example(kind: str) -> dict[str, Any]:
    """A fresh, mutable copy of the bundled example case file of ``kind``."""
    (path,) = EXAMPLES.glob(f"*_{kind}.json")
    return copy.deepcopy(json.loads(path.read_text(encoding="utf-8")))


def make_settings(tmp_path: Path, **sections: dict[str, Any]) -> Settings:
    """The repository's settings, with every folder moved under ``tmp_path``."""
    raw = {
        "folders": {
            "inbox": str(tmp_path / "inbox"),
            "outbox": str(tmp_path / "outbox"),
            "rejected": str(tmp_path / "rejected"),
            "store": str(tmp_path / "var" / "store.sqlite3"),
            "templates": str(REPO / "templates"),
            "schemas": str(REPO / "schemas"),
        },
        "output": {"pdf": False},
    }
    base = load_settings(REPO / "recordgen.toml")
    provider = {k: list(v) if isinstance(v, tuple) else v
                for k, v in vars(base.provider).items()}
    raw["provider"] = provider
    for name, values in sections.items():
        raw[name] = {**raw.get(name, {}), **values}
    (tmp_path / "inbox").mkdir(exist_ok=True)
    return settings_from_mapping(raw, base_dir=tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=UK))


@pytest.fixture
def drop(settings: Settings) -> Iterator[Any]:
    """Write a case file (dict, str or bytes) into the inbox; returns its path."""

    def _drop(content: dict[str, Any] | str | bytes, name: str = "case.json") -> Path:
        path = settings.folders.inbox / name
        if isinstance(content, dict):
            content = json.dumps(content, ensure_ascii=False, indent=2)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    yield _drop
