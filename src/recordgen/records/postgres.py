"""The records store in PostgreSQL, shared by watchers on several machines (psycopg 3).

The same records, migrations, audit trail and seals as the SQLite store (:class:`SqlStore` does the
work); what differs is here:

- **One writer at a time.** Every transaction begins by taking a transaction-scoped advisory lock,
  held until it commits or rolls back, so writers take turns as SQLite's ``BEGIN IMMEDIATE``
  makes them: the audit trail's next entry is always written after the head every other writer
  left, and a version number is never handed out twice. The database enforces the same on its own
  (see the first migration): an entry that does not follow the head is refused, so even a writer
  that skips the lock cannot fork the trail or leave a gap. Transactions run at READ COMMITTED
  under that lock, so there are no serialisation failures to retry; a broken unique constraint is
  retried with the next number (version numbers) or raised as :class:`StoreError`, never dropped.
- **Least rights.** Watchers connect as a role granted only what they need
  (:data:`recordgen.records.migrations.POSTGRESQL_WRITER_GRANTS`); the tables belong to an owner
  role, which alone applies migrations (``recordgen store init``, ``store migrate``). Neither can
  alter or delete an audit entry: triggers refuse it, and the writer role may not drop them.
- **The server restarting.** A connection that breaks between transactions is made again, waiting
  for the server for up to :data:`RECONNECT_SECONDS`; a transaction cut off half-way is rolled
  back by the server and reported as :class:`StoreError`, so the file in hand is held and tried
  again, and nothing is half-recorded.
- **The password** comes from an environment variable or from a file only the service account can
  read, never from the settings file (:func:`password_for`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from recordgen.clock import Clock, SystemClock
from recordgen.errors import StoreError, StoreMissing
from recordgen.records.claims import (
    DEAD_AFTER_SECONDS,
    HEARTBEAT_SECONDS,
    SILENT_AFTER_SECONDS,
    HeldClaim,
)
from recordgen.records.migrations import MIGRATIONS, POSTGRESQL_WRITER_GRANTS, Migration
from recordgen.records.store import MISSING_ADVICE, SqlStore
from recordgen.settings import StoreSettings

log = logging.getLogger("recordgen")

# The advisory lock every writing transaction holds ("recordge" in ASCII, as a signed 64-bit key).
WRITE_LOCK = 0x7265636F72646765
# How long a broken connection is retried, waiting for the server to come back.
RECONNECT_SECONDS = 300.0
CONNECT_TIMEOUT_SECONDS = 10
# For this long after the database server starts, no worker is taken for dead: a restart freed
# every worker's lock, and they need a heartbeat's time to connect again.
RESTART_GRACE_SECONDS = DEAD_AFTER_SECONDS + HEARTBEAT_SECONDS
# Errors that mean the server is not there (yet): worth waiting for. Others (a wrong password, a
# database or role that does not exist) are said at once.
_NOT_WORTH_WAITING = ("password authentication failed", "does not exist", "no password supplied",
                      "permission denied", "pg_hba.conf")


@dataclass(frozen=True)
class Database:
    """Where a PostgreSQL store is: a URL without a password, and the password from elsewhere."""

    url: str
    password: str | None = None

    def describe(self) -> str:
        """The URL as it may be shown and logged (it never holds a password)."""
        return shown_url(self.url)


def shown_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def database_of(store: StoreSettings) -> Database:
    """The database the settings name, with its password read from where they say."""
    return Database(store.url, password_for(store))


def password_for(store: StoreSettings) -> str | None:
    """The password from ``[store] password_env`` or ``[store] password_file``; None leaves it to
    PostgreSQL's own ways (a ``~/.pgpass`` file, or no password at all for a local socket)."""
    if store.password_env:
        value = os.environ.get(store.password_env)
        if not value:
            raise StoreError(
                f"[store] password_env names the environment variable {store.password_env}, but "
                "it is not set for this account. Set it where the service is started (for "
                "systemd, an EnvironmentFile readable by the service account only), or use "
                "[store] password_file.")
        return value
    if store.password_file is not None:
        return read_password_file(store.password_file)
    return None


def read_password_file(path: Path) -> str:
    """The first line of a password file that only the service account can read. A link, a file
    another account owns, or one that others can read is refused, with how to put it right."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as exc:
        raise StoreError(f"The database password file {path} named by [store] password_file "
                         f"cannot be opened ({exc.strerror or exc}). It must be a plain file, "
                         "not a link, readable by the service account.") from exc
    with os.fdopen(descriptor, "rb") as handle:
        found = os.fstat(handle.fileno())
        if not stat.S_ISREG(found.st_mode):
            raise StoreError(f"The database password file {path} is not a plain file.")
        if found.st_uid != os.geteuid():
            raise StoreError(
                f"The database password file {path} belongs to another account. It must belong "
                "to the account recordgen runs as, and be readable by it alone "
                f"(chown that account {path}; chmod 600 {path}).")
        if found.st_mode & 0o077:
            raise StoreError(
                f"The database password file {path} can be read or written by other accounts "
                f"(its mode is {stat.S_IMODE(found.st_mode):04o}). Make it private to the "
                f"service account: chmod 600 {path}. recordgen did not use it.")
        text = handle.read(4096).decode("utf-8", "replace")
    password = text.splitlines()[0].strip() if text.strip() else ""
    if not password:
        raise StoreError(f"The database password file {path} is empty.")
    return password


def connect(database: Database, wait_seconds: float = RECONNECT_SECONDS, *,
            read_only: bool = False) -> psycopg.Connection[dict[str, Any]]:
    """A connection in autocommit mode (recordgen begins and commits its own transactions),
    waiting up to ``wait_seconds`` for a server that is starting or restarting. Keepalives let
    the server notice a worker whose machine vanished, and free the locks it held. A
    ``read_only`` connection is refused every write by the server."""
    deadline = time.monotonic() + wait_seconds
    warned = False
    while True:
        try:
            connection: psycopg.Connection[dict[str, Any]] = psycopg.connect(
                database.url, password=database.password, autocommit=True, row_factory=dict_row,
                connect_timeout=CONNECT_TIMEOUT_SECONDS, application_name="recordgen",
                keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3)
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            if any(words in str(exc) for words in _NOT_WORTH_WAITING) \
                    or time.monotonic() > deadline:
                raise StoreError(
                    f"The records database {database.describe()} could not be reached: {reason}. "
                    "Check that the database server is running and that [store] url, and the "
                    "password it is given, are right.") from exc
            if not warned:
                log.warning("The records database %s is not answering (%s); waiting for it.",
                            database.describe(), reason)
                warned = True
            time.sleep(1.0)
            continue
        # The server drops the connection (and so this worker's locks) if the machine vanishes.
        connection.execute("SET tcp_keepalives_idle = 10")
        connection.execute("SET tcp_keepalives_interval = 5")
        connection.execute("SET tcp_keepalives_count = 3")
        if read_only:
            connection.execute("SET default_transaction_read_only = on")
        if warned:
            log.warning("The records database %s answers again.", database.describe())
        return connection


class PostgresStore(SqlStore):
    """The records store in a PostgreSQL database (see the module's docstring).

    ``create`` says why a database holding no store may be made one (the first run, ``store
    init``); without it, such a database is :class:`StoreMissing`. ``first_entry=False`` makes the
    store without its "store created" entry, for a copy that brings its own trail."""

    backend = "postgresql"
    _unique_violation = (psycopg.errors.UniqueViolation,)
    _read_only = False  # True for another_reader's connection

    def __init__(self, database: Database, migrations: Sequence[Migration] = MIGRATIONS,
                 clock: Clock | None = None, *, create: str | None = None,
                 first_entry: bool = True, wait_seconds: float = RECONNECT_SECONDS) -> None:
        self.database = database
        self.clock = clock or SystemClock()
        self._depth = 0
        self._wait = wait_seconds
        self.db = connect(database, wait_seconds)
        try:
            with self.transaction():
                new = self._one("SELECT to_regclass('migrations') AS found")
                if new is None or new["found"] is None:
                    if create is None:
                        raise StoreMissing(
                            f"The records database {database.describe()} holds no records store "
                            "(it has no recordgen tables). " + MISSING_ADVICE.replace(
                                "[folders] store", "[store] url"))
                    self._make(migrations)
                    if first_entry:
                        self.audit("store created", None, {"why": create})
                else:
                    self._migrate(migrations)
        except BaseException:
            self.db.close()
            raise

    def describe(self) -> str:
        return self.database.describe()

    def close(self) -> None:
        self.db.close()

    def another_reader(self) -> PostgresStore:
        reader = object.__new__(PostgresStore)  # the store exists and is migrated: only connect
        reader.database, reader.clock, reader._depth = self.database, self.clock, 0
        reader._wait, reader._read_only = self._wait, True
        reader.db = connect(self.database, self._wait, read_only=True)
        return reader

    # --- the hooks --------------------------------------------------------------------------------

    def _page_of_data(self, page_sql: str) -> str:
        return page_sql.replace(", raw FROM", ", convert_from(raw, 'UTF8')::jsonb -> 'data' AS d "
                                "FROM", 1)

    def _picked(self, fields: Mapping[str, Sequence[str]]) -> tuple[str, list[str]]:
        cases, args = [], []
        for kind, keys in fields.items():
            cases.append(f"WHEN ? THEN jsonb_build_array({', '.join(['d -> ?'] * len(keys))})")
            args.extend([kind, *keys])
        return f"CASE kind {' '.join(cases)} END", args

    def _execute(self, query: str, args: Sequence[Any] = ()) -> psycopg.Cursor[dict[str, Any]]:
        """Run one statement, making the connection again (waiting for the server) if it broke
        between transactions. Inside a transaction a broken connection is a :class:`StoreError`:
        the server rolled the transaction back, and the caller's work is tried again later."""
        text = query.replace("?", "%s")
        for attempt in (1, 2):
            if self.db.broken or self.db.closed:
                if self._depth:
                    raise StoreError(_cut_off(self.database))
                self._reconnect()
            try:
                return self.db.execute(text, tuple(args) or None)
            except psycopg.errors.UniqueViolation:
                raise
            except psycopg.OperationalError as exc:
                if self._depth or attempt == 2 or not (self.db.broken or self.db.closed):
                    raise StoreError(_failed(self.database, exc)) from exc
            except psycopg.Error as exc:
                raise StoreError(_failed(self.database, exc)) from exc
        raise StoreError(_cut_off(self.database))  # pragma: no cover (the loop returns or raises)

    def _reconnect(self) -> None:
        self.db.close()
        self.db = connect(self.database, self._wait, read_only=self._read_only)

    def _one(self, sql: str, args: Sequence[Any] = ()) -> Mapping[str, Any] | None:
        return self._execute(sql, args).fetchone()

    def _all(self, sql: str, args: Sequence[Any] = ()) -> list[Mapping[str, Any]]:
        return list(self._execute(sql, args).fetchall())

    def _run(self, sql: str, args: Sequence[Any] = ()) -> int:
        return self._execute(sql, args).rowcount

    def _insert(self, sql: str, args: Sequence[Any]) -> int:
        row = self._execute(sql + " RETURNING id", args).fetchone()
        return int(row["id"]) if row else 0

    def _begin(self) -> None:
        self._execute("BEGIN")
        self._depth = 1  # from here on, a broken connection is the transaction's failure
        try:
            self._execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
        except BaseException:
            self._rollback()
            raise
        finally:
            self._depth = 0

    def _commit(self) -> None:
        try:
            self.db.execute("COMMIT")
        except psycopg.Error as exc:
            raise StoreError(f"The records database {self.database.describe()} could not save "
                             f"({_reason(exc)}); nothing of this step was recorded, and it will "
                             "be tried again.") from exc

    def _rollback(self) -> None:
        if not (self.db.broken or self.db.closed):
            try:
                self.db.execute("ROLLBACK")
            except psycopg.Error:
                self.db.close()  # made again at the next use

    # --- the schema -------------------------------------------------------------------------------

    def _make(self, migrations: Sequence[Migration]) -> None:
        try:
            self._execute("CREATE TABLE migrations (version BIGINT PRIMARY KEY, name TEXT NOT "
                          "NULL, applied_at TEXT NOT NULL)")
        except StoreError as exc:
            raise StoreError(_not_owner(self.database, "make the store's tables")) from exc
        self._apply(migrations, done=set())

    def _migrate(self, migrations: Sequence[Migration]) -> None:
        done = {int(row["version"]) for row in self._all("SELECT version FROM migrations")}
        if all(m.version in done for m in migrations):
            return
        self._apply(migrations, done)

    def _apply(self, migrations: Sequence[Migration], done: set[int]) -> None:
        for migration in sorted(migrations, key=lambda m: m.version):
            if migration.version in done:
                continue
            script = migration.sql_for(self.backend).strip()
            try:
                if script:
                    self._execute(script)
            except StoreError as exc:
                if isinstance(exc.__cause__, psycopg.errors.InsufficientPrivilege):
                    raise StoreError(_not_owner(
                        self.database, f"apply the change {migration.version} "
                        f"({migration.name})")) from exc
                raise
            if migration.then is not None:
                migration.then(self)
            self._run("INSERT INTO migrations VALUES (?, ?, ?)",
                      (migration.version, migration.name, self._now()))

    def grant_to(self, role: str) -> None:
        """Grant ``role`` what a watcher needs and nothing more (run as the tables' owner)."""
        with self.transaction():
            for statement in POSTGRESQL_WRITER_GRANTS:
                try:
                    self.db.execute(sql.SQL(statement).format(role=sql.Identifier(role)))
                except psycopg.Error as exc:
                    raise StoreError(
                        f"The role {role} could not be granted its rights in "
                        f"{self.database.describe()} ({_reason(exc)}). Check that the role "
                        "exists and that recordgen connects as the owner of the store's "
                        "tables.") from exc

    # --- copying in (recordgen store copy) ----------------------------------------------------------

    def insert_copied(self, table: str, row: Mapping[str, Any]) -> None:
        """Insert a row exactly as another store holds it, id included."""
        columns = list(row)
        statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            sql.SQL(", ").join(sql.Placeholder() for _ in columns))
        try:
            self.db.execute(statement, [row[c] for c in columns])
        except psycopg.Error as exc:
            raise StoreError(f"{table} row {row.get('id')} could not be copied into "
                             f"{self.database.describe()} ({_reason(exc)}).") from exc

    def after_copy(self, tables: Sequence[str]) -> None:
        """Let new rows take ids after the copied ones."""
        for table in tables:
            self._execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"GREATEST((SELECT MAX(id) FROM {table}), 1))")

    # --- claims -----------------------------------------------------------------------------------

    def claim_registry(self) -> PostgresClaims:
        return PostgresClaims(self.database, self._wait)


class PostgresClaims:
    """Claims decided by the database (:mod:`recordgen.records.claims`), on a connection of their
    own: it holds this worker's session lock for as long as the worker lives, and a thread writes
    the heartbeat every few seconds, whatever the worker is busy with."""

    def __init__(self, database: Database, wait_seconds: float = RECONNECT_SECONDS) -> None:
        self.database, self._wait = database, wait_seconds
        self.worker = ""
        self._details: tuple[str, str, str] | None = None
        self._db: psycopg.Connection[dict[str, Any]] | None = None
        self._lock = threading.Lock()  # one statement at a time on the connection
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def join(self, worker: str, host: str, folder: str) -> None:
        self.worker, self._details = worker, (worker, host, folder)
        with self._lock:
            self._connect()
        self._beat = threading.Thread(target=self._beating, name="recordgen-heartbeat",
                                      daemon=True)
        self._beat.start()

    def leave(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=10)
        with self._lock:
            if self._db is not None and not self._db.closed:
                # If it cannot go now, the row goes when another worker finds this one gone.
                with contextlib.suppress(psycopg.Error):
                    self._db.execute("DELETE FROM workers WHERE worker = %s AND NOT EXISTS "
                                     "(SELECT 1 FROM claims WHERE worker = %s)",
                                     (self.worker, self.worker))
                self._db.close()

    def _connect(self) -> None:
        """(Re)connect, take this worker's session lock and say it is alive."""
        if self._details is None:
            raise StoreError("recordgen's claims were used before the worker joined.")
        if self._db is not None:
            self._db.close()
        self._db = connect(self.database, self._wait)
        worker, host, folder = self._details
        self._db.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (worker,))
        self._db.execute(
            "INSERT INTO workers (worker, host, folder, lock_key) VALUES (%s, %s, %s, "
            "hashtextextended(%s, 0)) ON CONFLICT (worker) DO UPDATE SET heartbeat_at = now()",
            (worker, host, folder, worker))

    def _query(self, text: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run one statement on the claims connection, connecting again if the server restarted."""
        with self._lock:
            for attempt in (1, 2):
                if self._db is None or self._db.broken or self._db.closed:
                    self._connect()
                db = self._db
                if db is None:  # pragma: no cover (_connect sets it or raises)
                    raise StoreError("recordgen could not reach the records database.")
                try:
                    cursor = db.execute(text, tuple(args) or None)
                    return list(cursor.fetchall()) if cursor.description else []
                except psycopg.OperationalError as exc:
                    if attempt == 2 or not (db.broken or db.closed):
                        raise StoreError(_failed(self.database, exc)) from exc
                except psycopg.Error as exc:
                    raise StoreError(_failed(self.database, exc)) from exc
        return []  # pragma: no cover

    def _beating(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                self.heartbeat()
            except StoreError as exc:
                log.warning("The heartbeat could not be written to the records database (%s); "
                            "trying again.", exc)

    def heartbeat(self) -> None:
        self._query("UPDATE workers SET heartbeat_at = now() WHERE worker = %s", (self.worker,))

    def claim(self, inbox_name: str, claim_id: str) -> bool:
        taken = self._query(
            "INSERT INTO claims (inbox_name, claim_id, worker) VALUES (%s, %s, %s) "
            "ON CONFLICT (inbox_name) DO NOTHING RETURNING claim_id",
            (inbox_name, claim_id, self.worker))
        return bool(taken)

    def release(self, claim_id: str) -> None:
        self._query("DELETE FROM claims WHERE claim_id = %s AND worker = %s",
                    (claim_id, self.worker))

    def held(self) -> list[HeldClaim]:
        rows = self._query(
            "SELECT c.inbox_name, c.claim_id, w.folder FROM claims c JOIN workers w ON "
            "w.worker = c.worker WHERE c.worker = %s ORDER BY c.claim_id", (self.worker,))
        return [HeldClaim(r["inbox_name"], r["claim_id"], r["folder"]) for r in rows]

    def take_over(self) -> list[HeldClaim]:
        """In one transaction: find the workers that are dead (their session lock is free and
        their heartbeat old, or their heartbeat very old), make their claims this worker's, and
        return them with the folder each was in. Two workers looking at once cannot both take the
        same claim: the update of a claim row waits for the other, then finds it no longer the
        dead worker's."""
        taken: list[HeldClaim] = []
        with self._lock:
            if self._db is None or self._db.broken or self._db.closed:
                self._connect()
            db = self._db
            if db is None:  # pragma: no cover
                return []

            try:
                with db.transaction():
                    # Not in the first moments after the server started: a restart freed every
                    # worker's lock, and the others are still connecting again.
                    dead = db.execute(
                        "SELECT worker, folder FROM workers WHERE worker <> %s AND ("
                        "heartbeat_at < now() - make_interval(secs => %s) OR "
                        "(heartbeat_at < now() - make_interval(secs => %s) AND "
                        "pg_try_advisory_xact_lock(lock_key))) AND "
                        "pg_postmaster_start_time() < now() - make_interval(secs => %s)",
                        (self.worker, SILENT_AFTER_SECONDS, DEAD_AFTER_SECONDS,
                         RESTART_GRACE_SECONDS)).fetchall()
                    for row in dead:
                        moved = db.execute(
                            "UPDATE claims SET worker = %s, claimed_at = now() WHERE worker = %s "
                            "RETURNING inbox_name, claim_id",
                            (self.worker, row["worker"])).fetchall()
                        taken.extend(HeldClaim(m["inbox_name"], m["claim_id"], row["folder"])
                                     for m in moved)
                        db.execute("DELETE FROM workers WHERE worker = %s", (row["worker"],))
            except psycopg.Error as exc:
                raise StoreError(_failed(self.database, exc)) from exc
        if taken:
            log.warning("Took over %d file(s) claimed by recordgen workers that stopped.",
                        len(taken))
        return taken

    def forget_worker(self, worker: str) -> None:
        self._query("DELETE FROM workers WHERE worker = %s AND NOT EXISTS (SELECT 1 FROM claims "
                    "WHERE worker = %s)", (worker, worker))

    def live_folders(self) -> set[str]:
        """The work folders of workers the database knows (alive, or not yet taken over)."""
        return {r["folder"] for r in self._query("SELECT folder FROM workers")}


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _failed(database: Database, exc: BaseException) -> str:
    return (f"The records database {database.describe()} refused or lost a request "
            f"({_reason(exc)}). Nothing of this step was recorded; it will be tried again.")


def _cut_off(database: Database) -> str:
    return (f"The connection to the records database {database.describe()} was lost part-way "
            "through recording. The database rolled the step back; it will be tried again.")


def _not_owner(database: Database, what: str) -> str:
    return (f"recordgen may not {what} in the records database {database.describe()}: the role "
            "it connects as does not own the store's tables (watchers connect with fewer "
            "rights, on purpose). Ask the database administrator to run 'recordgen store "
            "migrate --url URL-OF-THE-OWNER-ROLE --grant-to WATCHER-ROLE' (see the README, "
            "\"Moving to PostgreSQL\"), then start recordgen again.")
