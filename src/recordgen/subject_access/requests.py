"""Subject access requests: checking the case file, the covering letter's words (the Article 15
information, from the settings file's [subject_access] table over the defaults here), the
response's due date, and its clock.

A request is answered by a bundle built from the store (:mod:`recordgen.subject_access.bundle`). Its
case file is checked like every other (JSON Schema, then the rules one file can show), but here
rather than in :mod:`recordgen.documents.validate`, because the kind is not one of the template
kinds that module lists (see :data:`recordgen.kinds.CASE_FILE_KINDS`). The messages come from the
same translation, so admin staff see the same kind of note whatever they dropped.

The law: UK GDPR Article 12(3) gives one month from receipt, extendable by two further months when
the person is told, with the reasons, within the first month; the ICO counts it as the
corresponding calendar date (:func:`recordgen.deadlines.calendar.sar_due`).
"""

from __future__ import annotations

import datetime as dt
import json
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
import referencing.jsonschema
from jsonschema import Draft202012Validator, FormatChecker

from recordgen.dates import date_field, parse_date, uk_date
from recordgen.deadlines import calendar, clocks
from recordgen.deadlines.clocks import ClockName

# validate.py's keyword-by-keyword translation into plain English (private there), reused so a
# request's problems read like every other case file's.
from recordgen.documents.validate import (
    CaseFile,
    SchemaSet,
    _path_order,
    _shadowed,
    _translate,
    _unique,
    validate_case,
)
from recordgen.errors import Problem, SettingsError, ValidationFailed
from recordgen.kinds import CASE_FILE_KINDS, SUBJECT_ACCESS_REQUEST
from recordgen.records.store import ClockRecord, Store
from recordgen.settings import Settings

CLOCK_SUBJECT = SUBJECT_ACCESS_REQUEST.name  # the clock's "subject" column in the store

_validators: weakref.WeakKeyDictionary[SchemaSet, tuple[dict[str, Any], Draft202012Validator]] = (
    weakref.WeakKeyDictionary()
)


def is_request(document: Mapping[str, Any] | None) -> bool:
    """True for a loaded case file that says it is a subject access request."""
    return document is not None and document.get("kind") == SUBJECT_ACCESS_REQUEST.name


def request_schema(schemas: SchemaSet) -> dict[str, Any]:
    """The request's JSON Schema, read from the same folder as the others (once per SchemaSet)."""
    return _validator(schemas)[0]


def _validator(schemas: SchemaSet) -> tuple[dict[str, Any], Draft202012Validator]:
    cached = _validators.get(schemas)
    if cached is None:
        path = schemas.folder / SUBJECT_ACCESS_REQUEST.schema_file
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
            Draft202012Validator.check_schema(schema)
        except (OSError, ValueError, jsonschema.SchemaError) as exc:
            raise SettingsError(f"The schema {path} could not be loaded: {exc}") from exc
        resource = referencing.jsonschema.DRAFT202012.create_resource(schema)
        registry = schemas.registry.with_resource(schema["$id"], resource)
        cached = (schema, Draft202012Validator(schema, registry=registry,
                                               format_checker=FormatChecker()))
        _validators[schemas] = cached
    return cached


def validate_request(
    document: Mapping[str, Any], schemas: SchemaSet, settings: Settings, today: dt.date
) -> CaseFile:
    """Check a subject access request; every problem is reported at once, as for other files."""
    schema, validator = _validator(schemas)
    problems = [
        problem
        for error in validator.iter_errors(document)
        if not _shadowed(error)
        for problem in _translate(error, schemas, schema)
    ]
    data = document.get("data")
    if isinstance(data, Mapping):
        problems.extend(request_problems(data, settings, today))
    if problems:
        raise ValidationFailed(list(_unique(sorted(problems, key=_path_order))))
    assert isinstance(data, Mapping)
    return CaseFile(kind=SUBJECT_ACCESS_REQUEST, case_ref=str(document["case_ref"]),
                    schema_version=int(document["schema_version"]), data=data)


def validate_case_file(
    document: Mapping[str, Any], schemas: SchemaSet, settings: Settings, today: dt.date
) -> CaseFile:
    """Check any loaded case file: a subject access request here, every other kind by
    :func:`recordgen.documents.validate.validate_case`."""
    check = validate_request if is_request(document) else validate_case
    return check(document, schemas, settings, today)


# --- the rules one request can show -------------------------------------------------------------


def _date(data: Mapping[str, Any], key: str) -> dt.date | None:
    return parse_date(data.get(key))


def request_problems(
    data: Mapping[str, Any], settings: Settings, today: dt.date
) -> Iterator[Problem]:
    """The rules beyond the schema (same shape as a :mod:`recordgen.documents.rules` rule)."""
    received = _date(data, "received_on")
    for key, what in (("received_on", "date the request was received"),
                      ("identity_checked_on", "date the person's identity was checked"),
                      ("extension_told_on", "date the person was told of the extension")):
        day = _date(data, key)
        if day is not None and day > today:
            yield Problem(f"$.data.{key}", f"The {what} is {uk_date(day)}, which is after today "
                          f"({uk_date(today)}).", "Check the date: it should be the day this "
                          "already happened.")
    told = _date(data, "extension_told_on")
    if told is not None and data.get("extended") is False:
        yield Problem("$.data.extension_told_on", "This gives a date the person was told of an "
                      "extension, but \"extended\" is false.", "Set \"extended\" to true if the "
                      "deadline was extended; otherwise remove \"extension_told_on\".")
    if told is not None and received is not None and data.get("extended") is True:
        # Article 12(3) and the ICO: the person must be told of an extension "within one month of
        # receipt of the request", with the reasons.
        latest = calendar.one_calendar_month(settings.calendar, received)
        if told < received:
            yield Problem("$.data.extension_told_on", f"The person was told of the extension on "
                          f"{uk_date(told)}, before the request was received "
                          f"({uk_date(received)}).", "Check both dates.")
        elif told > latest:
            yield Problem("$.data.extension_told_on", f"The person was told of the extension on "
                          f"{uk_date(told)}, after the first month ended ({uk_date(latest)}). The "
                          "law allows an extension only when the person is told within the first "
                          "month.", "Check the date. If it is right, the deadline cannot be "
                          "extended: set \"extended\" to false and answer by the one-month date.")
    if "representative" in data and data.get("requested_by") == "the person":
        yield Problem("$.data.representative", "A representative is given, but \"requested_by\" "
                      "says the person asked for themselves.", "Set \"requested_by\" to "
                      "\"representative\", or remove \"representative\".")
    scope = data.get("scope")
    if isinstance(scope, Mapping):
        start, end = _date(scope, "from"), _date(scope, "to")
        if start is not None and end is not None and end < start:
            yield Problem("$.data.scope.to", f"The scope ends on {uk_date(end)}, before it starts "
                          f"({uk_date(start)}).", "Check the two dates; they may be the wrong way "
                          "round.")


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
        names = [CASE_FILE_KINDS[t].title.lower() if t != SUBJECT_ACCESS_REQUEST.name
                 else "subject access requests" for t in scope["record_types"]]
        parts.append("records of these kinds: " + ", ".join(names))
    if "from" in scope and "to" in scope:
        parts.append(f"dated from {uk_date(date_field(scope['from']))} to {uk_date(date_field(scope['to']))}")
    elif "from" in scope:
        parts.append(f"dated on or after {uk_date(date_field(scope['from']))}")
    elif "to" in scope:
        parts.append(f"dated on or before {uk_date(date_field(scope['to']))}")
    return parts


# --- the response's due date and its clock ------------------------------------------------------


def received_on(case: CaseFile) -> dt.date:
    return date_field(case.data["received_on"])


def response_due(case: CaseFile, settings: Settings) -> dt.date:
    """One calendar month from receipt, or three when extended, as the ICO counts them."""
    return calendar.sar_due(settings.calendar, received_on(case),
                             bool(case.data["extended"]))


def open_response_clock(store: Store, case: CaseFile, settings: Settings) -> int:
    """Start the response clock at receipt (a no-op when it is already running), so a request
    whose bundle is held for a retry still shows in ``recordgen due``."""
    return store.open_clock(ClockRecord(case.case_ref, ClockName.SAR.value, CLOCK_SUBJECT,
                                        received_on(case).isoformat(),
                                        response_due(case, settings).isoformat()))


def close_response_clock(store: Store, case: CaseFile, settings: Settings, produced_on: dt.date,
                         document_id: int) -> clocks.Lateness:
    """Stop the clock: the bundle was produced on ``produced_on``. Judged against the due date
    this request gives (an extension recorded later moves it)."""
    cal = settings.calendar
    late = clocks.lateness(cal, response_due(case, settings), produced_on)
    clock_id = open_response_clock(store, case, settings)
    store.close_clock(clock_id, produced_on.isoformat(), late.met, late.working_days_late,
                      document_id)
    return late
