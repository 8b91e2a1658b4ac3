"""Documents per second with one, two and three watchers on one PostgreSQL store, and with SQLite
and one watcher (Word only: no PDF, so the store and the claims are what is measured).

The watchers are started and left to settle; then the case files are renamed into the inbox at once
and the clock runs until every document is recorded. Each watcher has its own host name (as root)
and its own work folder, as in tests/shared_store_harness.py.

    .venv/bin/python bench/bench_shared_store.py [--files 300]

prints the figures and writes bench/results/shared-store.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from harness import REPO, write_settings

sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "src"))

from pg_cluster import Cluster, start_cluster
from shared_store_harness import HOSTS, config_for, drop, start_watcher


def recorded(root: Path, cluster: Cluster | None, database: str) -> int:
    try:
        if cluster is None:
            with sqlite3.connect(root / "var" / "store.sqlite3") as db:
                return int(db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
        with cluster.connect(database) as pg:
            row = pg.execute("SELECT COUNT(*) FROM documents").fetchone()
            return int(row[0]) if row else 0
    except Exception:  # not made yet
        return 0


def measure(files: int, watchers: int, cluster: Cluster | None, database: str) -> float:
    """Seconds from the files landing in the inbox to the last document recorded."""
    with tempfile.TemporaryDirectory(prefix="recordgen-bench-") as folder:
        root = Path(folder)
        if cluster is None:
            config = write_settings(root, "[output]\npdf = false\n[watch]\nsettle_seconds = 0.2\n"
                                          "poll_seconds = 0\nrescan_seconds = 5\n")
        else:
            config = config_for(root, cluster.url(database), cluster.password, rescan=5)
        running = [start_watcher(config, HOSTS[n], root / f"watch-{n}.log")
                   for n in range(watchers)]
        try:
            time.sleep(3)  # started, store opened, watching
            staging = root / "staging"
            staging.mkdir()
            for number in range(files):
                drop(staging, number, prefix="BENCH")
            started = time.monotonic()
            for path in sorted(staging.glob("*.json")):
                path.rename(root / "inbox" / path.name)
            while recorded(root, cluster, database) < files:
                if time.monotonic() - started > 900:
                    raise RuntimeError("the watchers did not finish in 15 minutes")
                time.sleep(0.1)
            return time.monotonic() - started
        finally:
            for process in running:
                process.terminate()
            for process in running:
                process.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=300)
    args = parser.parse_args()
    results = []
    seconds = measure(args.files, 1, None, "")
    results.append({"store": "sqlite", "watchers": 1, "documents": args.files,
                    "seconds": round(seconds, 2),
                    "documents_per_second": round(args.files / seconds, 1)})
    print(results[-1], flush=True)
    cluster = start_cluster()
    try:
        for watchers in (1, 2, 3):
            name = f"bench_{watchers}"
            cluster.create_database(name)
            seconds = measure(args.files, watchers, cluster, name)
            results.append({"store": "postgresql", "watchers": watchers,
                            "documents": args.files, "seconds": round(seconds, 2),
                            "documents_per_second": round(args.files / seconds, 1)})
            print(results[-1], flush=True)
    finally:
        cluster.stop()
    out = REPO / "bench" / "results" / "shared-store.json"
    out.write_text(json.dumps({
        "what": "Word documents recorded per second, files renamed into the inbox at once; "
                "PostgreSQL on the same machine over a Unix socket, fsync off (a test cluster)",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, shared with other work",
        "results": results,
    }, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
