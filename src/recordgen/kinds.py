"""The one place that lists the kinds of case file recordgen takes, and what each is answered with.

Each kind names its schema and template, the title printed on its document, the date that places it
in time (for file names that sort by date), how its versions are grouped (every new support plan for
a case is a new version of that case's plan, but each serious incident is its own document), and how
it is answered: most with a Word document filled in from the case file itself; a subject access
request with a PDF bundle made from the store (its template is the bundle's covering letter).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Answer(Enum):
    """What a case file of a kind is answered with."""

    DOCUMENT = "a Word document (and its PDF) filled in from the case file"
    BUNDLE = "one PDF bundle made from the records store"


@dataclass(frozen=True)
class DocumentKind:
    name: str
    title: str  # of the document that answers it
    schema_file: str
    template_file: str
    slug: str  # used in file names: outbox/<case>/<date>_<case>_<slug>_v<N>.docx
    date_field: str | None  # data field giving the document's date; None means the date produced
    series_field: str | None = None  # data field that splits versions into separate documents
    answer: Answer = Answer.DOCUMENT
    case_file_title: str = ""  # what the case file itself is called, when not the document's title

    @property
    def request_title(self) -> str:
        """What the case file is called: "Support plan", "Subject access request"."""
        return self.case_file_title or self.title

    def file_stem(self, case_ref: str, data: Mapping[str, Any], day: dt.date, version: int) -> str:
        """A file name that sorts by date and says what the document is:
        ``2026-09-14_THS-2026-0142_support-plan_v1``."""
        own = "" if self.series_field is None else f"_{data[self.series_field]}"
        return f"{day.isoformat()}_{case_ref}_{self.slug}{own}_v{version}"

    def series(self, data: Mapping[str, Any]) -> str:
        """The key that groups versions of one document within a case."""
        if self.series_field is None:
            return self.name
        return f"{self.name}/{data[self.series_field]}"


NEEDS_ASSESSMENT = DocumentKind(
    name="needs_assessment",
    title="Needs and risk assessment",
    schema_file="needs_assessment.schema.json",
    template_file="needs_assessment.docx",
    slug="needs-and-risk-assessment",
    date_field="assessment_date",
)
SUPPORT_PLAN = DocumentKind(
    name="support_plan",
    title="Support plan",
    schema_file="support_plan.schema.json",
    template_file="support_plan.docx",
    slug="support-plan",
    date_field="plan_date",
)
EXIT_LETTER = DocumentKind(
    name="exit_letter",
    title="Exit confirmation letter",
    schema_file="exit_letter.schema.json",
    template_file="exit_letter.docx",
    slug="exit-confirmation-letter",
    date_field=None,  # a letter is dated the day it is produced
)
SERIOUS_INCIDENT = DocumentKind(
    name="serious_incident",
    title="Serious incident report",
    schema_file="serious_incident.schema.json",
    template_file="serious_incident.docx",
    slug="serious-incident-report",
    date_field=None,  # the report is dated the day it is produced; the incident has its own time
    series_field="incident_ref",
)

SUBJECT_ACCESS_REQUEST = DocumentKind(
    name="subject_access_request",
    title="Subject access bundle",
    schema_file="subject_access_request.schema.json",
    template_file="sar_cover_letter.docx",
    slug="subject-access-bundle",
    date_field=None,  # the bundle is dated the day it is produced
    answer=Answer.BUNDLE,
    case_file_title="Subject access request",
)

# Every kind of case file recordgen takes.
KINDS: Mapping[str, DocumentKind] = {
    kind.name: kind
    for kind in (NEEDS_ASSESSMENT, SUPPORT_PLAN, EXIT_LETTER, SERIOUS_INCIDENT, SUBJECT_ACCESS_REQUEST)
}

# The kinds answered by a document filled in from the case file alone: what regeneration remakes,
# and what the templates' own checks fill in.
DOCUMENT_KINDS: Mapping[str, DocumentKind] = {
    name: kind for name, kind in KINDS.items() if kind.answer is Answer.DOCUMENT
}
