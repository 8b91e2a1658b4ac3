"""A throwaway PostgreSQL cluster for the tests, the multi-watcher harness and the benchmarks.

The cluster lives in a temporary folder, listens on a Unix socket in that folder only (no network
port), asks every connection for a password (scram-sha-256), and is stopped and removed by
:meth:`Cluster.stop`. PostgreSQL refuses to run as root, so under root the cluster belongs to the
``postgres`` account that Debian's package creates, and is started through ``runuser``.

Under libfaketime (the faked-date runs) the server is started without the faking library, so the
database keeps the real time: only recordgen's own process has its date moved.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

SUPERUSER = "postgres"


def bin_dir() -> Path | None:
    """Where Debian's PostgreSQL programs are (the newest version installed), or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _clean_environment() -> dict[str, str]:
    """The environment without libfaketime, so that the server keeps the real time."""
    return {k: v for k, v in os.environ.items()
            if k not in ("LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC")
            and not k.startswith("PG")}


@dataclass
class Cluster:
    folder: Path
    socket_dir: Path
    password: str
    bin: Path
    owner: str | None  # the account the server runs as when we are root

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.owner is not None:
            command = ["runuser", "-u", self.owner, "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True,
                              env=_clean_environment())  # no timeout: pg_ctl has its own

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        """A connection URL without a password (the password comes from elsewhere)."""
        return f"postgresql://{user}@/{database}?host={self.socket_dir}"

    def connect(self, database: str = "postgres", user: str = SUPERUSER,
                password: str | None = None) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(host=str(self.socket_dir), dbname=database, user=user,
                               password=password or self.password, autocommit=True)

    def create_database(self, name: str, owner: str = SUPERUSER) -> str:
        with self.connect() as admin:
            admin.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        return name

    def drop_database(self, name: str) -> None:
        with self.connect() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def create_role(self, name: str, password: str) -> None:
        with self.connect() as admin:
            admin.execute(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}'")

    def restart(self) -> None:
        self.stop_server()
        self.start_server()

    def stop_server(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    def start_server(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-w", "-t", "60",
                  "-l", str(self.folder / "server.log"), "start")

    def running(self) -> bool:
        return (self.folder / "data" / "postmaster.pid").exists()

    def stop(self) -> None:
        """Stop the server and remove the cluster: nothing is left running or on disk."""
        with contextlib.suppress(subprocess.CalledProcessError, FileNotFoundError):
            if self.running():
                self.stop_server()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_cluster(max_connections: int = 100) -> Cluster:
    """Make and start a new cluster in a temporary folder; raise if PostgreSQL is not installed."""
    programs = bin_dir()
    if programs is None:
        raise RuntimeError("PostgreSQL is not installed: run scripts/setup, which installs it.")
    owner = "postgres" if os.geteuid() == 0 else None
    # Not under the test session's private temporary folder: the postgres account must reach it.
    folder = Path(tempfile.mkdtemp(prefix="recordgen-pg-", dir="/tmp"))
    folder.chmod(0o755)
    socket_dir = folder / "socket"
    socket_dir.mkdir(mode=0o755)
    password = secrets.token_hex(16)
    password_file = folder / "superuser-password"
    password_file.write_text(password + "\n", encoding="utf-8")
    if owner is not None:
        account = pwd.getpwnam(owner)
        for path in (folder, socket_dir, password_file):
            os.chown(path, account.pw_uid, account.pw_gid)
    password_file.chmod(0o600)
    cluster = Cluster(folder=folder, socket_dir=socket_dir, password=password, bin=programs,
                      owner=owner)
    try:
        cluster._run("initdb", "-D", str(folder / "data"), "-U", SUPERUSER, "-A", "scram-sha-256",
                     "--pwfile", str(password_file), "-E", "UTF8", "--locale", "C.UTF-8",
                     "--no-sync")
        password_file.unlink()
        with (folder / "data" / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                "\n# recordgen tests: a Unix socket in the cluster's own folder, no network port\n"
                "listen_addresses = ''\n"
                f"unix_socket_directories = '{socket_dir}'\n"
                f"max_connections = {max_connections}\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "shared_buffers = 64MB\n"
            )
        cluster.start_server()
    except BaseException:
        cluster.stop()
        raise
    return cluster
