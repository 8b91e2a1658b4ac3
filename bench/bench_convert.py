"""PDF conversion throughput against LibreOffice's own batch conversion, measured in one run.

Run: ``.venv/bin/python bench/bench_convert.py [--docs 40] [--repeat 3]``

The limit is what LibreOffice does unaided: two ``soffice --convert-to pdf`` batch calls in
parallel, each over half of the files and with its own profile. Against it we measure recordgen's
converter, cold (fresh profiles, the first call) and warm (later calls), with one and two
LibreOffice processes. Figures are medians of ``--repeat`` rounds, each measuring the limit and
ours cold then warm, interleaved so that drift in the machine's load affects both. The goal
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

import docx
from pypdf import PdfReader

from recordgen.convert import LibreOfficeConverter, ParallelConverter, find_soffice

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
    parser.add_argument("--repeat", type=int, default=3, help="rounds, each cold then warm (default 3)")
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

    cold = {key: statistics.median(values) for key, values in cold_all.items()}
    warm = {key: statistics.median(values) for key, values in seconds.items()}
    rate = {
        f"{key}_{kind}": len(docs) / figures[key]
        for kind, figures in (("cold", cold), ("warm", warm))
        for key in figures
    }
    ratio = rate["two_warm"] / rate["limit_warm"]
    report = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "libreoffice": version,
        },
        "documents": len(docs),
        "pages_per_document": round(pages / len(docs), 2),
        "rounds": args.repeat,
        "load_average_after": os.getloadavg(),
        "seconds": {
            "cold_median": cold,
            "warm_median": warm,
            "cold_all": cold_all,
            "warm_all": seconds,
        },
        "docs_per_second": rate,
        "two_process_warm_vs_limit": round(ratio, 3),
        "two_process_cold_vs_limit_cold": round(rate["two_cold"] / rate["limit_cold"], 3),
        "goal": GOAL,
        "goal_met": ratio >= GOAL,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")

    print(
        f"{len(docs)} documents, {pages / len(docs):.1f} pages each; {version}; "
        f"{os.cpu_count()} CPUs; medians of {args.repeat} rounds"
    )
    print(f"{'':38}{'cold s':>8}{'docs/s':>8}{'warm s':>8}{'docs/s':>8}")
    rows = {
        "limit": "limit: 2 x soffice --convert-to pdf",
        "one": "recordgen, 1 process",
        "two": "recordgen, 2 processes",
    }
    for key, label in rows.items():
        print(
            f"{label:38}{cold[key]:8.2f}{rate[key + '_cold']:8.1f}{warm[key]:8.2f}{rate[key + '_warm']:8.1f}"
        )
    verdict = "met" if ratio >= GOAL else "NOT met"
    print(f"2 processes vs limit (warm): {ratio:.1%} (goal {GOAL:.0%}: {verdict})")
    print(f"figures written to {RESULTS}")


if __name__ == "__main__":
    main()
