"""Latency of ``recordgen watch``: from a case file being complete in the inbox to its Word document
being in the outbox.

Run: ``.venv/bin/python bench/bench_watch.py [--files 100] [--settle 1] [--poll 1]``

For each mode (native file events, then polling every ``--poll`` seconds) a real watcher runs in a
child process on folders in a temporary directory, and case files are dropped one at a time, two
ways: renamed in (written beside the inbox, then moved in, so complete at once) and written in
place (complete when closed, then taken once unchanged for the settle time). The clock starts when
the file is complete (just after the rename, or just after the close) and stops when its .docx is
in the outbox. Between files the bench waits a random 0-1 s, so that the phase of the 1 s poll
is sampled evenly. The watcher's own processing time per file (its log's ``seconds=``) is reported
beside the latency. Figures go to the terminal and to bench/results/watch.json.

Goal (issue 3, item 7): native p50 under 0.5 s plus the settle time for a renamed-in file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import REPO, start_watcher, summary, write_settings

RESULTS = Path(__file__).parent / "results" / "watch.json"
EXAMPLE = REPO / "examples" / "2026-11-19_THS-2026-0097_serious_incident.json"
RUN_WATCH = (
    "from recordgen.cli import cli\n"
    "from recordgen.cli.watch import watch\n"
    "if watch.name not in cli.commands:\n"
    "    cli.add_command(watch)\n"
    "cli(prog_name='recordgen')\n"
)
GOAL_SECONDS = 0.5  # plus the settle time: native p50 for a renamed-in file


def drop(folder: Path, number: int, how: str) -> tuple[str, float]:
    """Drop case file ``number``; return its case reference and the moment it was complete."""
    case = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    case["case_ref"] = case_ref = f"BENCH-{how[0].upper()}-{number:04d}"
    content = json.dumps(case, ensure_ascii=False, indent=1).encode("utf-8")
    name = f"case {number:04d}.json"
    if how == "renamed in":
        (folder / "staging" / name).write_bytes(content)
        os.rename(folder / "staging" / name, folder / "inbox" / name)
    else:
        with (folder / "inbox" / name).open("wb") as handle:
            handle.write(content)
    return case_ref, time.perf_counter()


def wait_for_document(case_folder: Path, timeout: float = 60.0) -> float:
    deadline = time.perf_counter() + timeout
    while True:
        try:
            if any(name.endswith(".docx") for name in os.listdir(case_folder)):
                return time.perf_counter()
        except FileNotFoundError:
            pass
        if time.perf_counter() > deadline:
            raise SystemExit(f"no document in {case_folder} after {timeout:g} s")
        time.sleep(0.002)


def measure(mode: str, poll: float, settle: float, files: int, rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for how in ("renamed in", "written in place"):
        with tempfile.TemporaryDirectory(prefix="recordgen-bench-watch-") as name:
            folder = Path(name)
            log_path = folder / "watch.log"
            config = write_settings(folder, "[output]\npdf = false\n"
                                    f"[watch]\nsettle_seconds = {settle}\npoll_seconds = {poll}\n"
                                    "rescan_seconds = 60\n", staging=True)
            process = start_watcher([sys.executable, "-c", RUN_WATCH, "--config", str(config),
                                     "watch"], log_path)
            latencies = []
            try:
                for number in range(files):
                    case_ref, complete = drop(folder, number, how)
                    latencies.append(wait_for_document(folder / "outbox" / case_ref) - complete)
                    time.sleep(rng.uniform(0, 1.0))
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(60)
            processing = [float(s) for s in re.findall(r"outcome=produced .*seconds=([\d.]+)",
                                                       log_path.read_text(encoding="utf-8"))]
        rows.append(summarise(mode, poll, how, latencies, processing))
        print_row(rows[-1])
    return rows


def summarise(mode: str, poll: float, how: str, latencies: list[float],
              processing: list[float]) -> dict[str, Any]:
    return {
        "mode": mode, "poll_seconds": poll, "drop": how, "files": len(latencies),
        **summary(latencies),
        "processing_p50": round(statistics.median(processing), 4) if processing else None,
    }


def print_row(row: dict[str, Any]) -> None:
    mode = row["mode"] if row["mode"] == "native" else f"poll {row['poll_seconds']:g} s"
    print(f"{mode:<10} {row['drop']:<17} {row['files']:>5} {row['p50']:>8.3f} {row['p95']:>8.3f} "
          f"{row['min']:>8.3f} {row['max']:>8.3f} {row['processing_p50'] or 0:>10.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100, help="files per mode and drop (100)")
    parser.add_argument("--settle", type=float, default=1.0, help="settle seconds (1)")
    parser.add_argument("--poll", type=float, default=1.0, help="poll seconds for polling (1)")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(args.seed)  # noqa: S311 (spacing between drops, not secrets)
    print(f"settle {args.settle:g} s; latency in seconds from complete in the inbox to .docx in "
          "the outbox")
    print(f"{'mode':<10} {'drop':<17} {'files':>5} {'p50':>8} {'p95':>8} {'min':>8} {'max':>8} "
          f"{'processing':>10}")
    rows = measure("native", 0.0, args.settle, args.files, rng)
    rows += measure("polling", args.poll, args.settle, args.files, rng)
    native_renamed = next(r for r in rows if r["mode"] == "native" and r["drop"] == "renamed in")
    goal = {"what": "native p50 for a renamed-in file under 0.5 s plus the settle time",
            "limit_seconds": GOAL_SECONDS + args.settle, "p50": native_renamed["p50"],
            "met": native_renamed["p50"] < GOAL_SECONDS + args.settle}
    print(f"goal: {goal['what']} ({goal['limit_seconds']:g} s): p50 {goal['p50']:.3f} s, "
          f"{'met' if goal['met'] else 'NOT met'}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count()},
        "settle_seconds": args.settle, "files_per_row": args.files, "kind": "serious_incident",
        "pdf": False, "results": rows, "goal": goal,
    }, indent=2) + "\n", encoding="utf-8")
    print(f"written to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
