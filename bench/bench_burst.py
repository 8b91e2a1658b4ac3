"""A burst: many case files dropped at once, ``recordgen process``, against LibreOffice's own limit.

Run: ``.venv/bin/python bench/bench_burst.py [--files 200] [--rounds 3]``

Each round, interleaved so that both sides see the same load on the machine:

1. ``recordgen process`` (the real command, in a child process, default settings: PDF on, one
   LibreOffice per core) over ``--files`` case files of the four document kinds dropped at once
   into a fresh inbox, with a fresh store: Word + PDF documents per second, from start to exit.
2. The limit: the same Word documents (the ones recordgen just made, copied out), converted by
   ``soffice --headless --convert-to pdf`` batch calls, one per core, in parallel, each over its
   share of the documents, each with a fresh profile, as fast as LibreOffice alone goes.
3. ``recordgen process`` again with PDF output off: Word documents per second.

Then the same with one core (``taskset -c 0``, ``[output] conversion_processes = 1``, one soffice
call). Figures are medians over the rounds; they go to the terminal and to
bench/results/burst.json. Goal: Word + PDF at 90% or more of the limit's documents per second.
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
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness import REPO, write_settings

RESULTS = Path(__file__).parent / "results" / "burst.json"
RECORDGEN = [sys.executable, "-m", "recordgen"]
KINDS = ("needs_assessment", "support_plan", "exit_letter", "serious_incident")
GOAL = 0.9


def drop_files(inbox: Path, count: int) -> None:
    examples = {kind: json.loads(next((REPO / "examples").glob(f"*_{kind}.json")).read_text(
        encoding="utf-8")) for kind in KINDS}
    for number in range(count):
        kind = KINDS[number % len(KINDS)]
        case = dict(examples[kind])
        case["case_ref"] = f"BURST-{number:04d}"
        (inbox / f"case {number:04d}.json").write_text(json.dumps(case, ensure_ascii=False),
                                                       encoding="utf-8")


def pinned(cores: int) -> list[str]:
    return ["taskset", "-c", "0"] if cores == 1 else []


def run_recordgen(files: int, *, pdf: bool, cores: int) -> tuple[float, Path]:
    """Seconds for ``recordgen process`` over ``files`` fresh case files, and the folder."""
    folder = Path(tempfile.mkdtemp(prefix="recordgen-bench-burst-"))
    config = write_settings(folder, f"[output]\npdf = {'true' if pdf else 'false'}\n"
                                    f"conversion_processes = {cores}\n")
    drop_files(folder / "inbox", files)
    started = time.perf_counter()
    done = subprocess.run([*pinned(cores), *RECORDGEN, "--config", str(config), "process"],
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    made = list((folder / "outbox").rglob("*.docx"))
    pdfs = list((folder / "outbox").rglob("*.pdf"))
    if done.returncode != 0 or len(made) != files or (pdf and len(pdfs) != files):
        raise SystemExit(f"recordgen process failed ({done.returncode}, {len(made)} Word, "
                         f"{len(pdfs)} PDF):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds, folder


def run_limit(documents: list[Path], cores: int) -> float:
    """Seconds for ``cores`` parallel soffice batch calls over ``documents`` (fresh profiles)."""
    folder = Path(tempfile.mkdtemp(prefix="recordgen-bench-limit-"))
    shares = [documents[i::cores] for i in range(cores)]

    def convert(number: int) -> None:
        out = folder / f"out{number}"
        profile = (folder / f"profile{number}").as_uri()
        subprocess.run([*pinned(cores), "soffice", f"-env:UserInstallation={profile}",
                        "--headless", "--norestore", "--convert-to", "pdf", "--outdir", str(out),
                        *map(str, shares[number])],
                       capture_output=True, check=True)

    started = time.perf_counter()
    with ThreadPoolExecutor(cores) as pool:
        list(pool.map(convert, range(cores)))
    seconds = time.perf_counter() - started
    made = len(list(folder.rglob("*.pdf")))
    shutil.rmtree(folder, ignore_errors=True)
    if made != len(documents):
        raise SystemExit(f"soffice made {made} PDFs of {len(documents)}")
    return seconds


def one_round(files: int, cores: int) -> dict[str, float]:
    seconds, folder = run_recordgen(files, pdf=True, cores=cores)
    documents_folder = Path(tempfile.mkdtemp(prefix="recordgen-bench-docs-"))
    documents = []
    for number, made in enumerate(sorted((folder / "outbox").rglob("*.docx"))):
        copy = documents_folder / f"d{number:04d}.docx"
        shutil.copyfile(made, copy)
        documents.append(copy)
    shutil.rmtree(folder, ignore_errors=True)
    limit = run_limit(documents, cores)
    shutil.rmtree(documents_folder, ignore_errors=True)
    word_only, folder = run_recordgen(files, pdf=False, cores=cores)
    shutil.rmtree(folder, ignore_errors=True)
    return {"word_and_pdf": seconds, "limit": limit, "word_only": word_only}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cores", type=int, nargs="+", default=[2, 1])
    args = parser.parse_args()
    figures: dict[str, Any] = {}
    for cores in args.cores:
        rounds = []
        for number in range(args.rounds):
            rounds.append(one_round(args.files, cores))
            row = rounds[-1]
            print(f"{cores} core(s), round {number + 1}: Word + PDF {row['word_and_pdf']:.2f} s, "
                  f"soffice alone {row['limit']:.2f} s, Word only {row['word_only']:.2f} s",
                  flush=True)
        median = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        per_second = {key: round(args.files / value, 2) for key, value in median.items()}
        ratio = median["limit"] / median["word_and_pdf"]
        figures[f"{cores}_cores"] = {
            "seconds": {key: [round(r[key], 3) for r in rounds] for key in rounds[0]},
            "median_seconds": {key: round(value, 3) for key, value in median.items()},
            "documents_per_second": per_second,
            "word_and_pdf_share_of_limit": round(ratio, 3),
            "goal_met": ratio >= GOAL,
        }
        print(f"{cores} core(s), medians: Word + PDF {per_second['word_and_pdf']:.1f}/s, "
              f"limit {per_second['limit']:.1f}/s ({ratio:.0%} of it; goal {GOAL:.0%}: "
              f"{'met' if ratio >= GOAL else 'NOT met'}), Word only {per_second['word_only']:.1f}/s",
              flush=True)
    soffice = subprocess.run(["soffice", "--version"], capture_output=True, text=True,
                             check=False).stdout.strip()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "libreoffice": soffice,
                    "load_average_after": os.getloadavg()},
        "files": args.files, "rounds": args.rounds, "kinds": list(KINDS),
        "goal": f"Word + PDF at {GOAL:.0%} or more of soffice's own batch conversion",
        "results": figures,
    }, indent=2) + "\n", encoding="utf-8")
    print(f"written to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
