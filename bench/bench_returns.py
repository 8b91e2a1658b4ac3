"""Time and peak memory of the quarterly return over a large store (issue 14, item 5).

Run: ``.venv/bin/python bench/bench_returns.py [--people 10000] [--files-per-person 20]``

A SQLite store is seeded first (not timed) with 10,000 people and 200,000 accepted case files:
for each person a referral, a support plan, support reviews (registration with a GP, hospital
stays), money secured, and for about two in five a support-ended record and an outcomes form, made
from the bundled examples so each is the size of a real one; and five statutory clocks each. The
rows are written straight into the store's tables in one transaction (recording 200,000 case files
through the pipeline would take hours and is not what is measured); they carry no audit entries.

Then, each in a fresh Python process, as ``recordgen report quarterly`` would run:

* ``count``: the quarterly return counted (:func:`recordgen.returns.build.monitoring_return`);
  wall seconds and the process's peak resident memory (``ru_maxrss``);
* ``count_traced``: the same under tracemalloc, for the peak of Python's own allocations (slower:
  its time is not the figure);
* ``file``: counting and filing it (three workbooks, the CSV files, the Word report with its
  charts; PDF off), wall seconds and peak memory;
* ``command``: the whole command, ``recordgen report quarterly --quarter 2026-Q3`` (PDF off) in
  a fresh process, as an admin would type it: Python starting, the store opened and its seal
  read, the return counted and filed; wall seconds and the command's peak memory.

Each mode is run five times (``--rounds``); its median time and its largest peak memory are
reported. Goal (issue 14, item 5): under 5 seconds and under 300 MB. Figures go to the terminal
and to bench/results/returns.json.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import hashlib
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from recordgen.clock import UK, FixedClock
from recordgen.records.store import SqliteStore

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "returns.json"
GOAL_SECONDS, GOAL_MB = 5.0, 300.0
QUARTER = "2026-Q3"
TODAY = dt.date(2026, 12, 1)
MODES = ("count", "count_traced", "file", "command")


def example(kind: str) -> dict[str, Any]:
    (path,) = (REPO / "examples").glob(f"*_{kind}.json")
    return dict(json.loads(path.read_text(encoding="utf-8")))


BASES = {kind: example(kind) for kind in (
    "referral", "support_plan", "support_review", "money_secured", "support_ended",
    "leaver_outcomes")}
WORKERS = [f"Worker {n}" for n in range(40)]


def _file(kind: str, ref: str, worker: str, **data: Any) -> dict[str, Any]:
    document = copy.deepcopy(BASES[kind])
    document["case_ref"] = ref
    document["data"]["worker"] = {"name": worker, "role": "Housing Support Officer"}
    for key, value in data.items():
        if value is None:
            document["data"].pop(key, None)
        else:
            document["data"][key] = value
    return document


def person_files(index: int, per_person: int, rng: random.Random) -> list[dict[str, Any]]:
    """About ``per_person`` case files for one person over 2025 and 2026."""
    ref = f"BENCH-{index:05d}"
    worker = WORKERS[index % len(WORKERS)]
    start = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(0, 600))
    files = [
        _file("referral", ref, worker, received_at=f"{start - dt.timedelta(days=5)}T10:00"),
        _file("support_plan", ref, worker, plan_date=str(start), support_started_on=str(start),
              review_date=str(start + dt.timedelta(weeks=12))),
    ]
    leaves = rng.random() < 0.4
    end = start + dt.timedelta(days=rng.randrange(60, 400))
    money = 3
    reviews = per_person - len(files) - money - (2 if leaves else 0)
    for n in range(reviews):
        day = start + dt.timedelta(weeks=4 * (n + 1))
        stays = [{"admitted_on": str(day - dt.timedelta(days=10)),
                  "discharged_on": str(day - dt.timedelta(days=6))}] if rng.random() < 0.05 else []
        files.append(_file("support_review", ref, worker, review_date=str(day),
                           next_review_date=str(day + dt.timedelta(weeks=4)),
                           hard_outcomes={"registered_with_gp": rng.random() < 0.9,
                                          "hospital_stays": stays}))
    for n in range(money):
        day = start + dt.timedelta(days=30 * (n + 1))
        files.append(_file("money_secured", ref, worker, money_ref=f"M-{n}",
                           status="awarded", decided_on=str(day), applied_on=None,
                           amount=round(rng.uniform(10, 900), 2)))
    if leaves:
        files.append(_file("support_ended", ref, worker, support_ended_on=str(end),
                           learned_on=str(end)))
        files.append(_file("leaver_outcomes", ref, worker, support_started_on=str(start),
                           support_ended_on=str(end), completed_on=str(end),
                           planned_move_on=rng.random() < 0.8))
    return files


def seed(store_path: Path, people: int, per_person: int) -> int:
    """Write the store; the number of case files written."""
    SqliteStore(store_path, clock=FixedClock(dt.datetime(2026, 12, 1, tzinfo=UK)),
                create="benchmark").close()
    rng = random.Random(14)  # noqa: S311 (made-up figures for a benchmark, not a secret)
    connection = sqlite3.connect(store_path)
    written = 0
    base = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    with connection:
        for index in range(people):
            rows = []
            for document in person_files(index, per_person, rng):
                raw = json.dumps(document, ensure_ascii=False).encode("utf-8")
                written += 1
                rows.append((f"bench-{written}", f"{written}.json",
                             hashlib.sha256(raw).hexdigest(),
                             (base + dt.timedelta(seconds=written)).isoformat(),
                             "accepted", document["case_ref"], document["kind"], "[]", raw))
            connection.executemany(
                "INSERT INTO submissions (claim_id, file_name, sha256, received_at, outcome, "
                "case_ref, kind, reasons, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            ref = f"BENCH-{index:05d}"
            clocks = []
            for n in range(5):
                due = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(0, 330))
                met = rng.random() < 0.85
                clocks.append((ref, ("plan", "review", "referral", "outcomes-form", "hard-copy")[n],
                               "bench", str(due - dt.timedelta(days=7)), str(due),
                               str(due + dt.timedelta(days=0 if met else 3)), met, 0 if met else 2))
            connection.executemany(
                "INSERT INTO clocks (case_ref, clock, subject, started, due, closed, met, "
                "working_days_late) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", clocks)
    connection.close()
    return written


MEASURE = r"""
import datetime as dt, json, resource, sys, time, tracemalloc
from pathlib import Path
from recordgen.clock import UK, FixedClock
from recordgen.documents.convert import NoPdfConverter
from recordgen.records.store import SqliteStore
from recordgen.returns.build import monitoring_return
from recordgen.returns.filing import file_return
from recordgen.returns.period import quarter
from recordgen.settings import load_settings, settings_from_mapping

mode, store_path, outbox = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
base = load_settings(Path(sys.argv[4]))
settings = settings_from_mapping({
    "folders": {"store": str(store_path), "outbox": str(outbox), "inbox": str(outbox.parent / "inbox"),
                "rejected": str(outbox.parent / "rejected"),
                "templates": str(base.folders.templates), "schemas": str(base.folders.schemas)},
    "output": {"pdf": False}, "returns": {"counting_processes": int(sys.argv[6])}},
    base_dir=outbox.parent)
period = quarter(sys.argv[5])
today = dt.date(2026, 12, 1)
store = SqliteStore(store_path, clock=FixedClock(dt.datetime(2026, 12, 1, tzinfo=UK)))
if mode == "count_traced":
    tracemalloc.start()
started = time.perf_counter()
if mode == "file":
    filed = file_return(store, settings, period, today, quarterly=True, converter=NoPdfConverter())
    found = filed.figures
else:
    found = monitoring_return(store, settings.returns, period, today, quarterly=True)
seconds = time.perf_counter() - started
traced = tracemalloc.get_traced_memory()[1] / 2**20 if mode == "count_traced" else None
people = next(f.value for f in found.quarterly if f.name == "People supported")
print(json.dumps({"seconds": round(seconds, 2),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "traced_peak_mb": None if traced is None else round(traced, 1),
                  "people_supported": people}))
"""


COMMAND = r"""
import json, resource, subprocess, sys, time
started = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(json.dumps({"seconds": round(time.perf_counter() - started, 2),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                                       / 1024, 1)}))
"""

SAMPLE_SECONDS = 0.05


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process under it, from /proc (Linux)."""
    found, waiting = [], [pid]
    while waiting:
        current = waiting.pop()
        found.append(current)
        try:
            tasks = Path(f"/proc/{current}/task").iterdir()
            for task in tasks:
                waiting.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _memory_kb(pid: int) -> tuple[int, int]:
    """(proportional set size, resident set size) of one process, in kB; (0, 0) once it ended.
    PSS shares each page among the processes using it, so the helpers a return forks, which
    share most of their memory with the process they came from, are not counted twice."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0, 0
    values = {line.split(":")[0]: int(line.split()[1]) for line in lines[1:] if ":" in line}
    return values.get("Pss", 0), values.get("Rss", 0)


def run_sampled(argv: list[str]) -> tuple[str, float, float]:
    """Run ``argv``; its output, and the peak over its run of the whole process tree's memory
    (summed PSS and summed RSS, in MB), sampled every SAMPLE_SECONDS."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    peak_pss = peak_rss = 0
    while process.poll() is None:
        pss, rss = map(sum, zip(*(_memory_kb(p) for p in _descendants(process.pid)),
                                strict=True)) if Path(f"/proc/{process.pid}").exists() else (0, 0)
        # The tree's pids include the sampler's own child only: never this script.
        peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
        time.sleep(SAMPLE_SECONDS)
    output = process.stdout.read() if process.stdout else ""
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, argv, output)
    return output, round(peak_pss / 1024, 1), round(peak_rss / 1024, 1)


def measure_command(store_path: Path, outbox: Path, processes: int) -> dict[str, Any]:
    """``recordgen report quarterly`` as typed, timed from outside (the store's folders in a
    settings file of their own, PDF off)."""
    base = outbox.parent
    config = base / "recordgen-bench.toml"
    config.write_text(
        "[folders]\n"
        + "".join(f'{name} = "{path}"\n' for name, path in (
            ("inbox", base / "inbox"), ("outbox", outbox), ("rejected", base / "rejected"),
            ("store", store_path), ("templates", REPO / "templates"),
            ("schemas", REPO / "schemas")))
        + f"[output]\npdf = false\n[returns]\ncounting_processes = {processes}\n",
        encoding="utf-8")
    for folder in ("inbox", "rejected"):
        (base / folder).mkdir(exist_ok=True)
    output, pss, rss = run_sampled([sys.executable, "-c", COMMAND, sys.executable, "-m",
                                    "recordgen", "--config", str(config), "report", "quarterly",
                                    "--quarter", QUARTER])
    # The sampled tree holds the small timing process above the command: a few MB more.
    return {**json.loads(output.strip().splitlines()[-1]), "tree_pss_mb": pss, "tree_rss_mb": rss}


def measure(mode: str, store_path: Path, outbox: Path, processes: int) -> dict[str, Any]:
    outbox.parent.mkdir(parents=True, exist_ok=True)  # each mode files in an outbox of its own
    if mode == "command":
        return measure_command(store_path, outbox, processes)
    output, pss, rss = run_sampled([sys.executable, "-c", MEASURE, mode, str(store_path),
                                    str(outbox), str(REPO / "recordgen.toml"), QUARTER,
                                    str(processes)])
    return {**json.loads(output.strip().splitlines()[-1]), "tree_pss_mb": pss, "tree_rss_mb": rss}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--files-per-person", type=int, default=20)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--processes", type=int, default=0,
                        help="[returns] counting_processes (default 0: one per core)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="times each mode is run (its median time is reported)")
    parser.add_argument("--keep-store", type=Path, metavar="PATH",
                        help="seed the store at PATH and keep it; reuse it when it is there "
                             "(for profiling between runs: the same seed gives the same store)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="recordgen-bench-returns-") as folder:
        root = Path(folder)
        store_path = args.keep_store or root / "var" / "store.sqlite3"
        started = time.perf_counter()
        if args.keep_store is not None and store_path.exists():
            with sqlite3.connect(store_path) as connection:
                (written,) = connection.execute("SELECT count(*) FROM submissions").fetchone()
            print(f"reusing {store_path} ({written} case files)")
        else:
            store_path.parent.mkdir(parents=True, exist_ok=True)
            written = seed(store_path, args.people, args.files_per_person)
            print(f"seeded {args.people} people, {written} case files")
        seed_seconds = time.perf_counter() - started
        print(f"in {seed_seconds:.0f} s ({store_path.stat().st_size / 2**20:.0f} MB store)")
        load_before = [round(x, 2) for x in os.getloadavg()]
        runs = {}
        for mode in args.modes:
            # The machine is a shared virtual one: each mode is run several times, each time
            # filing in an empty outbox, and the median time and the largest memory reported.
            rounds = [measure(mode, store_path, root / f"{mode}-{n}" / "outbox", args.processes)
                      for n in range(args.rounds)]
            runs[mode] = {**rounds[0],
                          "seconds": statistics.median(r["seconds"] for r in rounds),
                          "peak_rss_mb": max(r["peak_rss_mb"] for r in rounds),
                          "tree_pss_mb": max(r["tree_pss_mb"] for r in rounds),
                          "tree_rss_mb": max(r["tree_rss_mb"] for r in rounds),
                          "seconds_each": [r["seconds"] for r in rounds]}
            print(f"{mode}: {runs[mode]}")
    if set(runs) != set(MODES):
        print("not every mode was run: bench/results/returns.json is left as it was")
        return 0
    count, filing, command = runs["count"], runs["file"], runs["command"]
    result = {
        "people": args.people,
        "case_files": written,
        "quarter": QUARTER,
        "python": platform.python_version(),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        # The machine is shared: the load around the runs says how far to trust the seconds.
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "seed_seconds": round(seed_seconds, 1),
        "counting_processes": args.processes or os.cpu_count(),
        "runs": runs,
        "goal": {"seconds": GOAL_SECONDS, "mb": GOAL_MB},
        # Memory is judged by the whole process tree's PSS: the command and the helpers it forks.
        "count_meets_goal": count["seconds"] < GOAL_SECONDS and count["tree_pss_mb"] < GOAL_MB,
        "file_meets_goal": filing["seconds"] < GOAL_SECONDS and filing["tree_pss_mb"] < GOAL_MB,
        "command_meets_goal": (command["seconds"] < GOAL_SECONDS
                               and command["tree_pss_mb"] < GOAL_MB),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written to {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
