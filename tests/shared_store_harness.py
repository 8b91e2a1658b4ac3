"""Several watchers, one inbox, one PostgreSQL store: three watcher processes, each with its own host
name (its own UTS namespace, as root) and its own work folder, share one inbox and one database.
Case files arrive while watchers are killed with SIGKILL at random and restarted; optionally the
PostgreSQL server is restarted in the middle. Afterwards: every file processed exactly once, every
document recorded once, ``recordgen verify`` intact, nothing left claimed (no file in a work folder,
no row in the database's claims).

Used by tests/test_shared_store.py (marked slow), and on its own for the figures:

    .venv/bin/python tests/shared_store_harness.py --files 500 --kills 60 [--restart-server]

which prints the figures and writes them to bench/results/shared-store-crash*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RUNNER = HERE / "watch_runner.py"
HOSTS = ("records-a", "records-b", "records-c")


@dataclass
class SharedReport:
    files: int
    watchers: int
    kills: int
    restarts: int
    server_restarts: int
    seconds: float
    submissions: int
    documents: int
    host_names: list[str]
    problems: list[str] = field(default_factory=list)


def config_for(root: Path, url: str, password: str, *, rescan: float = 2.0) -> Path:
    secret = root / "db-password"
    secret.write_text(password + "\n", encoding="utf-8")
    secret.chmod(0o600)
    path = root / "recordgen.toml"
    path.write_text(
        '[folders]\ninbox = "inbox"\noutbox = "outbox"\nrejected = "rejected"\n'
        f"templates = {json.dumps(str(REPO / 'templates'))}\n"
        f"schemas = {json.dumps(str(REPO / 'schemas'))}\n"
        "[output]\npdf = false\n"
        f"[watch]\nsettle_seconds = 0.2\npoll_seconds = 0\nrescan_seconds = {rescan}\n"
        f"[store]\nurl = {json.dumps(url)}\npassword_file = {json.dumps(str(secret))}\n",
        encoding="utf-8")
    (root / "inbox").mkdir(exist_ok=True)
    return path


def drop(inbox: Path, number: int, prefix: str = "SHARED") -> None:
    """Written elsewhere, then renamed in, as a copy tool does; each file is its own case."""
    (example,) = (REPO / "examples").glob("*_support_plan.json")
    case = json.loads(example.read_text(encoding="utf-8"))
    case["case_ref"] = f"{prefix}-{number:05d}"
    temporary = inbox.parent / f".{number}.partial"
    temporary.write_text(json.dumps(case), encoding="utf-8")
    temporary.rename(inbox / f"case-{number:05d}.json")


def start_watcher(config: Path, host: str, log: Path) -> subprocess.Popen[bytes]:
    """A watcher under its own host name: as root, in a UTS namespace of its own (``unshare``
    then ``exec``, so the process killed is the watcher itself)."""
    command = [sys.executable, str(RUNNER), "--config", str(config), "-v", "watch"]
    if os.geteuid() == 0 and shutil.which("unshare"):
        command = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', host, *command]
    environment = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    with log.open("ab") as handle:
        return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT,
                                env=environment)


def run(files: int, kills: int, root: Path, cluster: object, database: str, *,
        watchers: int = 3, seed: int = 17, restart_server: bool = False,
        timeout: float = 1500) -> SharedReport:
    """The run: ``cluster`` is a tests/pg_cluster.Cluster, ``database`` a fresh database in it."""
    chooser = random.Random(seed)  # noqa: S311 (reproducible timing, not security)
    url, password = cluster.url(database), cluster.password  # type: ignore[attr-defined]
    config = config_for(root, url, password)
    inbox = root / "inbox"
    hosts = [HOSTS[n % len(HOSTS)] for n in range(watchers)]
    logs = [root / f"watch-{host}.log" for host in hosts]
    started = time.monotonic()
    running = [start_watcher(config, host, log) for host, log in zip(hosts, logs, strict=True)]
    restarts = dropped = killed = server_restarts = 0
    restarted_at = files // 2 if restart_server else -1
    server: threading.Thread | None = None
    while killed < kills or dropped < files:
        for _ in range(chooser.randint(1, max(1, files // max(kills, 1) + 2))):
            if dropped < files:
                drop(inbox, dropped)
                dropped += 1
                if dropped == restarted_at:
                    # In the background: the watchers go on being killed meanwhile.
                    server = threading.Thread(target=_restart_server, args=(cluster,))
                    server.start()
                    server_restarts += 1
        time.sleep(chooser.uniform(0.05, 0.6))
        if killed < kills:
            victim = chooser.randrange(watchers)
            running[victim].kill()  # SIGKILL: no clean-up of any kind
            running[victim].wait(30)
            killed += 1
            running[victim] = start_watcher(config, hosts[victim], logs[victim])
            restarts += 1
        if time.monotonic() - started > timeout:
            break
    if server is not None:
        server.join()
    done = _wait_until_done(root, files, cluster, database, started + timeout)
    host_names = _host_names(cluster, database)  # while the watchers are still registered
    for process in running:
        process.terminate()
    for process in running:
        process.wait(120)
    problems = [] if done else ["the watchers did not finish every file in time"]
    problems += check(root, files, cluster, database)
    submissions, documents = _counts(cluster, database)
    return SharedReport(files, watchers, killed, restarts, server_restarts,
                        round(time.monotonic() - started, 1), submissions, documents,
                        host_names, problems)


def _restart_server(cluster: object) -> None:
    cluster.restart()  # type: ignore[attr-defined]


def _claims_left(cluster: object, database: str) -> int:
    with cluster.connect(database) as db:  # type: ignore[attr-defined]
        row = db.execute("SELECT COUNT(*) FROM claims").fetchone()
    return int(row[0]) if row else 0


def _wait_until_done(root: Path, files: int, cluster: object, database: str,
                     deadline: float) -> bool:
    while time.monotonic() < deadline:
        docs = list((root / "outbox").rglob("*.docx")) if (root / "outbox").exists() else []
        claimed = list((root / "inbox" / ".recordgen-work").rglob("*.json"))
        waiting = list((root / "inbox").glob("*.json"))
        if len(docs) >= files and not claimed and not waiting:
            try:
                if _claims_left(cluster, database) == 0:
                    return True
            except Exception:  # noqa: S110 (the server may be restarting: look again)
                pass
        time.sleep(0.5)
    return False


def _counts(cluster: object, database: str) -> tuple[int, int]:
    with cluster.connect(database) as db:  # type: ignore[attr-defined]
        submissions = db.execute("SELECT COUNT(*) FROM submissions").fetchone()
        documents = db.execute("SELECT COUNT(*) FROM documents").fetchone()
    return int(submissions[0]), int(documents[0])


def _host_names(cluster: object, database: str) -> list[str]:
    """The host names the watchers gave the database (those still registered)."""
    with cluster.connect(database) as db:  # type: ignore[attr-defined]
        return sorted({r[0] for r in db.execute("SELECT host FROM workers").fetchall()})


def check(root: Path, files: int, cluster: object, database: str) -> list[str]:
    """Every file has exactly one submission and one document, whole; verify is intact; nothing
    is left claimed, on disk or in the database."""
    import docx

    from recordgen.records.postgres import Database, PostgresStore
    from recordgen.records.verify import verify_records

    problems = []
    target = Database(cluster.url(database), cluster.password)  # type: ignore[attr-defined]
    with PostgresStore(target) as store:
        per_file = Counter(s.file_name for s in store.submissions())
        for number in range(files):
            name = f"case-{number:05d}.json"
            if per_file[name] != 1:
                problems.append(f"{name}: {per_file[name]} submissions")
        outcomes = Counter(s.outcome for s in store.submissions())
        if set(outcomes) - {"accepted"}:
            problems.append(f"unexpected outcomes: {dict(outcomes)}")
        per_case = Counter(d.case_ref for d in store.documents())
        for number in range(files):
            ref = f"SHARED-{number:05d}"
            if per_case[ref] != 1:
                problems.append(f"{ref}: {per_case[ref]} documents")
        problems += [str(f) for f in verify_records(store, root / "outbox")]
    for path in (root / "outbox").rglob("*.docx"):
        try:
            docx.Document(str(path))
        except Exception as exc:  # any failure to open is a truncated or damaged output
            problems.append(f"{path.name}: cannot be opened ({exc})")
    claimed = list((root / "inbox" / ".recordgen-work").rglob("*.json"))
    if claimed:
        problems.append(f"{len(claimed)} files left in work folders")
    if (left := _claims_left(cluster, database)):
        problems.append(f"{left} claims left in the database")
    if list((root / "rejected").glob("*")) if (root / "rejected").exists() else []:
        problems.append("files were rejected")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--kills", type=int, default=60)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--restart-server", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from pg_cluster import start_cluster

    cluster = start_cluster()
    try:
        cluster.create_database("shared")
        with tempfile.TemporaryDirectory(prefix="recordgen-shared-") as folder:
            report = run(args.files, args.kills, Path(folder), cluster, "shared", seed=args.seed,
                         restart_server=args.restart_server)
    finally:
        cluster.stop()
    print(f"files {report.files}, watchers {report.watchers}, kills {report.kills}, server "
          f"restarts {report.server_restarts}, {report.seconds} s; submissions "
          f"{report.submissions}, documents {report.documents}; problems {len(report.problems)}")
    for problem in report.problems[:20]:
        print(f"  {problem}")
    name = "shared-store-crash" + ("-server-restart" if args.restart_server else "") + ".json"
    results = REPO / "bench" / "results" / name
    results.write_text(json.dumps(asdict(report), indent=2) + "\n", encoding="utf-8")
    raise SystemExit(1 if report.problems else 0)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    main()
