"""The one place that lists the document kinds recordgen produces.

Each kind names its schema and template, the title printed on the document, the date that places it
in time (for file names that sort by date), and how its versions are grouped: every new support plan
for a case is a new version of that case's plan, but each serious incident is its own document.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DocumentKind:
    name: str
    title: str
    schema_file: str
    template_file: str
    slug: str  # used in file names: outbox/<case>/<date>_<case>_<slug>_v<N>.docx
    date_field: str | None  # data field giving the document's date; None means the date produced
    series_field: str | None = None  # data field that splits versions into separate documents

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

KINDS: Mapping[str, DocumentKind] = {
    kind.name: kind for kind in (NEEDS_ASSESSMENT, SUPPORT_PLAN, EXIT_LETTER, SERIOUS_INCIDENT)
}

# A subject access request is answered by one PDF bundle assembled from the store (bundle.py), not
# by one Word template filled in from its own case file, so it is not in KINDS, the documents made
# that way (the template tests and `recordgen templates check` go through KINDS). Its template is
# the bundle's covering letter.
SUBJECT_ACCESS_REQUEST = DocumentKind(
    name="subject_access_request",
    title="Subject access bundle",
    schema_file="subject_access_request.schema.json",
    template_file="sar_cover_letter.docx",
    slug="subject-access-bundle",
    date_field=None,  # the bundle is dated the day it is produced
)

# Every kind of case file recordgen accepts.
CASE_FILE_KINDS: Mapping[str, DocumentKind] = {
    **KINDS, SUBJECT_ACCESS_REQUEST.name: SUBJECT_ACCESS_REQUEST,
}
