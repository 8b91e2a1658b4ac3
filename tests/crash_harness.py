"""Crash harness (issue 7 §2): drop case files into a watched inbox while killing the watcher with
SIGKILL at random moments and restarting it; then prove nothing was lost, truncated or duplicated.

Used by tests/test_crash.py with a small run, and on its own for the long run:

    .venv/bin/python tests/crash_harness.py --files 500 --kills 100

which prints the figures and writes them to bench/results/crash.json.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import docx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RUNNER = HERE / "watch_runner.py"


@dataclass
class CrashReport:
    files: int
    kills: int
    restarts: int
    seconds: float
    submissions: int
    documents: int
    problems: list[str]


def _config(root: Path, pdf: bool) -> Path:
    path = root / "recordgen.toml"
    path.write_text(
        '[folders]\ninbox = "inbox"\noutbox = "outbox"\nrejected = "rejected"\n'
        'store = "var/store.sqlite3"\n'
        f"templates = {json.dumps(str(REPO / 'templates'))}\n"
        f"schemas = {json.dumps(str(REPO / 'schemas'))}\n"
        f"[output]\npdf = {'true' if pdf else 'false'}\n"
        "[watch]\nsettle_seconds = 0.2\npoll_seconds = 0\nrescan_seconds = 2\n",
        encoding="utf-8",
    )
    (root / "inbox").mkdir(exist_ok=True)
    return path


def _example(kind: str) -> dict[str, object]:
    (path,) = (REPO / "examples").glob(f"*_{kind}.json")
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _drop(inbox: Path, number: int) -> None:
    """Write elsewhere, then rename in, as a copy tool does; each file is its own case."""
    case = _example("support_plan")
    case["case_ref"] = f"CRASH-{number:05d}"
    temporary = inbox.parent / f".{number}.partial"
    temporary.write_text(json.dumps(case), encoding="utf-8")
    temporary.rename(inbox / f"case-{number:05d}.json")


def _start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        return subprocess.Popen([sys.executable, str(RUNNER), "--config", str(config), "-v",
                                 "watch"], stdout=handle, stderr=subprocess.STDOUT)


def run(files: int, kills: int, root: Path, *, seed: int = 7, pdf: bool = False,
        timeout: float = 1800) -> CrashReport:
    chooser = random.Random(seed)  # noqa: S311 (reproducible timing, not security)
    config = _config(root, pdf)
    inbox, log = root / "inbox", root / "watch.log"
    started = time.monotonic()
    process = _start(config, log)
    restarts, dropped, killed = 0, 0, 0
    while killed < kills or dropped < files:
        for _ in range(chooser.randint(1, max(1, files // max(kills, 1) + 2))):
            if dropped < files:
                _drop(inbox, dropped)
                dropped += 1
        time.sleep(chooser.uniform(0.05, 0.8))
        if killed < kills:
            process.kill()  # SIGKILL: no clean-up of any kind
            process.wait(30)
            killed += 1
            process = _start(config, log)
            restarts += 1
        if time.monotonic() - started > timeout:
            break
    done = _wait_until_done(root, files, started + timeout)
    process.terminate()
    process.wait(60)
    problems = [] if done else ["the watcher did not finish every file in time"]
    problems += check(root, files)
    submissions, documents = _counts(root)
    return CrashReport(files, killed, restarts, round(time.monotonic() - started, 1), submissions,
                       documents, problems)


def _wait_until_done(root: Path, files: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        docs = list((root / "outbox").rglob("*.docx")) if (root / "outbox").exists() else []
        claimed = list((root / "inbox" / ".recordgen-work").rglob("*.json"))
        waiting = list((root / "inbox").glob("*.json"))
        if len(docs) >= files and not claimed and not waiting:
            return True
        time.sleep(0.5)
    return False


def _counts(root: Path) -> tuple[int, int]:
    import sqlite3

    with sqlite3.connect(root / "var" / "store.sqlite3") as db:
        submissions = db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
        documents = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    return int(submissions), int(documents)


def check(root: Path, files: int) -> list[str]:
    """Every file has exactly its document, whole; one submission per file; nothing claimed."""
    from recordgen.records.store import SqliteStore
    from recordgen.records.verify import verify_records

    problems = []
    with SqliteStore(root / "var" / "store.sqlite3") as store:
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
            ref = f"CRASH-{number:05d}"
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
        problems.append(f"{len(claimed)} files left claimed")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="recordgen-crash-") as folder:
        report = run(args.files, args.kills, Path(folder), seed=args.seed)
    print(f"files {report.files}, kills {report.kills}, restarts {report.restarts}, "
          f"{report.seconds} s; submissions {report.submissions}, documents {report.documents}; "
          f"problems {len(report.problems)}")
    for problem in report.problems[:20]:
        print(f"  {problem}")
    results = REPO / "bench" / "results" / "crash.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(asdict(report), indent=2) + "\n", encoding="utf-8")
    raise SystemExit(1 if report.problems else 0)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    main()
