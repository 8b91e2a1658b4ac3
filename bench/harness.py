"""What the benchmarks share: a recordgen.toml over folders in a temporary directory, a watcher
started in a child process, and the figures of a list of seconds."""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def write_settings(folder: Path, more: str, *, staging: bool = False) -> Path:
    """``folder``/recordgen.toml: the inbox, outbox, rejected folder and SQLite store in
    ``folder``, the repository's templates and schemas, then ``more`` (the other sections). The
    inbox is made, and with ``staging`` a folder beside it to write case files in before they are
    renamed into the inbox."""
    path = folder / "recordgen.toml"
    path.write_text(
        '[folders]\ninbox = "inbox"\noutbox = "outbox"\nrejected = "rejected"\n'
        'store = "var/store.sqlite3"\n'
        f"templates = {json.dumps(str(REPO / 'templates'))}\n"
        f"schemas = {json.dumps(str(REPO / 'schemas'))}\n" + more,
        encoding="utf-8",
    )
    (folder / "inbox").mkdir(exist_ok=True)
    if staging:
        (folder / "staging").mkdir()
    return path


def start_watcher(command: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    """Run ``command`` (a ``recordgen watch``), its output to ``log_path``; returns once it says it
    is watching."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while "watching" not in log_path.read_text(encoding="utf-8", errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the watcher did not start:\n{log_path.read_text()}")
        time.sleep(0.05)
    return process


def summary(values: list[float]) -> dict[str, Any]:
    """p50, p95, mean, min and max, to a tenth of a millisecond."""
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(statistics.median(values), 4), "p95": round(cuts[94], 4),
            "mean": round(statistics.fmean(values), 4), "min": round(min(values), 4),
            "max": round(max(values), 4)}
