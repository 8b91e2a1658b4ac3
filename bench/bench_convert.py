"""PDF conversion throughput against LibreOffice's own batch conversion, measured in one run.

Run: ``.venv/bin/python bench/bench_convert.py [--docs 40] [--repeat 5]``

The limit is what LibreOffice does unaided: two ``soffice --convert-to pdf`` batch calls in
parallel, each over half of the files and with its own profile. Against it we measure recordgen's
converter, cold (fresh profiles, the first call) and warm (later calls), with one and two
LibreOffice processes. ``--repeat`` rounds each measure the limit and ours cold then warm,
interleaved so that drift in the machine's load affects both; best and median are reported. The goal
(issue 5, item 6) is two-process warm throughput of at least 90% of the limit. Figures go to the
terminal and to bench/results/convert.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
from pypdf import PdfReader

from recordgen.documents.convert import LibreOfficeConverter, ParallelConverter, find_soffice

RESULTS = Path(__file__).parent / "results" / "convert.json"
GOAL = 0.90

PARAGRAPH = (
    "{name} met their support worker at the hostel on {day} to review progress against the "
    "agreed objectives. They have kept to their rent payment plan, attended two of three "
    "appointments with the community mental health team, and asked for help to bid for "
    "a one-bedroom flat through the council's choice-based lettings scheme. Risks discussed: "
    "rent arrears, isolation at weekends, and contact with a former partner; each has an action "
    "below with an owner and a date."
)


def make_documents(folder: Path, count: int) -> list[Path]:
    """``count`` support plans of three or four pages: headings, paragraphs and a table."""
    paths = []
    for n in range(count):
        document = docx.Document()
        document.add_heading(f"Support plan THS-2026-{n:04d}", level=0)
        for section in ("Background", "Goals", "Risks and actions", "Review"):
            document.add_heading(section, level=1)
            for day in range(4 + n % 2):
                text = PARAGRAPH.format(name=f"Siân O'Brien {n}", day=f"{day + 1} March 2026")
                document.add_paragraph(text)
        table = document.add_table(rows=1, cols=4)
        table.style = "Table Grid"
        for cell, title in zip(table.rows[0].cells, ("Action", "Who", "By", "Done"), strict=True):
            cell.text = title
        for row in range(12):
            cells = table.add_row().cells
            cells[0].text = f"Action {row + 1}: book appointment & confirm <by letter>"
            cells[1].text, cells[2].text, cells[3].text = "Key worker", f"{row + 1} April 2026", ""
        path = folder / f"plan-{n:04d}.docx"
        document.save(str(path))
        paths.append(path)
    return paths


def soffice_batches(soffice: str, halves: list[list[Path]], profiles: list[Path], out: Path) -> float:
    """Wall seconds for plain ``soffice --convert-to pdf`` batch calls, run in parallel."""
    started = time.perf_counter()
    processes = []
    for number, (half, profile) in enumerate(zip(halves, profiles, strict=True)):
        target = out / f"limit{number}"
        target.mkdir(parents=True, exist_ok=True)
        command = [
            soffice, f"-env:UserInstallation={profile.as_uri()}",
            "--headless", "--norestore", "--nolockcheck",
            "--convert-to", "pdf", "--outdir", str(target), *map(str, half),
        ]  # fmt: skip
        processes.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for process in processes:
        process.wait()
    elapsed = time.perf_counter() - started
    made = sum(len(list((out / f"limit{n}").glob("*.pdf"))) for n in range(len(halves)))
    if made != sum(map(len, halves)):
        raise SystemExit(f"LibreOffice's own batch made {made} PDFs, expected {sum(map(len, halves))}")
    shutil.rmtree(out)
    return elapsed


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=40, help="documents per batch (default 40)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds, each cold then warm (default 5)")
    args = parser.parse_args()
    soffice = find_soffice()
    version = subprocess.run(
        [soffice, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()

    with tempfile.TemporaryDirectory(prefix="bench-convert-") as scratch:
        root = Path(scratch)
        (root / "docs").mkdir()
        docs = make_documents(root / "docs", args.docs)
        middle = len(docs) // 2
        halves = [docs[:middle], docs[middle:]]
        out = root / "out"
        cold_all: dict[str, list[float]] = {k: [] for k in ("limit", "one", "two")}
        seconds: dict[str, list[float]] = {k: [] for k in ("limit", "one", "two")}

        # Untimed: load LibreOffice from disk once, so "cold" means a fresh profile, not cold disk.
        soffice_batches(soffice, [docs[:1]], [root / "warm-up"], out)
        for round_number in range(args.repeat):
            profiles = [root / f"profile{round_number}-{n}" for n in range(2)]
            cold_all["limit"].append(soffice_batches(soffice, halves, profiles, out))
            with LibreOfficeConverter() as one, ParallelConverter(processes=2) as two:
                cold_all["one"].append(timed(lambda: one.convert(docs, out / "one")))
                cold_all["two"].append(timed(lambda: two.convert(docs, out / "two")))
                pages = sum(len(PdfReader(p).pages) for p in (out / "two").glob("*.pdf"))
                seconds["limit"].append(soffice_batches(soffice, halves, profiles, out))
                seconds["one"].append(timed(lambda: one.convert(docs, out / "one")))
                seconds["two"].append(timed(lambda: two.convert(docs, out / "two")))

    # Other work on the machine only ever adds time, so the best round is the steadiest measure of
    # throughput (as timeit advises); medians are kept beside it to show the spread.
    timings = {"cold": cold_all, "warm": seconds}
    rate = {
        f"{key}_{phase}_{stat.__name__}": len(docs) / stat(values)
        for phase, figures in timings.items()
        for key, values in figures.items()
        for stat in (min, statistics.median)
    }
    ratio = {
        f"{phase}_{stat}": rate[f"two_{phase}_{stat}"] / rate[f"limit_{phase}_{stat}"]
        for phase in timings
        for stat in ("min", "median")
    }
    report = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "libreoffice": version,
            "load_average_after": os.getloadavg(),
        },
        "documents": len(docs),
        "pages_per_document": round(pages / len(docs), 2),
        "rounds": args.repeat,
        "seconds_per_round": timings,
        "docs_per_second": {key: round(value, 2) for key, value in rate.items()},
        "two_processes_vs_limit": {key: round(value, 3) for key, value in ratio.items()},
        "goal": GOAL,
        "goal_met_warm_best": ratio["warm_min"] >= GOAL,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report, rows=("limit", "one", "two"))


def print_table(report: dict[str, Any], rows: tuple[str, ...]) -> None:
    labels = {
        "limit": "limit: 2 x soffice --convert-to pdf",
        "one": "recordgen, 1 process",
        "two": "recordgen, 2 processes",
    }
    rate, ratio = report["docs_per_second"], report["two_processes_vs_limit"]
    print(
        f"{report['documents']} documents of {report['pages_per_document']:g} pages; "
        f"{report['machine']['libreoffice']}; {report['machine']['cpus']} CPUs; "
        f"{report['rounds']} rounds"
    )
    print(f"{'docs/s':38}{'cold best':>11}{'cold med':>10}{'warm best':>11}{'warm med':>10}")
    for key in rows:
        cells = [
            f"{rate[f'{key}_{phase}_{stat}']:>{width}.1f}"
            for phase in ("cold", "warm")
            for stat, width in (("min", 11), ("median", 10))
        ]
        print(f"{labels[key]:38}" + "".join(cells))
    named = {"cold_min": "cold best", "cold_median": "cold median",
             "warm_min": "warm best", "warm_median": "warm median"}  # fmt: skip
    print("2 processes vs limit: " + ", ".join(f"{named[k]} {v:.0%}" for k, v in ratio.items()))
    verdict = "met" if report["goal_met_warm_best"] else "NOT met"
    print(f"goal: warm, best round, >= {report['goal']:.0%} of the limit: {verdict}")
    print(f"figures written to {RESULTS}")


if __name__ == "__main__":
    main()
