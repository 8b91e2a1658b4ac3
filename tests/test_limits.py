"""Limits that keep one file from stopping the service.

The inputs are the ones a hostile review used: a 1 MB support plan holding about 349,000 empty
objectives, and a Word template with a runaway nested loop. Each is run through ``recordgen
process`` in a child process under an address-space limit (``RLIMIT_AS``) far below what the
review saw them take, beside good files that must still be produced. The rest check each cap on
its own: lists per schema, problems per file, the steps, time and size of one render.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pytest

from recordgen.clock import FixedClock
from recordgen.documents.problems import MAX_PROBLEMS
from recordgen.documents.render import RenderLimits, build_context, render_document
from recordgen.documents.validate import SchemaSet, validate_case_file
from recordgen.errors import TemplateError, TemplateTooCostly
from recordgen.intake.load import MAX_LIST_ITEMS
from recordgen.pipeline import Services
from recordgen.pipeline.inbox import process_inbox
from recordgen.services import open_services
from recordgen.settings import Settings

from conftest import REPO, TODAY, example, make_settings

RUNAWAY = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"
MEMORY_LIMIT = 768 * 1024 * 1024  # the review saw 5 GB taken, and a crash under 2.5 GB


def huge_plan(max_bytes: int) -> bytes:
    """A support plan of just under ``max_bytes`` made of empty objectives (349,000 in 1 MB)."""
    plan = example("support_plan")
    plan["data"]["objectives"] = []
    base = len(json.dumps(plan, separators=(",", ":")).encode())
    plan["data"]["objectives"] = [{}] * ((max_bytes - base) // 3)
    return json.dumps(plan, separators=(",", ":")).encode()


def template_with(folder: Path, kind: str, text: str) -> Path:
    """A copy of the templates folder whose ``kind`` template has ``text`` added at the end."""
    folder.mkdir(exist_ok=True)
    for template in (REPO / "templates").glob("*.docx"):
        (folder / template.name).write_bytes(template.read_bytes())
    document = docx.Document(str(folder / f"{kind}.docx"))
    document.add_paragraph(text)
    document.save(str(folder / f"{kind}.docx"))
    return folder


def drop_good_files(settings: Settings, *kinds: str) -> None:
    for kind in kinds:
        (settings.folders.inbox / f"{kind}.json").write_text(json.dumps(example(kind)))


@pytest.fixture
def services(settings: Settings, clock: FixedClock) -> Iterator[Services]:
    with open_services(settings, clock) as opened:
        yield opened


# --- one file, many entries ----------------------------------------------------------------------


def test_a_support_plan_of_349000_empty_objectives_is_refused_at_once_with_one_problem(
    services: Services, settings: Settings
) -> None:
    raw = huge_plan(settings.limits.max_case_file_bytes)
    (settings.folders.inbox / "plan.json").write_bytes(raw)
    drop_good_files(settings, "needs_assessment", "exit_letter", "serious_incident")
    started = time.monotonic()
    outcomes = {o.file_name: o for o in process_inbox(services)}
    assert time.monotonic() - started < 30  # the review measured 66 s for this file alone
    assert [outcomes[f"{k}.json"].status for k in ("needs_assessment", "exit_letter",
                                                    "serious_incident")] == ["produced"] * 3
    (problem,) = outcomes["plan.json"].problems
    assert problem.path == "$.data.objectives"
    assert "349," in problem.message and f"more than {MAX_LIST_ITEMS:,}" in problem.message
    note = settings.folders.rejected / "plan.json.errors.txt"
    assert note.stat().st_size < 2_000  # the review saw a 529 MB note
    assert (settings.folders.rejected / "plan.json").read_bytes() == raw
    (submission,) = [s for s in services.store.submissions() if s.outcome == "rejected"]
    assert sum(len(r) for r in submission.reasons) < 1_000


def test_errors_reported_for_one_file_stop_at_50_with_a_count_of_the_rest(
    services: Services, settings: Settings
) -> None:
    plan = example("support_plan")
    plan["data"]["objectives"] = [{}] * 999  # within the load limit: the schema checks each
    (settings.folders.inbox / "plan.json").write_text(json.dumps(plan))
    (outcome,) = process_inbox(services)
    assert outcome.status == "rejected"
    assert len(outcome.problems) == MAX_PROBLEMS + 1
    more = outcome.problems[-1]
    assert more.message.startswith("There are ") and "more problems in this file" in more.message
    counted = int(more.message.split()[2].replace(",", ""))
    assert counted > 999 * 4  # every empty objective misses several fields
    note = (settings.folders.rejected / "plan.json.errors.txt").read_text(encoding="utf-8")
    assert f"{MAX_PROBLEMS + 1}. Where: the whole file" in note
    assert f"{MAX_PROBLEMS + 2}. Where" not in note
    assert len(note) < 40_000
    (submission,) = services.store.submissions()
    assert len(submission.reasons) == MAX_PROBLEMS + 1
    assert "This list has more than 30 entries" in note  # the schema's own limit, named first


def test_thousands_of_unknown_fields_are_refused_at_load_in_one_problem(
    services: Services, settings: Settings
) -> None:
    plan = example("support_plan")
    plan["data"].update({f"field_{n}": "" for n in range(5000)})
    (settings.folders.inbox / "plan.json").write_text(json.dumps(plan))
    (outcome,) = process_inbox(services)
    (problem,) = outcome.problems
    assert problem.path == "$.data" and "5,0" in problem.message


def test_a_long_field_name_is_shortened_in_the_note(services: Services, settings: Settings) -> None:
    plan = example("support_plan")
    plan["data"]["x" * 100_000] = 1
    (settings.folders.inbox / "plan.json").write_text(json.dumps(plan))
    (outcome,) = process_inbox(services)
    (problem,) = outcome.problems
    assert len(problem.path) <= 200 and len(problem.message) <= 1_000
    assert (settings.folders.rejected / "plan.json.errors.txt").stat().st_size < 3_000


def test_every_list_in_every_schema_has_a_generous_limit() -> None:
    def arrays(node: Any, where: str) -> Iterator[tuple[str, Any]]:
        if isinstance(node, dict):
            if node.get("type") == "array" or "items" in node:
                yield where, node.get("maxItems")
            for key, child in node.items():
                yield from arrays(child, f"{where}/{key}")
        elif isinstance(node, list):
            for index, child in enumerate(node):
                yield from arrays(child, f"{where}[{index}]")

    found = [(f"{p.name}{where}", limit) for p in sorted((REPO / "schemas").glob("*.json"))
             for where, limit in arrays(json.loads(p.read_text()), "")]
    assert len(found) >= 12
    for where, limit in found:
        assert isinstance(limit, int) and 5 <= limit <= MAX_LIST_ITEMS, where


def test_a_list_over_its_schema_limit_is_named(settings: Settings) -> None:
    plan = example("support_plan")
    plan["data"]["objectives"] = plan["data"]["objectives"] * 16  # 32: over the 30 allowed
    from recordgen.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as info:
        validate_case_file(plan, SchemaSet(settings.folders.schemas), settings, TODAY)
    assert [p.message for p in info.value.problems] == ["This list has more than 30 entries."]


# --- one template that runs away -----------------------------------------------------------------


def exit_letter_context(settings: Settings) -> dict[str, Any]:
    case = validate_case_file(example("exit_letter"), SchemaSet(settings.folders.schemas), settings,
                         TODAY)
    return build_context(case, settings, version=1, document_date=TODAY)


def test_a_runaway_nested_loop_is_stopped_within_seconds(settings: Settings, tmp_path: Path) -> None:
    folder = template_with(tmp_path / "templates", "exit_letter", RUNAWAY)
    started = time.monotonic()
    with pytest.raises(TemplateTooCostly, match="took more than 2,000,000 steps"):
        render_document(folder / "exit_letter.docx", exit_letter_context(settings))
    assert time.monotonic() - started < 20


@pytest.mark.real_clock
def test_a_template_that_runs_longer_than_the_time_limit_is_stopped(
    settings: Settings, tmp_path: Path
) -> None:
    folder = template_with(tmp_path / "templates", "exit_letter", RUNAWAY)
    started = time.monotonic()
    with pytest.raises(TemplateTooCostly, match=r"ran for more than 0\.5 seconds"):
        render_document(folder / "exit_letter.docx", exit_letter_context(settings),
                        RenderLimits(seconds=0.5, steps=10**12))
    assert time.monotonic() - started < 10


def test_a_template_that_writes_too_much_is_stopped(settings: Settings, tmp_path: Path) -> None:
    folder = template_with(tmp_path / "templates", "exit_letter",
                           "{% for i in range(100000) %}{{ data.person.name }} {% endfor %}")
    with pytest.raises(TemplateTooCostly, match="wrote more than 100,000 characters"):
        render_document(folder / "exit_letter.docx", exit_letter_context(settings),
                        RenderLimits(output_chars=100_000))


@pytest.mark.parametrize("text", ["{{ 'x' * 100000000 }}", "{{ 7 ** 99999999 }}",
                                  "{% for i in range(9) %}{{ range(99999)|list * 99 }}{% endfor %}"])
def test_an_expression_that_would_take_all_memory_or_time_is_refused(
    text: str, settings: Settings, tmp_path: Path
) -> None:
    folder = template_with(tmp_path / "templates", "exit_letter", text)
    with pytest.raises(TemplateError, match="may not do"):
        render_document(folder / "exit_letter.docx", exit_letter_context(settings))


def test_a_template_that_calls_itself_for_ever_is_stopped(
    settings: Settings, tmp_path: Path
) -> None:
    folder = template_with(tmp_path / "templates", "exit_letter",
                           "{% macro again() %}{{ again() }}{% endmacro %}{{ again() }}")
    with pytest.raises(TemplateTooCostly):
        render_document(folder / "exit_letter.docx", exit_letter_context(settings))


def test_a_real_document_is_well_inside_every_limit(settings: Settings) -> None:
    tight = RenderLimits(seconds=10, steps=10_000, output_chars=1_000_000)
    rendered = render_document(REPO / "templates" / "exit_letter.docx",
                               exit_letter_context(settings), tight)
    assert rendered.content


def test_a_runaway_template_holds_its_file_and_the_rest_of_the_batch_is_produced(
    tmp_path: Path, clock: FixedClock
) -> None:
    folder = template_with(tmp_path / "templates", "support_plan", RUNAWAY)
    settings = make_settings(tmp_path, folders={"templates": str(folder)})
    drop_good_files(settings, "support_plan", "needs_assessment", "exit_letter")
    with open_services(settings, clock) as services:
        outcomes = {o.file_name: o for o in process_inbox(services)}
        held = outcomes["support_plan.json"]
        assert held.status == "held"
        assert "The Word template support_plan.docx took more than" in held.message
        assert "The case file is fine: it is kept and tried again" in held.message
        assert outcomes["needs_assessment.json"].status == "produced"
        assert outcomes["exit_letter.json"].status == "produced"
        assert len(list(settings.folders.work.rglob("*--support_plan.json"))) == 1
        # Once the template is fixed, the held file is produced at the next run.
        (folder / "support_plan.docx").write_bytes((REPO / "templates" /
                                                    "support_plan.docx").read_bytes())
        (retry,) = process_inbox(services)
        assert retry.status == "produced"


def test_one_file_that_breaks_recordgen_does_not_hold_the_rest_of_its_batch(
    services: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recordgen.pipeline import stages

    real = stages.validate_case_file

    def breaks_on_the_plan(document: Any, *args: Any, **kwargs: Any) -> Any:
        if document.get("kind") == "support_plan":
            raise MemoryError
        return real(document, *args, **kwargs)

    monkeypatch.setattr(stages, "validate_case_file", breaks_on_the_plan)
    drop_good_files(settings, "needs_assessment", "support_plan", "exit_letter")
    outcomes = {o.file_name: o for o in process_inbox(services)}
    assert outcomes["needs_assessment.json"].status == "produced"
    assert outcomes["exit_letter.json"].status == "produced"
    assert outcomes["support_plan.json"].status == "held"
    assert "MemoryError" in outcomes["support_plan.json"].message
    assert len(list(settings.folders.work.rglob("*--support_plan.json"))) == 1


# --- under a memory limit, as a service would run ------------------------------------------------

_CHILD = textwrap.dedent("""
    import datetime as dt, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
    from click.testing import CliRunner
    from recordgen.cli import cli
    from recordgen.clock import UK, FixedClock
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["--config", sys.argv[1], "process"],
                                obj=FixedClock(dt.datetime(2026, 11, 23, 10, tzinfo=UK)))
    print("EXIT", result.exit_code, "SECONDS", round(time.monotonic() - started, 2))
    # The peak resident memory of this process image (ru_maxrss would carry over the parent's).
    status = open("/proc/self/status").read()
    print("PEAK_KB", status.split("VmHWM:")[1].split()[0])
    print(result.output)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
""")


def run_limited(tmp_path: Path, templates: Path) -> tuple[int, float, int, str]:
    config = tmp_path / "recordgen.toml"
    config.write_text(f'[folders]\ntemplates = "{templates}"\nschemas = "{REPO / "schemas"}"\n'
                      '[output]\npdf = false\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", _CHILD.format(limit=MEMORY_LIMIT), str(config)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode == 0, done.stderr[-3000:]
    head = done.stdout.split("\n", 2)
    _, code, _, seconds = head[0].split()
    return int(code), float(seconds), int(head[1].split()[1]), head[2]


@pytest.mark.real_clock  # waits on a real child process
def test_under_a_memory_limit_the_349000_objective_plan_is_rejected_and_the_rest_produced(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    (settings.folders.inbox / "plan.json").write_bytes(
        huge_plan(settings.limits.max_case_file_bytes))
    drop_good_files(settings, "needs_assessment", "exit_letter", "serious_incident")
    code, seconds, peak_kb, output = run_limited(tmp_path, REPO / "templates")
    assert code == 1
    assert "3 produced, 1 rejected" in output
    assert seconds < 60 and peak_kb < MEMORY_LIMIT // 1024
    store = tmp_path / "var" / "recordgen.sqlite3"
    assert sum(p.stat().st_size for p in store.parent.glob("recordgen.sqlite3*")) < 5_000_000
    assert (tmp_path / "rejected" / "plan.json.errors.txt").stat().st_size < 2_000


@pytest.mark.real_clock  # waits on a real child process
def test_under_a_memory_limit_a_runaway_template_holds_its_file_and_the_rest_are_produced(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    folder = template_with(tmp_path / "templates", "support_plan", RUNAWAY)
    drop_good_files(settings, "support_plan", "needs_assessment", "exit_letter",
                    "serious_incident")
    code, seconds, _, output = run_limited(tmp_path, folder)
    assert code == 1
    assert "3 produced, 1 held" in output
    assert seconds < 60
