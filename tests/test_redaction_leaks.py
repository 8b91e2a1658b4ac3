"""Nothing about anyone else leaves in a subject access bundle (issue 5 §3, §4; DESIGN.md §5).

Two cases are seeded with distinctive strings: case A's relative, private referrer, advocate,
another resident and a member of the public, named in their fields and again in free text (in full,
in capitals, by first name only, a phone number written without its spaces, and in the name of a
case file dropped into the inbox); case B is another person altogether. Both bundles are built with
real LibreOffice, then searched in every channel a reader could reach: the page text as pypdf and
as pdftotext (poppler) read it, the bookmarks, the document metadata (Info and XMP), every object
of the file, decompressed, and the names of the files in the outbox. Every record of the person
must still be there. The redaction itself is tested field by field below.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import IndirectObject, StreamObject

from recordgen.clock import UK, FixedClock
from recordgen.documents.validate import SchemaSet
from recordgen.pipeline.inbox import process_inbox
from recordgen.services import open_services
from recordgen.settings import Settings
from recordgen.subject_access.bundle import LOG_SUFFIX
from recordgen.subject_access.name_match import Requester
from recordgen.subject_access.redaction import (
    IN_TEXT,
    MARKER,
    UNDESCRIBED,
    Findings,
    redact,
    scrubber_for,
    survey,
)

from conftest import REPO, example, make_settings

needs_libreoffice = pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftotext") is None,
    reason="LibreOffice and poppler-utils are not installed (run scripts/setup)",
)

CASE_A, CASE_B = "THS-2026-0142", "THS-2026-0500"
RELATIVE = "Zebedee Quatermain-7731"
RELATIVE_PHONE = "07700 900 773"
RELATIVE_STREET = "99 Quixotic Lane"
REFERRER = "Ophelia Thistlewood-5520"
REFERRER_PHONE = "07700 900 552"
ADVOCATE = "Barnabus Krumholtz-8842"
RESIDENT = "Ignatius Wolfenden-3390"
PASSER_BY = "Clementine Axelrod-1107"
A_THIRD_PARTIES = (RELATIVE, RELATIVE_PHONE, RELATIVE_STREET, REFERRER, REFERRER_PHONE, ADVOCATE,
                   RESIDENT, PASSER_BY)
# Each word of their names must go too: a first name alone still identifies someone.
A_NAME_WORDS = ("Zebedee", "Quatermain", "Ophelia", "Thistlewood", "Barnabus", "Krumholtz",
                "Ignatius", "Wolfenden", "Clementine", "Axelrod", "Quixotic")
B_PERSON = "Perpetua Fairweather-6614"
B_RELATIVE = "Cornelius Ravensworth-2208"
B_WORKER = "Octavia Pemberton-Quill"
B_STRINGS = (B_PERSON, B_RELATIVE, B_WORKER, CASE_B, "Fairweather", "Ravensworth", "Pemberton")


# --- the two cases -------------------------------------------------------------------------------


def case_a() -> list[tuple[str, dict[str, Any]]]:
    assessment = example("needs_assessment")
    data = assessment["data"]
    data["referral"]["private_referrer"] = {"name": REFERRER, "relationship": "Neighbour",
                                            "phone": REFERRER_PHONE}
    data["contacts"] = [{"name": RELATIVE, "relationship": "Cousin", "phone": RELATIVE_PHONE,
                         "address": {"lines": [RELATIVE_STREET, "Thameside"],
                                     "postcode": "TS7 7QX"}}]
    data["needs"][0]["description"] = (f"Her cousin {RELATIVE} helps with shopping; call him on "
                                       f"{RELATIVE_PHONE.replace(' ', '')} if she is unwell.")
    data["notes"] = f"{REFERRER.upper()} first raised concerns about the arrears."
    plan = example("support_plan")
    plan["data"]["advocate"] = {"name": ADVOCATE, "relationship": "Advocate"}
    plan["data"]["objectives"][1]["actions"][0]["by_whom"] = "Priya, with Zebedee"
    plan_v2 = copy.deepcopy(plan)
    plan_v2["data"]["objectives"][0]["objective"] += " Barnabus will check the paperwork."
    incident = example("serious_incident")
    incident["case_ref"] = CASE_A
    incident["data"]["incident_ref"] = "INC-2026-142"
    incident["data"]["person"] = {"name": "Siân O'Brien", "date_of_birth": "1979-03-14"}
    incident["data"]["people_involved"] = [
        {"name": "Siân O'Brien", "role": "service user", "involvement": "Fell on the stairs"},
        {"name": "Tom Reilly", "role": "staff", "involvement": "Gave first aid"},
        {"name": RESIDENT, "role": "other resident", "involvement": "Heard the fall"},
        {"name": PASSER_BY, "role": "member of the public", "involvement": "Called 999"},
    ]
    incident["data"]["what_happened"] = (f"{RESIDENT.upper()} heard Siân fall on the stairs. "
                                         f"{PASSER_BY} called the ambulance; Tom Reilly helped.")
    letter = example("exit_letter")
    letter["data"]["arrangements_agreed"].append(f"{REFERRER} will help with the move.")
    return [("2026-09-10 assessment.json", assessment),
            (f"referral from {REFERRER}.json", plan),  # a third party in a file's name
            ("2026-11-16 exit letter.json", letter),
            ("2026-11-19 incident.json", incident),
            ("z plan v2.json", plan_v2)]


def case_b() -> list[tuple[str, dict[str, Any]]]:
    text = json.dumps(example("needs_assessment"), ensure_ascii=False)
    for old, new in (("Siân O'Brien", B_PERSON), ("Siân", "Perpetua"), ("Carys Morgan", B_RELATIVE),
                     ("Priya Natarajan", B_WORKER)):
        text = text.replace(old, new)
    assessment = json.loads(text)
    assessment["case_ref"] = CASE_B
    data = assessment["data"]
    data["person"] = {"name": B_PERSON, "date_of_birth": "1980-01-01"}
    data["worker"] = {"name": B_WORKER, "role": "Housing Support Officer"}
    data["referral"] = {"received_at": "2026-09-01T09:40", "route": "Self-referral"}
    data["contacts"] = [{"name": B_RELATIVE, "relationship": "Brother"}]
    data["needs"][0]["description"] = f"{B_PERSON} is behind with her rent."
    return [("b assessment.json", assessment)]


def request(case_ref: str, name: str) -> dict[str, Any]:
    document = example("subject_access_request")
    document["case_ref"] = case_ref
    document["data"]["person"] = {"name": name}
    return document


@dataclass(frozen=True)
class Built:
    settings: Settings
    bundle_a: Path
    bundle_b: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    settings = make_settings(tmp_path_factory.mktemp("leaks"), output={"pdf": True})
    clock = FixedClock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=UK))

    def drop_and_run(files: list[tuple[str, dict[str, Any]]]) -> None:
        for name, document in files:
            (settings.folders.inbox / name).write_text(json.dumps(document, ensure_ascii=False),
                                                       encoding="utf-8")
        with open_services(settings, clock) as services:  # real LibreOffice
            outcomes = process_inbox(services)
        assert [o.status for o in outcomes] == ["produced"] * len(files), outcomes

    a_files = case_a()
    drop_and_run(a_files[:-1] + case_b())
    drop_and_run(a_files[-1:])  # the plan's second version, after the first is recorded
    drop_and_run([("y request a.json", request(CASE_A, "Siân O'Brien")),
                  ("y request b.json", request(CASE_B, B_PERSON))])
    folder = settings.folders.outbox
    (bundle_a,) = (folder / CASE_A).glob("*subject-access-bundle*.pdf")
    (bundle_b,) = (folder / CASE_B).glob("*subject-access-bundle*.pdf")
    yield Built(settings, bundle_a, bundle_b)


# --- searching every channel -----------------------------------------------------------------------


def squash(text: str) -> str:
    """Text without white space, in one case: a name broken over two lines is still found."""
    return re.sub(r"\s+", "", text).casefold()


def found(needles: tuple[str, ...], haystack: str) -> list[str]:
    squashed = squash(haystack)
    return [n for n in needles if squash(n) in squashed]


def pypdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def poppler_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def outline_titles(path: Path) -> list[str]:
    def walk(items: list[Any]) -> Iterator[str]:
        for item in items:
            if isinstance(item, list):
                yield from walk(item)
            else:
                yield str(item.title)

    return list(walk(PdfReader(path).outline))


def metadata_text(path: Path) -> str:
    reader = PdfReader(path)
    info = " ".join(f"{k} {v}" for k, v in (reader.metadata or {}).items())
    xmp = reader.xmp_metadata
    xml = "" if xmp is None else xmp.stream.get_data().decode("utf-8", "replace")
    return f"{info}\n{xml}"


def every_object(path: Path) -> str:
    """Every object of the file as text, streams decompressed (content streams, metadata,
    bookmarks, annotations): what a determined reader could dig out."""
    reader = PdfReader(path)
    parts = []
    for number in range(1, int(reader.trailer["/Size"])):
        obj = _object(reader, number)
        if isinstance(obj, StreamObject):
            data = obj.get_data()
            parts.append(data.decode("latin-1"))
            parts.append(data.decode("utf-16-be", "replace"))
        else:
            parts.append(str(obj))
    return "\n".join(parts)


def _object(reader: PdfReader, number: int) -> Any:
    try:
        return reader.get_object(IndirectObject(number, 0, reader))
    except Exception:  # a free or damaged entry: nothing to read
        return None


def annotations_text(path: Path) -> str:
    """Every annotation of every page (the index's links), with everything they hold."""
    parts = []
    for page in PdfReader(path).pages:
        for annotation in page.get("/Annots") or []:
            parts.append(str(annotation.get_object()))
    return "\n".join(parts)


def channels(path: Path) -> dict[str, str]:
    return {"pypdf text": pypdf_text(path), "pdftotext": poppler_text(path),
            "bookmarks": "\n".join(outline_titles(path)), "link annotations": annotations_text(path),
            "metadata": metadata_text(path), "objects": every_object(path)}


# --- the leak tests ------------------------------------------------------------------------------


@needs_libreoffice
@pytest.mark.libreoffice
@pytest.mark.slow
def test_no_third_party_string_is_in_any_channel_of_the_bundle(built: Built) -> None:
    for channel, text in channels(built.bundle_a).items():
        assert found(A_THIRD_PARTIES + A_NAME_WORDS, text) == [], channel


@needs_libreoffice
@pytest.mark.libreoffice
def test_nothing_from_another_case_is_in_the_bundle(built: Built) -> None:
    for channel, text in channels(built.bundle_a).items():
        assert found(B_STRINGS, text) == [], channel
    for channel, text in channels(built.bundle_b).items():
        assert found(A_THIRD_PARTIES + A_NAME_WORDS + (CASE_A, "Siân", "O'Brien"), text) == [], \
            channel


@needs_libreoffice
@pytest.mark.libreoffice
def test_no_third_party_string_is_in_a_file_name_in_the_outbox(built: Built) -> None:
    names = "\n".join(str(p.relative_to(built.settings.folders.outbox))
                      for p in built.settings.folders.outbox.rglob("*"))
    assert found(A_THIRD_PARTIES + A_NAME_WORDS + B_STRINGS[:3], names) == []


@needs_libreoffice
@pytest.mark.libreoffice
def test_the_redaction_log_says_what_was_withheld_without_repeating_it(built: Built) -> None:
    log = built.bundle_a.with_name(built.bundle_a.name.replace(".pdf", LOG_SUFFIX)).read_text()
    assert found(A_THIRD_PARTIES + A_NAME_WORDS + B_STRINGS, log) == []
    for path in ("$.data.referral.private_referrer", "$.data.contacts[0]", "$.data.advocate",
                 "$.data.people_involved[2]", "$.data.people_involved[3]",
                 "$.data.needs[0].description", "$.data.notes", "$.data.what_happened",
                 "$.data.arrangements_agreed[2]", "$.data.objectives[1].actions[0].by_whom"):
        assert f"{path}: withheld" in log, path
    assert "$.data.people_involved[0]" not in log  # the person
    assert "$.data.people_involved[1]" not in log  # staff doing their job


@needs_libreoffice
@pytest.mark.libreoffice
def test_every_record_of_the_person_is_in_the_bundle(built: Built) -> None:
    titles = [re.sub(r" \(.*\)$", "", t.split(". ", 1)[1]) for t in outline_titles(
        built.bundle_a)[2:]]
    assert sorted(titles) == sorted([
        "Case file received: Needs and risk assessment", "Needs and risk assessment, version 1",
        "Case file received: Support plan", "Support plan, version 1",
        "Case file received: Exit confirmation letter", "Exit confirmation letter, version 1",
        "Case file received: Serious incident report",
        "Serious incident report INC-2026-142, version 1",
        "Case file received: Support plan", "Support plan, version 2",
    ])
    text = poppler_text(built.bundle_a)
    index = text[text.index("Index of records"):]
    for number in range(1, 11):
        assert re.search(rf"^\s*{number}\.\s", index, flags=re.MULTILINE), number
    # What must stay: the person, staff doing their jobs, and what happened to her.
    squashed = squash(text)
    for kept in ("Siân O'Brien", "Priya Natarajan", "Tom Reilly", "Fell on the stairs",
                 "Riverside Homes", "heard Siân fall on the stairs", "called the ambulance"):
        assert squash(kept) in squashed, kept
    assert MARKER in re.sub(r"\s+", " ", text)


@needs_libreoffice
@pytest.mark.libreoffice
def test_the_real_bundle_is_stamped_and_linked(built: Built) -> None:
    reader = PdfReader(built.bundle_a)
    total = len(reader.pages)
    for number, page in enumerate(reader.pages, start=1):
        text = re.sub(r"\s+", " ", page.extract_text())
        assert f"Page {number} of {total}" in text and CASE_A in text
        # One page numbering, the bundle's: the documents' own footers lose theirs.
        assert re.findall(r"Page \d+ of \d+", text) == [f"Page {number} of {total}"], text
    starts = [reader.get_destination_page_number(item) for item in reader.outline]
    annotated = [p for p in reader.pages if "/Annots" in p]
    links = [a.get_object() for page in annotated for a in page["/Annots"]]
    assert [reader.get_page_number(reader.get_object(link["/Dest"][0])) for link in links] == \
        starts[2:]
    # Each record's first page is where its bookmark says (the joined plans were split right).
    for title, start in zip(outline_titles(built.bundle_a)[2:], starts[2:], strict=True):
        page = squash(reader.pages[start].extract_text())
        if "Case file received" in title:
            assert squash(title.split(". ", 1)[1].split(" (")[0]) in page, title
        else:
            assert squash("Thameside Housing Support") in page, title  # a letterhead


# --- the redaction, field by field ----------------------------------------------------------------


SIAN = Requester(("Siân O'Brien", "Siân"))


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    return SchemaSet(REPO / "schemas")


def data_node(schemas: SchemaSet, kind: str) -> Mapping[str, Any]:
    node = schemas.documents[kind]["properties"]["data"]
    assert isinstance(node, Mapping)
    return node


def redacted(schemas: SchemaSet, kind: str, data: dict[str, Any],
             *more: tuple[str, dict[str, Any]], requester: Requester = SIAN
             ) -> tuple[dict[str, Any], dict[str, str]]:
    """The redacted data, and {path: reason} of what was withheld; ``more`` records of the same
    case are surveyed too."""
    findings = [survey(data, data_node(schemas, kind), schemas.resolve, requester)]
    findings += [survey(d, data_node(schemas, k), schemas.resolve, requester) for k, d in more]
    result = redact(data, data_node(schemas, kind), schemas.resolve, requester,
                    scrubber_for(findings).scrubber)
    return result.data, {w.path: w.reason for w in result.withheld}


def test_people_involved_are_withheld_unless_they_are_the_requester_or_staff(
    schemas: SchemaSet
) -> None:
    data = example("serious_incident")["data"]
    out, log = redacted(schemas, "serious_incident", data,
                        requester=Requester(("Daniel Okafor",)))
    assert [p["name"] for p in out["people_involved"]] == ["Daniel Okafor", "Tom Reilly", MARKER]
    # A third party's whole entry is withheld; only the fixed choice of role stays.
    assert out["people_involved"][2] == {"name": MARKER, "role": "other resident",
                                         "involvement": MARKER}
    assert log == {"$.data.people_involved[2]": "a person involved in the incident"}


def test_another_service_user_is_a_third_party(schemas: SchemaSet) -> None:
    """The breach found by the hostile review: every "service user" was exempt."""
    data = example("serious_incident")["data"]
    data["people_involved"][2] = {"name": "Marek Nowak", "role": "service user",
                                  "involvement": "Shares the kitchen; was shouted at"}
    data["what_happened"] = "Marek Nowak was shouted at by Daniel. MAREK called staff."
    out, log = redacted(schemas, "serious_incident", data,
                        requester=Requester(("Daniel Okafor",)))
    assert out["people_involved"][2]["name"] == MARKER
    assert out["people_involved"][2]["role"] == "service user"
    assert out["what_happened"] == f"{MARKER} was shouted at by Daniel. {MARKER} called staff."
    assert "$.data.people_involved[2]" in log
    # In Marek's own bundle it is the other way round.
    out, _ = redacted(schemas, "serious_incident", data, requester=Requester(("Marek Nowak",)))
    assert out["people_involved"][2]["name"] == "Marek Nowak"
    assert out["people_involved"][0]["name"] == MARKER
    assert out["what_happened"] == f"Marek Nowak was shouted at by {MARKER}. MAREK called staff."


def test_a_third_partys_relationship_is_withheld_wherever_it_appears(schemas: SchemaSet) -> None:
    """A referrer's "Sister" withheld in one section must not be shown in another."""
    out, log = redacted(schemas, "needs_assessment", example("needs_assessment")["data"])
    assert out["referral"]["private_referrer"] == {"name": MARKER, "relationship": MARKER,
                                                   "phone": MARKER}
    assert out["contacts"] == [{"name": MARKER, "relationship": MARKER, "phone": MARKER}]
    plan, _ = redacted(schemas, "support_plan", example("support_plan")["data"])
    assert plan["advocate"] == {"name": MARKER, "relationship": MARKER}
    assert out["referral"]["route"] == "Family or friend"  # a fixed choice: kept
    assert set(log) == {"$.data.referral.private_referrer", "$.data.contacts[0]"}
    assert out["person"]["name"] == "Siân O'Brien" and out["worker"]["name"] == "Priya Natarajan"


def test_an_address_is_withheld_once_not_line_by_line(schemas: SchemaSet) -> None:
    data = example("needs_assessment")["data"]
    data["contacts"][0]["address"] = {"lines": ["1 Elm Row", "Thameside"], "postcode": "TS1 1AA"}
    out, log = redacted(schemas, "needs_assessment", data)
    assert out["contacts"][0]["address"] == {"lines": [MARKER], "postcode": MARKER}
    assert log["$.data.contacts[0]"] == "a contact of the person: a relative, friend or neighbour"


def test_names_in_free_text_are_withheld_in_any_case_accent_and_spelling_of_punctuation(
    schemas: SchemaSet
) -> None:
    data = example("needs_assessment")["data"]
    data["needs"][0]["description"] = (
        "CARYS MORGAN rang. carys morgan again; Carys says Morgan\u2019s van is free. "
        "Cárys came. Call 07700900611 or +44 (0)7700 900-611.")
    out, log = redacted(schemas, "needs_assessment", data)
    text = out["needs"][0]["description"]
    assert text == (f"{MARKER} rang. {MARKER} again; {MARKER} says {MARKER}\u2019s van is free. "
                    f"{MARKER} came. Call {MARKER} or {MARKER}.")
    assert log["$.data.needs[0].description"] == IN_TEXT


def test_whole_words_only(schemas: SchemaSet) -> None:
    data = example("needs_assessment")["data"]
    data["contacts"] = [{"name": "Ann Lee", "relationship": "Aunt"}]
    data["needs"][0]["description"] = "Annual review with Ann; Leeds office. ANN LEE phoned."
    out, _ = redacted(schemas, "needs_assessment", data)
    assert out["needs"][0]["description"] == (f"Annual review with {MARKER}; Leeds office. "
                                              f"{MARKER} phoned.")


def test_a_name_found_in_another_record_of_the_case_is_withheld_here_too(
    schemas: SchemaSet
) -> None:
    letter = example("exit_letter")["data"]
    letter["arrangements_agreed"].append("Carys will help with the move.")
    out, log = redacted(schemas, "exit_letter", letter,
                        ("needs_assessment", example("needs_assessment")["data"]))
    assert out["arrangements_agreed"][-1] == f"{MARKER} will help with the move."
    assert log == {"$.data.arrangements_agreed[2]": IN_TEXT}
    alone, nothing = redacted(schemas, "exit_letter", letter)
    assert nothing == {} and alone == letter


def test_a_word_shared_with_a_staff_or_the_persons_name_is_withheld_where_it_stands_alone(
    schemas: SchemaSet
) -> None:
    data = example("needs_assessment")["data"]
    data["contacts"] = [{"name": "Rhys O'Brien", "relationship": "Brother"},
                        {"name": "Priya Jones", "relationship": "Friend"}]
    data["needs"][0]["description"] = ("Siân O'Brien asked Priya Natarajan to call Rhys; "
                                       "Priya Jones can help too. Priya said Mr O'Brien rang.")
    out, log = redacted(schemas, "needs_assessment", data)
    assert out["needs"][0]["description"] == (
        f"Siân O'Brien asked Priya Natarajan to call {MARKER}; {MARKER} can help too. {MARKER} "
        f"said Mr {MARKER} rang.")
    assert log["$.data.needs[0].description"] == IN_TEXT
    assert out["person"]["name"] == "Siân O'Brien"  # her own name field is hers
    assert out["worker"]["name"] == "Priya Natarajan"
    findings = [survey(data, data_node(schemas, "needs_assessment"), schemas.resolve, SIAN,
                       "the assessment")]
    shared = scrubber_for(findings).shared
    assert [s.withheld for s in shared] == [True, True]
    assert {w for s in shared for _, w in s.protected} == {
        "the assessment, $.data.person.name", "the assessment, $.data.worker.name"}


def test_a_value_of_the_persons_own_shared_with_a_third_party_is_kept_and_listed(
    schemas: SchemaSet
) -> None:
    data = example("needs_assessment")["data"]
    data["contacts"][0]["phone"] = "07700 900 142"  # her own number: they share a phone
    data["needs"][0]["description"] = "Call 07700900142 first."
    out, _ = redacted(schemas, "needs_assessment", data)
    assert out["needs"][0]["description"] == "Call 07700900142 first."
    assert out["contacts"][0]["phone"] == MARKER  # the contact's entry is still withheld whole
    shared = scrubber_for([survey(data, data_node(schemas, "needs_assessment"), schemas.resolve,
                                  SIAN)]).shared
    assert [(s.withheld, s.third_party) for s in shared] == [(False, ("$.data.contacts[0].phone",))]


def test_a_third_partys_name_inside_the_persons_own_address_is_withheld(
    schemas: SchemaSet
) -> None:
    data = example("needs_assessment")["data"]
    data["person"]["address"]["lines"][0] = "c/o Carys Morgan, Flat 4"
    out, _ = redacted(schemas, "needs_assessment", data)
    assert out["person"]["address"]["lines"] == [f"c/o {MARKER}, Flat 4", "27 Wharf Road",
                                                 "Thameside"]


def test_an_ordinary_word_in_lower_case_is_left_and_the_officer_told_where(
    schemas: SchemaSet
) -> None:
    data = example("needs_assessment")["data"]
    data["contacts"] = [{"name": "Will Brown", "relationship": "Neighbour"}]
    data["needs"][0]["description"] = "Will Brown will help; WILL came; the brown door. Brown."
    walk = redact(data, data_node(schemas, "needs_assessment"), schemas.resolve, SIAN,
                  scrubber_for([survey(data, data_node(schemas, "needs_assessment"),
                                       schemas.resolve, SIAN)]).scrubber)
    assert walk.data["needs"][0]["description"] == (f"{MARKER} will help; {MARKER} came; the "
                                                    f"brown door. {MARKER}.")
    (note,) = walk.read_for
    assert note.path == "$.data.needs[0].description" and note.count == 2


def test_a_field_the_schema_does_not_describe_is_withheld(schemas: SchemaSet) -> None:
    data = example("support_plan")["data"]
    data["signatures"]["witness"] = "Somebody Else"
    out, log = redacted(schemas, "support_plan", data)
    assert out["signatures"]["witness"] == MARKER
    assert log["$.data.signatures.witness"] == UNDESCRIBED


def test_descriptions_of_a_withheld_person_are_withheld_but_not_searched_for_elsewhere(
    schemas: SchemaSet
) -> None:
    data = example("needs_assessment")["data"]
    findings: Findings = survey(data, data_node(schemas, "needs_assessment"), schemas.resolve,
                                SIAN)
    values = {f.value for f in findings.third_party}
    assert "Sister" not in values  # withheld where it stands, but an ordinary word elsewhere
    assert {"Carys Morgan", "07700 900 611"} <= values
    data["needs"][0]["description"] = "Her sister helps."
    out, _ = redacted(schemas, "needs_assessment", data)
    assert out["needs"][0]["description"] == "Her sister helps."


def test_a_third_partys_details_are_found_in_the_forms_a_review_found_left(
    schemas: SchemaSet
) -> None:
    """A hostile review built a bundle showing the person's sister: her family name in the plural,
    her postcode with a hyphen, her street without its number, and her name and phone number with
    direction marks pasted in (which show nothing). Her own address, in the same town, stays."""
    data = example("needs_assessment")["data"]
    data["contacts"] = [{"name": "Carys Morgan", "relationship": "Sister",
                         "phone": "07700 900 611",
                         "address": {"lines": ["99 Quixotic Lane", "Thameside"],
                                     "postcode": "QX7 7QZ"}}]
    written = {
        "Siân stayed at the Morgans' house after the eviction notice.":
            f"Siân stayed at the {MARKER}' house after the eviction notice.",
        "Her sister's postcode is QX7-7QZ.": f"Her sister's postcode is {MARKER}.",
        "Her sister lives on Quixotic Lane, Thameside.":
            f"Her sister lives on {MARKER}, Thameside.",
        "Sister's mobile (pasted from Teams): +\u200e44 7700 900611.":
            f"Sister's mobile (pasted from Teams): {MARKER}.",
        "Sister C\u200earys M\u200eorgan (copied from an email) is the main carer.":
            f"Sister {MARKER} (copied from an email) is the main carer.",
        "Siân lives on Wharf Road (27 Wharf Road), in Marsh & Quay House, Thameside TS3 9QP.":
            "Siân lives on Wharf Road (27 Wharf Road), in Marsh & Quay House, Thameside TS3 9QP.",
    }
    data["needs"] = [{"area": "Other", "description": text, "support": "Support."}
                     for text in written]
    out, log = redacted(schemas, "needs_assessment", data)
    assert [need["description"] for need in out["needs"]] == list(written.values())
    assert [f"$.data.needs[{i}].description" in log for i in range(len(written))] == \
        [True] * 5 + [False]
    assert out["person"]["address"] == data["person"]["address"]
