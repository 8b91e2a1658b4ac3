"""Benchmark: bulk regeneration against its limits (issue 6 §6).

Builds a store of N cases with four documents each (through `recordgen process`), edits every
template so each document must be regenerated, then measures in the same run:

* the limit: raw docxtpl rendering of the same documents, on 1 and on 2 processes;
* `regenerate` (Word only) with 1 and 2 workers, as documents per second and as a share of the
  raw limit on the same number of cores (goal: 80% or more on two cores);
* for the first --pdf-cases cases, Word and PDF: LibreOffice's own batch conversion of the same
  documents (two parallel `soffice --convert-to pdf` calls) as the limit, and `regenerate` with PDF.

Prints a table and writes bench/results/regenerate.json. Usage:

    .venv/bin/python bench/bench_regenerate.py [--cases 1000] [--pdf-cases 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import docx

from recordgen.clock import UK, FixedClock
from recordgen.deadlines.tracking import document_clock
from recordgen.documents.regenerate import Selection, regenerate, select, stored_case
from recordgen.documents.render import build_context, render_document
from recordgen.kinds import DOCUMENT_KINDS as KINDS
from recordgen.pipeline.inbox import process_inbox
from recordgen.services import open_services
from recordgen.settings import Settings, load_settings, settings_from_mapping

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "regenerate.json"
CLOCK = FixedClock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=UK))


def example(kind: str) -> dict[str, Any]:
    (path,) = (REPO / "examples").glob(f"*_{kind}.json")
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def make_settings(root: Path, templates: Path, pdf: bool) -> Settings:
    base = load_settings(REPO / "recordgen.toml")
    provider = {k: list(v) if isinstance(v, tuple) else v for k, v in vars(base.provider).items()}
    (root / "inbox").mkdir(parents=True, exist_ok=True)
    return settings_from_mapping({
        "folders": {"inbox": "inbox", "outbox": "outbox", "rejected": "rejected",
                    "store": "var/store.sqlite3", "templates": str(templates),
                    "schemas": str(REPO / "schemas")},
        "provider": provider,
        "output": {"pdf": pdf},
    }, base_dir=root)


def build(root: Path, cases: int, pdf: bool) -> tuple[Settings, Path]:
    templates = root / "templates"
    shutil.copytree(REPO / "templates", templates)
    settings = make_settings(root, templates, pdf=False)  # the originals, Word only, quickly
    for number in range(cases):
        for kind in KINDS:
            case = example(kind)
            case["case_ref"] = f"BENCH-{number:05d}"
            path = settings.folders.inbox / f"{number:05d}-{kind}.json"
            path.write_text(json.dumps(case), encoding="utf-8")
    with open_services(settings, CLOCK) as services:
        process_inbox(services)
    return make_settings(root, templates, pdf=pdf), templates


def touch_templates(templates: Path, note: str) -> None:
    """A template edit that changes every document: a new closing line."""
    for kind in KINDS.values():
        path = templates / kind.template_file
        document = docx.Document(str(path))
        document.add_paragraph(note)
        document.save(str(path))


def raw_render(settings: Settings, processes: int) -> tuple[int, float]:
    """The limit: docxtpl rendering of the same documents, nothing else."""
    with open_services(settings, CLOCK) as services:
        work = []
        for document, submission in select(services, Selection()):
            case = stored_case(document, submission)
            due = document_clock(case, document.document_date, settings).shown
            work.append((settings.folders.templates / case.kind.template_file,
                         build_context(case, settings, version=document.version + 1,
                                       document_date=document.document_date, due=due)))
    started = time.perf_counter()
    if processes == 1:
        for template, context in work:
            render_document(template, context)
    else:
        with ProcessPoolExecutor(processes) as pool:
            list(pool.map(render_document, [w[0] for w in work], [w[1] for w in work],
                          chunksize=20))
    return len(work), time.perf_counter() - started


def timed_regenerate(settings: Settings, workers: int) -> tuple[int, float]:
    with open_services(settings, CLOCK, pdf_processes=workers) as services:
        started = time.perf_counter()
        results = regenerate(services, Selection(), workers=workers)
        seconds = time.perf_counter() - started
    made = sum(r.status == "regenerated" for r in results)
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise SystemExit(f"{len(failed)} failed, e.g. {failed[0]}")
    return made, seconds


def soffice_limit(settings: Settings, root: Path) -> tuple[int, float]:
    """LibreOffice's own batch conversion of the current Word documents, two calls in parallel."""
    files = sorted(settings.folders.outbox.rglob("*_v1.docx"))
    halves = [files[0::2], files[1::2]]
    started = time.perf_counter()
    processes = []
    for index, half in enumerate(halves):
        out = root / f"soffice-out-{index}"
        out.mkdir()
        profile = Path(tempfile.mkdtemp(prefix="bench-profile-"))
        processes.append(subprocess.Popen(
            ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", "pdf", "--outdir", str(out), *map(str, half)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for process in processes:
        process.wait()
    return len(files), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--pdf-cases", type=int, default=100)
    args = parser.parse_args()
    figures: dict[str, Any] = {"cases": args.cases, "cores": os.cpu_count(),
                               "python": sys.version.split()[0], "when": dt.datetime.now(
                                   dt.UTC).isoformat(timespec="seconds")}
    with tempfile.TemporaryDirectory(prefix="bench-regenerate-") as folder:
        root = Path(folder) / "word"
        started = time.perf_counter()
        settings, templates = build(root, args.cases, pdf=False)
        figures["build_seconds"] = round(time.perf_counter() - started, 1)
        rows = []
        for workers, note in ((1, "Reviewed: one worker."), (2, "Reviewed: two workers.")):
            touch_templates(templates, note)
            docs, raw_seconds = raw_render(settings, workers)
            made, seconds = timed_regenerate(settings, workers)
            assert made == docs == args.cases * len(KINDS), (made, docs)
            raw_rate, rate = docs / raw_seconds, made / seconds
            rows.append({"workers": workers, "documents": made, "raw_render_docs_per_s":
                         round(raw_rate, 1), "regenerate_docs_per_s": round(rate, 1),
                         "share_of_limit": round(rate / raw_rate, 3)})
        figures["word_only"] = rows
        figures["word_scaling_1_to_2"] = round(rows[1]["regenerate_docs_per_s"]
                                               / rows[0]["regenerate_docs_per_s"], 2)
        if args.pdf_cases and shutil.which("soffice"):
            root = Path(folder) / "pdf"
            settings, templates = build(root, args.pdf_cases, pdf=True)
            docs, soffice_seconds = soffice_limit(settings, root)
            touch_templates(templates, "Reviewed: with PDF.")
            made, seconds = timed_regenerate(settings, 2)
            figures["word_and_pdf"] = {
                "cases": args.pdf_cases, "documents": made, "workers": 2,
                "soffice_batch_docs_per_s": round(docs / soffice_seconds, 1),
                "regenerate_docs_per_s": round(made / seconds, 1),
                "share_of_limit": round((made / seconds) / (docs / soffice_seconds), 3)}
    print(f"Regeneration, {args.cases} cases x 4 documents, {figures['cores']} cores")
    print(f"{'workers':>8} {'raw render/s':>13} {'regenerate/s':>13} {'share':>7}")
    for row in figures["word_only"]:
        print(f"{row['workers']:>8} {row['raw_render_docs_per_s']:>13} "
              f"{row['regenerate_docs_per_s']:>13} {row['share_of_limit']:>7.0%}")
    print(f"scaling 1 -> 2 workers: x{figures['word_scaling_1_to_2']}")
    if "word_and_pdf" in figures:
        pdf = figures["word_and_pdf"]
        print(f"Word + PDF ({pdf['cases']} cases): soffice batch {pdf['soffice_batch_docs_per_s']}"
              f"/s, regenerate {pdf['regenerate_docs_per_s']}/s ({pdf['share_of_limit']:.0%})")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
