"""Time and peak memory to build a subject access bundle for a person with 200 records.

Run: ``.venv/bin/python bench/bench_bundle.py [--case-files 100] [--withheld mixed|all|none]``

A store is seeded first, through the real pipeline with real LibreOffice (not timed): 100 case
files for one person (assessments, support plan versions, serious incidents, exit letters), each
producing one document, so 200 records. ``--withheld`` says how many of them hold other people's
information: "mixed" (every assessment, half the plans and half the incidents: 55 of the 100
documents must be re-created with their third-party values withheld; the other 45 are copied from
the PDFs kept when they were issued), "all" (every document re-created: the worst case) or "none".

Then the request is processed in a fresh Python process, as ``recordgen process`` would: claim,
validate, build the bundle (redaction, Word documents, one LibreOffice call, assembly), publish and
record. Measured: wall seconds for that run; peak memory of the Python process (its
``ru_maxrss``), of LibreOffice (sampled every 20 ms from /proc over its whole process group, and
its ``ru_maxrss`` as a child) and the two together. "cold" is a first conversion with a fresh
LibreOffice profile (a new ``recordgen process`` run); "warm" has a LibreOffice start behind it (the
watcher, or a later batch). Goal (issue 5, item 6): under 20 s and 500 MB.
Figures go to the terminal and to bench/results/bundle.json.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

import docx
from pypdf import PdfReader

from recordgen.pipeline.inbox import process_inbox
from recordgen.services import open_services
from recordgen.settings import Settings, settings_from_mapping

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "bundle.json"
CASE_REF = "THS-2026-0142"
GOAL_SECONDS, GOAL_MB = 20.0, 500.0
THIRD_PARTY = "Carys Morgan"


def example(kind: str) -> dict[str, Any]:
    (path,) = (REPO / "examples").glob(f"*_{kind}.json")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def case_files(count: int, withheld: str) -> list[dict[str, Any]]:
    """``count`` case files for one person: 20% assessments, 40% plan versions, 30% incidents,
    10% exit letters, in that order of arrival."""
    mix = [("needs_assessment", 0.2), ("support_plan", 0.4), ("serious_incident", 0.3),
           ("exit_letter", 0.1)]
    files = []
    for kind, share in mix:
        for n in range(round(count * share)):
            files.append(_case_file(kind, n, withheld))
    return files


def _case_file(kind: str, n: int, withheld: str) -> dict[str, Any]:
    document = copy.deepcopy(example(kind))
    document["case_ref"] = CASE_REF
    data = document["data"]
    others = withheld == "all" or (withheld == "mixed" and (kind == "needs_assessment" or n % 2 == 0))
    if kind == "needs_assessment":
        data["needs"][0]["description"] += f" (review {n + 1})"
        if not others:
            data["referral"] = {"received_at": "2026-09-01T09:40", "route": "Self-referral",
                                "first_contact_at": "2026-09-02T11:15"}
            del data["contacts"]
    elif kind == "support_plan":
        data["objectives"][0]["objective"] += f" Step {n + 1} of the plan."
        if not others:
            del data["advocate"]
    elif kind == "serious_incident":
        data["incident_ref"] = f"INC-2026-{n + 100:03d}"
        data["person"] = {"name": "Siân O'Brien", "date_of_birth": "1979-03-14"}
        involved = [{"name": "Siân O'Brien", "role": "service user", "involvement": "Was hurt"},
                    {"name": "Tom Reilly", "role": "staff", "involvement": "Gave first aid"}]
        if others:
            involved.append({"name": f"Marek Nowak {n}", "role": "other resident",
                             "involvement": "Raised the alarm"})
        data["people_involved"] = involved
        data["what_happened"] = (f"Incident {n + 1}: Siân fell on the stairs at the scheme and "
                                 "hurt her wrist.")
    else:
        data["arrangements_agreed"][0] += f" (exit {n + 1})"
        if others:
            data["arrangements_agreed"].append(f"{THIRD_PARTY} will help with the move.")
    return document


def bench_settings(folder: Path) -> Settings:
    """The repository's settings (templates, schemas, wording), with the folders under ``folder``."""
    raw = tomllib.loads((REPO / "recordgen.toml").read_text(encoding="utf-8"))
    raw["folders"] = {
        "inbox": str(folder / "inbox"), "outbox": str(folder / "outbox"),
        "rejected": str(folder / "rejected"), "store": str(folder / "var" / "store.sqlite3"),
        "templates": str(REPO / "templates"), "schemas": str(REPO / "schemas"),
    }
    raw["output"] = {"pdf": True}
    (folder / "inbox").mkdir(parents=True, exist_ok=True)
    return settings_from_mapping(raw, base_dir=folder)


def seed(folder: Path, count: int, withheld: str) -> None:
    """Process ``count`` case files through the real pipeline into a store under ``folder``. Each
    batch holds at most one version of a document: a batch plans every file before it records
    any, so two versions of one plan in one batch would both be planned as the same version."""
    settings = bench_settings(folder)
    by_series: dict[str, list[Path]] = {}
    for number, document in enumerate(case_files(count, withheld)):
        path = settings.folders.inbox / f"{number:04d}_{document['kind']}.json"
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        series = document["kind"] + document["data"].get("incident_ref", "")
        by_series.setdefault(series, []).append(path)
    rounds = max(len(paths) for paths in by_series.values())
    with open_services(settings) as services:
        for round_number in range(rounds):
            batch = [paths[round_number] for paths in by_series.values()
                     if round_number < len(paths)]
            bad = [o for o in process_inbox(services, batch) if o.status != "produced"]
            if bad:
                raise SystemExit(f"seeding failed: {bad[0].status} {bad[0].file_name}: "
                                 f"{bad[0].message} {bad[0].problems}")


class TreeSampler(threading.Thread):
    """Peak resident memory of this process's LibreOffice children (their process groups)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.stop = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.stop.is_set():
            total = 0
            for pid in _descendants(me):
                total += _rss_kb(pid)
            self.peak_kb = max(self.peak_kb, total)
            self.stop.wait(0.02)


def _descendants(root: int) -> list[int]:
    """Every process below ``root`` (one pass over /proc: a few milliseconds)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, queue = [], [root]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def _cpu_seconds() -> float:
    """User and system CPU time of this process and its finished children (LibreOffice)."""
    own, children = (resource.getrusage(resource.RUSAGE_SELF),
                     resource.getrusage(resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(folder: Path, warm: bool) -> dict[str, Any]:
    """In this (fresh) process: drop the request and process it; report time and memory."""
    settings = bench_settings(folder)
    request = example("subject_access_request")
    with open_services(settings) as services:
        if warm:  # one LibreOffice start behind us: its profile exists
            warm_up = folder / "warm-up.docx"
            docx.Document().save(str(warm_up))
            services.converter.convert([warm_up], folder / "warm-up")
        path = settings.folders.inbox / "request.json"
        path.write_text(json.dumps(request, ensure_ascii=False), encoding="utf-8")
        sampler = TreeSampler()
        sampler.start()
        cpu_before = _cpu_seconds()
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        (outcome,) = process_inbox(services, [path])
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
        sampler.stop.set()
        sampler.join()
    if outcome.status != "produced":
        raise SystemExit(f"the bundle was not produced: {outcome.status} {outcome.message}")
    bundle = settings.folders.outbox / outcome.documents[0]
    reader = PdfReader(bundle)
    python_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    libreoffice_mb = max(sampler.peak_kb / 1024, children_mb)
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),  # Python and LibreOffice together: not inflated by load
        "load_average_before": round(load_before, 2),
        "pages": len(reader.pages),
        "records": len(reader.outline) - 2,
        "bundle_mb": round(bundle.stat().st_size / 1e6, 2),
        "peak_mb": {
            "python": round(python_mb, 1),
            "libreoffice": round(libreoffice_mb, 1),
            "libreoffice_sampled": round(sampler.peak_kb / 1024, 1),
            "libreoffice_ru_maxrss": round(children_mb, 1),
            "together": round(python_mb + libreoffice_mb, 1),
        },
    }


def run(case_file_count: int, withheld: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="recordgen-bench-bundle-") as name:
        folder = Path(name)
        started = time.perf_counter()
        seed(folder, case_file_count, withheld)
        print(f"seeded {case_file_count} case files ({withheld} withheld) in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        results = {}
        for mode in ("cold", "warm"):
            command = [sys.executable, __file__, "--measure", str(folder)]
            if mode == "warm":
                command.append("--warm")
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise SystemExit(f"measuring failed:\n{done.stdout}\n{done.stderr}")
            results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
            # The next run must not find this bundle already made: take it out of the store's way.
            _forget_bundle(folder)
        return results


def _forget_bundle(folder: Path) -> None:
    """Remove the bundle just made, its files and its rows, so the next run makes it again."""
    for path in (folder / "outbox" / CASE_REF).glob("*subject-access-bundle*"):
        path.unlink()
    db = sqlite3.connect(folder / "var" / "store.sqlite3")
    with db:
        db.execute("DELETE FROM clocks WHERE clock = 'sar'")
        db.execute("DELETE FROM documents WHERE kind = 'subject_access_request'")
        db.execute("DELETE FROM submissions WHERE kind = 'subject_access_request'")
    db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--case-files", type=int, default=100,
                        help="case files to seed; each makes one document (default 100: 200 "
                             "records)")
    parser.add_argument("--withheld", choices=("mixed", "all", "none"), nargs="*",
                        default=["mixed", "all"])
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.warm)))
        return 0
    report: dict[str, Any] = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "libreoffice": _libreoffice_version()},
        "records": args.case_files * 2,
        "goal": {"seconds": GOAL_SECONDS, "peak_mb": GOAL_MB},
        "runs": {},
    }
    for withheld in args.withheld:
        results = run(args.case_files, withheld)
        report["runs"][withheld] = results
        for mode, figures in results.items():
            ok = figures["seconds"] < GOAL_SECONDS and figures["peak_mb"]["together"] < GOAL_MB
            print(f"{withheld:>5} withheld, {mode}: {figures['seconds']:.1f} s "
                  f"({figures['cpu_seconds']:.1f} s CPU, load {figures['load_average_before']:.1f}), "
                  f"{figures['pages']} pages, {figures['records']} records; peak "
                  f"{figures['peak_mb']['python']:.0f} MB Python + "
                  f"{figures['peak_mb']['libreoffice']:.0f} MB LibreOffice = "
                  f"{figures['peak_mb']['together']:.0f} MB  {'(goal met)' if ok else '(OVER GOAL)'}",
                  flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written to {RESULTS.relative_to(REPO)}")
    return 0


def _libreoffice_version() -> str:
    try:
        done = subprocess.run(["soffice", "--version"], capture_output=True, text=True,
                              timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip()


if __name__ == "__main__":
    raise SystemExit(main())
