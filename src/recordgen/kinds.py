"""The one place that lists the kinds of case file recordgen takes, and what each is answered with.

Each kind names its schema and template, the title printed on its document, the date that places it
in time (for file names that sort by date), how its versions are grouped (every new support plan for
a case is a new version of that case's plan, but each serious incident is its own document), and how
it is answered: most with a Word document filled in from the case file itself; a subject access
request with a PDF bundle made from the store (its template is the bundle's covering letter); and
some (money secured, support ended without a letter, a request for a paper copy of the plan, a
declined referral) with nothing at all: they are recorded, with the clocks they start and stop,
and shown in the case's history and the person's subject access bundle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Answer(Enum):
    """What a case file of a kind is answered with."""

    DOCUMENT = "a Word document (and its PDF) filled in from the case file"
    BUNDLE = "one PDF bundle made from the records store"
    RECORD = "nothing issued: the case file is recorded, with the clocks it starts and stops"


@dataclass(frozen=True)
class DocumentKind:
    name: str
    title: str  # of the document that answers it
    schema_file: str
    template_file: str  # "" for a kind that issues nothing (Answer.RECORD)
    slug: str  # used in file names: outbox/<case>/<date>_<case>_<slug>_v<N>.docx
    date_field: str | None  # data field giving the document's date; None means the date produced
    series_field: str | None = None  # data field that splits versions into separate documents
    answer: Answer = Answer.DOCUMENT
    case_file_title: str = ""  # what the case file itself is called, when not the document's title
    # A kind that usually issues a document, but not for every case file: True for the data that
    # is only recorded (a declined referral gets no acknowledgement letter).
    record_only_when: Callable[[Mapping[str, Any]], bool] | None = None
    # Its rules read the case's earlier records (a review is checked against the current plan), so
    # it waits for any file of its case ahead of it in a batch to be recorded first.
    checked_against_case: bool = False

    def answer_for(self, data: Mapping[str, Any]) -> Answer:
        """What one case file of this kind is answered with."""
        if self.record_only_when is not None and self.record_only_when(data):
            return Answer.RECORD
        return self.answer

    @property
    def request_title(self) -> str:
        """What the case file is called: "Support plan", "Subject access request"."""
        return self.case_file_title or self.title

    def file_stem(self, case_ref: str, data: Mapping[str, Any], day: dt.date, version: int) -> str:
        """A file name that sorts by date and says what the document is:
        ``2026-09-14_THS-2026-0142_support-plan_v1``."""
        # A series named by the document's own date (a review) is already in the name's date.
        own = "" if self.series_field in (None, self.date_field) else \
            f"_{self.series_key(data)}"
        return f"{day.isoformat()}_{case_ref}_{self.slug}{own}_v{version}"

    def series(self, data: Mapping[str, Any]) -> str:
        """The key that groups versions of one document within a case."""
        if self.series_field is None:
            return self.name
        return f"{self.name}/{self.series_key(data)}"

    def series_key(self, data: Mapping[str, Any]) -> str:
        """The document's own reference in one form, as a case reference is: "inc-2026-017"
        corrects INC-2026-017 (its next version), never starts a document of its own beside it
        (a second file whose name differs only in letter case, which a Windows share cannot
        hold)."""
        return str(data[self.series_field]).upper() if self.series_field else ""


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



def _declined(data: Mapping[str, Any]) -> bool:
    decision = data.get("decision")
    return isinstance(decision, Mapping) and decision.get("outcome") == "declined"


REFERRAL = DocumentKind(
    name="referral",
    title="Referral acknowledgement",
    schema_file="referral.schema.json",
    template_file="referral_acknowledgement.docx",
    slug="referral-acknowledgement",
    date_field=None,  # a letter is dated the day it is produced
    case_file_title="Referral",
    # Floating support specification §4: the person is told their referral was accepted or put on
    # the waiting list; a declined referral is recorded, and no letter is issued from it.
    record_only_when=_declined,
)
SUPPORT_REVIEW = DocumentKind(
    name="support_review",
    title="Support plan review",
    schema_file="support_review.schema.json",
    template_file="support_review.docx",
    slug="support-plan-review",
    date_field="review_date",
    series_field="review_date",  # each review is its own record; a corrected one, a new version
    checked_against_case=True,  # its objectives are the current plan's
)
MONEY_SECURED = DocumentKind(
    name="money_secured",
    title="Money secured",
    schema_file="money_secured.schema.json",
    template_file="",
    slug="money-secured",
    date_field=None,
    series_field="money_ref",  # a later case file with the same reference updates it
    answer=Answer.RECORD,
)
LEAVER_OUTCOMES = DocumentKind(
    name="leaver_outcomes",
    title="Short-term outcomes form",
    schema_file="leaver_outcomes.schema.json",
    template_file="leaver_outcomes.docx",
    slug="outcomes-form",
    date_field="completed_on",
    series_field="support_ended_on",  # one form for each time support ended
    case_file_title="Leaver's outcomes",
)
SUPPORT_ENDED = DocumentKind(
    name="support_ended",
    title="Support ended without a letter",
    schema_file="support_ended.schema.json",
    template_file="",
    slug="support-ended",
    date_field="support_ended_on",
    series_field="support_ended_on",
    answer=Answer.RECORD,
)
HARD_COPY_REQUEST = DocumentKind(
    name="hard_copy_request",
    title="Request for a paper copy of the support plan",
    schema_file="hard_copy_request.schema.json",
    template_file="",
    slug="hard-copy-request",
    date_field="requested_on",
    series_field="requested_on",  # a later case file for the same request records it was sent
    answer=Answer.RECORD,
)

# Every kind of case file recordgen takes.
KINDS: Mapping[str, DocumentKind] = {
    kind.name: kind
    for kind in (NEEDS_ASSESSMENT, SUPPORT_PLAN, EXIT_LETTER, SERIOUS_INCIDENT, SUBJECT_ACCESS_REQUEST,
                 REFERRAL, SUPPORT_REVIEW, MONEY_SECURED, LEAVER_OUTCOMES, SUPPORT_ENDED,
                 HARD_COPY_REQUEST)
}

# The kinds answered by a document filled in from the case file alone: what regeneration remakes,
# and what the templates' own checks fill in (a referral among them: only a declined one issues
# nothing).
DOCUMENT_KINDS: Mapping[str, DocumentKind] = {
    name: kind for name, kind in KINDS.items() if kind.answer is Answer.DOCUMENT
}
