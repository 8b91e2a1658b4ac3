"""Opening the records store where the settings say it is, making one only on first use, and sealing
it after a run.

A missing store is created only on a first run, which is when the outbox is empty too, or by
``recordgen store init``; otherwise nothing is processed (exit code 3), so that a store on an
unmounted disk or lost in a restore is never silently started again (docs/design.md §4).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from recordgen.clock import Clock, SystemClock
from recordgen.errors import RecordgenError, SettingsError, StoreError, StoreMissing
from recordgen.records.copy import Copied, copy_store
from recordgen.records.postgres import Database, PostgresStore, database_of
from recordgen.records.seal import write_seal
from recordgen.records.store import MISSING_ADVICE, SqliteStore, SqlStore, Store
from recordgen.records.verify import Finding, verify_records
from recordgen.settings import Settings, check_database_url

log = logging.getLogger("recordgen")


def open_store(settings: Settings, clock: Clock, *, may_create: bool = True) -> SqlStore:
    """The records store where the settings say it is. A missing store is created only on a first
    run, which is when the outbox is empty too; otherwise nothing is processed (exit code 3), so
    that a store on an unmounted disk or lost in a restore is never silently started again. A store
    that holds nothing while the outbox holds documents is refused the same way."""
    if settings.store.postgresql:
        return _open_postgresql(settings, clock, may_create=may_create)
    path, outbox = settings.folders.store, settings.folders.outbox
    if not path.exists():
        held = outbox_holdings(outbox)
        if held or not may_create:
            raise StoreMissing(_missing_message(path, outbox, held))
        return SqliteStore(path, clock=clock, create="the first run, with an empty outbox")
    store = SqliteStore(path, clock=clock)
    if store.chain_head() is None and (held := outbox_holdings(outbox)):
        store.close()
        raise StoreMissing(
            f"The records store {path} is empty, but the outbox {outbox} already holds "
            f"{_some(held)}, so recordgen has recorded work before. recordgen stopped without "
            "doing anything. "
            + MISSING_ADVICE + " " + _START_AGAIN)
    return store


def _open_postgresql(settings: Settings, clock: Clock, *, may_create: bool) -> SqlStore:
    """The PostgreSQL store: a database without recordgen's tables is a missing store, made one
    only on a first run (the outbox empty), as the SQLite store is."""
    database, outbox = database_of(settings.store), settings.folders.outbox
    try:
        return PostgresStore(database, clock=clock)
    except StoreMissing:
        held = outbox_holdings(outbox)
        if held or not may_create:
            raise StoreMissing(_missing_database(database, outbox, held)) from None
    return PostgresStore(database, clock=clock, create="the first run, with an empty outbox")


def init_store(settings: Settings, clock: Clock | None = None, *, url: str | None = None,
               grant_to: str | None = None) -> str:
    """``recordgen store init``: make a new, empty store where the settings say (or in the
    PostgreSQL database at ``url``, granting ``grant_to`` a watcher's rights), and refuse if there
    is one already (an existing record is never replaced). Returns where it was made."""
    held = outbox_holdings(settings.folders.outbox)
    why = "recordgen store init" + (
        f", with the outbox already holding {_some(held)}" if held else "")
    if url is not None or settings.store.postgresql:
        database = _database(settings, url)
        try:
            PostgresStore(database, clock=clock or SystemClock()).close()
        except StoreMissing:
            pass
        else:
            raise StoreError(f"A records store already exists in {database.describe()}; nothing "
                             "was changed. 'recordgen store init' only makes a store where there "
                             "is none.")
        with PostgresStore(database, clock=clock or SystemClock(), create=why) as store:
            if grant_to:
                store.grant_to(grant_to)
        return database.describe()
    path = settings.folders.store
    if path.exists() or path.is_symlink():
        raise StoreError(f"A records store already exists at {path}; nothing was changed. "
                         "'recordgen store init' only makes a store where there is none.")
    SqliteStore(path, clock=clock or SystemClock(), create=why).close()
    return str(path)


def migrate_store(settings: Settings, clock: Clock | None = None, *, url: str | None = None,
                  grant_to: str | None = None) -> str:
    """``recordgen store migrate``: bring a PostgreSQL store's tables up to this version of
    recordgen (as their owner, at ``url``), and grant ``grant_to`` a watcher's rights. A SQLite
    store is brought up to date whenever it is opened."""
    if url is None and not settings.store.postgresql:
        with open_store(settings, clock or SystemClock(), may_create=False):
            return str(settings.folders.store)
    database = _database(settings, url)
    with PostgresStore(database, clock=clock or SystemClock()) as store:
        if grant_to:
            store.grant_to(grant_to)
    return database.describe()


@dataclass(frozen=True)
class CopyResult:
    where: str
    copied: Copied
    findings: list[Finding]


def copy_to(settings: Settings, url: str, clock: Clock | None = None, *,
            grant_to: str | None = None,
            progress: Callable[[str, int], None] | None = None) -> CopyResult:
    """``recordgen store copy --to URL``: the settings' store, copied whole into the PostgreSQL
    database at ``url`` (made a store first, without an entry of its own: the copy brings its
    trail), then checked with verify against the outbox."""
    database = _database(settings, url)
    clock = clock or SystemClock()
    with open_store(settings, clock, may_create=False) as source:
        if isinstance(source, PostgresStore) and source.database.url == database.url:
            raise StoreError("The store would be copied onto itself: --to names the database "
                             "the settings already use.")
        try:
            target = PostgresStore(database, clock=clock)
        except StoreMissing:
            target = PostgresStore(database, clock=clock, create="recordgen store copy",
                                   first_entry=False)
        with target:
            copied = copy_store(source, target, progress)
            if grant_to:
                target.grant_to(grant_to)
            findings = verify_records(target, settings.folders.outbox)
    return CopyResult(database.describe(), copied, findings)


def _database(settings: Settings, url: str | None) -> Database:
    """The database at ``url`` (its password from PostgreSQL's own ways: PGPASSWORD or
    ~/.pgpass), or the one the settings name."""
    if url is None:
        return database_of(settings.store)
    try:
        check_database_url(url, "--url")
    except SettingsError as exc:
        raise StoreError(str(exc)) from exc
    return Database(url)


def seal_quietly(store: Store, outbox: Path) -> None:
    """Write the seal after a run; a seal that cannot be written is logged, never a failed run
    (what was done is recorded; the next run's seal covers it)."""
    try:
        write_seal(store, outbox)
    except (RecordgenError, OSError, sqlite3.Error) as exc:
        log.warning("The seal of the records store could not be written: %s", exc)


# System files a file manager leaves in any folder it shows; they say nothing about past runs.
_SYSTEM_FILES = {"thumbs.db", "desktop.ini", ".ds_store"}
_START_AGAIN = (
    "If the store is truly lost, tell your information governance lead before going on: "
    "'recordgen store init' makes a new, empty store, and the record starts again from nothing."
)


def outbox_holdings(outbox: Path) -> list[str]:
    """What is in the outbox (a few names), or nothing when it is missing or empty."""
    try:
        names = sorted(p.name for p in outbox.iterdir() if p.name.lower() not in _SYSTEM_FILES)
    except (FileNotFoundError, NotADirectoryError):
        return []  # no outbox folder yet (a file in its place is no record of a run either)
    except OSError as exc:
        return [f"something it could not list ({exc.strerror or exc})"]
    return names


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"{len(names)} item{'s' if len(names) != 1 else ''} ({shown})"


def _missing_database(database: Database, outbox: Path, held: list[str]) -> str:
    where = f"The records database {database.describe()} holds no records store"
    if held:
        return (f"{where}, but the outbox {outbox} already holds {_some(held)}, so recordgen has "
                "run before. recordgen stopped without doing anything. Check that [store] url "
                "names the right database, and that a restore from backup put it back. "
                + _START_AGAIN)
    return (f"{where} yet: nothing has been recorded there. 'recordgen store init' makes it "
            "(run it as the role that owns the database; see the README, \"Moving to "
            "PostgreSQL\").")


def _missing_message(path: Path, outbox: Path, held: list[str]) -> str:
    if held:
        return (f"The records store {path} is missing, but the outbox {outbox} already holds "
                f"{_some(held)}, so recordgen has run here before. recordgen stopped without "
                "doing anything. "
                + MISSING_ADVICE + " " + _START_AGAIN)
    return (f"The records store {path} does not exist yet: nothing has been recorded here. The "
            "first 'recordgen process' or 'recordgen watch' makes it (while the outbox is empty), "
            "or 'recordgen store init' does. If it should exist, " + MISSING_ADVICE[0].lower()
            + MISSING_ADVICE[1:])
