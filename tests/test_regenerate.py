"""`recordgen regenerate`: new versions only where the content changes, resumable, isolated."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import docx
import pytest
from click.testing import CliRunner

from recordgen.cli import EXIT_PROBLEMS, cli
from recordgen.clock import FixedClock
from recordgen.deadlines.tracking import document_clock
from recordgen.documents.regenerate import Selection, regenerate
from recordgen.documents.render import build_context, render_document
from recordgen.documents.versions import stored_case
from recordgen.pipeline import Services
from recordgen.pipeline.inbox import process_inbox
from recordgen.services import open_services
from recordgen.settings import Settings

from conftest import REPO, example, make_settings
from docx_text import docx_header_footer_text, docx_text

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


# --- a new version only when what the document says would change ------------------------------------


def zip_again(path: Path) -> None:
    """The same template, saved again with the same parts: other compression, other order, other
    times (as a zip tool or a copy through another system would)."""
    with zipfile.ZipFile(path) as source:
        parts = [(info.filename, source.read(info)) for info in source.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, data in reversed(parts):
            target.writestr(zipfile.ZipInfo(name, date_time=(2026, 12, 2, 2, 14, 50)), data,
                            compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    assert out.getvalue() != path.read_bytes()
    path.write_bytes(out.getvalue())


def with_provider(services: Services, **changes: Any) -> Services:
    settings = services.settings
    return replace(services, settings=replace(settings, provider=replace(settings.provider,
                                                                        **changes)))


def test_a_setting_the_template_never_prints_changes_nothing(
    services: Services, settings: Settings
) -> None:
    # The complaints email is printed in support plans and exit letters, never in a needs
    # assessment or a serious incident report.
    changed = with_provider(services, complaints_email="complaints-team@thameside.example.org")
    before = sorted(p.name for p in settings.folders.outbox.rglob("*"))
    dry = regenerate(changed, Selection(), dry_run=True, workers=1)
    assert sorted((r.series.split("/")[0], r.status) for r in dry
                  if r.case_ref == "THS-2026-010") == [
        ("exit_letter", "would regenerate"), ("needs_assessment", "unchanged"),
        ("serious_incident", "unchanged"), ("support_plan", "would regenerate")]
    assert sorted(p.name for p in settings.folders.outbox.rglob("*")) == before
    results = regenerate(changed, Selection(), workers=2)
    made = {(r.case_ref, r.series) for r in results if r.status == "regenerated"}
    assert made == {(f"THS-2026-01{n}", kind) for n in range(3)
                    for kind in ("support_plan", "exit_letter")}
    assert {r.reason for r in results if r.status == "regenerated"} == {"settings changed"}
    assert sum(r.status == "unchanged" for r in results) == 6
    for (_, kind), numbers in versions(services).items():
        assert numbers == ([1, 2] if kind in ("support_plan", "exit_letter") else [1])
    for document in services.store.documents():
        text = docx_text(settings.folders.outbox / document.file_name)
        if document.version == 2:
            assert "complaints-team@thameside.example.org" in text
            assert f"{document.case_ref}/" in text and "/v2" in text
    # Run again: nothing more (the assessments are compared again and still say the same).
    again = regenerate(changed, Selection(), workers=1)
    assert [r.status for r in again] == ["unchanged"] * 12
    assert len(services.store.documents()) == 18


def test_a_template_zipped_again_with_the_same_parts_changes_nothing(
    services: Services, settings: Settings, templates: Path
) -> None:
    for kind in KINDS:
        zip_again(templates / f"{kind}.docx")
    before = sorted(p.name for p in settings.folders.outbox.rglob("*"))
    assert [r.status for r in regenerate(services, Selection(), dry_run=True)] == \
        ["unchanged"] * 12
    assert [r.status for r in regenerate(services, Selection(), workers=2)] == ["unchanged"] * 12
    assert sorted(p.name for p in settings.folders.outbox.rglob("*")) == before
    assert len(services.store.documents()) == 12
    # A template zipped again and then really changed still makes a new version.
    edit_template(templates, "support_plan", "What we will work on together",
                  "What we will work on together this quarter")
    results = regenerate(services, Selection(), workers=1)
    assert sorted(r.series for r in results if r.status == "regenerated") == ["support_plan"] * 3


def test_a_printed_setting_makes_v2_that_shows_it(services: Services, settings: Settings) -> None:
    changed = with_provider(services, phone="01632 960 999")
    results = regenerate(changed, Selection(kind="needs_assessment"), workers=1)
    assert [(r.status, r.reason) for r in results] == [("regenerated", "settings changed")] * 3
    for case_ref in ("THS-2026-010", "THS-2026-011", "THS-2026-012"):
        old, new = sorted((d for d in services.store.documents(case_ref)
                           if d.kind == "needs_assessment"), key=lambda d: d.version)
        assert (old.version, new.version, new.reason) == (1, 2, "regenerated: settings changed")
        old_text = docx_text(settings.folders.outbox / old.file_name)
        new_text = docx_text(settings.folders.outbox / new.file_name)
        assert "01632 960 999" in new_text and "01632 960 999" not in old_text
        assert f"{case_ref}/needs-and-risk-assessment/v2" in new_text


def test_a_changed_header_or_style_in_a_template_still_makes_a_new_version(
    services: Services, settings: Settings, templates: Path
) -> None:
    path = templates / "needs_assessment.docx"
    document = docx.Document(str(path))
    (run,) = [r for p in document.sections[0].header.paragraphs for r in p.runs
              if "Our reference:" in r.text]
    run.text = run.text.replace("Our reference:", "Our ref.:")
    document.save(str(path))
    results = regenerate(services, Selection(kind="needs_assessment"), workers=1)
    assert [(r.status, r.reason) for r in results] == [("regenerated", "template changed")] * 3
    new = next(d for d in services.store.documents("THS-2026-010") if d.version == 2)
    assert "Our ref.: THS-2026-010" in docx_header_footer_text(
        settings.folders.outbox / new.file_name)
    # Not a word changes, only how the text looks: still what the document says.
    document = docx.Document(str(path))
    document.styles["Normal"].font.size = docx.shared.Pt(13)
    document.save(str(path))
    results = regenerate(services, Selection(kind="needs_assessment"), workers=1)
    assert [(r.status, r.reason) for r in results] == [("regenerated", "template changed")] * 3
    newest = next(d for d in services.store.documents("THS-2026-010") if d.version == 3)
    assert docx.Document(str(settings.folders.outbox / newest.file_name)).styles[
        "Normal"].font.size == docx.shared.Pt(13)


def without_core_properties(path: Path) -> None:
    """A template with no document properties of its own (as some tools save them): docxtpl then
    renders it, and python-docx stamps each document's properties with the time it is made."""
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    del parts["docProps/core.xml"]
    parts["_rels/.rels"] = re.sub(rb"<Relationship [^>]*docProps/core\.xml\"/>", b"",
                                  parts["_rels/.rels"])
    parts["[Content_Types].xml"] = re.sub(rb"<Override [^>]*/docProps/core\.xml\"[^>]*/>", b"",
                                          parts["[Content_Types].xml"])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    path.write_bytes(out.getvalue())


def test_the_time_a_document_was_saved_is_not_what_it_says(
    settings: Settings, clock: FixedClock, templates: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import docx.opc.parts.coreprops as coreprops

    without_core_properties(templates / "needs_assessment.docx")
    (settings.folders.inbox / "case.json").write_text(json.dumps(example("needs_assessment")))
    with open_services(settings, clock) as services:
        assert [o.status for o in process_inbox(services)] == ["produced"]

        made_now = coreprops.CorePropertiesPart.default

        def made_later(package: Any) -> Any:
            part = made_now(package)
            part.core_properties.modified = dt.datetime(2027, 1, 5, 9, 30, tzinfo=dt.UTC)
            return part

        monkeypatch.setattr(coreprops.CorePropertiesPart, "default", staticmethod(made_later))
        changed = with_provider(services, complaints_email="complaints-team@thameside.example.org")
        (first,) = services.store.documents()
        case = stored_case(first, services.store.submissions()[0])
        due = document_clock(case, first.document_date, changed.settings).shown
        made_again = render_document(templates / "needs_assessment.docx", build_context(
            case, changed.settings, version=1, document_date=first.document_date, due=due))
        assert made_again.content_sha256 != first.content_sha256  # the time of saving differs
        assert [r.status for r in regenerate(changed, Selection(), workers=1)] == ["unchanged"]
        printed = with_provider(services, phone="01632 960 999")
        assert [r.status for r in regenerate(printed, Selection(), workers=1)] == ["regenerated"]
        assert "01632 960 999" in docx_text(
            settings.folders.outbox / services.store.documents()[-1].file_name)


def test_a_regenerated_document_shows_the_reference_as_its_case_file_wrote_it(
    settings: Settings, clock: FixedClock
) -> None:
    case = example("needs_assessment")
    case["case_ref"] = "ths-2026-0142"
    (settings.folders.inbox / "case.json").write_text(json.dumps(case))
    with open_services(settings, clock) as services:
        assert [o.status for o in process_inbox(services)] == ["produced"]
        unprinted = with_provider(services, complaints_email="complaints-team@example.org")
        assert [r.status for r in regenerate(unprinted, Selection(), workers=1)] == ["unchanged"]
        printed = with_provider(services, phone="01632 960 999")
        assert [r.status for r in regenerate(printed, Selection(), workers=1)] == ["regenerated"]
        first, second = services.store.documents()
        for document in (first, second):
            assert "Our reference: ths-2026-0142" in docx_header_footer_text(
                settings.folders.outbox / document.file_name)
        assert "ths-2026-0142/needs-and-risk-assessment/v2" in docx_text(
            settings.folders.outbox / second.file_name)


# --- the same judgement when a case file is sent again ----------------------------------------------


def small_template(path: Path) -> None:
    """A needs assessment template that prints only two names, a phone number and the
    reference."""
    document = docx.Document()
    document.core_properties.title = "Needs and risk assessment"
    document.add_paragraph("Assessment for {{ data.person.name }} by {{ data.worker.name }}")
    document.add_paragraph("Call us on {{ provider.phone }}")
    document.add_paragraph("Reference {{ document.reference }}, version {{ document.version }}")
    document.save(str(path))


def test_a_case_file_sent_again_is_judged_by_what_its_document_would_say(
    settings: Settings, clock: FixedClock, templates: Path
) -> None:
    small_template(templates / "needs_assessment.docx")
    case = example("needs_assessment")
    outbox = settings.folders.outbox

    def send(content: str | dict[str, Any], services: Services) -> str:
        text = content if isinstance(content, str) else json.dumps(content, indent=2)
        (settings.folders.inbox / "case.json").write_text(text)
        (outcome,) = process_inbox(services)
        return str(outcome.status)

    with open_services(settings, clock) as services:
        assert send(json.dumps(case), services) == "produced"
        # The same file again is a duplicate; the same data written otherwise is unchanged.
        assert send(json.dumps(case), services) == "duplicate"
        assert send(case, services) == "unchanged"
        # A setting the template never prints, then a template zipped again: the same data is
        # still nothing new.
        changed = with_provider(services, complaints_email="complaints-team@thameside.example.org")
        assert send(json.dumps(case, indent=3), changed) == "unchanged"
        zip_again(templates / "needs_assessment.docx")
        assert send(json.dumps(case, indent=4), changed) == "unchanged"
        assert [d.version for d in services.store.documents()] == [1]
        # A setting the template prints: the same data makes a new version that shows it.
        printed = with_provider(changed, phone="01632 960 999")
        assert send(json.dumps(case, indent=5), printed) == "produced"
        assert "Call us on 01632 960 999" in docx_text(
            outbox / services.store.documents()[-1].file_name)
        # A changed case file makes a new version, even where the change is not printed...
        case["data"]["contacts"][0]["phone"] = "07700 900 612"
        assert send(case, printed) == "produced"
        # ...and one whose document says something new does too.
        case["data"]["worker"]["name"] = "Tomasz Nowak"
        assert send(case, printed) == "produced"
        assert [d.version for d in services.store.documents()] == [1, 2, 3, 4]
        newest = services.store.documents()[-1]
        assert "by Tomasz Nowak" in docx_text(outbox / newest.file_name)
        assert "version 4" in docx_text(outbox / newest.file_name)
        # Regeneration finds nothing to do.
        assert [r.status for r in regenerate(printed, Selection(), workers=1)] == ["unchanged"]
