"""Subject access requests: the covering letter's words (the Article 15 information, from the
settings file's [subject_access] table over the defaults here), what the bundle covers, the
response's due date, and its clock.

A request is answered by a bundle built from the store (:mod:`recordgen.subject_access.bundle`). Its
case file is checked like every other, against its schema and the rules in
:mod:`recordgen.documents.rules`.

The law: UK GDPR Article 12(3) gives one month from receipt, extendable by two further months when
the person is told, with the reasons, within the first month; the ICO counts it as the
corresponding calendar date (:func:`recordgen.calendar.sar_due`).
"""

from __future__ import annotations

from collections.abc import Mapping

# validate.py's keyword-by-keyword translation into plain English (private there), reused so a
# request's problems read like every other case file's.
from recordgen.cases import CaseFile
from recordgen.dates import date_field, uk_date
from recordgen.kinds import KINDS, SUBJECT_ACCESS_REQUEST
from recordgen.settings import Settings

CLOCK_SUBJECT = SUBJECT_ACCESS_REQUEST.name  # the clock's "subject" column in the store

# --- the covering letter's words ------------------------------------------------------------

# The Article 15 information in the covering letter; recordgen.toml [subject_access] may reword
# any of it. Article 15(1)(a)-(h) and 15(2), in the order the letter gives them.
DEFAULT_WORDING: Mapping[str, str] = {
    "purposes": (
        "We use your information to assess your housing support needs and the risks you face, to "
        "plan and give you housing support, to keep you and other people safe, to meet our legal "
        "duties (including safeguarding and telling the council's commissioning team about serious "
        "incidents), and to check and improve the service."
    ),
    "categories": (
        "Your name, contact details, date of birth and preferred language; your housing and "
        "tenancy; your support needs, the risks we assessed and how we manage them; your support "
        "plans and their reviews; information about your health, including your mental health, "
        "and any disability; the equality information you chose to give us; incidents and "
        "safeguarding concerns about you; and letters we sent you."
    ),
    "recipients": (
        "With your consent, the organisations you agreed we could share your information with "
        "(they are listed in your assessment). Without your consent, only where the law requires "
        "or allows it: the council's commissioning team (serious incidents), the adult "
        "safeguarding team, and the police or emergency services when someone is at risk. Our IT "
        "and storage suppliers hold information for us under contract."
    ),
    "retention": (
        "We keep your records for six years after your support ends, then destroy them securely. "
        "Records of safeguarding concerns and serious incidents may be kept longer when the law or "
        "a review requires it."
    ),
    "source": (
        "Most of this information came from you. Some came from the person or organisation that "
        "referred you to us, from organisations you agreed we could contact, and from our staff's "
        "notes of their work with you."
    ),
    "automated_decisions": "We do not make decisions about you by automated means, including "
                           "profiling.",
    "transfers": "We do not send your information outside the UK.",
    "rectification": "You can ask us to correct information about you that is wrong, or to "
                     "complete information that is incomplete (UK GDPR Article 16).",
    "erasure": "You can ask us to delete information about you (Article 17). We may not be able to "
               "when the law requires us to keep it, or to protect someone.",
    "restriction": "You can ask us to limit how we use your information, for example while we "
                   "check whether it is right (Article 18).",
    "objection": "You can object to how we use your information (Article 21). We will stop unless "
                 "we have compelling legitimate grounds, or need it for a legal claim.",
    "complaint": (
        "You have the right to complain to the Information Commissioner's Office (ICO), the UK's "
        "regulator for data protection: online at ico.org.uk/make-a-complaint, by telephone on "
        "0303 123 1113, or by post to the Information Commissioner's Office, Wycliffe House, Water "
        "Lane, Wilmslow, Cheshire SK9 5AF. We would like the chance to put things right first, so "
        "please tell us too."
    ),
    "dpo_contact": "",
}


def wording(settings: Settings) -> dict[str, str]:
    """The Article 15 wording: the settings file's [subject_access] text over the defaults."""
    return {key: settings.sar_wording.get(key, default) for key, default in DEFAULT_WORDING.items()}


def scope_text(request: CaseFile) -> str:
    """What the bundle covers, in words for the letter."""
    if not isinstance(request.data["scope"], Mapping):
        return "all the personal information we hold about you"
    return "the personal information you asked for: " + "; ".join(_scope_parts(request))


def scope_summary(request: CaseFile) -> str:
    """What the bundle covers, in words for the cover sheet."""
    if not isinstance(request.data["scope"], Mapping):
        return f"Everything held under case reference {request.case_ref}"
    text = "; ".join(_scope_parts(request))
    return text[0].upper() + text[1:]


def _scope_parts(request: CaseFile) -> list[str]:
    scope = request.data["scope"]
    parts = []
    if "record_types" in scope:
        names = [KINDS[t].request_title.lower() if t != SUBJECT_ACCESS_REQUEST.name
                 else "subject access requests" for t in scope["record_types"]]
        parts.append("records of these kinds: " + ", ".join(names))
    if "from" in scope and "to" in scope:
        parts.append(f"dated from {uk_date(date_field(scope['from']))} to {uk_date(date_field(scope['to']))}")
    elif "from" in scope:
        parts.append(f"dated on or after {uk_date(date_field(scope['from']))}")
    elif "to" in scope:
        parts.append(f"dated on or before {uk_date(date_field(scope['to']))}")
    return parts
