"""A PDF beside every Word document, and what happens when the PDF cannot be made."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader

from recordgen.clock import FixedClock
from recordgen.errors import ConversionError, ConverterMissing
from recordgen.pipeline import Services
from recordgen.pipeline.inbox import process_inbox
from recordgen.services import open_services
from recordgen.settings import Settings

from conftest import example, make_settings

# Real processes that sleep and wait on the real clock: left out of the faked-date runs
# (TESTING.md, "Faked dates").
pytestmark = pytest.mark.real_clock

Drop = Callable[..., Path]

needs_libreoffice = pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice is not installed (run scripts/setup)"
)


@pytest.fixture
def pdf_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, output={"pdf": True})


@pytest.fixture
def pdf_services(pdf_settings: Settings, clock: FixedClock) -> Iterator[Services]:
    with open_services(pdf_settings, clock) as opened:
        yield opened


def drop_into(settings: Settings, content: dict[str, object], name: str) -> None:
    import json

    (settings.folders.inbox / name).write_text(json.dumps(content, ensure_ascii=False))


class MissingConverter:
    """LibreOffice is not installed."""

    def convert(self, docx_paths: Sequence[Path], out_dir: Path) -> dict[Path, Path]:
        raise ConverterMissing("LibreOffice was not found. Install it with `sudo apt-get "
                               "install libreoffice-writer-nogui`, or run scripts/setup.")

    def close(self) -> None:
        pass


class FakeConverter:
    """Makes a one-page PDF per document, except for documents whose name contains ``refuse``."""

    def __init__(self, refuse: str = "") -> None:
        self.refuse = refuse
        self.calls: list[list[str]] = []

    def convert(self, docx_paths: Sequence[Path], out_dir: Path) -> dict[Path, Path]:
        self.calls.append([p.name for p in docx_paths])
        if self.refuse and any(self.refuse in p.name for p in docx_paths):
            raise ConversionError("LibreOffice stopped responding and was stopped.")
        from pypdf import PdfWriter

        made = {}
        for path in docx_paths:
            writer = PdfWriter()
            writer.add_blank_page(width=595, height=842)
            target = out_dir / f"{path.stem}.pdf"
            with target.open("wb") as handle:
                writer.write(handle)
            made[path] = target
        return made

    def close(self) -> None:
        pass


@needs_libreoffice
def test_every_example_gets_a_pdf_that_says_what_the_word_document_says(
    pdf_services: Services, pdf_settings: Settings
) -> None:
    for kind in ("needs_assessment", "support_plan", "exit_letter", "serious_incident"):
        drop_into(pdf_settings, example(kind), f"{kind}.json")
    outcomes = process_inbox(pdf_services)
    assert [o.status for o in outcomes] == ["produced"] * 4
    documents = pdf_services.store.documents()
    assert len(documents) == 4
    for document in documents:
        assert document.pdf_file_name is not None
        pdf = pdf_settings.folders.outbox / document.pdf_file_name
        assert pdf.with_suffix(".docx").name == Path(document.file_name).name
        assert pdf.stat().st_mode & 0o777 == 0o440  # issued: read-only
        text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
        assert document.case_ref in text
    letter = next(d for d in documents if d.kind == "exit_letter")
    assert letter.pdf_file_name is not None
    pdf_path = pdf_settings.folders.outbox / letter.pdf_file_name
    poppler = subprocess.run(["pdftotext", "-layout", str(pdf_path), "-"], capture_output=True,
                             text=True, check=True).stdout
    for fact in ("Siân O'Brien", "Marsh & Quay House", "16 November 2026", "23 November 2026"):
        assert fact in poppler


@pytest.mark.parametrize("swap", ["link", "edited"])
def test_a_missing_pdf_is_made_only_from_the_word_document_as_issued(
    pdf_services: Services, pdf_settings: Settings, swap: str
) -> None:
    # The PDF waits (LibreOffice was missing); meanwhile the issued Word document is replaced by
    # a link to another case's document, or edited. The PDF filed as the record must never be
    # made from it: the file is held, saying why, and no PDF is filed or recorded.
    drop_into(pdf_settings, example("serious_incident"), "incident.json")
    drop_into(pdf_settings, example("support_plan"), "plan.json")
    missing = replace(pdf_services, converter=MissingConverter())
    process_inbox(missing)
    outbox = pdf_settings.folders.outbox
    by_kind = {d.kind: d for d in pdf_services.store.documents()}
    plan, other = by_kind["support_plan"], by_kind["serious_incident"]
    issued = outbox / plan.file_name
    issued.chmod(0o640)
    issued.unlink()
    if swap == "link":
        issued.symlink_to(outbox / other.file_name)
    else:
        issued.write_bytes((outbox / other.file_name).read_bytes())
    fake = FakeConverter()
    outcomes = {o.file_name: o for o in process_inbox(replace(pdf_services, converter=fake))}
    assert outcomes["plan.json"].status == "held"
    assert f"the Word document issued, {plan.file_name}, is missing, is a link, or is not " \
        "what was issued" in outcomes["plan.json"].message
    assert "recordgen verify" in outcomes["plan.json"].message
    assert not [name for calls in fake.calls for name in calls if "support-plan" in name]
    (again,) = [d for d in pdf_services.store.documents() if d.kind == "support_plan"]
    assert again.pdf_file_name is None
    assert not list(outbox.rglob("*support-plan*.pdf"))
    assert outcomes["incident.json"].status == "produced"  # the other case's PDF is made


def test_without_libreoffice_the_word_document_is_still_produced_and_the_case_kept(
    pdf_services: Services, pdf_settings: Settings
) -> None:
    drop_into(pdf_settings, example("exit_letter"), "letter.json")
    missing = replace(pdf_services, converter=MissingConverter())
    (outcome,) = process_inbox(missing)
    assert outcome.status == "held"
    assert "apt-get install libreoffice-writer-nogui" in outcome.message
    assert "Word document was produced" in outcome.message
    (document,) = pdf_services.store.documents()
    assert document.pdf_file_name is None
    assert (pdf_settings.folders.outbox / document.file_name).exists()
    assert not pdf_settings.folders.rejected.exists()  # not rejected as invalid
    assert len(list(pdf_settings.folders.work.rglob("*--letter.json"))) == 1

    # LibreOffice is installed; the next run makes only the PDF: no second Word version.
    fake = FakeConverter()
    (retry,) = process_inbox(replace(pdf_services, converter=fake))
    assert retry.status == "produced"
    (document,) = pdf_services.store.documents()
    assert document.version == 1 and document.pdf_file_name is not None
    assert (pdf_settings.folders.outbox / document.pdf_file_name).exists()
    assert list(pdf_settings.folders.work.rglob("*--letter.json")) == []
    assert [e.action for e in pdf_services.store.audit_entries()][-1] == "pdf produced"


def test_a_batch_is_converted_in_one_call(pdf_services: Services, pdf_settings: Settings) -> None:
    for number in range(3):
        plan = example("support_plan")
        plan["case_ref"] = f"THS-2026-01{number}"
        drop_into(pdf_settings, plan, f"plan{number}.json")
    fake = FakeConverter()
    outcomes = process_inbox(replace(pdf_services, converter=fake))
    assert [o.status for o in outcomes] == ["produced"] * 3
    assert len(fake.calls) == 1 and len(fake.calls[0]) == 3


def test_one_document_that_cannot_be_converted_does_not_hold_back_the_others(
    pdf_services: Services, pdf_settings: Settings
) -> None:
    drop_into(pdf_settings, example("support_plan"), "plan.json")
    drop_into(pdf_settings, example("exit_letter"), "letter.json")
    fake = FakeConverter(refuse="exit-confirmation-letter")
    outcomes = {o.file_name: o for o in process_inbox(replace(pdf_services, converter=fake))}
    assert outcomes["plan.json"].status == "produced"
    assert outcomes["letter.json"].status == "held"
    assert "stopped responding" in outcomes["letter.json"].message
    by_kind = {d.kind: d for d in pdf_services.store.documents()}
    assert by_kind["support_plan"].pdf_file_name is not None
    assert by_kind["exit_letter"].pdf_file_name is None


class WarmFakeConverter(FakeConverter):
    """Keeps its LibreOffice running (:class:`recordgen.documents.convert.Warming`)."""

    processes = 2
    warmed = False

    def warm_up(self) -> None:
        self.warmed = True


def test_a_converter_kept_running_is_started_early_and_given_each_document_as_it_is_rendered(
    pdf_services: Services, pdf_settings: Settings
) -> None:
    drop_into(pdf_settings, example("support_plan"), "plan.json")
    drop_into(pdf_settings, example("needs_assessment"), "assessment.json")
    drop_into(pdf_settings, example("exit_letter"), "letter.json")
    warm = WarmFakeConverter(refuse="exit-confirmation-letter")
    outcomes = {o.file_name: o for o in process_inbox(replace(pdf_services, converter=warm))}
    assert warm.warmed
    assert sorted(len(call) for call in warm.calls) == [1, 1, 1]  # one call a document
    assert outcomes["plan.json"].status == outcomes["assessment.json"].status == "produced"
    assert outcomes["letter.json"].status == "held"
    assert "stopped responding" in outcomes["letter.json"].message
    by_kind = {d.kind: d for d in pdf_services.store.documents()}
    for kind in ("support_plan", "needs_assessment"):
        pdf_name = by_kind[kind].pdf_file_name
        assert pdf_name is not None
        assert len(PdfReader(pdf_settings.folders.outbox / pdf_name).pages) == 1
    assert by_kind["exit_letter"].pdf_file_name is None
    assert (pdf_settings.folders.outbox / by_kind["exit_letter"].file_name).exists()


def test_pdf_can_be_switched_off_for_one_kind(tmp_path: Path, clock: FixedClock) -> None:
    settings = make_settings(tmp_path, output={"pdf": True, "pdf_off_for": ["support_plan"]})
    drop_into(settings, example("support_plan"), "plan.json")
    drop_into(settings, example("exit_letter"), "letter.json")
    with open_services(settings, clock) as services:
        fake = FakeConverter()
        process_inbox(replace(services, converter=fake))
        by_kind = {d.kind: d for d in services.store.documents()}
    assert by_kind["support_plan"].pdf_file_name is None
    assert by_kind["exit_letter"].pdf_file_name is not None
    assert fake.calls == [[Path(by_kind["exit_letter"].file_name).with_suffix(".docx").name]]
