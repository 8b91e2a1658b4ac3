"""Subject access requests: checking the case file, the response's due date, and its clock.

A request is answered by a bundle built from the store (:mod:`recordgen.bundle`). Its case file is
checked like every other (JSON Schema, then the rules one file can show), but here rather than in
:mod:`recordgen.validate`, because the kind is not one of the template kinds that module lists
(see :data:`recordgen.kinds.CASE_FILE_KINDS`). The messages come from the same translation, so
admin staff see the same kind of note whatever they dropped.

The law: UK GDPR Article 12(3) gives one month from receipt, extendable by two further months when
the person is told, with the reasons, within the first month; the ICO counts it as the
corresponding calendar date (:func:`recordgen.deadlines.sar_due`).
"""

from __future__ import annotations

import datetime as dt
import json
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

import referencing.jsonschema
from jsonschema import Draft202012Validator, FormatChecker

from recordgen import deadlines
from recordgen.deadlines import ClockName, ServiceCalendar, uk_date
from recordgen.errors import Problem, SettingsError, ValidationFailed
from recordgen.kinds import SUBJECT_ACCESS_REQUEST
from recordgen.settings import Settings
from recordgen.store import ClockRecord, Store
from recordgen.validate import CaseFile, SchemaSet

# validate.py's keyword-by-keyword translation into plain English, reused so a request's problems
# read like every other case file's. Private there because nothing else needed it until now.
from recordgen.validate import _path_order, _shadowed, _translate, _unique

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
        except (OSError, ValueError, Exception) as exc:
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


# --- the rules one request can show -------------------------------------------------------------


def _date(data: Mapping[str, Any], key: str) -> dt.date | None:
    value = data.get(key)
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def request_problems(
    data: Mapping[str, Any], settings: Settings, today: dt.date
) -> Iterator[Problem]:
    """The rules beyond the schema (same shape as a :mod:`recordgen.rules` rule)."""
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
        latest = deadlines.one_calendar_month(ServiceCalendar.from_settings(settings), received)
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


# --- the response's due date and its clock ------------------------------------------------------


def received_on(case: CaseFile) -> dt.date:
    return dt.date.fromisoformat(str(case.data["received_on"]))


def response_due(case: CaseFile, settings: Settings) -> dt.date:
    """One calendar month from receipt, or three when extended, as the ICO counts them."""
    return deadlines.sar_due(ServiceCalendar.from_settings(settings), received_on(case),
                             bool(case.data["extended"]))


def open_response_clock(store: Store, case: CaseFile, settings: Settings) -> int:
    """Start the response clock at receipt (a no-op when it is already running), so a request
    whose bundle is held for a retry still shows in ``recordgen due``."""
    return store.open_clock(ClockRecord(case.case_ref, ClockName.SAR.value, CLOCK_SUBJECT,
                                        received_on(case).isoformat(),
                                        response_due(case, settings).isoformat()))


def close_response_clock(store: Store, case: CaseFile, settings: Settings, produced_on: dt.date,
                         document_id: int) -> deadlines.Lateness:
    """Stop the clock: the bundle was produced on ``produced_on``. Judged against the due date
    this request gives (an extension recorded later moves it)."""
    cal = ServiceCalendar.from_settings(settings)
    late = deadlines.lateness(cal, response_due(case, settings), produced_on)
    clock_id = open_response_clock(store, case, settings)
    store.close_clock(clock_id, produced_on.isoformat(), late.met, late.working_days_late,
                      document_id)
    return late
