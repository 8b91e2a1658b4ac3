"""Word rendering per document: recordgen's prepared templates against docxtpl and docxtemplater.

Run: ``.venv/bin/python bench/bench_render.py [--documents 300] [--rounds 3]``

docxtemplater (Node) is installed with npm into a temporary folder (never into the repository) and
given an equivalent template: the same Word document (recordgen's exit letter template, with its
styles, headers and footers, the tags in them made plain text) with the same body, thirty
paragraphs of two fields each and a table whose rows repeat over a list of eight, written in each
engine's own tag language (``{{ field }}`` and ``{%tr for %}`` for recordgen and docxtpl,
``{field}`` and ``{#rows}`` for docxtemplater), filled in with the same data. Each engine makes
``--documents`` documents per round, in one process (one core) and in two processes at once (two
cores), rounds interleaved so the engines share the machine's load; figures are medians, printed
and written to bench/results/render.json. Goal: recordgen's milliseconds per document per core at
or below docxtemplater's.
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
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results" / "render.json"
sys.path.insert(0, str(REPO / "src"))

FIELDS = 30
ROWS = 8

NODE_RENDER = """
const fs = require("fs");
const PizZip = require("pizzip");
const Docxtemplater = require("docxtemplater");
const [template, dataFile, count] = process.argv.slice(2);
const content = fs.readFileSync(template, "binary");
const data = JSON.parse(fs.readFileSync(dataFile, "utf8"));
function render() {
  const doc = new Docxtemplater(new PizZip(content), {paragraphLoop: true, linebreaks: true});
  doc.render(data);
  return doc.getZip().generate({type: "nodebuffer", compression: "DEFLATE"});
}
for (let i = 0; i < 20; i++) render();  // warm the JIT, as recordgen's templates are prepared
const started = process.hrtime.bigint();
let bytes = 0;
for (let i = 0; i < Number(count); i++) bytes += render().length;
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
fs.writeFileSync(template + ".out.docx", render());
console.log(JSON.stringify({seconds, bytes}));
"""

PYTHON_RENDER = """
import json, sys, time
from pathlib import Path
from recordgen.documents.render import render_document, render_docxtpl_document
engine, template, data_file, count = sys.argv[1:]
render = render_document if engine == "recordgen" else render_docxtpl_document
context = json.loads(Path(data_file).read_text(encoding="utf-8"))
for _ in range(5):
    render(Path(template), context)
started = time.perf_counter()
size = sum(len(render(Path(template), context).content) for _ in range(int(count)))
seconds = time.perf_counter() - started
Path(template + "." + engine + ".docx").write_bytes(render(Path(template), context).content)
print(json.dumps({"seconds": seconds, "bytes": size}))
"""


def build_templates(folder: Path) -> tuple[Path, Path]:
    """The same document twice: tags in Jinja (recordgen, docxtpl) and in docxtemplater's language."""
    import docx

    made = []
    for engine in ("jinja", "docxtemplater"):
        document = docx.Document(str(REPO / "templates" / "exit_letter.docx"))
        body = document.element.body
        for child in list(body):
            if not child.tag.endswith("}sectPr"):
                body.remove(child)
        for section in document.sections:
            for part in (section.header, section.footer, section.first_page_header,
                         section.first_page_footer):
                for paragraph in [*part.paragraphs,
                                  *(p for t in part.tables for r in t.rows for c in r.cells
                                    for p in c.paragraphs)]:
                    for run in paragraph.runs:
                        if "{" in run.text:
                            run.text = "Housing support"
        field = "{{ %s }}" if engine == "jinja" else "{%s}"
        document.add_heading("Confirmation of your request to leave the service", level=1)
        for number in range(FIELDS):
            document.add_paragraph(f"Item {number}: " + field % f"first{number}" + " and "
                                   + field % f"second{number}" + ".")
        table = document.add_table(rows=3, cols=3)
        if engine == "jinja":
            table.cell(0, 0).text = "{%tr for row in rows %}"
            table.cell(1, 0).text, table.cell(1, 1).text, table.cell(1, 2).text = (
                "{{ row.what }}", "{{ row.who }}", "{{ row.when }}")
            table.cell(2, 0).text = "{%tr endfor %}"
        else:
            table._tbl.remove(table.rows[2]._tr)
            table._tbl.remove(table.rows[0]._tr)
            table.cell(0, 0).text, table.cell(0, 1).text, table.cell(0, 2).text = (
                "{#rows}{what}", "{who}", "{when}{/rows}")
        path = folder / f"letter-{engine}.docx"
        document.save(str(path))
        made.append(path)
    return made[0], made[1]


def data() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for number in range(FIELDS):
        values[f"first{number}"] = f"Siân O'Brien & Sons <Ltd> {number}"
        values[f"second{number}"] = f"Flat {number}, Marsh & Quay House"
    values["rows"] = [{"what": f"Hand back the keys ({n})", "who": "Siân", "when": "Friday"}
                      for n in range(ROWS)]
    return values


def install_docxtemplater(folder: Path) -> str:
    subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix",
                    str(folder), "docxtemplater", "pizzip"], check=True, capture_output=True)
    package = json.loads((folder / "node_modules" / "docxtemplater" / "package.json").read_text())
    return str(package["version"])


def timed(commands: list[list[str]], cwd: Path) -> float:
    """Run ``commands`` at once; the seconds of the slowest, as each reports them."""
    processes = [subprocess.Popen(c, cwd=cwd, stdout=subprocess.PIPE, text=True,
                                  env={**os.environ, "PYTHONPATH": str(REPO / "src")})
                 for c in commands]
    seconds = []
    for process in processes:
        out, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"{commands[0][:2]} failed")
        seconds.append(json.loads(out.strip().splitlines()[-1])["seconds"])
    return max(seconds)


def check_same_text(folder: Path) -> None:
    """Every engine's document must say the same thing, or the race is not fair."""
    sys.path.insert(0, str(REPO / "tests"))
    from docx_text import docx_text

    texts = {engine: docx_text((folder / name).read_bytes()) for engine, name in (
        ("recordgen", "letter-jinja.docx.recordgen.docx"),
        ("docxtpl", "letter-jinja.docx.docxtpl.docx"),
        ("docxtemplater", "letter-docxtemplater.docx.out.docx"))}
    for engine, text in texts.items():
        for needle in ("Siân O'Brien & Sons <Ltd> 29", "Hand back the keys (7)"):
            if needle not in text:
                raise SystemExit(f"{engine}'s document does not say {needle!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("npm") is None or shutil.which("node") is None:
        raise SystemExit("node and npm are needed to measure docxtemplater")
    with tempfile.TemporaryDirectory(prefix="recordgen-bench-render-") as name:
        folder = Path(name)
        version = install_docxtemplater(folder)
        jinja_template, docxtemplater_template = build_templates(folder)
        data_file = folder / "data.json"
        data_file.write_text(json.dumps(data(), ensure_ascii=False), encoding="utf-8")
        (folder / "render.js").write_text(NODE_RENDER, encoding="utf-8")
        (folder / "render.py").write_text(PYTHON_RENDER, encoding="utf-8")
        counts = {"recordgen": args.documents, "docxtemplater": args.documents,
                  "docxtpl": max(20, args.documents // 10)}
        engines = {
            "recordgen": [sys.executable, "render.py", "recordgen", str(jinja_template),
                          str(data_file), str(counts["recordgen"])],
            "docxtemplater": ["node", "render.js", str(docxtemplater_template), str(data_file),
                              str(counts["docxtemplater"])],
            "docxtpl": [sys.executable, "render.py", "docxtpl", str(jinja_template),
                        str(data_file), str(counts["docxtpl"])],
        }
        seconds: dict[str, dict[int, list[float]]] = {e: {1: [], 2: []} for e in engines}
        for number in range(args.rounds):
            for engine, command in engines.items():
                for cores in (1, 2):
                    seconds[engine][cores].append(timed([command] * cores, folder))
            print(f"round {number + 1}: " + ", ".join(
                f"{e} {seconds[e][1][-1] / counts[e] * 1000:.2f} ms" for e in engines), flush=True)
        check_same_text(folder)
    results: dict[str, Any] = {}
    for engine in engines:
        one = statistics.median(seconds[engine][1]) / counts[engine]
        two = statistics.median(seconds[engine][2]) / counts[engine]
        results[engine] = {
            "ms_per_document_one_core": round(one * 1000, 3),
            "documents_per_second_one_core": round(1 / one, 1),
            "documents_per_second_two_cores": round(2 / two, 1),
            "seconds_per_round_one_core": [round(s, 3) for s in seconds[engine][1]],
            "seconds_per_round_two_cores": [round(s, 3) for s in seconds[engine][2]],
        }
    ours, theirs = (results[e]["ms_per_document_one_core"] for e in ("recordgen", "docxtemplater"))
    for engine, row in results.items():
        print(f"{engine:<14} {row['ms_per_document_one_core']:>7.2f} ms per document per core, "
              f"{row['documents_per_second_one_core']:>7.1f}/s on one core, "
              f"{row['documents_per_second_two_cores']:>7.1f}/s on two")
    print(f"goal: recordgen at or below docxtemplater per document per core: "
          f"{'met' if ours <= theirs else 'NOT met'} ({ours:.2f} ms against {theirs:.2f} ms)")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "node": subprocess.run(
                        ["node", "--version"], capture_output=True, text=True,
                        check=False).stdout.strip(), "load_average_after": os.getloadavg()},
        "docxtemplater": version, "documents_per_round": counts, "rounds": args.rounds,
        "template": f"exit letter template, {FIELDS} paragraphs of two fields, a table of "
                    f"{ROWS} repeated rows",
        "results": results,
        "goal": {"what": "recordgen's ms per document per core at or below docxtemplater's",
                 "met": ours <= theirs},
    }, indent=2) + "\n", encoding="utf-8")
    print(f"written to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
