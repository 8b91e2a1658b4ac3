"""Subject access bundles (issue 5 §2, §5): one PDF per request, with the covering letter and its
Article 15 information, an index whose entries link to their pages, a bookmark per record, every
record of the case, "Page N of M" and the case reference on every page, and the response clock.

Most tests use :class:`TextConverter`, a fake that writes each Word document's text as PDF and makes
bookmarks as LibreOffice does; tests/test_redaction_leaks.py runs real LibreOffice.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, StreamObject

from recordgen.calendar import ServiceCalendar, sar_due
from recordgen.clock import FixedClock
from recordgen.dates import uk_date
from recordgen.deadlines.clocks import lateness
from recordgen.documents.validate import SchemaSet, validate_case_file
from recordgen.errors import StoreError, ValidationFailed
from recordgen.pipeline import Outcome, Services, stages
from recordgen.pipeline.inbox import process_inbox
from recordgen.services import open_services
from recordgen.settings import Settings
from recordgen.subject_access.bundle import LOG_SUFFIX
from recordgen.subject_access.docx_merge import join
from recordgen.subject_access.pages import index_page_count
from recordgen.subject_access.readable import CaseFileRecord, case_files_document
from recordgen.subject_access.redaction import MARKER
from recordgen.subject_access.requests import DEFAULT_WORDING

from conftest import REPO, example, make_settings

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
CASE = "THS-2026-0142"
RECEIVED = dt.date(2026, 11, 20)
# Case files are dated by the moment they are claimed from the inbox, by the injected clock.
TODAY = dt.date(2026, 11, 23)


# --- a converter that writes the text of each Word document as PDF ------------------------------


def _paragraphs(path: Path) -> Iterator[tuple[str, bool, bool]]:
    """(text, starts a bookmark, starts a new page) for each paragraph of the body, in order, table
    cells included. Like LibreOffice, a paragraph is a bookmark when its own outline level is 1
    (Word's 0), or, with none of its own, when its style is Heading 1."""
    with zipfile.ZipFile(path) as archive:
        root = etree.fromstring(archive.read("word/document.xml"))
    new_page = False
    for paragraph in root.iter(f"{W}p"):
        props = paragraph.find(f"{W}pPr")
        level = props.find(f"{W}outlineLvl") if props is not None else None
        style = props.find(f"{W}pStyle") if props is not None else None
        if level is not None:
            anchor = level.get(f"{W}val") == "0"
        else:
            anchor = style is not None and style.get(f"{W}val") == "Heading1"
        breaks = props is not None and props.find(f"{W}pageBreakBefore") is not None
        text = "".join(t.text or "" for t in paragraph.iter(f"{W}t"))
        yield text, anchor, new_page or breaks
        new_page = props is not None and props.find(f"{W}sectPr") is not None


def text_pdf(path: Path) -> bytes:
    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
        NameObject("/Encoding"): NameObject("/WinAnsiEncoding")}))
    pages: list[list[str]] = []
    marks: list[tuple[str, int]] = []
    for text, anchor, new_page in _paragraphs(path):
        if not pages or (new_page and pages[-1]) or len(pages[-1]) >= 45:
            pages.append([])
        if anchor and text.strip():
            marks.append((text.strip(), len(pages) - 1))
        if text:
            pages[-1].append(text)
    for lines in pages or [[]]:
        page = writer.add_blank_page(595, 842)
        ops = "".join(f"BT /F1 9 Tf 40 {800 - 17 * i} Td ({_escape(line)}) Tj ET\n"
                      for i, line in enumerate(lines))
        stream = StreamObject()
        stream.set_data(ops.encode("cp1252", errors="replace"))
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    for title, page_number in marks:
        writer.add_outline_item(title=title, page_number=page_number)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


class TextConverter:
    """Writes the text of each Word document as a PDF, with bookmarks as LibreOffice makes them."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def convert(self, docx_paths: Sequence[Path], out_dir: Path) -> dict[Path, Path]:
        self.calls.append([p.name for p in docx_paths])
        made = {}
        for path in docx_paths:
            target = out_dir / f"{path.stem}.pdf"
            target.write_bytes(text_pdf(path))
            made[path] = target
        return made

    def close(self) -> None:
        pass


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture
def pdf_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, output={"pdf": True})


@pytest.fixture
def services(pdf_settings: Settings, clock: FixedClock) -> Iterator[Services]:
    with open_services(pdf_settings, clock) as opened:
        yield replace(opened, converter=TextConverter())


def drop(settings: Settings, name: str, document: dict[str, Any]) -> Path:
    path = settings.folders.inbox / name
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def run(services: Services, *files: tuple[str, dict[str, Any]]) -> list[Outcome]:
    for name, document in files:
        drop(services.settings, name, document)
    return process_inbox(services)


def history() -> list[tuple[str, dict[str, Any]]]:
    """Siân O'Brien's assessment, plan and exit letter, as in the examples."""
    return [(f"{n}_{kind}.json", example(kind)) for n, kind in
            enumerate(("needs_assessment", "support_plan", "exit_letter"))]


def request(**changes: Any) -> dict[str, Any]:
    document = example("subject_access_request")
    document["data"].update(changes)
    return document


def the_bundle(settings: Settings, case: str = CASE) -> Path:
    (path,) = (settings.folders.outbox / case).glob("*subject-access-bundle*.pdf")
    return path


def page_texts(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def bookmarks(reader: PdfReader) -> list[tuple[str, int]]:
    out = []
    for item in reader.outline:
        assert not isinstance(item, list), "the bundle's bookmarks are one level deep"
        page = reader.get_destination_page_number(item)
        assert page is not None
        out.append((str(item.title), page))
    return out


EXPECTED_TITLES = [
    f"1. Case file received: Needs and risk assessment ({uk_date(TODAY)})",
    "2. Needs and risk assessment, version 1 (10 September 2026)",
    f"3. Case file received: Support plan ({uk_date(TODAY)})",
    "4. Support plan, version 1 (14 September 2026)",
    f"5. Case file received: Exit confirmation letter ({uk_date(TODAY)})",
    f"6. Exit confirmation letter, version 1 ({uk_date(TODAY)})",
]


# --- the bundle ------------------------------------------------------------------------------------


def test_a_request_produces_one_pdf_bundle_and_its_log_beside_it(
    services: Services, pdf_settings: Settings
) -> None:
    outcomes = run(services, *history(), ("9_request.json", request()))
    assert [o.status for o in outcomes] == ["produced"] * 4
    sar = outcomes[-1]
    assert sar.kind == "subject_access_request"
    stem = f"{TODAY.isoformat()}_{CASE}_subject-access-bundle_v1"
    assert sar.documents == (f"{CASE}/{stem}.pdf", f"{CASE}/{stem}{LOG_SUFFIX}")
    folder = pdf_settings.folders.outbox / CASE
    assert not list(folder.glob("*subject-access*.docx"))  # a bundle is a PDF only
    for name in (f"{stem}.pdf", f"{stem}{LOG_SUFFIX}"):
        assert (folder / name).stat().st_mode & 0o777 == 0o440  # issued: read-only
    assert not list(pdf_settings.folders.work.rglob("*request.json"))  # finished: input removed
    # The bundle's Word documents went to the converter in one call.
    assert len(services.converter.calls) == 2  # the batch's documents, then the bundle's
    assert len(services.converter.calls[1]) == len(set(services.converter.calls[1]))


def test_a_bookmark_per_record_each_on_its_first_page(
    services: Services, pdf_settings: Settings
) -> None:
    run(services, *history(), ("9_request.json", request()))
    reader = PdfReader(the_bundle(pdf_settings))
    marks = bookmarks(reader)
    assert [title for title, _ in marks] == [
        "Cover sheet and covering letter", "Index of records", *EXPECTED_TITLES]
    texts = [page.extract_text() for page in reader.pages]
    assert marks[0][1] == 0 and "Subject access response" in texts[0]
    assert "Index of records" in texts[marks[1][1]]
    first_words = {"Needs and risk assessment": "Needs and risk assessment",
                   "Support plan": "Support plan",
                   "Exit confirmation letter": "Confirmation of your request to leave"}
    for title, page in marks[2:]:
        kind = re.sub(r"^\d+\. (Case file received: )?|, version.*| \(.*$", "", title)
        if "Case file received" in title:
            assert texts[page].startswith(title.split(". ", 1)[1].split(" (")[0])
        else:
            assert first_words[kind] in texts[page], title
    starts = [page for _, page in marks]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


def test_the_index_lists_each_record_with_its_page_and_links_to_it(
    services: Services, pdf_settings: Settings
) -> None:
    run(services, *history(), ("9_request.json", request()))
    reader = PdfReader(the_bundle(pdf_settings))
    marks = dict(bookmarks(reader))
    index_page = marks["Index of records"]
    text = reader.pages[index_page].extract_text()
    links = [a.get_object() for a in reader.pages[index_page]["/Annots"]]
    assert len(links) == len(EXPECTED_TITLES)
    for number, (title, link) in enumerate(zip(EXPECTED_TITLES, links, strict=True), start=1):
        start = marks[title]
        assert link["/Subtype"] == "/Link"
        target = link["/Dest"][0]
        assert reader.get_page_number(reader.get_object(target)) == start
        record_title = title.split(". ", 1)[1].rsplit(" (", 1)[0]
        assert re.search(rf"{number}\.\s*\S+ \S+ \d{{4}}\s*{re.escape(record_title)}\s*"
                         rf"{start + 1}\b", text), (title, text)
    # Each link covers its own row of the index: the rows go down the page in order.
    tops = [float(link["/Rect"][3]) for link in links]
    assert tops == sorted(tops, reverse=True)
    # Only the index has links; the records' own annotations are not carried over.
    assert [i for i, p in enumerate(reader.pages) if "/Annots" in p] == [index_page]


def test_every_page_says_page_n_of_m_and_the_case_reference(
    services: Services, pdf_settings: Settings
) -> None:
    run(services, *history(), ("9_request.json", request()))
    texts = page_texts(the_bundle(pdf_settings))
    total = len(texts)
    assert total > 8
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {total}" in text
        assert f"Subject access bundle · {CASE}" in text


def test_the_covering_letter_gives_the_article_15_information_and_the_due_date(
    services: Services, pdf_settings: Settings
) -> None:
    run(services, *history(), ("9_request.json", request()))
    reader = PdfReader(the_bundle(pdf_settings))
    front = " ".join(p.extract_text() for p in reader.pages[:dict(bookmarks(reader))[
        "Index of records"]])
    front = re.sub(r"\s+", " ", front)
    wording = pdf_settings.sar_wording or DEFAULT_WORDING
    for key in ("purposes", "categories", "recipients", "retention", "source", "rectification",
                "erasure", "restriction", "objection", "complaint"):
        assert " ".join(str(wording.get(key, DEFAULT_WORDING[key])).split()[:8]) in front, key
    for heading in ("Why we hold your information", "What information we hold",
                    "Who we share it with", "How long we keep it",
                    "Where your information came from", "Your rights",
                    "Information Commissioner's Office"):
        assert heading in front
    # The cover sheet, for staff: one calendar month, moved off the weekend (20 December 2026 is
    # a Sunday).
    due = sar_due(ServiceCalendar("england-and-wales"), RECEIVED)
    assert due == dt.date(2026, 12, 21)
    assert "Response due by 21 December 2026 (one calendar month from receipt)" in front
    assert "Dear Siân O'Brien" in front
    assert "Records enclosed 6" in front
    assert "Every page of this pack is numbered as a page of the pack, so the documents' own page " \
        "numbers are left out." in front
    assert "Where we could not be sure whether a name was someone else's, we have withheld it" \
        in front


def test_the_wording_comes_from_the_settings_file(tmp_path: Path, clock: FixedClock) -> None:
    settings = make_settings(tmp_path, output={"pdf": True},
                             subject_access={"retention": "We keep records for seven years."})
    with open_services(settings, clock) as opened:
        run(replace(opened, converter=TextConverter()), *history(),
            ("9_request.json", request()))
    front = " ".join(page_texts(the_bundle(settings))[:3])
    assert "We keep records for seven years." in front
    assert DEFAULT_WORDING["retention"][:40] not in front
    assert DEFAULT_WORDING["purposes"][:40] in front  # a key left out keeps its default


def test_the_repository_settings_reword_only_keys_the_letter_uses() -> None:
    from recordgen.settings import load_settings

    wording = load_settings(REPO / "recordgen.toml").sar_wording
    assert set(wording) <= set(DEFAULT_WORDING)
    assert {"purposes", "categories", "recipients", "retention", "source", "complaint"} <= \
        set(wording)


def test_an_extended_request_is_due_three_months_from_receipt(
    services: Services, pdf_settings: Settings
) -> None:
    run(services, *history(), ("9_request.json", request(
        extended=True, extension_told_on="2026-11-20",
        extension_reason="Your records are held in two systems and must be brought together.")))
    front = re.sub(r"\s+", " ", " ".join(page_texts(the_bundle(pdf_settings))[:3]))
    assert "Response due by 22 February 2027 (three calendar months from receipt, extended: " \
        "the person was told on 20 November 2026)" in front
    assert "Your records are held in two systems" in front
    (clock_row,) = [c for c in services.store.clocks(CASE) if c.clock == "sar"]
    assert clock_row.due == "2027-02-22"


def test_the_response_clock_is_recorded_and_closed_by_the_bundle(
    services: Services, pdf_settings: Settings
) -> None:
    run(services, *history(), ("9_request.json", request()))
    (clock_row,) = [c for c in services.store.clocks(CASE) if c.clock == "sar"]
    assert (clock_row.started, clock_row.due, clock_row.closed) == (
        "2026-11-20", "2026-12-21", TODAY.isoformat())
    assert clock_row.met is True and clock_row.working_days_late == 0
    (document,) = [d for d in services.store.documents(CASE)
                   if d.kind == "subject_access_request"]
    assert clock_row.closed_by == document.id
    assert document.due_on == dt.date(2026, 12, 21) and document.met is True
    assert services.store.clocks(CASE, open_only=True) == [
        c for c in services.store.clocks(CASE, open_only=True) if c.clock != "sar"]


def test_a_late_bundle_is_recorded_as_late(services: Services) -> None:
    (outcome,) = run(services, ("9_request.json", request(received_on="2026-09-01",
                                                          identity_checked_on="2026-09-01")))
    assert outcome.status == "produced"
    (clock_row,) = services.store.clocks(CASE)
    assert clock_row.due == "2026-10-01"  # one calendar month: a Thursday
    late = lateness(ServiceCalendar("england-and-wales"), dt.date(2026, 10, 1), TODAY)
    assert clock_row.met is False and clock_row.working_days_late == late.working_days_late > 0
    (document,) = services.store.documents(CASE)
    assert document.met is False and document.working_days_late == late.working_days_late


def test_the_bundle_is_recorded_with_its_hash_and_the_log_only_by_hash(
    services: Services, pdf_settings: Settings
) -> None:
    run(services, *history(), ("9_request.json", request()))
    store = services.store
    (document,) = [d for d in store.documents(CASE) if d.kind == "subject_access_request"]
    path = pdf_settings.folders.outbox / document.file_name
    assert document.pdf_file_name == document.file_name and path.suffix == ".pdf"
    import hashlib

    assert document.sha256 == document.pdf_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    (entry,) = [e for e in store.audit_entries() if e.action == "redaction log written"]
    log = path.with_name(path.name.replace(".pdf", LOG_SUFFIX))
    assert entry.detail == {"document": document.id, "file": f"{CASE}/{log.name}",
                            "sha256": hashlib.sha256(log.read_bytes()).hexdigest()}
    for other in store.audit_entries():
        assert "withheld" not in json.dumps(other.detail)
    (submission,) = [s for s in store.submissions(CASE) if s.kind == "subject_access_request"]
    assert submission.outcome == "accepted" and document.submission_id == submission.id


def test_verify_accepts_the_bundle_and_its_log(
    services: Services, pdf_settings: Settings
) -> None:
    from recordgen.records.verify import verify_records

    run(services, *history(), ("9_request.json", request()))
    findings = verify_records(services.store, pdf_settings.folders.outbox)
    assert findings == [], findings


def redaction_log_text(settings: Settings, case: str = CASE) -> str:
    """The redaction log beside the bundle, its lines joined (it wraps long sentences)."""
    bundle_path = the_bundle(settings, case)
    text = bundle_path.with_name(bundle_path.name.replace(".pdf", LOG_SUFFIX)).read_text()
    return re.sub(r"\s+", " ", text)


def test_the_redaction_log_names_fields_and_reasons_never_values(
    services: Services, pdf_settings: Settings
) -> None:
    run(services, *history(), ("9_request.json", request()))
    log = redaction_log_text(pdf_settings)
    assert "$.data.referral.private_referrer: withheld (a private individual who made the " \
        "referral)" in log
    assert "$.data.contacts[0]: withheld (a contact of the person: a relative, friend or " \
        "neighbour)" in log
    assert "$.data.advocate: withheld (a representative at the support plan meeting, as Support " \
        "planning policy §5.3 allows)" in log
    assert "the Word document kept when it was issued" in log  # the exit letter holds no one else
    assert "Carys" not in log and "Morgan" not in log and "07700 900 611" not in log
    assert "not part of the bundle" in log


def test_the_redaction_log_cites_the_law_and_policies_by_name_never_a_file(
    services: Services, pdf_settings: Settings
) -> None:
    run(services, *history(), ("9_request.json", request()))
    log = redaction_log_text(pdf_settings)
    assert not re.search(r"seed|DESIGN|\.md\b|issue \d|shared/", log, flags=re.IGNORECASE)
    assert "Support planning policy §5.3" in log
    assert "UK GDPR Article 15(4); Data Protection Act 2018, Schedule 2, Part 3" in log
    # What cannot be found automatically is said plainly, for the officer to read for.
    for limit in ("nicknames and short forms of a name", "her neighbour",
                  "people named only in free text"):
        assert limit in log, limit


def test_a_document_with_nothing_withheld_is_the_word_document_as_issued(
    services: Services, pdf_settings: Settings, tmp_path: Path
) -> None:
    run(services, *history())
    # The exit letter's template is reworded after the letter was issued: the bundle shows the
    # letter as issued, not as the new template would print it.
    templates = tmp_path / "templates"
    templates.mkdir()
    for template in (REPO / "templates").glob("*.docx"):
        (templates / template.name).write_bytes(template.read_bytes())
    letter_template = templates / "exit_letter.docx"
    with zipfile.ZipFile(letter_template) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    assert b"Confirmation of your request to leave" in parts["word/document.xml"]
    parts["word/document.xml"] = parts["word/document.xml"].replace(
        b"Confirmation of your request to leave", b"A reworded heading")
    with zipfile.ZipFile(letter_template, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    moved = replace(services, settings=replace(
        pdf_settings, folders=replace(pdf_settings.folders, templates=templates)))
    run(moved, ("9_request.json", request()))
    reader = PdfReader(the_bundle(pdf_settings))
    start = dict(bookmarks(reader))[EXPECTED_TITLES[-1]]
    assert "Confirmation of your request to leave" in reader.pages[start].extract_text()
    assert "A reworded heading" not in " ".join(page_texts(the_bundle(pdf_settings)))


def test_documents_with_someone_else_in_them_are_recreated_with_it_withheld(
    services: Services, pdf_settings: Settings
) -> None:
    run(services, *history(), ("9_request.json", request()))
    text = " ".join(page_texts(the_bundle(pdf_settings)))
    assert "Carys" not in text and "Morgan" not in text and "07700 900 611" not in text
    assert MARKER in text
    assert "Siân O'Brien" in text and "Priya Natarajan" in text  # the person; staff


def test_versions_of_one_document_are_joined_for_conversion_and_found_again(
    services: Services, pdf_settings: Settings
) -> None:
    plans = []
    for version in range(3):
        plan = example("support_plan")
        plan["data"]["objectives"][0]["objective"] += f" Revision {version + 1}."
        plans.append((f"{version}_plan.json", plan))
    for plan in plans:  # one batch each: a batch plans its versions before recording them
        run(services, plan)
    run(services, ("9_request.json", request()))
    titles = [t for t, _ in bookmarks(PdfReader(the_bundle(pdf_settings)))]
    assert [t.split(" (")[0] for t in titles[2:]] == [
        "1. Case file received: Support plan", "2. Support plan, version 1",
        "3. Case file received: Support plan", "4. Support plan, version 2",
        "5. Case file received: Support plan", "6. Support plan, version 3"]
    sources = services.converter.calls[-1]
    assert any(name.startswith("joined-support_plan") for name in sources)
    reader = PdfReader(the_bundle(pdf_settings))
    marks = bookmarks(reader)
    for revision, (title, page) in zip((1, 2, 3), marks[3::2], strict=True):
        assert f"Revision {revision}." in reader.pages[page].extract_text()
        assert "version" in title


def test_joined_documents_keep_their_own_footers_and_restart_page_numbers() -> None:
    folder = REPO / "templates"
    from recordgen.documents.render import render_document
    from recordgen.settings import load_settings

    settings = load_settings(REPO / "recordgen.toml")
    schemas = SchemaSet(settings.folders.schemas)
    from recordgen.documents.render import build_context
    from recordgen.documents.validate import validate_case_file

    documents = []
    for version in (1, 2):
        case = validate_case_file(example("support_plan"), schemas, settings, dt.date(2026, 11, 20))
        context = build_context(case, settings, version=version,
                                document_date=dt.date(2026, 9, 14))
        documents.append(render_document(folder / "support_plan.docx", context).content)
    joined = join(documents)
    assert joined is not None
    with zipfile.ZipFile(io.BytesIO(joined)) as archive:
        body = archive.read("word/document.xml").decode()
        footers = [archive.read(n).decode() for n in archive.namelist() if "footer" in n
                   and n.endswith(".xml")]
    assert body.count("<w:sectPr") == 2
    assert sum("support-plan/v1" in f for f in footers) == 2  # first-page and later-page footers
    assert sum("support-plan/v2" in f for f in footers) == 2
    # The bundle numbers its pages: the documents' own page numbers are left out.
    assert not any("NUMPAGES" in f or " PAGE " in f for f in footers)
    assert all(">Page <" not in f and " of <" not in f and ">of<" not in f for f in footers)
    assert body.count('<w:outlineLvl w:val="0"/>') == 2


def test_a_document_shown_alone_loses_its_own_page_numbers_and_keeps_its_reference() -> None:

    from recordgen.documents.render import build_context, render_document
    from recordgen.documents.validate import validate_case_file
    from recordgen.settings import load_settings
    from recordgen.subject_access.docx_merge import without_page_numbers

    settings = load_settings(REPO / "recordgen.toml")
    case = validate_case_file(example("exit_letter"), SchemaSet(settings.folders.schemas), settings,
                         dt.date(2026, 11, 20))
    context = build_context(case, settings, version=1, document_date=dt.date(2026, 11, 20))
    issued = render_document(REPO / "templates" / "exit_letter.docx", context).content

    def footers(document: bytes) -> list[str]:
        with zipfile.ZipFile(io.BytesIO(document)) as archive:
            return [re.sub(r"<[^>]+>", "|", archive.read(n).decode()) for n in archive.namelist()
                    if re.match(r"word/footer\d*\.xml", n)]

    assert all("Page |" in f and " PAGE " in f for f in footers(issued))
    stripped = without_page_numbers(issued)
    for footer in footers(stripped):
        assert "PAGE" not in footer and "Page" not in footer and " of " not in footer
        assert "exit-confirmation-letter/v1" in footer
    from docx_text import docx_body_lines, open_docx

    assert docx_body_lines(open_docx(stripped)) == docx_body_lines(open_docx(issued))  # untouched


def test_documents_with_different_styles_are_not_joined(schemas: SchemaSet) -> None:
    node = schemas.documents["exit_letter"]["properties"]["data"]
    readable = case_files_document([CaseFileRecord("Case file", (), example("exit_letter")["data"],
                                                   node)], schemas.resolve)
    assert join([(REPO / "templates" / "exit_letter.docx").read_bytes(), readable]) is None
    assert join([readable, readable]) is not None


def test_scope_limits_the_records_to_the_kinds_and_dates_asked_for(
    services: Services, pdf_settings: Settings
) -> None:
    run(services, *history(), ("9_request.json", request(scope={"record_types": [
        "support_plan"]})))
    titles = [t for t, _ in bookmarks(PdfReader(the_bundle(pdf_settings)))][2:]
    assert [t.split(" (")[0] for t in titles] == [
        "1. Case file received: Support plan", "2. Support plan, version 1"]
    front = re.sub(r"\s+", " ", page_texts(the_bundle(pdf_settings))[0])
    assert "What it covers Records of these kinds: support plan" in front


def test_date_scope_counts_documents_by_their_own_date(
    services: Services, pdf_settings: Settings
) -> None:
    run(services, *history(), ("9_request.json", request(scope={"from": "2026-09-12",
                                                               "to": "2026-09-30"})))
    titles = [t for t, _ in bookmarks(PdfReader(the_bundle(pdf_settings)))][2:]
    assert titles == ["1. Support plan, version 1 (14 September 2026)"]


def test_only_the_requests_case_and_only_what_arrived_before_it(
    services: Services, pdf_settings: Settings
) -> None:
    other = example("support_plan")
    other["case_ref"] = "THS-2026-0500"
    other["data"]["person"]["name"] = "Perpetua Fairweather"
    run(services, *history(), ("5_other.json", other), ("9_request.json", request()))
    later = example("support_plan")
    later["data"]["objectives"][0]["objective"] += " A later revision."
    run(services, ("a_later.json", later))  # after the request: not in its bundle
    text = " ".join(page_texts(the_bundle(pdf_settings)))
    assert "Perpetua" not in text and "THS-2026-0500" not in text
    assert "A later revision" not in text
    assert len(bookmarks(PdfReader(the_bundle(pdf_settings)))) == 2 + 6


def test_rejected_and_duplicate_case_files_are_left_to_the_officer_not_guessed_at(
    services: Services, pdf_settings: Settings
) -> None:
    broken = example("support_plan")
    broken["data"]["hours_per_week"] = "lots"
    run(services, *history(), ("6_broken.json", broken))
    run(services, ("7_again.json", history()[0][1]))  # the same assessment again: a duplicate
    run(services, ("9_request.json", request()))
    assert len(bookmarks(PdfReader(the_bundle(pdf_settings)))) == 2 + 6
    log = redaction_log_text(pdf_settings)
    assert "was rejected when it arrived" in log and "Review it by hand" in log
    assert "was an exact copy of one already received" in log


def test_a_case_file_about_someone_else_is_left_out_and_the_officer_told(
    services: Services, pdf_settings: Settings
) -> None:
    misfiled = example("support_plan")
    misfiled["data"] = json.loads(json.dumps(misfiled["data"], ensure_ascii=False).replace(
        "Siân O'Brien", "Perpetua Fairweather").replace("Siân", "Perpetua"))
    renamed = example("exit_letter")
    renamed["data"]["person"]["name"] = "SIAN O’BRIEN"  # her own name, written differently
    run(services, *history()[:1], ("5_misfiled.json", misfiled), ("6_letter.json", renamed),
        ("9_request.json", request()))
    titles = [t.split(" (")[0] for t, _ in bookmarks(PdfReader(the_bundle(pdf_settings)))][2:]
    assert titles == ["1. Case file received: Needs and risk assessment",
                      "2. Needs and risk assessment, version 1",
                      "3. Case file received: Exit confirmation letter",
                      "4. Exit confirmation letter, version 1"]
    text = " ".join(page_texts(the_bundle(pdf_settings)))
    assert "Perpetua" not in text and "Fairweather" not in text
    log = redaction_log_text(pdf_settings)
    assert "names someone other than the person who asked as its person (at " \
        "$.data.person.name), so it and the documents made from it are not in the bundle" in log
    assert "Perpetua" not in log


def test_a_word_shared_by_a_relative_and_a_member_of_staff_is_listed_for_the_officer(
    services: Services, pdf_settings: Settings
) -> None:
    assessment = example("needs_assessment")
    assessment["data"]["contacts"].append({"name": "Priya Jones", "relationship": "Friend"})
    assessment["data"]["notes"] = "Priya Natarajan spoke to Priya about the rent."
    run(services, ("1_assessment.json", assessment), ("9_request.json", request()))
    text = re.sub(r"\s+", " ", " ".join(page_texts(the_bundle(pdf_settings))))
    assert f"Priya Natarajan spoke to {MARKER} about the rent." in text
    log = redaction_log_text(pdf_settings)
    assert "$.data.notes: withheld (names or contact details of another person, found in the " \
        "text, a word shared with the name of the person or of a member of staff: see below)" in log
    assert "A word of the name of another person (Needs and risk assessment received " in log
    assert "$.data.contacts[1].name) is also part of the name of a member of staff " in log
    assert "Jones" not in log and "Priya" not in log


def test_an_earlier_request_is_a_record_but_its_bundle_is_not(
    services: Services, pdf_settings: Settings
) -> None:
    run(services, *history(), ("8_request.json", request()))
    second = request(received_on="2026-11-23", identity_evidence="Seen in person")
    run(services, ("9_request.json", second))
    bundles = sorted((pdf_settings.folders.outbox / CASE).glob("*subject-access-bundle_v*.pdf"))
    assert [p.name.rsplit("_", 1)[1] for p in bundles] == ["v1.pdf", "v2.pdf"]
    titles = [t for t, _ in bookmarks(PdfReader(bundles[1]))][2:]
    assert titles[-1].startswith("7. Case file received: Subject access request")
    assert not any("bundle" in t for t in titles)


def test_a_representatives_name_is_withheld_in_an_earlier_request(
    services: Services, pdf_settings: Settings
) -> None:
    first = request(requested_by="representative", representative={
        "name": "Hortensia Vandersloot", "organisation": "Riverside Law",
        "authority": "solicitor acting for the person", "authority_checked_on": "2026-11-20"})
    run(services, ("8_request.json", first))
    text = " ".join(page_texts(the_bundle(pdf_settings)))
    assert "Hortensia" not in text and "Vandersloot" not in text
    assert "A representative, with the person's authority" in re.sub(r"\s+", " ", text)
    run(services, ("9_request.json", request(received_on="2026-11-23")))
    later = sorted((pdf_settings.folders.outbox / CASE).glob("*bundle_v2.pdf"))[0]
    text = " ".join(page_texts(later))
    assert "Hortensia" not in text and "Vandersloot" not in text and "Riverside Law" not in text


def test_a_request_with_no_records_still_gets_a_bundle(
    services: Services, pdf_settings: Settings
) -> None:
    (outcome,) = run(services, ("9_request.json", request()))
    assert outcome.status == "produced"
    reader = PdfReader(the_bundle(pdf_settings))
    assert [t for t, _ in bookmarks(reader)] == ["Cover sheet and covering letter",
                                                 "Index of records"]
    assert "No records are held" in reader.pages[-1].extract_text()


def test_a_long_index_runs_over_pages_and_every_link_still_finds_its_record(
    services: Services, pdf_settings: Settings
) -> None:
    incidents = []
    for number in range(40):
        incident = example("serious_incident")
        incident["case_ref"] = CASE
        incident["data"]["incident_ref"] = f"INC-2026-{number + 100}"
        incident["data"] = json.loads(json.dumps(incident["data"]).replace("Daniel Okafor",
                                                                          "Siân O'Brien"))
        incidents.append((f"{number:02d}_incident.json", incident))
    run(services, *incidents)
    run(services, ("9_request.json", request()))
    reader = PdfReader(the_bundle(pdf_settings))
    marks = bookmarks(reader)
    assert len(marks) == 2 + 80 and index_page_count(80) == 2
    index_start = dict(marks)["Index of records"]
    links = [a.get_object() for page in reader.pages[index_start:index_start + 2]
             for a in page["/Annots"]]
    assert [reader.get_page_number(reader.get_object(link["/Dest"][0])) for link in links] == \
        [page for _, page in marks[2:]]


# --- when the bundle cannot be made ------------------------------------------------------------


def test_with_pdf_output_switched_off_the_request_is_held_and_its_clock_runs(
    tmp_path: Path, clock: FixedClock
) -> None:
    settings = make_settings(tmp_path)  # [output] pdf = false
    with open_services(settings, clock) as services:
        (outcome,) = run(services, ("9_request.json", request()))
        assert outcome.status == "held"
        assert "PDF output is switched off" in outcome.message
        (clock_row,) = services.store.clocks(CASE, open_only=True)
    assert clock_row.clock == "sar" and clock_row.due == "2026-12-21"
    assert len(list(settings.folders.work.rglob("*request.json"))) == 1  # kept for a retry
    assert not settings.folders.rejected.exists()
    assert not (settings.folders.outbox / CASE).exists()


def test_a_crash_after_publishing_keeps_the_bundle_already_out(
    services: Services, pdf_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(services, *history())
    real = stages.update_clocks

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise StoreError("The records store is busy or locked.")

    # The record stage fails after the bundle is published (its last step stops the clock).
    monkeypatch.setattr(stages, "update_clocks", fail)
    (held,) = run(services, ("9_request.json", request()))
    assert held.status == "held"
    first = the_bundle(pdf_settings).read_bytes()
    monkeypatch.setattr(stages, "update_clocks", real)
    (done,) = process_inbox(services)
    assert done.status == "produced"
    assert the_bundle(pdf_settings).read_bytes() == first
    assert len([d for d in services.store.documents(CASE)
                if d.kind == "subject_access_request"]) == 1


# --- the request's case file ------------------------------------------------------------------


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    return SchemaSet(REPO / "schemas")


def problems(document: dict[str, Any], settings: Settings, schemas: SchemaSet,
             today: dt.date = dt.date(2026, 11, 23)) -> list[str]:
    try:
        validate_case_file(document, schemas, settings, today)
    except ValidationFailed as exc:
        return [str(p) for p in exc.problems]
    return []


def test_the_example_request_is_valid(settings: Settings, schemas: SchemaSet) -> None:
    assert problems(example("subject_access_request"), settings, schemas) == []


def test_an_extension_needs_the_date_told_and_the_reason(
    settings: Settings, schemas: SchemaSet
) -> None:
    found = problems(request(extended=True), settings, schemas)
    assert any(p.startswith('$.data.extension_told_on: The field "extension_told_on" is missing')
               for p in found)
    assert any(p.startswith('$.data.extension_reason: The field "extension_reason" is missing')
               for p in found)


def test_the_person_must_be_told_of_an_extension_within_the_first_month(
    settings: Settings, schemas: SchemaSet
) -> None:
    late = request(extended=True, extension_told_on="2026-12-22", extension_reason="Complex.")
    (found,) = problems(late, settings, schemas, today=dt.date(2027, 1, 5))
    assert found.startswith("$.data.extension_told_on: The person was told of the extension on "
                            "22 December 2026, after the first month ended (21 December 2026).")
    in_time = request(extended=True, extension_told_on="2026-12-21", extension_reason="Complex.")
    assert problems(in_time, settings, schemas, today=dt.date(2027, 1, 5)) == []


@pytest.mark.parametrize(("changes", "path"), [
    ({"requested_by": "representative"}, "$.data.representative"),
    ({"requested_by": "her mum"}, "$.data.requested_by"),
    ({"scope": "some of it"}, "$.data.scope"),
    ({"scope": {}}, "$.data.scope"),
    ({"scope": {"from": "2026-10-01", "to": "2026-09-01"}}, "$.data.scope.to"),
    ({"scope": {"record_types": ["letters"]}}, "$.data.scope.record_types[0]"),
    ({"received_on": "2026-11-24"}, "$.data.received_on"),
    ({"identity_checked_on": "2026-02-30"}, "$.data.identity_checked_on"),
    ({"extension_told_on": "2026-11-20"}, "$.data.extension_told_on"),
    ({"representative": {"name": "A Person", "authority": "written authority from the person",
                         "authority_checked_on": "2026-11-20"}}, "$.data.representative"),
])
def test_request_problems_are_reported_where_they_are(
    changes: dict[str, Any], path: str, settings: Settings, schemas: SchemaSet
) -> None:
    found = problems(request(**changes), settings, schemas)
    assert any(p.startswith(f"{path}:") for p in found), found


def test_a_bad_request_is_rejected_with_a_note(
    services: Services, pdf_settings: Settings
) -> None:
    bad = request(extended=True)
    (outcome,) = run(services, ("9_request.json", bad))
    assert outcome.status == "rejected"
    note = (pdf_settings.folders.rejected / "9_request.json.errors.txt").read_text()
    assert "extension_told_on" in note
    assert services.store.clocks(CASE) == []


# --- the parts ---------------------------------------------------------------------------------


def test_a_case_file_is_set_out_with_headings_and_labels_never_json(schemas: SchemaSet) -> None:
    data = copy.deepcopy(example("needs_assessment")["data"])
    node = schemas.documents["needs_assessment"]["properties"]["data"]
    content = case_files_document([CaseFileRecord("Case file received: Needs and risk assessment",
                                                  ("Record 1.",), data, node)], schemas.resolve)
    from docx_text import docx_lines, docx_rows

    lines = docx_lines(content)
    rows = docx_rows(content)
    assert lines[0] == "Case file received: Needs and risk assessment"
    for heading in ("The person", "Referral", "Referred by (a private individual)",
                    "Housing support needs", "Risks", "Diversity needs", "Contacts"):
        assert heading in lines
    assert ["Date of birth", "14 March 1979"] in rows
    assert ["Referral received", "9:40am on Tuesday 1 September 2026"] in rows
    assert ["Crisis support needed", "No"] in rows
    assert ["Address", "Flat 4, Marsh & Quay House, 27 Wharf Road, Thameside, TS3 9QP"] in rows
    assert ["Agencies it may be shared with",
            "Landlord (Riverside Homes)\nGP surgery\nUniversal Credit"] in rows
    assert ["Risk", "Likelihood", "Impact", "How the risk is managed"] in rows
    assert ["Eviction because of rent arrears.", "Medium", "High",
            data["risks"][0]["controls"]] in rows
    text = "\n".join(lines)
    assert "{" not in text and '"' not in text.replace("\u201c", "")
    assert "entered_service_on" not in text


def test_a_case_file_with_objects_inside_lists_gets_numbered_headings(
    schemas: SchemaSet
) -> None:
    data = example("support_plan")["data"]
    node = schemas.documents["support_plan"]["properties"]["data"]
    content = case_files_document([CaseFileRecord("Case file", (), data, node)], schemas.resolve)
    from docx_text import docx_lines, docx_rows

    lines = docx_lines(content)
    assert "Objective 1 of 3" in lines and "Objective 3 of 3" in lines
    assert ["Action", "By whom"] in docx_rows(content)


def test_a_name_marked_only_in_a_record_outside_the_scope_is_still_withheld(
    services: Services, pdf_settings: Settings
) -> None:
    plan = example("support_plan")
    del plan["data"]["advocate"]
    plan["data"]["objectives"][0]["objective"] += " Carys Morgan will come to the meetings."
    run(services, (history()[0]), ("1_plan.json", plan),
        ("9_request.json", request(scope={"record_types": ["support_plan"]})))
    text = " ".join(page_texts(the_bundle(pdf_settings)))
    assert "Carys" not in text and "Morgan" not in text  # marked only in the assessment
    assert "will come to the meetings" in text


def test_the_covering_letter_template_uses_only_what_the_bundle_gives_it(
    schemas: SchemaSet
) -> None:
    """What `recordgen templates check` does for the other kinds (the request is not in KINDS)."""
    from recordgen.documents import template_check
    from recordgen.documents.render import make_environment

    path = REPO / "templates" / "sar_cover_letter.docx"
    tree = make_environment().parse(template_check.template_source(path))
    paths = set(template_check._data_paths(tree))
    schema = schemas.documents["subject_access_request"]
    assert {p[0] for p in paths} <= {"case_ref", "data", "document", "provider", "due", "line"}
    for parts in paths:
        if parts[0] == "data":
            assert template_check._defined(schemas, schema, parts[1:]), parts
    privacy = {p[2] for p in paths if p[:2] == ("provider", "privacy")}
    assert privacy == set(DEFAULT_WORDING)
    extra = {p[1] for p in paths if p[0] == "document"} - {"title", "date", "version", "reference"}
    assert extra == {"record_count", "scope", "scope_summary", "allowance"}
    assert {p for p in paths if p[0] == "due"} == {("due", "response")}


def test_an_issued_document_that_was_altered_is_not_used_and_the_officer_is_told(
    services: Services, pdf_settings: Settings
) -> None:
    run(services, *history())
    letter = next(d for d in services.store.documents(CASE) if d.kind == "exit_letter")
    altered = pdf_settings.folders.outbox / letter.file_name
    altered.chmod(0o600)
    altered.write_bytes(altered.read_bytes() + b"\x00")
    run(services, ("9_request.json", request()))
    log = redaction_log_text(pdf_settings)
    assert "no longer matches its hash in the store (it was altered)" in log
    text = " ".join(page_texts(the_bundle(pdf_settings)))
    assert "Confirmation of your request to leave" in text  # re-created from its case file


def test_an_issued_document_replaced_by_a_link_is_not_followed(
    services: Services, pdf_settings: Settings
) -> None:
    run(services, *history())
    letter = next(d for d in services.store.documents(CASE) if d.kind == "exit_letter")
    issued = pdf_settings.folders.outbox / letter.file_name
    elsewhere = pdf_settings.folders.outbox.parent / "elsewhere.docx"
    issued.rename(elsewhere)
    issued.symlink_to(elsewhere)
    run(services, ("9_request.json", request()))
    log = redaction_log_text(pdf_settings)
    assert f"the Word document kept when it was issued, {letter.file_name}, is missing (or was " \
        "replaced by a link, which recordgen never follows)" in log
