"""`recordgen regenerate`: new versions only where the content changes, resumable, isolated."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from recordgen.cli import EXIT_PROBLEMS, cli
from recordgen.clock import FixedClock
from recordgen.documents.regenerate import Selection, regenerate
from recordgen.pipeline import Services
from recordgen.pipeline.inbox import process_inbox
from recordgen.services import open_services
from recordgen.settings import Settings

from conftest import REPO, example, make_settings
from docx_text import docx_text

KINDS = ("needs_assessment", "support_plan", "exit_letter", "serious_incident")


def edit_template(folder: Path, kind: str, old: str, new: str) -> None:
    path = folder / f"{kind}.docx"
    document = docx.Document(str(path))
    for paragraph in document.paragraphs:
        for run in paragraph.runs:
            if old in run.text:
                run.text = run.text.replace(old, new)
                document.save(str(path))
                return
    raise AssertionError(f"{old!r} not in the {kind} template")


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    shutil.copytree(REPO / "templates", folder)
    return folder


@pytest.fixture
def settings(tmp_path: Path, templates: Path) -> Settings:
    return make_settings(tmp_path, folders={"templates": str(templates)})


@pytest.fixture
def services(settings: Settings, clock: FixedClock) -> Iterator[Services]:
    """Three people, each with all four documents: twelve documents."""
    for number in range(3):
        for kind in KINDS:
            case = example(kind)
            case["case_ref"] = f"THS-2026-01{number}"
            (settings.folders.inbox / f"{number}-{kind}.json").write_text(json.dumps(case))
    with open_services(settings, clock) as opened:
        assert [o.status for o in process_inbox(opened)] == ["produced"] * 12
        yield opened


def versions(services: Services) -> dict[tuple[str, str], list[int]]:
    found: dict[tuple[str, str], list[int]] = {}
    for document in services.store.documents():
        found.setdefault((document.case_ref, document.kind), []).append(document.version)
    return found


def test_nothing_changed_makes_no_new_version(services: Services) -> None:
    results = regenerate(services, Selection(), workers=1)
    assert [r.status for r in results] == ["unchanged"] * 12
    assert len(services.store.documents()) == 12


def test_a_template_edit_makes_exactly_one_new_version_of_each_affected_document(
    services: Services, settings: Settings, templates: Path
) -> None:
    edit_template(templates, "support_plan", "What we will work on together",
                  "What we will work on together this quarter")
    results = regenerate(services, Selection(), workers=2)
    regenerated = [r for r in results if r.status == "regenerated"]
    assert {(r.case_ref, r.series) for r in regenerated} == {
        (f"THS-2026-01{n}", "support_plan") for n in range(3)}
    assert all(r.reason == "template changed" for r in regenerated)
    for (case_ref, kind), numbers in versions(services).items():
        assert numbers == ([1, 2] if kind == "support_plan" else [1]), (case_ref, kind)
    new = next(d for d in services.store.documents() if d.version == 2)
    old = next(d for d in services.store.documents() if d.version == 1 and
               d.case_ref == new.case_ref and d.kind == "support_plan")
    assert new.reason == "regenerated: template changed"
    assert "this quarter" in docx_text(settings.folders.outbox / new.file_name)
    assert "this quarter" not in docx_text(settings.folders.outbox / old.file_name)
    assert "Version 2" in docx_text(settings.folders.outbox / new.file_name)
    # and running it again makes nothing more
    again = regenerate(services, Selection(), workers=1)
    assert [r.status for r in again] == ["unchanged"] * 12


def test_a_settings_change_regenerates_everything_and_says_why(
    services: Services, settings: Settings
) -> None:
    changed = replace(settings, provider=replace(settings.provider, name="New Letterhead Ltd"))
    results = regenerate(replace(services, settings=changed), Selection(case_ref="THS-2026-011"),
                         workers=1)
    assert [r.status for r in results] == ["regenerated"] * 4
    assert {r.reason for r in results} == {"settings changed"}
    letter = next(d for d in services.store.documents() if d.version == 2 and
                  d.kind == "exit_letter")
    text = docx_text(settings.folders.outbox / letter.file_name)
    assert "New Letterhead Ltd" in text
    assert "23 November 2026" in text  # the letter keeps the date it was first sent


def test_dry_run_lists_what_would_change_and_writes_nothing(
    services: Services, settings: Settings, templates: Path
) -> None:
    edit_template(templates, "exit_letter", "What we have agreed", "What we agreed")
    before = sorted(p.name for p in settings.folders.outbox.rglob("*"))
    results = regenerate(services, Selection(), dry_run=True)
    assert sorted(r.case_ref for r in results if r.status == "would regenerate") == [
        "THS-2026-010", "THS-2026-011", "THS-2026-012"]
    assert sorted(p.name for p in settings.folders.outbox.rglob("*")) == before
    assert len(services.store.documents()) == 12


def test_selection_by_case_and_kind(services: Services, templates: Path) -> None:
    for kind in KINDS:
        path = templates / f"{kind}.docx"
        document = docx.Document(str(path))
        document.add_paragraph("Reviewed template, November 2026.")
        document.save(str(path))
    by_kind = regenerate(services, Selection(kind="serious_incident"), workers=1)
    assert {r.series.split("/")[0] for r in by_kind} == {"serious_incident"}
    by_case = regenerate(services, Selection(case_ref="THS-2026-010"), workers=1)
    assert {r.case_ref for r in by_case} == {"THS-2026-010"}
    assert sum(r.status == "regenerated" for r in by_case) == 3  # its incident was already done
    nothing = regenerate(services, Selection(received_to=services.clock.now().date().replace(
        year=2025)), workers=1)
    assert nothing == []


def test_an_interrupted_run_finishes_on_the_next_run_without_duplicates(
    services: Services, templates: Path
) -> None:
    edit_template(templates, "needs_assessment", "Needs arising", "Needs that arise")

    def stop_after_first_chunk(done: int, total: int) -> None:
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        regenerate(services, Selection(), workers=1, progress=stop_after_first_chunk,
                   chunk_size=1)
    assert sum(v == [1, 2] for v in versions(services).values()) == 1
    results = regenerate(services, Selection(), workers=1)
    assert sum(r.status == "regenerated" for r in results) == 2
    assessments = {k: v for k, v in versions(services).items() if k[1] == "needs_assessment"}
    assert list(assessments.values()) == [[1, 2]] * 3


def test_a_failure_on_one_kind_never_stops_the_others(
    services: Services, settings: Settings, templates: Path
) -> None:
    edit_template(templates, "exit_letter", "What we have agreed", "{{ 1 + }}")
    edit_template(templates, "support_plan", "What we will work on together", "Our goals")
    results = regenerate(services, Selection(), workers=2)
    failed = [r for r in results if r.status == "failed"]
    assert len(failed) == 3 and all("exit_letter.docx" in r.reason for r in failed)
    assert sum(r.status == "regenerated" for r in results) == 3


def test_the_command_shows_a_summary_and_exits_1_on_failures(
    services: Services, settings: Settings, templates: Path, tmp_path: Path
) -> None:
    # The repository's settings (so the letterhead is the one the documents were made with),
    # with the folders of this test.
    text = (REPO / "recordgen.toml").read_text(encoding="utf-8")
    for key, value in (("inbox", settings.folders.inbox), ("outbox", settings.folders.outbox),
                       ("rejected", settings.folders.rejected), ("store", settings.folders.store),
                       ("templates", templates), ("schemas", REPO / "schemas")):
        text = re.sub(rf'^{key} = "[^"]*"', f'{key} = "{value}"', text, flags=re.M)
    config = tmp_path / "recordgen.toml"
    config.write_text(text.replace("pdf = true", "pdf = false"), encoding="utf-8")
    dry = CliRunner().invoke(cli, ["--config", str(config), "regenerate", "--dry-run"])
    assert dry.exit_code == 0 and "12 unchanged" in dry.output
    edit_template(templates, "exit_letter", "What we have agreed", "{{ 1 + }}")
    result = CliRunner().invoke(cli, ["--config", str(config), "regenerate", "--workers", "1"])
    assert result.exit_code == EXIT_PROBLEMS
    assert "3 failed" in result.output and "9 unchanged" in result.output
    assert "failed: THS-2026-010 exit_letter" in result.output


# --- version numbers reserved, as a case file's are -------------------------------------------------


def test_a_regeneration_overtaken_by_a_version_being_made_makes_nothing(
    services: Services, settings: Settings, templates: Path
) -> None:
    from recordgen.records.store import VersionRequest

    edit_template(templates, "support_plan", "What we will work on together", "Our goals")
    # A watcher is making version 2 of one plan from a case file dropped meanwhile.
    taken = services.store.reserve_version(VersionRequest(
        "THS-2026-010", "support_plan", "a claim in the watcher's hands", "x" * 64, "y" * 64))
    assert taken.version == 2
    results = regenerate(services, Selection(kind="support_plan"), workers=1)
    by_case = {r.case_ref: r for r in results}
    assert by_case["THS-2026-010"].status == "superseded"
    assert {by_case[c].status for c in ("THS-2026-011", "THS-2026-012")} == {"regenerated"}
    assert list(settings.folders.outbox.glob("THS-2026-010/*support-plan_v2*")) == []
    assert versions(services)[("THS-2026-010", "support_plan")] == [1]


def test_a_regeneration_cut_off_after_publishing_records_the_same_version_when_run_again(
    services: Services, settings: Settings, templates: Path
) -> None:
    from recordgen.records.verify import verify_records
    from test_pipeline import FailingStore

    edit_template(templates, "exit_letter", "What we have agreed", "What we agreed")
    failing = replace(services, store=FailingStore(services.store, failures=3))
    first = regenerate(failing, Selection(kind="exit_letter"), workers=1)
    assert [r.status for r in first] == ["failed"] * 3
    assert len(list(settings.folders.outbox.rglob("*exit-confirmation-letter_v2.docx"))) == 3
    again = regenerate(services, Selection(kind="exit_letter"), workers=1)
    assert [r.status for r in again] == ["regenerated"] * 3
    assert {tuple(v) for k, v in versions(services).items() if k[1] == "exit_letter"} == {(1, 2)}
    assert verify_records(services.store, settings.folders.outbox) == []


def test_a_regeneration_that_fails_to_render_gives_its_number_back(
    services: Services, templates: Path
) -> None:
    edit_template(templates, "exit_letter", "What we have agreed", "{{ 1 + }}")
    assert {r.status for r in regenerate(services, Selection(kind="exit_letter"),
                                         workers=1)} == {"failed"}
    edit_template(templates, "exit_letter", "{{ 1 + }}", "What we agreed")
    assert {r.status for r in regenerate(services, Selection(kind="exit_letter"),
                                         workers=1)} == {"regenerated"}
    assert {tuple(v) for k, v in versions(services).items() if k[1] == "exit_letter"} == {(1, 2)}
