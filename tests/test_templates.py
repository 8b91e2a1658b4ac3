"""The Word templates: each example case file, rendered and read back with python-docx, holds the
facts its document must (issue 2, items 6 and 10), and case data is printed exactly as typed."""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from docxtpl import DocxTemplate

from recordgen.deadlines.clocks import (
    assessment_due,
    crisis_support_due,
    exit_letter_due,
    incident_notification_due,
    referral_contact_due,
    review_due,
)
from recordgen.documents.render import build_context, make_environment, render_document
from recordgen.documents.validate import SchemaSet, validate_case_file
from recordgen.intake.load import read_case_file
from recordgen.kinds import DOCUMENT_KINDS as KINDS
from recordgen.settings import Settings, load_settings

from docx_text import docx_body_lines, docx_header_footer_text, docx_rows, docx_text

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 23)  # on or after every date in the examples
DOCUMENT_DATE = dt.date(2026, 11, 18)
CONTEXT_NAMES = {"case_ref", "data", "document", "provider", "rules", "due"}

EXAMPLES = {
    "needs_assessment": "2026-09-10_THS-2026-0142_needs_assessment.json",
    "support_plan": "2026-09-14_THS-2026-0142_support_plan.json",
    "exit_letter": "2026-11-16_THS-2026-0142_exit_letter.json",
    "serious_incident": "2026-11-19_THS-2026-0097_serious_incident.json",
    "referral": "2026-09-01_THS-2026-0142_referral.json",
    "support_review": "2026-11-09_THS-2026-0142_support_review.json",
    "leaver_outcomes": "2026-11-23_THS-2026-0097_leaver_outcomes.json",
}
NAME = "Siân O'Brien"
NASTY_NAME = "Siân O'Brien & Sons <Ltd>"
JINJA_LOOKALIKE = "{{ 7*7 }} and {% if true %}x{% endif %}"

# One long free-text field per kind, used to check escaping and line breaks.
LONG_TEXT_FIELD: dict[str, tuple[str | int, ...]] = {
    "needs_assessment": ("needs", 0, "description"),
    "support_plan": ("objectives", 0, "objective"),
    "exit_letter": ("effects_of_leaving",),
    "serious_incident": ("what_happened",),
    "referral": ("reason_for_referral",),
    "support_review": ("objectives", 0, "note"),
    "leaver_outcomes": ("notes",),
}


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(ROOT / "recordgen.toml")


@pytest.fixture(scope="module")
def schemas(settings: Settings) -> SchemaSet:
    return SchemaSet(settings.folders.schemas)


def example(kind: str, settings: Settings) -> dict[str, Any]:
    """A fresh copy of the bundled example, loaded the strict way recordgen loads case files."""
    return read_case_file(
        ROOT / "examples" / EXAMPLES[kind],
        settings.limits.max_case_file_bytes,
        settings.limits.max_nesting_depth,
    )


def due_dates(kind: str, data: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    calendar, rules = settings.calendar, settings.rules
    if kind == "needs_assessment":
        return {
            "assessment": assessment_due(
                calendar, rules, dt.date.fromisoformat(data["entered_service_on"])
            ),
            "referral_contact": referral_contact_due(
                calendar, rules, dt.datetime.fromisoformat(data["referral"]["received_at"])
            ),
        }
    if kind == "support_plan":
        return {"review": review_due(calendar, rules, dt.date.fromisoformat(data["plan_date"]))}
    if kind == "exit_letter":
        received = dt.date.fromisoformat(data["request_received_on"])
        return {"letter": exit_letter_due(calendar, rules, received)}
    if kind == "referral":
        received_at = dt.datetime.fromisoformat(data["received_at"])
        return {"referral_contact": referral_contact_due(calendar, rules, received_at),
                "crisis": crisis_support_due(calendar, rules, received_at)}
    if kind == "support_review":
        return {"next_review": dt.date.fromisoformat(data["next_review_date"])}
    if kind == "leaver_outcomes":
        return {}
    occurred = dt.datetime.fromisoformat(data["occurred_at"])
    return {"notification": incident_notification_due(calendar, rules, occurred)}


@dataclass
class Rendered:
    data: Mapping[str, Any]
    text: str  # everything, one paragraph a line
    body: list[str]  # body paragraphs (table cells included), in order
    rows: list[list[str]]  # every table row, as cell texts
    header_footer: str

    def row(self, first_cell: str, cells: int = 2) -> list[str]:
        """The one table row of ``cells`` cells whose first cell is ``first_cell`` (by default a
        label and its value)."""
        matches = [row for row in self.rows if len(row) == cells and row[0] == first_cell]
        assert len(matches) == 1, f"expected one row starting {first_cell!r}, got {matches}"
        return matches[0]

    def has_row(self, first_cell: str, cells: int = 2) -> bool:
        return any(len(row) == cells and row[0] == first_cell for row in self.rows)


def render(
    document: Mapping[str, Any],
    settings: Settings,
    schemas: SchemaSet,
    tmp_path: Path,
    due: Mapping[str, Any] | None = None,
) -> Rendered:
    """Validate, render with the real template, save, and read back from disk."""
    case = validate_case_file(document, schemas, settings, TODAY)
    if due is None:
        due = due_dates(case.kind.name, case.data, settings)
    context = build_context(case, settings, version=1, document_date=DOCUMENT_DATE, due=due)
    rendered = render_document(settings.folders.templates / case.kind.template_file, context)
    path = tmp_path / f"{case.kind.name}.docx"
    path.write_bytes(rendered.content)
    result = Rendered(
        data=case.data,
        text=docx_text(path),
        body=docx_body_lines(path),
        rows=docx_rows(path),
        header_footer=docx_header_footer_text(path),
    )
    assert_nothing_left_over(result)
    return result


def _strings(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


def assert_nothing_left_over(rendered: Rendered) -> None:
    """No "None", no Jinja tag and no "Undefined" printed, beyond what the data itself says."""
    data_text = "\n".join(_strings(rendered.data))
    for marker in (r"\bNone\b", r"\{\{", r"\}\}", r"\{%", r"%\}", r"\bUndefined\b"):
        printed = len(re.findall(marker, rendered.text))
        in_data = len(re.findall(marker, data_text))
        assert printed <= in_data, f"{marker} printed {printed} times, {in_data} in the data"


def set_path(document: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    target: Any = document["data"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def assert_letterhead(rendered: Rendered, settings: Settings) -> None:
    provider = settings.provider
    body = rendered.body
    assert body[0] == provider.name
    assert body[1] == provider.service_name
    for line in provider.address:
        assert line in body[2 : 2 + len(provider.address) + 2]
    assert f"Phone: {provider.phone}" in body
    assert f"Email: {provider.email}" in body


def assert_footer(rendered: Rendered, reference: str) -> None:
    assert reference in rendered.header_footer
    assert "Page 1 of 1" in rendered.header_footer  # the PAGE and NUMPAGES fields


def assert_complaints(rendered: Rendered, settings: Settings) -> None:
    provider = settings.provider
    assert f"In writing to: {', '.join(provider.complaints_contact)}" in rendered.body
    assert f"By email: {provider.complaints_email}" in rendered.body
    assert f"By telephone: {provider.complaints_phone}" in rendered.body


def schema_node(schemas: SchemaSet, node: Mapping[str, Any]) -> Mapping[str, Any]:
    """A schema node with its $ref followed and any allOf folded in."""
    node = schemas.resolve(node)
    if "allOf" in node:
        merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
        for part in node["allOf"]:
            part = schema_node(schemas, part)
            merged.setdefault("properties", {}).update(part.get("properties", {}))
        node = merged
    return node


def walk(schemas: SchemaSet, node: Mapping[str, Any], names: list[str], where: str) -> Any:
    for name in names:
        properties = schema_node(schemas, node).get("properties", {})
        assert name in properties, f"{where}: the schema defines no field {name!r}"
        node = properties[name]
    return node


# --- the templates themselves --------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_template_uses_only_the_render_context(kind: str, settings: Settings) -> None:
    template = DocxTemplate(settings.folders.templates / KINDS[kind].template_file)
    names = template.get_undeclared_template_variables(jinja_env=make_environment())
    assert names <= CONTEXT_NAMES


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_template_names_only_fields_the_schema_defines(
    kind: str, settings: Settings, schemas: SchemaSet
) -> None:
    """Every data.<field> (and every field of a loop over case data) exists in the schema."""
    path = settings.folders.templates / KINDS[kind].template_file
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        xml = "".join(
            archive.read(name).decode("utf-8")
            for name in sorted(archive.namelist())
            if name.startswith("word/") and name.endswith(".xml")
        )
    tags = re.findall(r"\{\{.*?\}\}|\{%.*?%\}", xml, flags=re.DOTALL)
    assert tags, "the template has no tags"
    # The schema node each name stands for: data, and each loop variable over case data.
    scopes: dict[str, Any] = {"data": schemas.documents[kind]["properties"]["data"]}
    seen = 0
    for tag in tags:
        without_strings = re.sub(r"'[^']*'|\"[^\"]*\"", "", tag)
        for head, rest in re.findall(r"\b(\w+)((?:\.\w+)+)", without_strings):
            if head in scopes:
                walk(schemas, scopes[head], rest.strip(".").split("."), tag)
                seen += 1
        loop = re.search(r"\bfor (\w+) in (\w+)((?:\.\w+)*)", without_strings)
        if loop and loop.group(2) in scopes:
            names = [name for name in loop.group(3).split(".") if name]
            array = schema_node(schemas, walk(schemas, scopes[loop.group(2)], names, tag))
            scopes[loop.group(1)] = array["items"]
    assert seen > 10


# --- needs and risk assessment -------------------------------------------------------------------


def test_needs_assessment_holds_the_facts(
    settings: Settings, schemas: SchemaSet, tmp_path: Path
) -> None:
    document = example("needs_assessment", settings)
    data = document["data"]
    out = render(document, settings, schemas, tmp_path)

    assert_letterhead(out, settings)
    assert_footer(out, "THS-2026-0142/needs-and-risk-assessment/v1")
    assert "Needs and risk assessment" in out.body
    assert "Our reference: THS-2026-0142" in out.body
    assert "Document reference: THS-2026-0142/needs-and-risk-assessment/v1, version 1" in out.body

    assert out.row("Name") == ["Name", NAME]
    assert out.row("Preferred name") == ["Preferred name", "Siân"]
    assert out.row("Date of birth") == ["Date of birth", "14 March 1979"]
    assert out.row("Address") == [
        "Address", "Flat 4, Marsh & Quay House, 27 Wharf Road, Thameside, TS3 9QP"
    ]
    assert out.row("Phone") == ["Phone", "07700 900 142"]
    assert out.row("Preferred language")[1] == data["person"]["preferred_language"]
    assert out.row("Support worker") == [
        "Support worker", "Priya Natarajan, Housing Support Officer (phone 01632 960 145)"
    ]
    assert not out.has_row("Email")  # not given

    assert out.row("How the referral came to us")[1] == "Family or friend"
    assert out.row("Referred by")[1] == "Carys Morgan (Sister)"
    assert not out.has_row("Referring agency")
    assert out.row("Referral received")[1] == "9:40am on Tuesday 1 September 2026"
    assert out.row("First contact made")[1] == "11:15am on Wednesday 2 September 2026"
    assert not out.has_row("First contact due by")  # contact was made

    assert out.row("Entered the service")[1] == "7 September 2026"
    assert out.row("Assessment date")[1] == "10 September 2026"
    assert out.row("Assessment due by")[1] == "14 September 2026"
    assert out.row("Support starts")[1] == "14 September 2026"
    assert out.row("Housing (tenure)")[1] == "Housing association tenancy"
    assert out.row("Crisis support needed (within 24 hours of referral)")[1] == "No"

    assert out.row("Area", cells=3) == ["Area", "What the need is", "Support we will give"]
    for need in data["needs"]:
        assert [need["area"], need["description"], need["support"]] in out.rows
    assert out.row("Risk (hazard)", cells=4)[1:3] == ["Likelihood", "Impact"]
    for risk in data["risks"]:
        row = [risk["hazard"], risk["likelihood"].capitalize(), risk["impact"].capitalize(),
               risk["controls"]]
        assert row in out.rows

    assert (
        "Needs arising from ethnicity, religion, culture, gender, sexuality, disability or age"
        in out.body
    )
    diversity = data["diversity"]
    for label, key in [("Ethnicity", "ethnicity"), ("Religion or belief", "religion"),
                       ("Culture", "culture"), ("Gender", "gender"), ("Sexuality", "sexuality"),
                       ("Disability", "disability"), ("Age", "age")]:
        assert out.row(label) == [label, diversity[key]]
    assert out.row("Interpreter needed")[1] == "No"

    assert out.row("Consent given")[1] == "Yes"
    assert out.row("Agencies we may share with")[1] == (
        "Landlord (Riverside Homes), GP surgery, Universal Credit"
    )
    assert out.row("Consent recorded on")[1] == "10 September 2026"
    # No address recorded: the cell says so rather than being left blank.
    assert ["Carys Morgan", "Sister", "07700 900 611", "Not recorded"] in out.rows
    assert "Notes" not in out.body

    assert "Service user: " + NAME in out.body
    assert "Worker: Priya Natarajan, Housing Support Officer" in out.body
    signed = [line for line in out.body if line.startswith("Signed: ___")]
    assert len(signed) == 2 and all("Date: ___" in line for line in signed)


def test_needs_assessment_agency_referral_and_notes(
    settings: Settings, schemas: SchemaSet, tmp_path: Path
) -> None:
    document = example("needs_assessment", settings)
    data = document["data"]
    referral = data["referral"]
    del referral["private_referrer"], referral["first_contact_at"]
    referral.update(route="Probation", referring_agency="Thameside Probation & Resettlement")
    data["notes"] = "Prefers morning visits.\nDo not call after 6pm."
    data["crisis_support_needed"] = True
    del data["contacts"]

    out = render(document, settings, schemas, tmp_path)

    assert out.row("Referring agency")[1] == "Thameside Probation & Resettlement"
    assert not out.has_row("Referred by")
    assert not out.has_row("First contact made")
    assert out.row("First contact due by")[1] == "9:40am on Thursday 3 September 2026"  # 48 hours
    assert out.row("Crisis support needed (within 24 hours of referral)")[1] == "Yes"
    assert "Contacts" not in out.body
    notes_at = out.body.index("Notes")
    assert out.body[notes_at + 1] == "Prefers morning visits.\nDo not call after 6pm."


# --- support plan --------------------------------------------------------------------------------


def test_support_plan_holds_the_facts(
    settings: Settings, schemas: SchemaSet, tmp_path: Path
) -> None:
    document = example("support_plan", settings)
    data = document["data"]
    out = render(document, settings, schemas, tmp_path)

    assert_letterhead(out, settings)
    assert_footer(out, "THS-2026-0142/support-plan/v1")
    assert "Support plan" in out.body
    assert "Our reference: THS-2026-0142" in out.body
    assert out.row("Name")[1] == NAME
    assert out.row("Address")[1] == "Flat 4, Marsh & Quay House, 27 Wharf Road, Thameside, TS3 9QP"
    assert out.row("Plan date")[1] == "14 September 2026"
    assert out.row("Version")[1] == "Version 1"
    assert out.row("Support started")[1] == "14 September 2026"
    assert out.row("Hours of support a week")[1] == "2.5 (this service gives up to 3 hours a week)"
    assert out.row("Next review by")[1] == "7 December 2026"
    assert not out.has_row("Support beyond two years")
    assert (
        "We review support plans at least every 12 weeks, and sooner if your circumstances "
        "change. Any changes are made in a new version of this plan." in out.body
    )

    assert out.row("Outcome", cells=6) == [
        "Outcome", "Objective", "How we will measure it", "Why it is achievable and realistic",
        "Who does what", "Target date",
    ]
    # Each objective is numbered (the plan gives no refs of its own): reviews refer to it so.
    outcomes = {f"{objective['outcome']} (objective {number})"
                for number, objective in enumerate(data["objectives"], start=1)}
    objective_rows = [row for row in out.rows if row[0] in outcomes]
    assert len(objective_rows) == len(data["objectives"]) == 3
    for number, (objective, row) in enumerate(zip(data["objectives"], objective_rows,
                                                  strict=True), start=1):
        who_does_what = "\n".join(f"{a['action']} — {a['by_whom']}" for a in objective["actions"])
        target = dt.date.fromisoformat(objective["target_date"])
        assert row == [
            f"{objective['outcome']} (objective {number})",
            objective["objective"],
            objective["measure"],
            objective["achievable"],
            who_does_what,
            f"{target.day}\u00a0{target:%B}\u00a0{target.year}",  # never broken over lines
        ]
    assert "Set up a standing order for the rent on payday. — Siân" in out.text
    assert "30\u00a0November\u00a02026" in objective_rows[0]

    assert (
        "Carys Morgan (Sister) took part in making this plan as Siân O'Brien's representative."
        in out.body
    )
    assert (
        "You can ask for a paper copy of this plan at any time; we will give it to you within "
        "5 working days." in out.body
    )
    assert any(
        line.startswith("If you are unhappy with any part of your support plan")
        and "complaints process" in line
        for line in out.body
    )
    assert_complaints(out, settings)
    assert "Plan agreed by the service user: Yes" in out.body
    assert "Service user: " + NAME in out.body
    assert "Worker: Priya Natarajan, Housing Support Officer" in out.body
    signed = [line for line in out.body if line.startswith("Signed: ___")]
    assert len(signed) == 2
    assert all(line.endswith("Date: 14 September 2026") for line in signed)


def test_support_plan_version_unsigned_and_extended(
    settings: Settings, schemas: SchemaSet, tmp_path: Path
) -> None:
    document = example("support_plan", settings)
    data = document["data"]
    data["signatures"] = {"service_user_agreed": False}
    data["extended_support_agreed"] = True
    data["hours_per_week"] = 3
    del data["advocate"]
    case = validate_case_file(document, schemas, settings, TODAY)
    context = build_context(case, settings, version=4, document_date=DOCUMENT_DATE)
    rendered = render_document(settings.folders.templates / "support_plan.docx", context)
    text = docx_text(rendered.content)

    assert "Version 4" in text
    assert "THS-2026-0142/support-plan/v4" in text
    assert "3 (this service gives up to 3 hours a week)" in text
    assert "Support beyond two years\nAgreed with the care practitioner" in text
    assert "Plan agreed by the service user: No" in text
    assert "Advocate or representative" not in text
    signed = [line for line in text.splitlines() if line.startswith("Signed: ___")]
    assert len(signed) == 2 and all(line.endswith("Date: ____________________") for line in signed)


# --- exit letter ---------------------------------------------------------------------------------

TENANCY_CAVEAT = (
    "Because you live in specialist accommodation, such as sheltered housing, the terms of your "
    "tenancy may mean you cannot leave the housing support service. Please talk to us before you "
    "decide."
)
FIXED_SENTENCE = "stopping housing support may affect your ability to keep your accommodation"


def test_exit_letter_holds_the_required_paragraphs(
    settings: Settings, schemas: SchemaSet, tmp_path: Path
) -> None:
    document = example("exit_letter", settings)
    data = document["data"]
    out = render(document, settings, schemas, tmp_path)
    body = out.body

    assert_letterhead(out, settings)
    assert_footer(out, "THS-2026-0142/exit-confirmation-letter/v1")
    # Recipient block, line by line, then the date line and the greeting.
    at = body.index(NAME)
    assert body[at : at + 5] == [
        NAME, "Flat 4, Marsh & Quay House", "27 Wharf Road", "Thameside", "TS3 9QP"
    ]
    assert "Our reference: THS-2026-0142" in body
    assert "Please ask for: Priya Natarajan" in body
    assert "Phone: 01632 960 145" in body
    assert "18 November 2026" in body
    assert body.index("18 November 2026") < body.index(f"Dear {NAME}")
    assert "Confirmation of your request to leave the service" in body

    assert (
        "Thank you for letting us know that you want to stop using the Floating Support Service. "
        "We received your request to leave the service by telephone on 16 November 2026. This "
        "letter confirms that we have recorded your request." in body
    )
    assert "Your housing support will end on 30 November 2026." in body

    agreed = body.index("What we have agreed")
    assert body[agreed + 1 : agreed + 3] == data["arrangements_agreed"]
    effects = body.index("What leaving the service means for you")
    assert body[effects + 1] == data["effects_of_leaving"]
    assert FIXED_SENTENCE in body[effects + 2]
    assert TENANCY_CAVEAT not in out.text
    back = body.index("If you want support again")
    assert body[back + 1] == data["how_to_return"]
    assert "If you are not happy with our service" in body
    assert_complaints(out, settings)

    closing = next(line for line in body if line.startswith("Yours sincerely"))
    assert closing.split("\n")[-3:] == [
        "Priya Natarajan", "Housing Support Officer",
        "Floating Support Service, Thameside Housing Support",
    ]
    # Provider-ended wording stays out of a letter the person asked for.
    assert "will stop giving you housing support" not in out.text
    assert "referred you" not in out.text


REASON_WORDS = [
    ("two-year limit reached", "You have now had housing support from us for two years."),
    ("unwilling to engage", "you do not want the support we have been offering"),
    ("three missed appointments", "we were not able to meet you on three occasions"),
    ("risk to staff unmanageable", "we can no longer keep our staff safe"),
    ("structured review", "When we reviewed your support with you"),
]


@pytest.mark.parametrize(("reason", "plain_words"), REASON_WORDS)
def test_exit_letter_when_the_service_ends_support(
    reason: str, plain_words: str, settings: Settings, schemas: SchemaSet, tmp_path: Path
) -> None:
    document = example("exit_letter", settings)
    data = document["data"]
    data.update(
        ended_by="provider",
        provider_reason=reason,
        still_vulnerable=True,
        reason_details="We wrote to you on 2 November 2026.\nWe also called you twice.",
        onward_referral={"organisation": "Thameside Mind & Wellbeing", "referred_on": "2026-11-17"},
    )
    if reason == "three missed appointments":
        data["missed_appointments"] = ["2026-10-02", "2026-10-16", "2026-10-30"]
    out = render(document, settings, schemas, tmp_path)
    body = out.body

    assert "Your housing support from the Floating Support Service is ending" in body
    assert (
        "We are writing to tell you that the Floating Support Service will stop giving you "
        "housing support on 30 November 2026." in body
    )
    assert sum(plain_words in line for line in body) == 1
    for other_reason, other_words in REASON_WORDS:
        if other_reason != reason:
            assert other_words not in out.text
    assert "We wrote to you on 2 November 2026.\nWe also called you twice." in body
    assert (
        "So that you can still get help, we referred you to Thameside Mind & Wellbeing on "
        "17 November 2026, as we agreed with you." in body
    )
    if reason == "three missed appointments":
        assert (
            "The appointments you missed were on 2 October 2026, 16 October 2026 and "
            "30 October 2026." in body
        )
    else:
        assert "The appointments you missed" not in out.text
    assert "We received your request" not in out.text
    assert "Confirmation of your request to leave the service" not in body
    # The letter still carries what every exit letter must.
    assert data["arrangements_agreed"][0] in body
    assert FIXED_SENTENCE in out.text
    assert data["how_to_return"] in body
    assert_complaints(out, settings)


def test_exit_letter_onward_referral_when_the_person_leaves(
    settings: Settings, schemas: SchemaSet, tmp_path: Path
) -> None:
    document = example("exit_letter", settings)
    document["data"]["onward_referral"] = {
        "organisation": "Thameside Citizens Advice", "referred_on": "2026-11-17"
    }
    document["data"]["request_made_by"] = "advocate on their behalf"
    out = render(document, settings, schemas, tmp_path)
    assert (
        "As we agreed with you, we referred you to Thameside Citizens Advice on 17 November 2026."
        in out.body
    )
    assert "from your advocate, on your behalf on 16 November 2026" in out.text


def test_exit_letter_specialist_accommodation_caveat(
    settings: Settings, schemas: SchemaSet, tmp_path: Path
) -> None:
    document = example("exit_letter", settings)
    document["data"]["accommodation"] = {"type": "Sheltered housing flat", "specialist": True}
    out = render(document, settings, schemas, tmp_path)
    assert out.body.count(TENANCY_CAVEAT) == 1
    effects = out.body.index("What leaving the service means for you")
    assert out.body.index(TENANCY_CAVEAT) > effects

    document["data"].update(ended_by="provider", provider_reason="structured review",
                            still_vulnerable=False)
    out = render(document, settings, schemas, tmp_path)
    assert TENANCY_CAVEAT not in out.text
    assert "the terms of your tenancy may mean you need to keep receiving housing support" in (
        out.text
    )


# --- serious incident ----------------------------------------------------------------------------


def test_serious_incident_holds_the_facts(
    settings: Settings, schemas: SchemaSet, tmp_path: Path
) -> None:
    document = example("serious_incident", settings)
    data = document["data"]
    out = render(document, settings, schemas, tmp_path)

    assert_letterhead(out, settings)
    assert_footer(out, "THS-2026-0097/serious-incident-report/v1")
    assert "Serious incident report" in out.body
    assert "Our reference: THS-2026-0097" in out.body
    assert "Incident reference: INC-2026-017" in out.body
    assert "Report date: 18 November 2026" in out.body
    assert out.row("Service user")[1] == "Daniel Okafor (born 2 July 1991)"
    assert out.row("When")[1] == "2:20am on Thursday 19 November 2026"
    assert out.row("Where")[1] == data["location"]
    assert out.row("Category")[1] == "Other harm"
    assert out.row("Reported by")[1] == "Tom Reilly, Night Project Worker (phone 01632 960 177)"

    assert out.row("Name", cells=3) == ["Name", "Role", "How they were involved"]
    for person in data["people_involved"]:
        assert [person["name"], person["role"].capitalize(), person["involvement"]] in out.rows

    assert out.body[out.body.index("What happened") + 1] == data["what_happened"]
    assert out.body[out.body.index("What we did straight away") + 1] == data["immediate_actions"]

    assert out.row("Emergency services called")[1] == "Yes"
    assert out.row("Which services")[1] == "Ambulance"
    assert out.row("Their reference")[1] == "CAD 1187"
    assert out.row("Safeguarding referral made")[1] == "Yes"
    assert out.row("The person's consent")[1] == "Not sought"
    assert out.row("Why the referral was made without consent")[1] == (
        data["safeguarding"]["reason_without_consent"]
    )
    assert out.row("Referred to")[1] == "Thameside Adult Safeguarding Team"
    assert out.row("Referred at")[1] == "9:05am on Thursday 19 November 2026"
    assert out.row("Commissioning team told")[1] == "10:30am on Thursday 19 November 2026"


def test_serious_incident_not_yet_notified_and_nothing_called(
    settings: Settings, schemas: SchemaSet, tmp_path: Path
) -> None:
    document = example("serious_incident", settings)
    data = document["data"]
    del data["commissioner_notified_at"]
    data["emergency_services"] = {"called": False}
    data["safeguarding"] = {"referral_made": False}
    data["person"] = {"name": "Daniel Okafor"}
    out = render(document, settings, schemas, tmp_path)

    assert out.row("Commissioning team told")[1] == (
        "Not yet notified — due by 2:20am on Friday 20 November 2026"
    )
    assert out.row("Emergency services called")[1] == "No"
    assert out.row("Safeguarding referral made")[1] == "No"
    assert out.row("Service user")[1] == "Daniel Okafor"
    for label in ("Which services", "Their reference", "The person's consent",
                  "Why the referral was made without consent", "Referred to", "Referred at"):
        assert not out.has_row(label)

    out = render(document, settings, schemas, tmp_path, due={})
    assert out.row("Commissioning team told")[1] == "Not yet notified"


# --- every kind: data printed exactly as typed ---------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_case_data_is_printed_as_typed_never_run(
    kind: str, settings: Settings, schemas: SchemaSet, tmp_path: Path
) -> None:
    document = example(kind, settings)
    document["data"]["person"]["name"] = NASTY_NAME
    set_path(document, LONG_TEXT_FIELD[kind], JINJA_LOOKALIKE)
    out = render(document, settings, schemas, tmp_path)

    assert NASTY_NAME in out.text
    assert JINJA_LOOKALIKE in out.text
    assert "49" not in out.text
    assert "Sons &amp;" not in out.text and "&lt;Ltd" not in out.text


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_line_breaks_in_long_text_are_kept(
    kind: str, settings: Settings, schemas: SchemaSet, tmp_path: Path
) -> None:
    document = example(kind, settings)
    set_path(document, LONG_TEXT_FIELD[kind], "First line of the text.\nSecond line of the text.")
    out = render(document, settings, schemas, tmp_path)
    assert "First line of the text.\nSecond line of the text." in out.text


OPTIONAL_PERSON_LABELS = ("Preferred name", "Date of birth", "Address", "Phone", "Email")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_missing_optional_fields_leave_no_gaps(
    kind: str, settings: Settings, schemas: SchemaSet, tmp_path: Path
) -> None:
    document = example(kind, settings)
    data = document["data"]
    if kind == "referral":  # the service's age range is checked against the date of birth
        data["person"] = {"name": NAME, "date_of_birth": data["person"]["date_of_birth"]}
    elif kind != "exit_letter":  # the letter needs the address
        data["person"] = {"name": NAME}
    for worker in ("worker", "reported_by"):
        if worker in data:
            data[worker] = {"name": "Priya Natarajan", "role": "Housing Support Officer"}
    if kind == "needs_assessment":
        data["referral"] = {"received_at": "2026-09-01T09:40", "route": "Self-referral"}
        data["consent_to_share"] = {"given": False, "recorded_on": "2026-09-10"}
        del data["contacts"], data["diversity"]["interpreter_needed"]
    if kind == "support_plan":
        del data["advocate"]
    out = render(document, settings, schemas, tmp_path, due={})

    assert NAME in out.text
    if kind != "exit_letter":
        for label in OPTIONAL_PERSON_LABELS:
            assert not out.has_row(label)
        assert "(born" not in out.text
    assert "(phone" not in out.text
    assert "Interpreter needed" not in out.text
    assert "Agencies we may share with" not in out.text
    assert "Assessment due by" not in out.text
    assert "Referred by" not in out.text
    if kind == "exit_letter":
        # No worker phone: the letter gives the service's number (the letterhead has it too).
        assert out.body.count(f"Phone: {settings.provider.phone}") == 2
        assert "please contact Priya Natarajan." in out.text


def test_templates_are_rendered_fresh_each_time(
    settings: Settings, schemas: SchemaSet, tmp_path: Path
) -> None:
    """Rendering one case must not leave anything behind for the next (docxtpl mutates the
    template object it renders)."""
    first = example("exit_letter", settings)
    second = copy.deepcopy(first)
    second["data"]["person"]["name"] = "Daniel Okafor"
    assert NAME in render(first, settings, schemas, tmp_path).text
    text = render(second, settings, schemas, tmp_path).text
    assert "Daniel Okafor" in text and NAME not in text


# --- templates check: loops that can run away ------------------------------------------------------


def _with_paragraph(folder: Path, text: str) -> Path:
    import shutil

    import docx

    shutil.copytree(ROOT / "templates", folder)
    document = docx.Document(str(folder / "needs_assessment.docx"))
    document.add_paragraph(text)
    document.save(str(folder / "needs_assessment.docx"))
    return folder


@pytest.mark.parametrize("text", [
    "{% for i in range(1000) %}{% for j in range(1000) %}x{% endfor %}{% endfor %}",
    "{% for i in range(9)|reverse %}{% if i %}{% for j in range(i * 999) %}.{% endfor %}"
    "{% endif %}{% endfor %}",
])
def test_templates_check_warns_about_loops_over_ranges_inside_each_other(
    text: str, schemas: SchemaSet, tmp_path: Path
) -> None:
    from recordgen.documents.template_check import check_templates

    findings = check_templates(_with_paragraph(tmp_path / "templates", text), schemas)
    (finding,) = findings
    assert finding.template == "needs_assessment.docx"
    assert str(finding).startswith("needs_assessment.docx: warning: it has a loop over range(...) "
                                   "inside another loop over range(...)")
    assert "data.objectives" in finding.message


def test_templates_check_does_not_warn_about_one_loop_over_a_range_or_loops_over_lists(
    schemas: SchemaSet, tmp_path: Path
) -> None:
    from recordgen.documents.template_check import check_templates

    text = ("{% for i in range(3) %}{{ i }}{% endfor %}{% for need in data.needs %}"
            "{% for i in range(2) %}-{% endfor %}{% endfor %}")
    assert check_templates(_with_paragraph(tmp_path / "templates", text), schemas) == []


# --- referral acknowledgement, review record, outcomes form --------------------------------------


def test_referral_letter_when_accepted(
    settings: Settings, schemas: SchemaSet, tmp_path: Path
) -> None:
    document = example("referral", settings)
    out = render(document, settings, schemas, tmp_path)
    assert_letterhead(out, settings)
    assert_footer(out, "THS-2026-0142/referral-acknowledgement/v1")
    assert f"Dear {NAME}" in out.body
    assert "Your referral to the Floating Support Service" in out.body
    assert ("We received a referral for housing support for you from someone who knows you at "
            "9:40am on Tuesday 1 September 2026.") in out.body
    assert ("We have looked at the referral and on 3 September 2026 we decided that we can offer "
            "you support.") in out.body
    assert any(line.startswith("We first spoke to you at 11:15am on Wednesday 2 September 2026.")
               for line in out.body)
    assert out.row("Decision")[1] == "Accepted, 3 September 2026"
    assert "waiting list" not in out.text and "urgently" not in out.text
    # The referrer, a relative, is not named in the letter.
    assert "Carys" not in out.text
    assert_complaints(out, settings)


def test_referral_letter_on_the_waiting_list_in_a_crisis(
    settings: Settings, schemas: SchemaSet, tmp_path: Path
) -> None:
    document = example("referral", settings)
    data = document["data"]
    data.update(route="Housing Department", crisis=True,
                decision={"outcome": "waiting list", "decided_on": "2026-09-02"},
                referrer={"acting_as": "professional", "name": "Sam Clarke",
                          "organisation": "Thameside Housing Options"})
    del data["first_contact_at"]
    out = render(document, settings, schemas, tmp_path)
    assert ("We received a referral for housing support for you from Housing Department at "
            "9:40am on Tuesday 1 September 2026.") in out.body
    assert any("On 2 September 2026 we put you on our waiting list" in line for line in out.body)
    # Service standard: support within 24 hours in a crisis; 48 hours for first contact.
    assert ("Because you need support urgently, we will give you support by 9:40am on "
            "Wednesday 2 September 2026.") in out.body
    assert any(line.startswith("We will contact you by 9:40am on Thursday 3 September 2026")
               for line in out.body)
    assert out.row("Decision")[1] == "On the waiting list, 2 September 2026"
    data["crisis_support_given_at"] = "2026-09-01T15:30"
    out = render(document, settings, schemas, tmp_path)
    assert ("Because you needed support urgently, we gave you support at 3:30pm on Tuesday "
            "1 September 2026.") in out.body


def test_support_review_record_holds_the_facts(
    settings: Settings, schemas: SchemaSet, tmp_path: Path
) -> None:
    document = example("support_review", settings)
    data = document["data"]
    data["hard_outcomes"]["hospital_stays"] = [
        {"admitted_on": "2026-10-01", "discharged_on": "2026-10-05"}, {"admitted_on": "2026-11-07"}]
    out = render(document, settings, schemas, tmp_path)
    assert_letterhead(out, settings)
    assert_footer(out, "THS-2026-0142/support-plan-review/v1")
    assert "Review date: 9 November 2026" in out.body
    assert out.row("Why it was held")[1] == "Scheduled review"
    assert out.row("Who took part")[1] == (
        "Siân O'Brien (the person); Priya Natarajan (support worker, Thameside Housing Support); "
        "Carys Morgan (advocate)")
    assert out.row("Next review by")[1] == "11 January 2027"
    assert not out.has_row("Review interval chosen")
    assert out.row("Objective", cells=3) == ["Objective", "Progress", "What we found"]
    progress = {"achieved": "Achieved", "partly achieved": "Partly achieved"}
    for objective in data["objectives"]:
        assert [objective["objective_ref"], progress[objective["progress"]],
                objective["note"]] in out.rows
    assert out.row("Circumstances changed")[1] == "Yes"
    assert out.row("What changed")[1] == data["changes_in_circumstances"]
    assert out.row("The plan must change")[1] == "No"
    assert not out.has_row("What must change in the plan")
    assert out.row("Registered with a GP")[1] == "Yes"
    assert out.row("Hospital admissions since the last review")[1] == "2"
    assert ["1 October 2026", "5 October 2026", "4"] in out.rows  # days: 5 less 1 October
    assert ["7 November 2026", "Still in hospital", "Not yet known"] in out.rows
    assert_complaints(out, settings)


def test_outcomes_form_holds_the_facts(
    settings: Settings, schemas: SchemaSet, tmp_path: Path
) -> None:
    document = example("leaver_outcomes", settings)
    data = document["data"]
    out = render(document, settings, schemas, tmp_path)
    assert_footer(out, "THS-2026-0097/outcomes-form/v1")
    assert "Completed on: 23 November 2026" in out.body
    assert out.row("Support started")[1] == "16 June 2025"
    assert out.row("Support ended")[1] == "21 November 2026"
    assert out.row("Why support ended")[1] == "Moved away without notice"
    assert out.row("Where the person went")[1] == "Living with family or friends"
    assert out.row("Moved on in a planned way (KPI 2)")[1] == "No"
    # Two tables of needs and achievements: the five outcomes, then paid work and training.
    assert out.rows.count(["Outcome", "Need identified", "Achieved", "Note"]) == 2
    labels = {"economic_wellbeing": "Economic well-being", "enjoy_and_achieve": "Enjoy and achieve",
              "be_healthy": "Be healthy", "stay_safe": "Stay safe",
              "make_a_positive_contribution": "Make a positive contribution"}
    yes_no = {True: "Yes", False: "No"}
    for key, label in labels.items():
        answer = data["outcomes"][key]
        assert [label, yes_no[answer["need_identified"]], yes_no[answer["achieved"]],
                answer.get("note", "")] in out.rows
    assert ["Obtaining paid work", "Yes", "No",
            data["hard_outcomes"]["paid_work"]["note"]] in out.rows
    assert ["Training or education", "Yes", "Yes", ""] in out.rows
    assert out.row("Registered with a GP")[1] == "Yes"
    assert out.row("Independent living established or kept (KPI 1)")[1] == "No"
    assert out.row("Hospital admissions while supported")[1] == "1"
    assert out.row("Days in hospital")[1] == "1"
    assert ["19 November 2026", "20 November 2026", "1"] in out.rows
    assert "Worker: Tom Reilly, Night Project Worker" in out.body


def test_exit_letter_to_a_person_still_vulnerable_without_an_onward_referral(
    settings: Settings, schemas: SchemaSet, tmp_path: Path
) -> None:
    document = example("exit_letter", settings)
    document["data"].update(ended_by="provider", provider_reason="unwilling to engage",
                            still_vulnerable=True,
                            no_onward_referral_reason="She did not want a referral.")
    out = render(document, settings, schemas, tmp_path)
    assert ("You have told us, or shown us, that you do not want the support we have been "
            "offering, so we cannot go on offering it.") in out.body
    assert ("We think you may still need support. If you would like us to refer you to another "
            "organisation that can help, please contact us at any time and we will do it.") \
        in out.body
    # The reason recorded for the file is not printed in the letter.
    assert "She did not want a referral." not in out.text
